// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! `pixeldiffadapt`: adapts a `pixeldiffenc`'s `target-bitrate` to the network, from the RTCP
//! receiver reports on their way into the sender's `rtpbin`.
//!
//! It passes RTCP from the receivers it believes through unchanged (see
//! `rate_control::rtcp::ReporterGate`: a stranger's reports, PLIs, NACKs and transport-wide
//! feedback are dropped) and steers the encoder with `rate_control::RateController`: the lower of
//! a loss-based target (receiver reports: loss over at least 40 packets, less the path's
//! background loss and its sampling noise) and, where the payloader carries transport-wide
//! sequence numbers and receivers answer them, each receiver's delay-based estimate (a queue that
//! fills is congestion before anything is lost). The target starts at `start-bitrate`, stays in
//! `min-bitrate..=max-bitrate`, and never grows beyond 1.5 times what was sent or delivered.
//! Below `min-bitrate` the encoder's own rate control trades resolution for rate (averaged
//! blocks under motion). See docs/elements.md for the rules and `adapt-bench` for the numbers.
//!
//! The encoder is the one named by `encoder`, or else the first `pixeldiffenc` of the nearest
//! enclosing bin that has one (a `pixelmeetsend` steers its own), up to the pipeline. Each report posts an element message `pixeldiffadapt-stats` with `timestamp`
//! (pipeline running time), `loss-percent`, `jitter-ms`, `sent-kbps` (the encoder's last
//! interval), `target-kbps` (the new target), `action` ("decrease", "hold", "increase"),
//! `estimate-kbps`, `queue-delay-ms`, `delay-trend`, `delay-threshold` and `reason`: bitrate
//! over time, and why.
//!
//! ```text
//! udpsrc port=5001 caps=application/x-rtcp ! pixeldiffadapt max-bitrate=1500 ! rtpbin.recv_rtcp_sink_0
//! ```

use gst::glib;
use gst::prelude::*;

mod imp;

glib::wrapper! {
    pub struct PixeldiffAdapt(ObjectSubclass<imp::PixeldiffAdapt>)
        @extends gst_base::BaseTransform, gst::Element, gst::Object;
}

pub fn register(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    gst::Element::register(
        Some(plugin),
        "pixeldiffadapt",
        gst::Rank::NONE,
        PixeldiffAdapt::static_type(),
    )
}
