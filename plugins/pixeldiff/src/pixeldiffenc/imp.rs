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

const DEFAULT_LOSSLESS: bool = false;
const DEFAULT_QUALITY: u32 = 60;
const DEFAULT_THRESHOLD: f32 = -1.0;
const DEFAULT_TARGET_BITRATE: u32 = 0;
const DEFAULT_KEY_INT_MAX: u32 = 0;
const DEFAULT_REFRESH_BLOCKS: i32 = -1;
const DEFAULT_MTU: u32 = 1200;
const DEFAULT_ROI_MODE: RoiMode = RoiMode::Off;
const DEFAULT_NO_ROI_ACTION: NoRoiAction = NoRoiAction::Send;
const DEFAULT_MOTION_THRESHOLD: u32 = 100;

#[derive(Debug, Eq, PartialEq, Ord, PartialOrd, Hash, Clone, Copy, glib::Enum)]
#[repr(u32)]
#[enum_type(name = "GstPixeldiffRoiMode")]
pub enum RoiMode {
    #[enum_value(name = "Off: face regions are ignored", nick = "off")]
    Off = 0,
    #[enum_value(
        name = "Prioritize: face blocks first, at finer quality, never averaged",
        nick = "prioritize"
    )]
    Prioritize = 1,
    #[enum_value(
        name = "Only: blocks outside face regions are never sent",
        nick = "only"
    )]
    Only = 2,
}

#[derive(Debug, Eq, PartialEq, Ord, PartialOrd, Hash, Clone, Copy, glib::Enum)]
#[repr(u32)]
#[enum_type(name = "GstPixeldiffNoRoiAction")]
pub enum NoRoiAction {
    #[enum_value(name = "Send: code the frame as usual", nick = "send")]
    Send = 0,
    #[enum_value(
        name = "Skip: send an empty frame (no video, audio goes on)",
        nick = "skip"
    )]
    Skip = 1,
}

#[derive(Debug, Clone, Copy)]
struct Settings {
    lossless: bool,
    quality: u32,
    threshold: f32,
    target_bitrate: u32,
    key_int_max: u32,
    refresh_blocks: i32,
    mtu: u32,
    roi_mode: RoiMode,
    no_roi_action: NoRoiAction,
    motion_threshold: u32,
    stats_interval: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            lossless: DEFAULT_LOSSLESS,
            quality: DEFAULT_QUALITY,
            threshold: DEFAULT_THRESHOLD,
            target_bitrate: DEFAULT_TARGET_BITRATE,
            key_int_max: DEFAULT_KEY_INT_MAX,
            refresh_blocks: DEFAULT_REFRESH_BLOCKS,
            mtu: DEFAULT_MTU,
            roi_mode: DEFAULT_ROI_MODE,
            no_roi_action: DEFAULT_NO_ROI_ACTION,
            motion_threshold: DEFAULT_MOTION_THRESHOLD,
            stats_interval: DEFAULT_STATS_INTERVAL,
        }
    }
}

impl Settings {
    fn codec(&self) -> codec::EncoderSettings {
        codec::EncoderSettings {
            lossless: self.lossless,
            quality: self.quality as u8,
            threshold: self.threshold,
            target_bitrate: self.target_bitrate,
            key_int_max: self.key_int_max,
            refresh_blocks: self.refresh_blocks,
            mtu: self.mtu as usize,
            roi_mode: match self.roi_mode {
                RoiMode::Off => codec::RoiMode::Off,
                RoiMode::Prioritize => codec::RoiMode::Prioritize,
                RoiMode::Only => codec::RoiMode::Only,
            },
            no_roi_action: match self.no_roi_action {
                NoRoiAction::Send => codec::NoRoiAction::Send,
                NoRoiAction::Skip => codec::NoRoiAction::Skip,
            },
            motion_threshold: self.motion_threshold as u8,
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

impl ObjectImpl for PixeldiffEnc {
    fn properties() -> &'static [glib::ParamSpec] {
        static PROPERTIES: LazyLock<Vec<glib::ParamSpec>> = LazyLock::new(|| {
            let mut props = vec![
                glib::ParamSpecBoolean::builder("lossless")
                    .nick("Lossless")
                    .blurb("Reconstruct every frame bit-exactly (quality is then ignored)")
                    .default_value(DEFAULT_LOSSLESS)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecUInt::builder("quality")
                    .nick("Quality")
                    .blurb(
                        "Lossy quality, 0 (smallest) to 100 (near lossless); with a target \
                         bitrate, the best quality allowed",
                    )
                    .maximum(100)
                    .default_value(DEFAULT_QUALITY)
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
                    .default_value(DEFAULT_THRESHOLD)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecUInt::builder("target-bitrate")
                    .nick("Target bitrate")
                    .blurb("Rate control target in kbit/s, 0 to 1000000; 0 = quality-driven")
                    .maximum(1_000_000)
                    .default_value(DEFAULT_TARGET_BITRATE)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecUInt::builder("key-int-max")
                    .nick("Keyframe interval")
                    .blurb(
                        "A keyframe every this many frames, 0 to 2^31-1; 0 = only at start and \
                         on request (cyclic refresh heals the picture in between)",
                    )
                    .maximum(i32::MAX as u32)
                    .default_value(DEFAULT_KEY_INT_MAX)
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
                    .default_value(DEFAULT_REFRESH_BLOCKS)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecUInt::builder("mtu")
                    .nick("MTU")
                    .blurb("Largest chunk in bytes, 900 to 65535; one chunk fits one RTP packet")
                    .minimum(codec::MIN_MTU as u32)
                    .maximum(codec::MAX_MTU as u32)
                    .default_value(DEFAULT_MTU)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecEnum::builder_with_default("roi-mode", DEFAULT_ROI_MODE)
                    .nick("ROI mode")
                    .blurb("How face regions (GstVideoRegionOfInterestMeta \"face\") steer coding")
                    .mutable_playing()
                    .build(),
                glib::ParamSpecEnum::builder_with_default("no-roi-action", DEFAULT_NO_ROI_ACTION)
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
                    .default_value(DEFAULT_MOTION_THRESHOLD)
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
        match pspec.name() {
            "lossless" => s.lossless = value.get().expect("type checked upstream"),
            "quality" => s.quality = value.get().expect("type checked upstream"),
            "threshold" => s.threshold = value.get().expect("type checked upstream"),
            "target-bitrate" => s.target_bitrate = value.get().expect("type checked upstream"),
            "key-int-max" => s.key_int_max = value.get().expect("type checked upstream"),
            "refresh-blocks" => s.refresh_blocks = value.get().expect("type checked upstream"),
            "mtu" => s.mtu = value.get().expect("type checked upstream"),
            "roi-mode" => s.roi_mode = value.get().expect("type checked upstream"),
            "no-roi-action" => s.no_roi_action = value.get().expect("type checked upstream"),
            "motion-threshold" => s.motion_threshold = value.get().expect("type checked upstream"),
            "stats-interval" => s.stats_interval = value.get().expect("type checked upstream"),
            other => unreachable!("unknown writable property {other}"),
        }
        gst::info!(CAT, imp = self, "{} set to {:?}", pspec.name(), value);
    }

    fn property(&self, _id: usize, pspec: &glib::ParamSpec) -> glib::Value {
        let s = self.settings.lock().unwrap();
        match pspec.name() {
            "lossless" => s.lossless.to_value(),
            "quality" => s.quality.to_value(),
            "threshold" => s.threshold.to_value(),
            "target-bitrate" => s.target_bitrate.to_value(),
            "key-int-max" => s.key_int_max.to_value(),
            "refresh-blocks" => s.refresh_blocks.to_value(),
            "mtu" => s.mtu.to_value(),
            "roi-mode" => s.roi_mode.to_value(),
            "no-roi-action" => s.no_roi_action.to_value(),
            "motion-threshold" => s.motion_threshold.to_value(),
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
                 lossless or lossy, in self-contained chunks of at most one MTU",
                "pixelmeet developers",
            )
        });
        Some(&*ELEMENT_METADATA)
    }

    fn pad_templates() -> &'static [gst::PadTemplate] {
        static PAD_TEMPLATES: LazyLock<Vec<gst::PadTemplate>> = LazyLock::new(|| {
            let sink = gst::PadTemplate::new(
                "sink",
                gst::PadDirection::Sink,
                gst::PadPresence::Always,
                &raw_caps(),
            )
            .expect("valid sink template");
            let src = gst::PadTemplate::new(
                "src",
                gst::PadDirection::Src,
                gst::PadPresence::Always,
                &crate::pixeldiff_caps_template(),
            )
            .expect("valid src template");
            vec![src, sink]
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
                .encode(&planes, &rois, force_keyframe, &settings.codec())
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
            "frame {}: {} bytes in {} chunks, {} of {} blocks coded, qp {}",
            encoded.frame_number,
            encoded.data.len(),
            encoded.chunks.len(),
            encoded.coded_mbs,
            encoded.total_mbs,
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
