// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! `pixeldiffadapt`: adapts a `pixeldiffenc`'s `target-bitrate` to the network, from the RTCP
//! receiver reports on their way into the sender's `rtpbin`.
//!
//! It passes RTCP from the receivers it believes through unchanged (see `controller::ReporterGate`:
//! a stranger's reports, PLIs and NACKs are dropped) and reads the report blocks about the video stream (loss
//! fraction, jitter, highest sequence number). Loss is judged over at least 40 packets, less the
//! path's background loss (what a cut does not remove). Above 10 % the target drops to (1 -
//! loss/2) of what the encoder sent (or just under what got through); between 2 and 10 % it
//! holds, unless the loss came right after growth: then it goes back to 0.85 of what got through
//! (the ceiling); below 2 % it grows (8 % a second near the last capacity seen, 30 % beyond),
//! never beyond 1.5 times what the encoder sent (see `controller.rs`). Below `min-bitrate`
//! nothing is cut further: there the encoder's own rate control trades resolution for rate
//! (averaged blocks under motion). With several receivers (multicast, relay) the worst report of
//! a compound packet counts.
//!
//! The encoder is the one named by `encoder`, or else the first `pixeldiffenc` of the nearest
//! enclosing bin that has one (a `pixelmeetsend` steers its own), up to the pipeline. Each report posts an element message `pixeldiffadapt-stats` with `timestamp`
//! (pipeline running time), `loss-percent`, `jitter-ms`, `sent-kbps` (the encoder's last
//! interval), `target-kbps` (the new target) and `action` ("decrease", "hold", "increase"):
//! bitrate over time.
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
