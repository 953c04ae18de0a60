// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};

use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;
use gst_video::prelude::*;
use gst_video::subclass::prelude::*;
use pixeldiff_codec as codec;

use crate::stats::{counter_properties, interval_property, post, Counters, DEFAULT_STATS_INTERVAL};
use crate::{pixel_to_video_format, raw_caps};

/// Shortest time between two force-key-unit requests (base class property).
const FORCE_KEY_UNIT_INTERVAL: gst::ClockTime = gst::ClockTime::from_mseconds(500);
/// Shortest time between two warnings about damaged input, so a hostile sender cannot flood
/// the bus.
const WARNING_INTERVAL: Duration = Duration::from_secs(1);

/// Largest picture taken by default: 4K UHD (a forged header cannot make the receiver allocate
/// an 8192 x 8192 one).
const DEFAULT_MAX_PIXELS: u64 = 3840 * 2160;

#[derive(Debug, Clone, Copy)]
struct Settings {
    stats_interval: u32,
    max_pixels: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            stats_interval: DEFAULT_STATS_INTERVAL,
            max_pixels: DEFAULT_MAX_PIXELS,
        }
    }
}

struct State {
    decoder: codec::Decoder,
    /// Layout the output is negotiated for.
    negotiated: Option<codec::Layout>,
    /// Upstream caps state, the reference for the output (framerate, pixel aspect ratio).
    input: Option<gst_video::VideoCodecState<'static, gst_video::video_codec_state::Readable>>,
    last_warning: Option<Instant>,
}

#[derive(Default)]
pub struct PixeldiffDec {
    settings: Mutex<Settings>,
    state: Mutex<Option<State>>,
    counters: Mutex<Counters>,
}

static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "pixeldiffdec",
        gst::DebugColorFlags::empty(),
        Some("pixeldiff decoder"),
    )
});

#[glib::object_subclass]
impl ObjectSubclass for PixeldiffDec {
    const NAME: &'static str = "GstPixeldiffDec";
    type Type = super::PixeldiffDec;
    type ParentType = gst_video::VideoDecoder;
}

impl ObjectImpl for PixeldiffDec {
    fn constructed(&self) {
        self.parent_constructed();
        let obj = self.obj();
        // Every input buffer holds whole chunks: no parsing needed.
        obj.set_packetized(true);
        obj.set_property(
            "min-force-key-unit-interval",
            FORCE_KEY_UNIT_INTERVAL.nseconds(),
        );
    }

    fn properties() -> &'static [glib::ParamSpec] {
        static PROPERTIES: LazyLock<Vec<glib::ParamSpec>> = LazyLock::new(|| {
            let max = codec::MAX_DIMENSION as u64 * codec::MAX_DIMENSION as u64;
            let mut props = vec![
                interval_property("pixeldiffdec-stats"),
                glib::ParamSpecUInt64::builder("max-pixels")
                    .nick("Maximum pixels")
                    .blurb(
                        "Largest picture taken, width x height; chunks of a larger one are refused",
                    )
                    .minimum(1)
                    .maximum(max)
                    .default_value(DEFAULT_MAX_PIXELS)
                    .mutable_ready()
                    .build(),
            ];
            props.extend(counter_properties());
            props
        });
        PROPERTIES.as_ref()
    }

    fn set_property(&self, _id: usize, value: &glib::Value, pspec: &glib::ParamSpec) {
        match pspec.name() {
            "stats-interval" => {
                self.settings.lock().unwrap().stats_interval =
                    value.get().expect("type checked upstream")
            }
            "max-pixels" => {
                self.settings.lock().unwrap().max_pixels =
                    value.get().expect("type checked upstream")
            }
            other => unreachable!("unknown writable property {other}"),
        }
        gst::info!(CAT, imp = self, "{} set to {:?}", pspec.name(), value);
    }

    fn property(&self, _id: usize, pspec: &glib::ParamSpec) -> glib::Value {
        match pspec.name() {
            "stats-interval" => self.settings.lock().unwrap().stats_interval.to_value(),
            "max-pixels" => self.settings.lock().unwrap().max_pixels.to_value(),
            name => self
                .counters
                .lock()
                .unwrap()
                .property(name)
                .unwrap_or_else(|| unreachable!("unknown property {name}")),
        }
    }
}

impl GstObjectImpl for PixeldiffDec {}

impl ElementImpl for PixeldiffDec {
    fn metadata() -> Option<&'static gst::subclass::ElementMetadata> {
        static ELEMENT_METADATA: LazyLock<gst::subclass::ElementMetadata> = LazyLock::new(|| {
            gst::subclass::ElementMetadata::new(
                "pixeldiff decoder",
                "Codec/Decoder/Video",
                "Decodes video/x-pixeldiff; applies every chunk that arrives and keeps the last \
                 good blocks where chunks are lost",
                "pixelmeet developers",
            )
        });
        Some(&*ELEMENT_METADATA)
    }

    fn pad_templates() -> &'static [gst::PadTemplate] {
        static PAD_TEMPLATES: LazyLock<Vec<gst::PadTemplate>> = LazyLock::new(|| {
            video_glue::src_and_sink_templates(&raw_caps(), &crate::pixeldiff_caps_template())
        });
        PAD_TEMPLATES.as_ref()
    }
}

impl VideoDecoderImpl for PixeldiffDec {
    fn start(&self) -> Result<(), gst::ErrorMessage> {
        let mut decoder = codec::Decoder::new();
        decoder.set_max_pixels(self.settings.lock().unwrap().max_pixels);
        *self.state.lock().unwrap() = Some(State {
            decoder,
            negotiated: None,
            input: None,
            last_warning: None,
        });
        *self.counters.lock().unwrap() = Counters::default();
        Ok(())
    }

    fn stop(&self) -> Result<(), gst::ErrorMessage> {
        *self.state.lock().unwrap() = None;
        Ok(())
    }

    fn set_format(
        &self,
        input: &gst_video::VideoCodecState<'static, gst_video::video_codec_state::Readable>,
    ) -> Result<(), gst::LoggableError> {
        if let Some(state) = self.state.lock().unwrap().as_mut() {
            state.input = Some(input.clone());
            state.negotiated = None;
        }
        // Caps that announce the stream let downstream negotiate before the first chunk; the
        // chunks themselves stay authoritative.
        let Some(s) = input.caps().and_then(|c| c.structure(0)) else {
            return Ok(());
        };
        let announced = (|| {
            let format = codec::PixelFormat::from_name(s.get::<&str>("format").ok()?)?;
            let w = s.get::<i32>("width").ok()?;
            let h = s.get::<i32>("height").ok()?;
            codec::Layout::new(format, w.try_into().ok()?, h.try_into().ok()?).ok()
        })();
        if let Some(layout) = announced {
            self.negotiate_layout(layout)
                .map_err(|_| gst::loggable_error!(CAT, "failed to negotiate {layout:?}"))?;
        }
        Ok(())
    }

    fn flush(&self) -> bool {
        // Keep the picture: after a flush the stream goes on from wherever it is.
        true
    }

    fn handle_frame(
        &self,
        mut frame: gst_video::VideoCodecFrame,
    ) -> Result<gst::FlowSuccess, gst::FlowError> {
        let settings = *self.settings.lock().unwrap();
        let pts = frame.pts();
        let input = frame.input_buffer_owned().ok_or(gst::FlowError::Error)?;
        let map = input.map_readable().map_err(|_| gst::FlowError::Error)?;

        let mut guard = self.state.lock().unwrap();
        let state = guard.as_mut().ok_or(gst::FlowError::NotNegotiated)?;
        let outcome = state.decoder.decode(&map);
        let layout = state.decoder.layout();
        let needs_caps = layout.is_some() && layout != state.negotiated;
        let damaged = !outcome.errors.is_empty() || outcome.lost_chunks > 0;
        let warn = damaged
            && state
                .last_warning
                .is_none_or(|t| t.elapsed() >= WARNING_INTERVAL);
        if warn {
            state.last_warning = Some(Instant::now());
        }
        drop(guard);
        drop(map);

        let message = {
            let mut c = self.counters.lock().unwrap();
            c.chunks += outcome.chunks as u64;
            c.chunks_lost += outcome.lost_chunks as u64;
            c.chunks_corrupt += outcome.errors.len() as u64;
            c.keyframes += outcome.keyframe as u64;
            let total = layout.map_or(0, |l| l.mb_count());
            let due = c.add_frame(
                pts,
                input.size(),
                outcome.mbs as usize,
                total,
                gst::ClockTime::from_mseconds(settings.stats_interval as u64),
            );
            due.then(|| c.structure("pixeldiffdec-stats", pts))
        };

        if warn {
            let why = outcome
                .errors
                .first()
                .map_or_else(|| "chunks missing".to_string(), |e| e.to_string());
            gst::element_imp_warning!(
                self,
                gst::StreamError::Decode,
                ("Damaged or missing input: {}", why),
                [
                    "{} chunk(s) rejected and {} missing in this buffer; showing the last good blocks",
                    outcome.errors.len(),
                    outcome.lost_chunks
                ]
            );
        }
        if damaged {
            gst::debug!(CAT, imp = self, "asking upstream for a keyframe");
            self.obj().request_sync_point(
                &frame,
                gst_video::VideoDecoderRequestSyncPointFlags::empty(),
            );
        }

        let Some(layout) = layout.filter(|_| outcome.chunks > 0 || outcome.errors.is_empty())
        else {
            // Nothing decodable yet, or nothing of this buffer applied (garbage on our port):
            // the picture has not changed, and a frame out per forged packet would let anyone
            // make us copy whole pictures at the rate they send.
            let ret = self.obj().drop_frame(frame);
            post(self.obj().upcast_ref(), message);
            return ret;
        };
        if needs_caps {
            self.negotiate_layout(layout)?;
        }

        self.obj().allocate_output_frame(&mut frame, None)?;
        {
            let guard = self.state.lock().unwrap();
            let state = guard.as_ref().ok_or(gst::FlowError::NotNegotiated)?;
            let info = self
                .obj()
                .output_state()
                .ok_or(gst::FlowError::NotNegotiated)?
                .info()
                .clone();
            let buffer = frame.output_buffer_mut().ok_or(gst::FlowError::Error)?;
            let mut vframe = gst_video::VideoFrameRef::from_buffer_ref_writable(buffer, &info)
                .map_err(|_| gst::FlowError::Error)?;
            let strides: Vec<usize> = vframe
                .plane_stride()
                .iter()
                .map(|&s| s.max(0) as usize)
                .collect();
            let mut planes: Vec<codec::OutPlane> = vframe
                .planes_data_mut()
                .into_iter()
                .zip(&strides)
                .map(|(data, &stride)| codec::OutPlane { data, stride })
                .collect();
            state.decoder.export(&mut planes).map_err(|e| {
                gst::element_imp_error!(self, gst::StreamError::Decode, ["{e}"]);
                gst::FlowError::Error
            })?;
        }
        if outcome.keyframe {
            frame.set_flags(gst_video::VideoCodecFrameFlags::SYNC_POINT);
        }
        let ret = self.obj().finish_frame(frame);
        post(self.obj().upcast_ref(), message);
        ret
    }
}

impl PixeldiffDec {
    fn negotiate_layout(&self, layout: codec::Layout) -> Result<(), gst::FlowError> {
        gst::info!(CAT, imp = self, "output {layout:?}");
        let obj = self.obj();
        let input = self
            .state
            .lock()
            .unwrap()
            .as_ref()
            .and_then(|s| s.input.clone());
        let output = obj.set_output_state(
            pixel_to_video_format(layout.format),
            layout.width,
            layout.height,
            input.as_ref(),
        )?;
        obj.negotiate(output)?;
        if let Some(state) = self.state.lock().unwrap().as_mut() {
            state.negotiated = Some(layout);
        }
        Ok(())
    }
}
