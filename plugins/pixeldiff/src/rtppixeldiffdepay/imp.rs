// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};

use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;
use gst_rtp::prelude::*;
use gst_rtp::subclass::prelude::*;
use pixeldiff_codec as codec;

use crate::rtp::rtp_caps_template;
use crate::stats::{
    interval_property, kbit_per_second, post, read_only_f64, read_only_u64, IntervalClock,
    DEFAULT_STATS_INTERVAL,
};

/// A jump in sequence numbers larger than this is a sender restart, not loss.
const MAX_SEQ_GAP: u16 = 3000;
/// A packet of another SSRC is taken as a new sender (a restart) only once the current one has
/// been silent this long; until then it is a second sender on our port, and dropped.
const SOURCE_TIMEOUT: Duration = Duration::from_millis(500);
/// Largest frame gathered (a lossless 4K RGBA frame of noise is about 34 MB): chunks beyond are
/// a sender that never changes its timestamp, and the frame is dropped.
const MAX_FRAME_BYTES: usize = 64 << 20;

/// Chunks gathered for one RTP timestamp.
struct PendingFrame {
    rtptime: u32,
    pts: Option<gst::ClockTime>,
    /// Gathered in one vector: a buffer of many memories would merge them again and again.
    data: Vec<u8>,
    /// The first frame of a new sender.
    discont: bool,
    /// The faces the sender sent with this frame, if any packet that carried them came.
    faces: Option<video_glue::roi::wire::Faces>,
}

/// Packets kept of a sender not followed (yet), so that a restarted sender's first frames,
/// keyframe included, are not lost while the old one times out. The budget counts each
/// packet's bookkeeping as well as its payload, and the packets too, so a flood of empty
/// packets costs no more than full ones.
const MAX_WAITING_BYTES: usize = 4 << 20;
const MAX_WAITING_PACKETS: usize = 8192;
const WAITING_PACKET_COST: usize = std::mem::size_of::<(Instant, Packet)>();
/// Only packets that came within this long are kept: a restarted sender's from while the old
/// one timed out. So what is replayed at a switch is at most what came in this time, not a long
/// flood from a second sender.
const MAX_WAITING_AGE: Duration = Duration::from_millis(2 * SOURCE_TIMEOUT.as_millis() as u64);

/// What the depayloader needs of an RTP packet.
/// The payload is borrowed from the RTP buffer while it is handled at once, owned while it
/// waits: a packet of the sender followed is copied once, into its frame.
struct Packet<P = Vec<u8>> {
    ssrc: u32,
    seq: u16,
    rtptime: u32,
    pts: Option<gst::ClockTime>,
    /// The payloader marks the last chunk of each frame.
    marker: bool,
    payload: P,
}

impl Packet<&[u8]> {
    fn to_owned(&self) -> Packet {
        Packet {
            ssrc: self.ssrc,
            seq: self.seq,
            rtptime: self.rtptime,
            pts: self.pts,
            marker: self.marker,
            payload: self.payload.to_vec(),
        }
    }
}

/// The sender followed.
struct Source {
    ssrc: u32,
    last_seen: Instant,
}

enum Follow {
    Same,
    Switched,
    Foreign,
}

#[derive(Default)]
struct State {
    source: Option<Source>,
    /// The newest packets of the last other sender seen, oldest first, with when they came,
    /// and their cost in bytes.
    waiting: std::collections::VecDeque<(Instant, Packet)>,
    waiting_bytes: usize,
    /// The next frame starts a new sender's stream.
    discont: bool,
    pending: Option<PendingFrame>,
    /// Highest sequence number seen.
    last_seq: Option<u16>,
    /// RTP timestamp of the last frame pushed: its stragglers are late.
    last_pushed: Option<u32>,
    /// The face count last posted: a `faceroi` message goes out when it changes.
    faces_posted: Option<u8>,
}

impl State {
    /// Whether a packet of `ssrc` arriving `now` belongs to the sender followed, switching to it
    /// when the current one has fallen silent.
    fn follow(&mut self, ssrc: u32, now: Instant) -> Follow {
        let follow = match &mut self.source {
            Some(s) if s.ssrc == ssrc => {
                s.last_seen = now;
                return Follow::Same;
            }
            Some(s) if now.duration_since(s.last_seen) < SOURCE_TIMEOUT => return Follow::Foreign,
            Some(_) => {
                // A restarted sender: its numbering starts afresh.
                *self = State {
                    discont: true,
                    waiting: std::mem::take(&mut self.waiting),
                    waiting_bytes: self.waiting_bytes,
                    ..State::default()
                };
                Follow::Switched
            }
            None => Follow::Same,
        };
        self.source = Some(Source {
            ssrc,
            last_seen: now,
        });
        follow
    }

    /// Keep a packet of a sender not followed that came `now`, dropping any of an earlier other
    /// sender, and the oldest beyond the budget or the age.
    fn keep_waiting(&mut self, packet: Packet, now: Instant) {
        if self
            .waiting
            .front()
            .is_some_and(|(_, p)| p.ssrc != packet.ssrc)
        {
            self.waiting.clear();
            self.waiting_bytes = 0;
        }
        self.waiting_bytes += WAITING_PACKET_COST + packet.payload.len();
        self.waiting.push_back((now, packet));
        self.forget_waiting(now);
    }

    /// Drop the oldest waiting packets beyond the budget or older than [`MAX_WAITING_AGE`].
    fn forget_waiting(&mut self, now: Instant) {
        while let Some((came, oldest)) = self.waiting.front() {
            let over = self.waiting_bytes > MAX_WAITING_BYTES
                || self.waiting.len() > MAX_WAITING_PACKETS
                || now.duration_since(*came) > MAX_WAITING_AGE;
            if !over {
                break;
            }
            self.waiting_bytes -= WAITING_PACKET_COST + oldest.payload.len();
            self.waiting.pop_front();
        }
    }

    /// The waiting packets of `ssrc` still young enough at `now`, oldest first; none are left.
    fn take_waiting(&mut self, ssrc: u32, now: Instant) -> Vec<Packet> {
        self.forget_waiting(now);
        self.waiting_bytes = 0;
        std::mem::take(&mut self.waiting)
            .into_iter()
            .filter(|(_, p)| p.ssrc == ssrc)
            .map(|(_, p)| p)
            .collect()
    }

    /// Hand on the frame being gathered; its stragglers will be late.
    fn finish_pending(&mut self) -> Option<PendingFrame> {
        let done = self.pending.take()?;
        self.last_pushed = Some(done.rtptime);
        Some(done)
    }
}

/// Totals since start, and the current and last stats windows.
#[derive(Debug, Default, Clone)]
struct Stats {
    packets: u64,
    packets_lost: u64,
    packets_late: u64,
    packets_foreign: u64,
    source_changes: u64,
    frames: u64,
    bytes: u64,
    kbps: f64,
    loss_percent: f64,
    clock: IntervalClock,
    window_packets: u64,
    window_lost: u64,
    window_bytes: u64,
}

impl Stats {
    fn structure(&self, pts: Option<gst::ClockTime>) -> gst::Structure {
        gst::Structure::builder("rtppixeldiffdepay-stats")
            .field("timestamp", pts)
            .field("packets", self.packets)
            .field("packets-lost", self.packets_lost)
            .field("packets-late", self.packets_late)
            .field("packets-foreign", self.packets_foreign)
            .field("source-changes", self.source_changes)
            .field("frames", self.frames)
            .field("bytes", self.bytes)
            .field("kbps", self.kbps)
            .field("loss-percent", self.loss_percent)
            .build()
    }

    /// Account a pushed frame; returns the stats message when one is due.
    fn frame_pushed(
        &mut self,
        pts: Option<gst::ClockTime>,
        interval_ms: u32,
    ) -> Option<gst::Structure> {
        self.frames += 1;
        let secs = self
            .clock
            .frame(pts, gst::ClockTime::from_mseconds(interval_ms as u64))?;
        self.kbps = kbit_per_second(self.window_bytes, secs);
        let expected = self.window_packets + self.window_lost;
        self.loss_percent = if expected > 0 {
            100.0 * self.window_lost as f64 / expected as f64
        } else {
            0.0
        };
        self.window_packets = 0;
        self.window_lost = 0;
        self.window_bytes = 0;
        Some(self.structure(pts))
    }
}

pub struct RtpPixeldiffDepay {
    stats_interval: Mutex<u32>,
    state: Mutex<State>,
    stats: Mutex<Stats>,
}

impl Default for RtpPixeldiffDepay {
    fn default() -> Self {
        RtpPixeldiffDepay {
            stats_interval: Mutex::new(DEFAULT_STATS_INTERVAL),
            state: Mutex::default(),
            stats: Mutex::default(),
        }
    }
}

static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "rtppixeldiffdepay",
        gst::DebugColorFlags::empty(),
        Some("pixeldiff RTP depayloader"),
    )
});

#[glib::object_subclass]
impl ObjectSubclass for RtpPixeldiffDepay {
    const NAME: &'static str = "GstRtpPixeldiffDepay";
    type Type = super::RtpPixeldiffDepay;
    type ParentType = gst_rtp::RTPBaseDepayload;
}

impl ObjectImpl for RtpPixeldiffDepay {
    fn properties() -> &'static [glib::ParamSpec] {
        static PROPERTIES: LazyLock<Vec<glib::ParamSpec>> = LazyLock::new(|| {
            vec![
                interval_property("rtppixeldiffdepay-stats"),
                read_only_u64("packets", "Packets", "RTP packets received since start"),
                read_only_u64(
                    "packets-lost",
                    "Packets lost",
                    "Packets missing from the sequence numbers since start",
                ),
                read_only_u64(
                    "packets-late",
                    "Packets late",
                    "Packets that arrived after their frame was pushed (dropped), or twice",
                ),
                read_only_u64(
                    "packets-foreign",
                    "Foreign packets",
                    "Packets of a second sender (another SSRC) while the followed one is alive, dropped",
                ),
                read_only_u64(
                    "source-changes",
                    "Source changes",
                    "Times a new sender (SSRC) was followed after the previous one fell silent for 500 ms",
                ),
                read_only_u64("frames", "Frames", "Frames pushed since start"),
                read_only_f64(
                    "kbps",
                    "Bitrate",
                    "Received payload bitrate over the last stats interval, in kbit/s",
                    f64::MAX,
                ),
                read_only_f64(
                    "loss-percent",
                    "Loss",
                    "Packets lost over the last stats interval, 0 to 100 %",
                    100.0,
                ),
            ]
        });
        PROPERTIES.as_ref()
    }

    fn set_property(&self, _id: usize, value: &glib::Value, pspec: &glib::ParamSpec) {
        match pspec.name() {
            "stats-interval" => {
                *self.stats_interval.lock().unwrap() = value.get().expect("type checked upstream")
            }
            other => unreachable!("unknown writable property {other}"),
        }
    }

    fn property(&self, _id: usize, pspec: &glib::ParamSpec) -> glib::Value {
        let stats = self.stats.lock().unwrap();
        match pspec.name() {
            "stats-interval" => self.stats_interval.lock().unwrap().to_value(),
            "packets" => stats.packets.to_value(),
            "packets-lost" => stats.packets_lost.to_value(),
            "packets-late" => stats.packets_late.to_value(),
            "packets-foreign" => stats.packets_foreign.to_value(),
            "source-changes" => stats.source_changes.to_value(),
            "frames" => stats.frames.to_value(),
            "kbps" => stats.kbps.to_value(),
            "loss-percent" => stats.loss_percent.to_value(),
            other => unreachable!("unknown property {other}"),
        }
    }
}

impl GstObjectImpl for RtpPixeldiffDepay {}

impl ElementImpl for RtpPixeldiffDepay {
    fn metadata() -> Option<&'static gst::subclass::ElementMetadata> {
        static ELEMENT_METADATA: LazyLock<gst::subclass::ElementMetadata> = LazyLock::new(|| {
            gst::subclass::ElementMetadata::new(
                "RTP pixeldiff depayloader",
                "Codec/Depayloader/Network/RTP",
                "Extracts video/x-pixeldiff from RTP packets; passes every chunk that arrives and \
                 counts the lost ones",
                "pixelmeet developers",
            )
        });
        Some(&*ELEMENT_METADATA)
    }

    fn pad_templates() -> &'static [gst::PadTemplate] {
        static PAD_TEMPLATES: LazyLock<Vec<gst::PadTemplate>> = LazyLock::new(|| {
            video_glue::src_and_sink_templates(
                &crate::pixeldiff_caps_template(),
                &rtp_caps_template(),
            )
        });
        PAD_TEMPLATES.as_ref()
    }

    fn change_state(
        &self,
        transition: gst::StateChange,
    ) -> Result<gst::StateChangeSuccess, gst::StateChangeError> {
        if transition == gst::StateChange::ReadyToPaused {
            *self.state.lock().unwrap() = State::default();
            *self.stats.lock().unwrap() = Stats::default();
        }
        self.parent_change_state(transition)
    }
}

impl RTPBaseDepayloadImpl for RtpPixeldiffDepay {
    fn set_caps(&self, caps: &gst::Caps) -> Result<(), gst::LoggableError> {
        let s = caps
            .structure(0)
            .ok_or_else(|| gst::loggable_error!(CAT, "empty caps"))?;
        // Pass on what the sender announced (SDP-style strings); the chunks stay authoritative.
        let mut out = crate::pixeldiff_caps_template();
        {
            let out = out.make_mut().structure_mut(0).expect("one structure");
            let dims = ["width", "height"]
                .map(|f| s.get::<&str>(f).ok().and_then(|v| v.parse::<i32>().ok()));
            if let [Some(w), Some(h)] = dims {
                out.set("width", w);
                out.set("height", h);
            }
            if let Some(f) = s
                .get::<&str>("format")
                .ok()
                .and_then(codec::PixelFormat::from_name)
            {
                out.set("format", f.name());
            }
            if let Some(fps) = s
                .get::<&str>("a-framerate")
                .ok()
                .and_then(|v| v.parse::<f64>().ok())
                .filter(|v| v.is_finite() && *v > 0.0 && *v <= 1000.0)
            {
                // Frame rates are sent with three decimals: 29.970 is 30000/1001.
                out.set(
                    "framerate",
                    gst::Fraction::approximate_f64(fps).unwrap_or(gst::Fraction::new(0, 1)),
                );
            }
        }
        gst::debug!(CAT, imp = self, "output caps {out}");
        if self.obj().src_pad().push_event(gst::event::Caps::new(&out)) {
            Ok(())
        } else {
            Err(gst::loggable_error!(CAT, "downstream refused {out}"))
        }
    }

    fn handle_event(&self, event: gst::Event) -> bool {
        match event.view() {
            gst::EventView::Eos(_) => {
                // The last frame may have lost its marker: do not keep it.
                let pending = self.state.lock().unwrap().finish_pending();
                if let Some(p) = pending {
                    let _ = self.push_frame(p);
                }
            }
            gst::EventView::FlushStop(_) => {
                *self.state.lock().unwrap() = State::default();
            }
            _ => (),
        }
        self.parent_handle_event(event)
    }

    fn process_rtp_packet(
        &self,
        rtp: &gst_rtp::RTPBuffer<gst_rtp::rtp_buffer::Readable>,
    ) -> Option<gst::Buffer> {
        let packet = Packet {
            ssrc: rtp.ssrc(),
            seq: rtp.seq(),
            rtptime: rtp.timestamp(),
            pts: rtp.buffer().pts(),
            marker: rtp.is_marker(),
            payload: rtp.payload().ok()?,
        };
        let mut to_push = Vec::with_capacity(2);
        {
            let mut state = self.state.lock().unwrap();
            let mut stats = self.stats.lock().unwrap();
            let now = Instant::now();
            match state.follow(packet.ssrc, now) {
                Follow::Same => self.gather(&mut state, &mut stats, &packet, &mut to_push),
                Follow::Switched => {
                    stats.source_changes += 1;
                    gst::info!(
                        CAT,
                        imp = self,
                        "following a new sender, SSRC {:#010x}",
                        packet.ssrc
                    );
                    // Its packets that came while the old sender timed out come first.
                    for p in state.take_waiting(packet.ssrc, now) {
                        self.gather(&mut state, &mut stats, &p, &mut to_push);
                    }
                    self.gather(&mut state, &mut stats, &packet, &mut to_push);
                }
                Follow::Foreign => {
                    stats.packets_foreign += 1;
                    state.keep_waiting(packet.to_owned(), now);
                }
            }
        }
        for frame in to_push {
            if self.push_frame(frame).is_err() {
                break;
            }
        }
        None
    }
}

impl RtpPixeldiffDepay {
    /// Account `packet` of the sender followed and add it to its frame; frames complete go to
    /// `to_push`.
    fn gather(
        &self,
        state: &mut State,
        stats: &mut Stats,
        packet: &Packet<impl AsRef<[u8]>>,
        to_push: &mut Vec<PendingFrame>,
    ) {
        let Packet {
            seq,
            rtptime,
            pts,
            marker: last_of_frame,
            ..
        } = *packet;
        let payload = packet.payload.as_ref();
        stats.packets += 1;
        stats.window_packets += 1;
        stats.bytes += payload.len() as u64;
        stats.window_bytes += payload.len() as u64;
        let in_order = match state.last_seq {
            None => true,
            Some(last) => {
                let ahead = seq.wrapping_sub(last);
                if ahead == 0 || ahead > u16::MAX / 2 {
                    false
                } else {
                    if ahead <= MAX_SEQ_GAP {
                        stats.packets_lost += (ahead - 1) as u64;
                        stats.window_lost += (ahead - 1) as u64;
                    }
                    true
                }
            }
        };
        if in_order {
            state.last_seq = Some(seq);
        } else {
            // A reordered packet fills a gap already counted as lost. (A duplicate is taken
            // for one too: telling them apart would need a history of sequence numbers.)
            stats.packets_late += 1;
            stats.packets_lost = stats.packets_lost.saturating_sub(1);
            stats.window_lost = stats.window_lost.saturating_sub(1);
        }

        if state.pending.as_ref().is_some_and(|p| p.rtptime != rtptime) {
            to_push.extend(state.finish_pending());
        }
        if state.pending.is_none() && state.last_pushed == Some(rtptime) {
            gst::debug!(
                CAT,
                imp = self,
                "dropping late chunk {seq} of a frame already pushed"
            );
            if in_order {
                stats.packets_late += 1;
            }
        } else {
            if state
                .pending
                .as_ref()
                .is_some_and(|p| p.data.len() + payload.len() > MAX_FRAME_BYTES)
            {
                gst::warning!(
                    CAT,
                    imp = self,
                    "dropping a frame of more than {MAX_FRAME_BYTES} bytes"
                );
                state.pending = None;
            }
            let discont = std::mem::take(&mut state.discont);
            let pending = state.pending.get_or_insert_with(|| PendingFrame {
                rtptime,
                pts,
                data: Vec::new(),
                discont,
                faces: None,
            });
            let (chunk, faces) = split_faces(payload);
            pending.data.extend_from_slice(chunk);
            if faces.is_some() {
                pending.faces = faces;
            }
            if last_of_frame {
                to_push.extend(state.finish_pending());
            }
        }
    }

    fn push_frame(&self, frame: PendingFrame) -> Result<gst::FlowSuccess, gst::FlowError> {
        let pts = frame.pts;
        let mut buffer = gst::Buffer::from_mut_slice(frame.data);
        {
            let buffer = buffer.get_mut().expect("fresh buffer");
            buffer.set_pts(pts);
            if frame.discont {
                buffer.set_flags(gst::BufferFlags::DISCONT);
            }
            for face in frame.faces.iter().flat_map(|f| &f.listed) {
                video_glue::roi::add_wire_face(buffer, face);
            }
        }
        if let Some(faces) = &frame.faces {
            let changed = {
                let mut state = self.state.lock().unwrap();
                state.faces_posted.replace(faces.count) != Some(faces.count)
            };
            if changed {
                post(self.obj().upcast_ref(), Some(faces_message(faces, pts)));
            }
        }
        let message = self
            .stats
            .lock()
            .unwrap()
            .frame_pushed(pts, *self.stats_interval.lock().unwrap());
        post(self.obj().upcast_ref(), message);
        self.obj().push(buffer)
    }
}

/// A packet's payload split into its chunk and the faces block after it (docs/rtp-pixeldiff.md
/// section 2.4). Bytes after the chunk that are not a faces block are dropped; a payload that is
/// not a chunk passes whole, for the decoder to refuse.
fn split_faces(payload: &[u8]) -> (&[u8], Option<video_glue::roi::wire::Faces>) {
    let Some(Ok(chunk)) = codec::split_chunks(payload).next() else {
        return (payload, None);
    };
    let rest = &payload[chunk.len()..];
    if rest.is_empty() {
        return (chunk, None);
    }
    (chunk, video_glue::roi::wire::Faces::parse(rest))
}

/// The `faceroi` message of faces that came with a frame, in faceroi's form (its `faces` list
/// of boxes and ids) plus `count`, which includes faces the block did not list.
fn faces_message(
    faces: &video_glue::roi::wire::Faces,
    pts: Option<gst::ClockTime>,
) -> gst::Structure {
    let list = gst::List::new(faces.listed.iter().map(|f| {
        gst::Structure::builder("face")
            .field("x", u32::from(f.x))
            .field("y", u32::from(f.y))
            .field("width", u32::from(f.width))
            .field("height", u32::from(f.height))
            .field("id", u32::from(f.id))
            .build()
    }));
    gst::Structure::builder("faceroi")
        .field("timestamp", pts.map_or(u64::MAX, |t| t.nseconds()))
        .field("count", u32::from(faces.count))
        .field("faces", list)
        .build()
}
