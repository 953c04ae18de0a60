// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! The receiver's transport-wide feedback: the arrival of each transport-wide sequence number
//! is noted where the video enters `rtpbin` (after `srtpdec` and the SSRC gate, so only packets
//! the bin accepts count), and every [`INTERVAL`] a message about them joins
//! the video session's RTCP (before SRTCP, so a key protects it as it does the reports).
//! `rate_control::twcc::FeedbackBuilder` says why this is not rtpbin's own.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use gst::glib;
use gst::prelude::*;
use rate_control::twcc::{self, FeedbackBuilder};

use crate::graph::{self, Tail};

/// How often a receiver sends transport-wide feedback (while packets arrive).
pub const INTERVAL: Duration = Duration::from_millis(100);

struct Feedback {
    builder: FeedbackBuilder,
    /// The sender's SSRC the numbers come from: a new one (a restarted sender) starts over.
    media_ssrc: Option<u32>,
    sent_at: Option<Instant>,
}

/// Joins feedback about the video entering `rtpbin` into the RTCP that `out` carries from it;
/// returns the row to go on with.
pub fn join(bin: &gst::Bin, rtpbin: &gst::Element, out: Tail) -> Result<Tail, glib::BoolError> {
    let funnel = graph::make("funnel", "rtcp_and_transport_feedback")?;
    let source = gst_app::AppSrc::builder()
        .name("transport_feedback")
        .caps(&graph::rtcp_caps(false))
        .format(gst::Format::Time)
        .is_live(true)
        .do_timestamp(true)
        .build();
    bin.add_many([&funnel, source.upcast_ref()])?;
    let out = out.through(&funnel, "sink_%u", "src")?;
    graph::link(source.upcast_ref(), "src", &funnel, "sink_%u")?;

    let epoch = Instant::now();
    let state = Arc::new(Mutex::new(Feedback {
        builder: FeedbackBuilder::default(),
        media_ssrc: None,
        sent_at: None,
    }));
    let pad = rtpbin
        .static_pad(&format!("recv_rtp_sink_{}", graph::VIDEO_SESSION))
        .ok_or_else(|| glib::bool_error!("the video is not linked into rtpbin"))?;
    let rtpbin = rtpbin.downgrade();
    pad.add_probe(gst::PadProbeType::BUFFER, move |_, info| {
        let Some(buffer) = info.buffer() else {
            return gst::PadProbeReturn::Ok;
        };
        let Ok(map) = buffer.map_readable() else {
            return gst::PadProbeReturn::Ok;
        };
        let Some(seq) = twcc::sequence_number(&map, graph::TWCC_EXTENSION_ID) else {
            return gst::PadProbeReturn::Ok;
        };
        let media_ssrc = u32::from_be_bytes([map[8], map[9], map[10], map[11]]);
        let now = Instant::now();
        let mut f = state.lock().unwrap();
        if f.media_ssrc != Some(media_ssrc) {
            f.builder = FeedbackBuilder::default();
            f.media_ssrc = Some(media_ssrc);
        }
        f.builder
            .arrived(seq, now.duration_since(epoch).as_micros() as i64);
        if f.sent_at
            .is_some_and(|at| now.duration_since(at) < INTERVAL)
        {
            return gst::PadProbeReturn::Ok;
        }
        let sender_ssrc = rtpbin
            .upgrade()
            .and_then(|r| graph::internal_ssrc(&r, graph::VIDEO_SESSION));
        let Some(sender_ssrc) = sender_ssrc else {
            return gst::PadProbeReturn::Ok;
        };
        if let Some(message) = f.builder.build(sender_ssrc, media_ssrc) {
            f.sent_at = Some(now);
            let packet = twcc::compound(sender_ssrc, &message);
            // Flushing or not yet playing: this message is lost, like any RTCP packet.
            let _ = source.push_buffer(gst::Buffer::from_mut_slice(packet));
        }
        gst::PadProbeReturn::Ok
    });
    Ok(out)
}
