// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

use std::sync::{LazyLock, Mutex};
use std::time::Instant;

use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;
use gst_base::prelude::*;
use gst_base::subclass::prelude::*;

use super::controller::{
    feedback_messages, report_blocks, Feedback, LossController, ReportBlock, ReporterGate, Verdict,
};
use crate::stats::{post, read_only_f64, read_only_u64};

const DEFAULT_MIN_BITRATE: u32 = 100;
const DEFAULT_MAX_BITRATE: u32 = 2000;
/// Interarrival jitter is in RTP timestamp units: 90 kHz for video.
const TICKS_PER_MS: f64 = 90.0;

#[derive(Debug, Clone)]
struct Settings {
    encoder: Option<String>,
    ssrc: u32,
    min_bitrate: u32,
    max_bitrate: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            encoder: None,
            ssrc: 0,
            min_bitrate: DEFAULT_MIN_BITRATE,
            max_bitrate: DEFAULT_MAX_BITRATE,
        }
    }
}

struct State {
    controller: LossController,
    epoch: Instant,
    encoder: glib::WeakRef<gst::Element>,
    payloader: glib::WeakRef<gst::Element>,
    reports: u64,
    ignored: u64,
    loss_percent: f64,
    /// The receivers believed so far.
    gate: ReporterGate,
    /// RTCP packets dropped: from receivers not (yet) believed.
    dropped: u64,
}

#[derive(Default)]
pub struct PixeldiffAdapt {
    settings: Mutex<Settings>,
    state: Mutex<Option<State>>,
}

static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "pixeldiffadapt",
        gst::DebugColorFlags::empty(),
        Some("RTCP-driven bitrate adaptation for pixeldiffenc"),
    )
});

#[glib::object_subclass]
impl ObjectSubclass for PixeldiffAdapt {
    const NAME: &'static str = "GstPixeldiffAdapt";
    type Type = super::PixeldiffAdapt;
    type ParentType = gst_base::BaseTransform;
}

impl ObjectImpl for PixeldiffAdapt {
    fn properties() -> &'static [glib::ParamSpec] {
        static PROPERTIES: LazyLock<Vec<glib::ParamSpec>> = LazyLock::new(|| {
            let kbps = |name: &str, nick: &str, blurb: &str, default: u32| {
                glib::ParamSpecUInt::builder(name)
                    .nick(nick)
                    .blurb(blurb)
                    .minimum(1)
                    .maximum(1_000_000)
                    .default_value(default)
                    .mutable_playing()
                    .build()
            };
            vec![
                glib::ParamSpecString::builder("encoder")
                    .nick("Encoder")
                    .blurb("Name of the pixeldiffenc to steer; unset: the first in the pipeline")
                    .mutable_ready()
                    .build(),
                glib::ParamSpecUInt::builder("ssrc")
                    .nick("SSRC")
                    .blurb("Only reports about this RTP SSRC count; 0 = every report block")
                    .mutable_playing()
                    .build(),
                kbps(
                    "min-bitrate",
                    "Minimum bitrate",
                    "Lowest target set, in kbit/s, 1 to 1000000",
                    DEFAULT_MIN_BITRATE,
                ),
                kbps(
                    "max-bitrate",
                    "Maximum bitrate",
                    "Highest target set (also the start), in kbit/s, 1 to 1000000",
                    DEFAULT_MAX_BITRATE,
                ),
                glib::ParamSpecUInt::builder("target-bitrate")
                    .nick("Target bitrate")
                    .blurb("Target last set on the encoder, in kbit/s (0 before any report)")
                    .read_only()
                    .build(),
                read_only_f64(
                    "loss-percent",
                    "Loss",
                    "Loss in the last report, 0 to 100 %",
                    100.0,
                ),
                read_only_u64(
                    "reports",
                    "Reports",
                    "Receiver reports acted on since start",
                ),
                read_only_u64(
                    "packets-dropped",
                    "Packets dropped",
                    "RTCP packets not passed on: from a receiver not believed (yet), so its keyframe and retransmission requests do not count",
                ),
                read_only_u64(
                    "reports-ignored",
                    "Reports ignored",
                    "Report blocks about our stream not acted on: a reporter's first, or about packets never sent",
                ),
            ]
        });
        PROPERTIES.as_ref()
    }

    fn set_property(&self, _id: usize, value: &glib::Value, pspec: &glib::ParamSpec) {
        let mut s = self.settings.lock().unwrap();
        match pspec.name() {
            "encoder" => s.encoder = value.get().expect("type checked upstream"),
            "ssrc" => s.ssrc = value.get().expect("type checked upstream"),
            "min-bitrate" => s.min_bitrate = value.get().expect("type checked upstream"),
            "max-bitrate" => s.max_bitrate = value.get().expect("type checked upstream"),
            other => unreachable!("unknown writable property {other}"),
        }
        // Limits apply at once, also while playing; the encoder gets the clamped target with
        // the next report.
        if let Some(state) = self.state.lock().unwrap().as_mut() {
            state
                .controller
                .set_limits(s.min_bitrate as f64, s.max_bitrate as f64);
        }
    }

    fn property(&self, _id: usize, pspec: &glib::ParamSpec) -> glib::Value {
        let s = self.settings.lock().unwrap();
        let state = self.state.lock().unwrap();
        match pspec.name() {
            "encoder" => s.encoder.to_value(),
            "ssrc" => s.ssrc.to_value(),
            "min-bitrate" => s.min_bitrate.to_value(),
            "max-bitrate" => s.max_bitrate.to_value(),
            "target-bitrate" => state
                .as_ref()
                .filter(|st| st.reports > 0)
                .map_or(0, |st| st.controller.target_kbps().round() as u32)
                .to_value(),
            "loss-percent" => state.as_ref().map_or(0.0, |st| st.loss_percent).to_value(),
            "reports" => state.as_ref().map_or(0, |st| st.reports).to_value(),
            "reports-ignored" => state.as_ref().map_or(0, |st| st.ignored).to_value(),
            "packets-dropped" => state.as_ref().map_or(0, |st| st.dropped).to_value(),
            other => unreachable!("unknown property {other}"),
        }
    }
}

impl GstObjectImpl for PixeldiffAdapt {}

impl ElementImpl for PixeldiffAdapt {
    fn metadata() -> Option<&'static gst::subclass::ElementMetadata> {
        static ELEMENT_METADATA: LazyLock<gst::subclass::ElementMetadata> = LazyLock::new(|| {
            gst::subclass::ElementMetadata::new(
                "pixeldiff bitrate adaptation",
                "Filter/Network/RTP",
                "Passes RTCP through and steers a pixeldiffenc's target-bitrate from the loss \
                 and jitter in receiver reports",
                "pixelmeet developers",
            )
        });
        Some(&*ELEMENT_METADATA)
    }

    fn pad_templates() -> &'static [gst::PadTemplate] {
        static PAD_TEMPLATES: LazyLock<Vec<gst::PadTemplate>> = LazyLock::new(|| {
            // Any caps: udpsrc often announces none for RTCP.
            let caps = gst::Caps::new_any();
            vec![
                gst::PadTemplate::new(
                    "src",
                    gst::PadDirection::Src,
                    gst::PadPresence::Always,
                    &caps,
                )
                .expect("valid src template"),
                gst::PadTemplate::new(
                    "sink",
                    gst::PadDirection::Sink,
                    gst::PadPresence::Always,
                    &caps,
                )
                .expect("valid sink template"),
            ]
        });
        PAD_TEMPLATES.as_ref()
    }
}

impl BaseTransformImpl for PixeldiffAdapt {
    const MODE: gst_base::subclass::BaseTransformMode =
        gst_base::subclass::BaseTransformMode::AlwaysInPlace;
    const PASSTHROUGH_ON_SAME_CAPS: bool = false;
    const TRANSFORM_IP_ON_PASSTHROUGH: bool = true;

    fn start(&self) -> Result<(), gst::ErrorMessage> {
        let s = self.settings.lock().unwrap().clone();
        self.obj().set_passthrough(true);
        *self.state.lock().unwrap() = Some(State {
            controller: LossController::new(
                s.min_bitrate as f64,
                s.max_bitrate as f64,
                s.max_bitrate as f64,
            ),
            epoch: Instant::now(),
            encoder: glib::WeakRef::new(),
            payloader: glib::WeakRef::new(),
            reports: 0,
            ignored: 0,
            loss_percent: 0.0,
            gate: ReporterGate::default(),
            dropped: 0,
        });
        Ok(())
    }

    fn stop(&self) -> Result<(), gst::ErrorMessage> {
        *self.state.lock().unwrap() = None;
        Ok(())
    }

    fn transform_ip_passthrough(
        &self,
        buf: &gst::Buffer,
    ) -> Result<gst::FlowSuccess, gst::FlowError> {
        let ssrc = self.settings.lock().unwrap().ssrc;
        let (blocks, feedback) = {
            let map = buf.map_readable().map_err(|_| gst::FlowError::Error)?;
            (report_blocks(&map), feedback_messages(&map))
        };
        let ours = |media: u32| ssrc == 0 || media == ssrc;
        let about_us: Vec<ReportBlock> = blocks.into_iter().filter(|b| ours(b.ssrc)).collect();
        let requests: Vec<u32> = feedback
            .into_iter()
            .filter(|&(_, media)| ours(media))
            .map(|(sender, _)| sender)
            .collect();
        if about_us.is_empty() && requests.is_empty() {
            return Ok(gst::FlowSuccess::Ok);
        }
        // With the payloader known, a block must be about packets it sent.
        let sent_seq = self
            .nearest("rtppixeldiffpay", None, |s| &mut s.payloader)
            .map(|p| p.property::<u32>("seqnum"));

        let mut guard = self.state.lock().unwrap();
        let state = guard.as_mut().ok_or(gst::FlowError::Flushing)?;
        let mut worst: Option<(ReportBlock, u32)> = None;
        let mut believed = true;
        for b in about_us {
            match state.gate.judge(&b, sent_seq) {
                Verdict::Counts(n) => {
                    let worse = worst.is_none_or(|(w, _)| {
                        (b.fraction_lost, b.jitter) > (w.fraction_lost, w.jitter)
                    });
                    if n > 0 && worse {
                        worst = Some((b, n));
                    }
                }
                Verdict::Introduces | Verdict::Implausible => {
                    state.ignored += 1;
                    believed = false;
                }
            }
        }
        // Keyframe and retransmission requests reach rtpbin only from believed receivers.
        if !believed || requests.iter().any(|&r| !state.gate.trusts(r)) {
            state.dropped += 1;
            gst::debug!(
                CAT,
                imp = self,
                "dropping RTCP from a receiver not believed (yet)"
            );
            return Ok(gst_base::BASE_TRANSFORM_FLOW_DROPPED);
        }
        let Some((worst, packets)) = worst else {
            return Ok(gst::FlowSuccess::Ok);
        };
        drop(guard);
        let Some(encoder) = self.encoder() else {
            gst::warning!(CAT, imp = self, "no pixeldiffenc to steer");
            return Ok(gst::FlowSuccess::Ok);
        };
        let sent_kbps = encoder.property::<f64>("kbps");
        let mut guard = self.state.lock().unwrap();
        let state = guard.as_mut().ok_or(gst::FlowError::Flushing)?;
        let feedback = Feedback {
            at: state.epoch.elapsed().as_secs_f64(),
            loss: worst.fraction_lost as f64 / 256.0,
            jitter_ms: worst.jitter as f64 / TICKS_PER_MS,
            sent_kbps,
            packets,
        };
        let action = state.controller.on_feedback(&feedback);
        let target = state.controller.target_kbps().round() as u32;
        state.reports += 1;
        state.loss_percent = feedback.loss * 100.0;
        drop(guard);

        gst::debug!(
            CAT,
            imp = self,
            "{feedback:?}: {} to {target} kbit/s",
            action.name()
        );
        encoder.set_property("target-bitrate", target);
        let running_time = self.obj().current_running_time();
        let message = gst::Structure::builder("pixeldiffadapt-stats")
            .field("timestamp", running_time)
            .field("loss-percent", feedback.loss * 100.0)
            .field("jitter-ms", feedback.jitter_ms)
            .field("sent-kbps", sent_kbps)
            .field("target-kbps", target)
            .field("action", action.name())
            .build();
        post(self.obj().upcast_ref(), Some(message));
        Ok(gst::FlowSuccess::Ok)
    }
}

impl PixeldiffAdapt {
    /// The encoder to steer (the one named by `encoder`, else the first `pixeldiffenc`).
    fn encoder(&self) -> Option<gst::Element> {
        let name = self.settings.lock().unwrap().encoder.clone();
        let found = self.nearest("pixeldiffenc", name.as_deref(), |s| &mut s.encoder)?;
        if found.find_property("target-bitrate").is_none() {
            gst::warning!(CAT, imp = self, "{} has no target-bitrate", found.name());
            return None;
        }
        Some(found)
    }

    /// The element named `name`, else the first of `factory`, looked up once (and kept in
    /// `slot`): in the nearest enclosing bin that has one (so each `pixelmeetsend` finds its
    /// own), up to the pipeline.
    fn nearest(
        &self,
        factory: &str,
        name: Option<&str>,
        slot: fn(&mut State) -> &mut glib::WeakRef<gst::Element>,
    ) -> Option<gst::Element> {
        let cached = slot(self.state.lock().unwrap().as_mut()?).upgrade();
        if cached.is_some() {
            return cached;
        }
        let found = std::iter::successors(self.obj().parent(), |bin| bin.parent())
            .filter_map(|o| o.downcast::<gst::Bin>().ok())
            .find_map(|bin| match name {
                Some(name) => bin.by_name(name),
                None => bin
                    .iterate_all_by_element_factory_name(factory)
                    .into_iter()
                    .flatten()
                    .next(),
            })?;
        if let Some(state) = self.state.lock().unwrap().as_mut() {
            slot(state).set(Some(&found));
        }
        Some(found)
    }
}
