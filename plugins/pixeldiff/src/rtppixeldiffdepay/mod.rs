// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! `rtppixeldiffdepay`: takes `video/x-pixeldiff` out of RTP (payload format in
//! `docs/rtp-pixeldiff.md`).
//!
//! Chunks of one RTP timestamp are gathered into one buffer, pushed when the frame's last chunk
//! arrives (marker bit, or the chunk header's index), or when a later frame starts. Every chunk
//! that arrives is passed on, even when others of its frame are lost: `pixeldiffdec` applies
//! each on its own. Chunks of a frame already pushed (reordered beyond the frame) are dropped
//! and counted as late.
//!
//! It follows one sender (SSRC): another's packets are dropped (`packets-foreign`) while the
//! followed one is alive, and followed once it has been silent for 500 ms (a restarted sender),
//! its first frame marked DISCONT, from the packets it sent meanwhile (those of the last second
//! are kept, at most 8192 packets and 4 MiB with their bookkeeping).
//! A frame beyond 64 MiB is dropped.
//!
//! ```text
//! gst-launch-1.0 udpsrc port=5000 caps="application/x-rtp,media=video,clock-rate=90000,encoding-name=X-PIXELDIFF,payload=96" \
//!   ! rtpjitterbuffer latency=50 ! rtppixeldiffdepay ! pixeldiffdec ! videoconvert ! autovideosink
//! ```
//!
//! Every `stats-interval` ms of stream time it posts an element message
//! `rtppixeldiffdepay-stats` with fields `timestamp`, `packets`, `packets-lost`, `packets-late`,
//! `frames`, `bytes` (u64 totals since start; lost packets are counted from gaps in the RTP
//! sequence numbers), and `kbps` and `loss-percent` (double, over the interval: lost / (lost +
//! received)). The totals and the last interval's values are also read-only properties.

use gst::glib;
use gst::prelude::*;

mod imp;

glib::wrapper! {
    pub struct RtpPixeldiffDepay(ObjectSubclass<imp::RtpPixeldiffDepay>)
        @extends gst_rtp::RTPBaseDepayload, gst::Element, gst::Object;
}

pub fn register(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    gst::Element::register(
        Some(plugin),
        "rtppixeldiffdepay",
        gst::Rank::SECONDARY,
        RtpPixeldiffDepay::static_type(),
    )
}
