// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

use std::sync::{LazyLock, Mutex};

use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;
use gst_video::prelude::*;
use gst_video::subclass::prelude::*;
use pixeldiff_codec as codec;

use crate::stats::{counter_properties, interval_property, Counters, DEFAULT_STATS_INTERVAL};
use crate::{raw_caps, video_format_to_pixel};

video_glue::property_enums! {
    pub enum RoiMode: "GstPixeldiffRoiMode" {
        Off = 0, "off", "Off: face regions are ignored";
        Prioritize = 1, "prioritize", "Prioritize: face blocks first, at finer quality, never averaged";
        Only = 2, "only", "Only: blocks outside face regions are never sent";
    }

    pub enum NoRoiAction: "GstPixeldiffNoRoiAction" {
        Send = 0, "send", "Send: code the frame as usual";
        Skip = 1, "skip", "Skip: send an empty frame (no video, audio goes on)";
    }
}

/// The element's settings: the codec's own (its defaults are the properties' defaults, written
/// once in `pixeldiff_codec::EncoderSettings`) and the stats interval.
#[derive(Debug, Clone, Copy)]
struct Settings {
    codec: codec::EncoderSettings,
    stats_interval: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            codec: codec::EncoderSettings::default(),
            stats_interval: DEFAULT_STATS_INTERVAL,
        }
    }
}

impl From<codec::RoiMode> for RoiMode {
    fn from(m: codec::RoiMode) -> Self {
        match m {
            codec::RoiMode::Off => RoiMode::Off,
            codec::RoiMode::Prioritize => RoiMode::Prioritize,
            codec::RoiMode::Only => RoiMode::Only,
        }
    }
}

impl From<RoiMode> for codec::RoiMode {
    fn from(m: RoiMode) -> Self {
        match m {
            RoiMode::Off => codec::RoiMode::Off,
            RoiMode::Prioritize => codec::RoiMode::Prioritize,
            RoiMode::Only => codec::RoiMode::Only,
        }
    }
}

impl From<codec::NoRoiAction> for NoRoiAction {
    fn from(a: codec::NoRoiAction) -> Self {
        match a {
            codec::NoRoiAction::Send => NoRoiAction::Send,
            codec::NoRoiAction::Skip => NoRoiAction::Skip,
        }
    }
}

impl From<NoRoiAction> for codec::NoRoiAction {
    fn from(a: NoRoiAction) -> Self {
        match a {
            NoRoiAction::Send => codec::NoRoiAction::Send,
            NoRoiAction::Skip => codec::NoRoiAction::Skip,
        }
    }
}

struct State {
    encoder: codec::Encoder,
    info: gst_video::VideoInfo,
}

#[derive(Default)]
pub struct PixeldiffEnc {
    settings: Mutex<Settings>,
    state: Mutex<Option<State>>,
    counters: Mutex<Counters>,
}

static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "pixeldiffenc",
        gst::DebugColorFlags::empty(),
        Some("pixeldiff encoder"),
    )
});

#[glib::object_subclass]
impl ObjectSubclass for PixeldiffEnc {
    const NAME: &'static str = "GstPixeldiffEnc";
    type Type = super::PixeldiffEnc;
    type ParentType = gst_video::VideoEncoder;
}

/// Keyframes made on request are at least this far apart in stream time, so a burst of picture
/// loss requests (or forged ones) costs one keyframe per interval, not one each.
pub const MIN_FORCE_KEY_UNIT_INTERVAL: gst::ClockTime = gst::ClockTime::from_mseconds(500);

impl ObjectImpl for PixeldiffEnc {
    fn constructed(&self) {
        self.parent_constructed();
        self.obj()
            .set_min_force_key_unit_interval(MIN_FORCE_KEY_UNIT_INTERVAL);
    }

    fn properties() -> &'static [glib::ParamSpec] {
        static PROPERTIES: LazyLock<Vec<glib::ParamSpec>> = LazyLock::new(|| {
            let d = codec::EncoderSettings::default();
            let mut props = vec![
                glib::ParamSpecBoolean::builder("lossless")
                    .nick("Lossless")
                    .blurb("Reconstruct every frame bit-exactly (quality is then ignored)")
                    .default_value(d.lossless)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecUInt::builder("quality")
                    .nick("Quality")
                    .blurb(
                        "Lossy quality, 0 (smallest) to 100 (near lossless); with a target \
                         bitrate, the best quality allowed",
                    )
                    .maximum(100)
                    .default_value(u32::from(d.quality))
                    .mutable_playing()
                    .build(),
                glib::ParamSpecFloat::builder("threshold")
                    .nick("Noise threshold")
                    .blurb(
                        "Noise tolerance: RMS difference in sample levels (0 to 255) over an \
                         8x8 block below which a block counts as unchanged; -1 = automatic \
                         (0 when lossless, from the quality otherwise)",
                    )
                    .minimum(-1.0)
                    .maximum(255.0)
                    .default_value(d.threshold)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecUInt::builder("target-bitrate")
                    .nick("Target bitrate")
                    .blurb("Rate control target in kbit/s, 0 to 1000000; 0 = quality-driven")
                    .maximum(1_000_000)
                    .default_value(d.target_bitrate)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecUInt::builder("key-int-max")
                    .nick("Keyframe interval")
                    .blurb(
                        "A keyframe every this many frames, 0 to 2^31-1; 0 = only at start and \
                         on request (cyclic refresh heals the picture in between)",
                    )
                    .maximum(i32::MAX as u32)
                    .default_value(d.key_int_max)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecInt::builder("refresh-blocks")
                    .nick("Refresh blocks")
                    .blurb(
                        "Macroblocks (16x16) re-sent self-contained per frame so a receiver \
                         that lost packets converges, -1 to 65535; -1 = automatic (the whole \
                         picture once a second), 0 = off",
                    )
                    .minimum(-1)
                    .maximum(65535)
                    .default_value(d.refresh_blocks)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecUInt::builder("mtu")
                    .nick("MTU")
                    .blurb("Largest chunk in bytes, 900 to 65535; one chunk fits one RTP packet")
                    .minimum(codec::MIN_MTU as u32)
                    .maximum(codec::MAX_MTU as u32)
                    .default_value(d.mtu as u32)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecEnum::builder_with_default("roi-mode", RoiMode::from(d.roi_mode))
                    .nick("ROI mode")
                    .blurb("How face regions (GstVideoRegionOfInterestMeta \"face\") steer coding")
                    .mutable_playing()
                    .build(),
                glib::ParamSpecEnum::builder_with_default(
                    "no-roi-action",
                    NoRoiAction::from(d.no_roi_action),
                )
                .nick("No-ROI action")
                .blurb("With roi-mode=only, what to send for a frame without any face")
                .mutable_playing()
                .build(),
                glib::ParamSpecUInt::builder("motion-threshold")
                    .nick("Motion threshold")
                    .blurb(
                        "Share of moving macroblocks, 0 to 100 %, from which changed blocks are \
                         sent averaged (4x4 cells) and refined once motion stops; 100 = only \
                         when target-bitrate is far exceeded",
                    )
                    .maximum(100)
                    .default_value(u32::from(d.motion_threshold))
                    .mutable_playing()
                    .build(),
                glib::ParamSpecUInt::builder("threads")
                    .nick("Threads")
                    .blurb(
                        "Threads coding each frame, 1 to 16: each codes its share of the changed \
                         blocks into chunks of its own (frames with few changed blocks use fewer)",
                    )
                    .minimum(1)
                    .maximum(MAX_THREADS)
                    .default_value(d.threads as u32)
                    .mutable_playing()
                    .build(),
                interval_property("pixeldiffenc-stats"),
            ];
            props.extend(counter_properties());
            props
        });
        PROPERTIES.as_ref()
    }

    fn set_property(&self, _id: usize, value: &glib::Value, pspec: &glib::ParamSpec) {
        let mut s = self.settings.lock().unwrap();
        let c = &mut s.codec;
        match pspec.name() {
            "lossless" => c.lossless = value.get().expect("type checked upstream"),
            // Ranges are checked upstream by the param specs: these fit the codec's types.
            "quality" => c.quality = value.get::<u32>().expect("type checked upstream") as u8,
            "threshold" => c.threshold = value.get().expect("type checked upstream"),
            "target-bitrate" => c.target_bitrate = value.get().expect("type checked upstream"),
            "key-int-max" => c.key_int_max = value.get().expect("type checked upstream"),
            "refresh-blocks" => c.refresh_blocks = value.get().expect("type checked upstream"),
            "mtu" => c.mtu = value.get::<u32>().expect("type checked upstream") as usize,
            "roi-mode" => c.roi_mode = value.get::<RoiMode>().expect("type checked").into(),
            "no-roi-action" => {
                c.no_roi_action = value.get::<NoRoiAction>().expect("type checked").into()
            }
            "motion-threshold" => {
                c.motion_threshold = value.get::<u32>().expect("type checked upstream") as u8
            }
            "threads" => c.threads = value.get::<u32>().expect("type checked upstream") as usize,
            "stats-interval" => s.stats_interval = value.get().expect("type checked upstream"),
            other => unreachable!("unknown writable property {other}"),
        }
        gst::info!(CAT, imp = self, "{} set to {:?}", pspec.name(), value);
    }

    fn property(&self, _id: usize, pspec: &glib::ParamSpec) -> glib::Value {
        let s = self.settings.lock().unwrap();
        let c = &s.codec;
        match pspec.name() {
            "lossless" => c.lossless.to_value(),
            "quality" => u32::from(c.quality).to_value(),
            "threshold" => c.threshold.to_value(),
            "target-bitrate" => c.target_bitrate.to_value(),
            "key-int-max" => c.key_int_max.to_value(),
            "refresh-blocks" => c.refresh_blocks.to_value(),
            "mtu" => (c.mtu as u32).to_value(),
            "roi-mode" => RoiMode::from(c.roi_mode).to_value(),
            "no-roi-action" => NoRoiAction::from(c.no_roi_action).to_value(),
            "motion-threshold" => u32::from(c.motion_threshold).to_value(),
            "threads" => (c.threads as u32).to_value(),
            "stats-interval" => s.stats_interval.to_value(),
            name => self
                .counters
                .lock()
                .unwrap()
                .property(name)
                .unwrap_or_else(|| unreachable!("unknown property {name}")),
        }
    }
}

impl GstObjectImpl for PixeldiffEnc {}

impl ElementImpl for PixeldiffEnc {
    fn metadata() -> Option<&'static gst::subclass::ElementMetadata> {
        static ELEMENT_METADATA: LazyLock<gst::subclass::ElementMetadata> = LazyLock::new(|| {
            gst::subclass::ElementMetadata::new(
                "pixeldiff encoder",
                "Codec/Encoder/Video",
                "Conditional-replenishment encoder: sends only the 16x16 blocks that changed, \
                 predicted with motion vectors, lossless or lossy, in self-contained chunks of \
                 at most one MTU",
                "pixelmeet developers",
            )
        });
        Some(&*ELEMENT_METADATA)
    }

    fn pad_templates() -> &'static [gst::PadTemplate] {
        static PAD_TEMPLATES: LazyLock<Vec<gst::PadTemplate>> = LazyLock::new(|| {
            video_glue::src_and_sink_templates(&crate::pixeldiff_caps_template(), &raw_caps())
        });
        PAD_TEMPLATES.as_ref()
    }
}

impl VideoEncoderImpl for PixeldiffEnc {
    fn start(&self) -> Result<(), gst::ErrorMessage> {
        *self.counters.lock().unwrap() = Counters::default();
        Ok(())
    }

    fn stop(&self) -> Result<(), gst::ErrorMessage> {
        *self.state.lock().unwrap() = None;
        Ok(())
    }

    fn set_format(
        &self,
        state: &gst_video::VideoCodecState<'static, gst_video::video_codec_state::Readable>,
    ) -> Result<(), gst::LoggableError> {
        let info = state.info().clone();
        let format = video_format_to_pixel(info.format()).ok_or_else(|| {
            gst::loggable_error!(CAT, "unsupported input format {}", info.format())
        })?;
        let layout = codec::Layout::new(format, info.width(), info.height())
            .map_err(|e| gst::loggable_error!(CAT, "{e}"))?;
        let fps = info.fps();
        let fps_f = if fps.denom() > 0 {
            fps.numer() as f64 / fps.denom() as f64
        } else {
            0.0
        };
        let caps = gst::Caps::builder("video/x-pixeldiff")
            .field("version", codec::VERSION as i32)
            .field("width", info.width() as i32)
            .field("height", info.height() as i32)
            .field("framerate", fps)
            .field("format", format.name())
            .build();
        gst::debug!(CAT, imp = self, "input {layout:?}, output caps {caps}");
        let obj = self.obj();
        let output = obj
            .set_output_state(caps, Some(state))
            .map_err(|_| gst::loggable_error!(CAT, "failed to set output state"))?;
        obj.negotiate(output)
            .map_err(|_| gst::loggable_error!(CAT, "failed to negotiate"))?;
        // A new format is a new stream: the encoder starts over with a keyframe.
        *self.state.lock().unwrap() = Some(State {
            encoder: codec::Encoder::new(layout, fps_f),
            info,
        });
        Ok(())
    }

    fn handle_frame(
        &self,
        mut frame: gst_video::VideoCodecFrame,
    ) -> Result<gst::FlowSuccess, gst::FlowError> {
        let settings = *self.settings.lock().unwrap();
        let force_keyframe = frame
            .flags()
            .contains(gst_video::VideoCodecFrameFlags::FORCE_KEYFRAME);
        let pts = frame.pts();
        let encoded = {
            let mut state_guard = self.state.lock().unwrap();
            let state = state_guard.as_mut().ok_or(gst::FlowError::NotNegotiated)?;
            let input = frame.input_buffer().ok_or(gst::FlowError::Error)?;
            let rois = face_rects(input);
            let vframe = gst_video::VideoFrameRef::from_buffer_ref_readable(input, &state.info)
                .map_err(|_| {
                    gst::element_imp_error!(
                        self,
                        gst::CoreError::Failed,
                        ["Failed to map input frame"]
                    );
                    gst::FlowError::Error
                })?;
            let planes: Vec<codec::InPlane> = (0..vframe.n_planes())
                .map(|i| codec::InPlane {
                    data: vframe.plane_data(i).unwrap_or(&[]),
                    stride: vframe.plane_stride()[i as usize].max(0) as usize,
                })
                .collect();
            state
                .encoder
                .encode(&planes, &rois, force_keyframe, &settings.codec)
                .map_err(|e| {
                    gst::element_imp_error!(self, gst::StreamError::Encode, ["{e}"]);
                    gst::FlowError::Error
                })?
        };

        let message = {
            let mut c = self.counters.lock().unwrap();
            c.keyframes += encoded.keyframe as u64;
            c.chunks += encoded.chunks.len() as u64;
            let due = c.add_frame(
                pts,
                encoded.data.len(),
                encoded.changed_mbs,
                encoded.total_mbs,
                gst::ClockTime::from_mseconds(settings.stats_interval as u64),
            );
            due.then(|| c.structure("pixeldiffenc-stats", pts))
        };
        gst::trace!(
            CAT,
            imp = self,
            "frame {}: {} bytes in {} chunks, {} of {} blocks coded ({} moved), qp {}",
            encoded.frame_number,
            encoded.data.len(),
            encoded.chunks.len(),
            encoded.coded_mbs,
            encoded.total_mbs,
            encoded.moved_mbs,
            encoded.qp
        );

        if encoded.keyframe {
            frame.set_flags(gst_video::VideoCodecFrameFlags::SYNC_POINT);
        }
        frame.set_output_buffer(gst::Buffer::from_mut_slice(encoded.data));
        let ret = self.obj().finish_frame(frame);
        crate::stats::post(self.obj().upcast_ref(), message);
        ret
    }
}

/// Most threads `threads` takes: more than a meeting's frame has rows of work for.
const MAX_THREADS: u32 = 16;

/// Rectangles of the buffer's face regions of interest (margin included).
fn face_rects(buffer: &gst::BufferRef) -> Vec<codec::Rect> {
    video_glue::roi::boxes(buffer, video_glue::roi::FACE)
        .into_iter()
        .map(|r| codec::Rect {
            x: r.x as u32,
            y: r.y as u32,
            width: r.width as u32,
            height: r.height as u32,
        })
        .collect()
}
