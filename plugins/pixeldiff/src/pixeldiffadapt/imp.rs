// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

use std::sync::{Arc, LazyLock, Mutex};
use std::time::Instant;

use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;
use gst_base::prelude::*;
use gst_base::subclass::prelude::*;

use rate_control::loss::Feedback;
use rate_control::rtcp::{feedback_messages, report_blocks, ReportBlock, ReporterGate, Verdict};
use rate_control::twcc::{self, SendHistory};
use rate_control::RateController;

use crate::stats::{post, read_only_f64, read_only_u64};

const DEFAULT_MIN_BITRATE: u32 = 100;
const DEFAULT_MAX_BITRATE: u32 = 2000;
const DEFAULT_START_BITRATE: u32 = rate_control::DEFAULT_START_KBPS as u32;
/// Interarrival jitter is in RTP timestamp units: 90 kHz for video.
const TICKS_PER_MS: f64 = 90.0;

#[derive(Debug, Clone)]
struct Settings {
    encoder: Option<String>,
    ssrc: u32,
    min_bitrate: u32,
    max_bitrate: u32,
    start_bitrate: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            encoder: None,
            ssrc: 0,
            min_bitrate: DEFAULT_MIN_BITRATE,
            max_bitrate: DEFAULT_MAX_BITRATE,
            start_bitrate: DEFAULT_START_BITRATE,
        }
    }
}

/// What the payloader sent under each transport-wide sequence number, noted by a probe on its
/// source pad: the header extension's id (from its caps' `extmap-N`) and the history.
#[derive(Default)]
struct Sent {
    extension_id: Option<u8>,
    history: SendHistory,
}

struct State {
    controller: RateController,
    sent: Arc<Mutex<Sent>>,
    /// The probe on the payloader, removed at stop.
    probe: Option<(glib::WeakRef<gst::Pad>, gst::PadProbeId)>,
    transport_feedback: u64,
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
                    "Highest target set, in kbit/s, 1 to 1000000",
                    DEFAULT_MAX_BITRATE,
                ),
                kbps(
                    "start-bitrate",
                    "Start bitrate",
                    "Target before any feedback, set on the encoder at start, in kbit/s, 1 to 1000000 (clamped to min..max): growth finds a new path's capacity within seconds without first filling its queue",
                    DEFAULT_START_BITRATE,
                ),
                glib::ParamSpecUInt::builder("estimated-bitrate")
                    .nick("Estimated bitrate")
                    .blurb("The delay-based estimate of the slowest receiver sending transport-wide feedback, in kbit/s (0: none does)")
                    .read_only()
                    .build(),
                read_only_f64(
                    "queue-delay-ms",
                    "Queue delay",
                    "Queueing delay that receiver's feedback shows for the newest packet, in ms (one-way delay less the smallest of the last 30 s)",
                    f64::MAX,
                ),
                read_only_u64(
                    "transport-feedback",
                    "Transport-wide feedback",
                    "Transport-wide feedback messages acted on since start",
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
            "start-bitrate" => s.start_bitrate = value.get().expect("type checked upstream"),
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
            "start-bitrate" => s.start_bitrate.to_value(),
            "target-bitrate" => state
                .as_ref()
                .filter(|st| st.reports + st.transport_feedback > 0)
                .map_or(0, |st| st.controller.target_kbps().round() as u32)
                .to_value(),
            "estimated-bitrate" => state
                .as_ref()
                .and_then(|st| st.controller.binding_delay())
                .map_or(0, |d| d.estimate_kbps().round() as u32)
                .to_value(),
            "queue-delay-ms" => state
                .as_ref()
                .and_then(|st| st.controller.binding_delay())
                .map_or(0.0, |d| d.queue_delay_ms())
                .to_value(),
            "transport-feedback" => state
                .as_ref()
                .map_or(0, |st| st.transport_feedback)
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
        let epoch = Instant::now();
        let sent = Arc::new(Mutex::new(Sent::default()));
        *self.state.lock().unwrap() = Some(State {
            controller: RateController::new(
                s.min_bitrate as f64,
                s.max_bitrate as f64,
                s.start_bitrate as f64,
            ),
            sent: sent.clone(),
            probe: None,
            transport_feedback: 0,
            epoch,
            encoder: glib::WeakRef::new(),
            payloader: glib::WeakRef::new(),
            reports: 0,
            ignored: 0,
            loss_percent: 0.0,
            gate: ReporterGate::default(),
            dropped: 0,
        });
        // Transport-wide feedback needs the send time of each sequence number: noted as the
        // payloader pushes (what follows it up to the socket does not queue).
        let pad = self
            .nearest("rtppixeldiffpay", None, |s| &mut s.payloader)
            .and_then(|p| p.static_pad("src"));
        if let Some(pad) = pad {
            let id = pad.add_probe(
                gst::PadProbeType::BUFFER
                    | gst::PadProbeType::BUFFER_LIST
                    | gst::PadProbeType::EVENT_DOWNSTREAM,
                move |_, info| {
                    note_sent(&sent, epoch, info);
                    gst::PadProbeReturn::Ok
                },
            );
            if let Some(state) = self.state.lock().unwrap().as_mut() {
                state.probe = id.map(|id| (pad.downgrade(), id));
            }
        }
        // The encoder starts at the start target, not at whatever it would send unsteered
        // until the first feedback (into a bottleneck, that fills the queue first).
        if let Some(encoder) = self.encoder() {
            let start = s
                .start_bitrate
                .clamp(s.min_bitrate, s.max_bitrate.max(s.min_bitrate));
            encoder.set_property("target-bitrate", start);
        }
        Ok(())
    }

    fn stop(&self) -> Result<(), gst::ErrorMessage> {
        if let Some((pad, id)) = self.state.lock().unwrap().take().and_then(|s| s.probe) {
            if let Some(pad) = pad.upgrade() {
                pad.remove_probe(id);
            }
        }
        Ok(())
    }

    fn transform_ip_passthrough(
        &self,
        buf: &gst::Buffer,
    ) -> Result<gst::FlowSuccess, gst::FlowError> {
        let ssrc = self.settings.lock().unwrap().ssrc;
        let (blocks, feedback, transport) = {
            let map = buf.map_readable().map_err(|_| gst::FlowError::Error)?;
            (
                report_blocks(&map),
                feedback_messages(&map),
                twcc::feedback(&map),
            )
        };
        let ours = |media: u32| ssrc == 0 || media == ssrc;
        let about_us: Vec<ReportBlock> = blocks.into_iter().filter(|b| ours(b.ssrc)).collect();
        let transport: Vec<twcc::Feedback> = transport
            .into_iter()
            .filter(|f| ours(f.media_ssrc))
            .collect();
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
            let verdict = state.gate.judge(&b, sent_seq);
            gst::log!(CAT, imp = self, "{b:?} (sent {sent_seq:?}): {verdict:?}");
            match verdict {
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
        // Transport-wide feedback from believed receivers, each its own delay estimate.
        let now = state.epoch.elapsed().as_secs_f64();
        let before = state.controller.target_kbps().round() as u32;
        let first = state.reports + state.transport_feedback == 0;
        for f in &transport {
            let results = state.sent.lock().unwrap().history.results(f);
            gst::log!(
                CAT,
                imp = self,
                "transport-wide feedback {} from {:#010x}: {} packets, {} of ours",
                f.count,
                f.sender_ssrc,
                f.packets.len(),
                results.len()
            );
            if !results.is_empty() {
                state
                    .controller
                    .on_transport_feedback(f.sender_ssrc, now, &results);
                state.transport_feedback += 1;
            }
        }
        let after = state.controller.target_kbps().round() as u32;
        let steer = after != before || (first && state.transport_feedback > 0);
        let Some((worst, packets)) = worst else {
            drop(guard);
            if steer {
                if let Some(encoder) = self.encoder() {
                    encoder.set_property("target-bitrate", after);
                }
            }
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
        let action = state.controller.on_report(&feedback);
        let target = state.controller.target_kbps().round() as u32;
        let reason = state.controller.reason().describe();
        let delay = state.controller.binding_delay();
        let estimate = delay.map_or(0, |d| d.estimate_kbps().round() as u32);
        let queue_delay_ms = delay.map_or(0.0, |d| d.queue_delay_ms());
        let (trend, threshold) = delay.map_or((0.0, 0.0), |d| d.trend());
        state.reports += 1;
        state.loss_percent = feedback.loss * 100.0;
        drop(guard);

        gst::debug!(
            CAT,
            imp = self,
            "{feedback:?}: {} to {target} kbit/s ({reason})",
            action.name()
        );
        encoder.set_property("target-bitrate", target);
        let running_time = self.obj().current_running_time();
        let message = gst::Structure::builder(STATS)
            .field("timestamp", running_time)
            .field("loss-percent", feedback.loss * 100.0)
            .field("jitter-ms", feedback.jitter_ms)
            .field("sent-kbps", sent_kbps)
            .field("target-kbps", target)
            .field("action", action.name())
            .field("estimate-kbps", estimate)
            .field("queue-delay-ms", queue_delay_ms)
            .field("delay-trend", trend)
            .field("delay-threshold", threshold)
            .field("reason", reason)
            .build();
        post(self.obj().upcast_ref(), Some(message));
        Ok(gst::FlowSuccess::Ok)
    }
}

/// The stats message's name.
const STATS: &str = "pixeldiffadapt-stats";

/// Notes, from the payloader's source pad, the transport-wide sequence number and send time of
/// each packet (the extension id comes with the caps).
fn note_sent(sent: &Mutex<Sent>, epoch: Instant, info: &gst::PadProbeInfo) {
    let mut sent = sent.lock().unwrap();
    match &info.data {
        Some(gst::PadProbeData::Event(e)) => {
            if let gst::EventView::Caps(c) = e.view() {
                sent.extension_id = c.caps().structure(0).and_then(|s| {
                    s.iter().find_map(|(name, value)| {
                        let id = name.strip_prefix("extmap-")?.parse::<u8>().ok()?;
                        (value.get::<&str>().ok()? == twcc::URI).then_some(id)
                    })
                });
            }
        }
        Some(gst::PadProbeData::Buffer(b)) => note_buffer(&mut sent, epoch, b),
        Some(gst::PadProbeData::BufferList(list)) => {
            for b in list.iter() {
                note_buffer(&mut sent, epoch, b);
            }
        }
        _ => {}
    }
}

fn note_buffer(sent: &mut Sent, epoch: Instant, buffer: &gst::BufferRef) {
    let Some(id) = sent.extension_id else {
        return;
    };
    let Ok(map) = buffer.map_readable() else {
        return;
    };
    if let Some(seq) = twcc::sequence_number(&map, id) {
        let at = epoch.elapsed().as_secs_f64();
        sent.history.sent(seq, at, map.len() as u32);
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
