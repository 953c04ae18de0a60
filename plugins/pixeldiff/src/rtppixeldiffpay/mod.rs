// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! `rtppixeldiffpay`: puts `video/x-pixeldiff` into RTP, one chunk per packet (payload format
//! in `docs/rtp-pixeldiff.md`).
//!
//! Every chunk decodes on its own, so a lost packet costs only its own blocks. The marker bit is
//! set on the last packet of a frame; the RTP timestamp is the frame's, at 90 kHz. Chunks are
//! never split: the encoder's `mtu` must leave room for the 12-byte RTP header under the
//! payloader's `mtu` (the defaults, 1200 and 1400, do); a chunk that does not fit is sent
//! anyway (the network fragments it) with a warning.
//!
//! ```text
//! gst-launch-1.0 videotestsrc is-live=true ! pixeldiffenc ! rtppixeldiffpay ! udpsink host=127.0.0.1 port=5000
//! ```

use gst::glib;
use gst::prelude::*;

mod imp;

glib::wrapper! {
    pub struct RtpPixeldiffPay(ObjectSubclass<imp::RtpPixeldiffPay>)
        @extends gst_rtp::RTPBasePayload, gst::Element, gst::Object;
}

pub fn register(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    gst::Element::register(
        Some(plugin),
        "rtppixeldiffpay",
        gst::Rank::SECONDARY,
        RtpPixeldiffPay::static_type(),
    )
}
