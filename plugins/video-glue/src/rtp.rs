// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! The pixeldiff RTP payload format's caps (docs/rtp-pixeldiff.md), written once for the
//! payloader, the depayloader and the participant bins.

/// RTP encoding name of the payload format (SDP `a=rtpmap:<pt> X-PIXELDIFF/90000`).
pub const ENCODING_NAME: &str = "X-PIXELDIFF";
/// RTP timestamp rate, as for all video.
pub const RTP_CLOCK_RATE: u32 = 90_000;

/// The dynamic payload type pixelmeet's pipelines give the video.
pub const DEFAULT_PAYLOAD_TYPE: u8 = 96;

/// The caps of a received stream of the payload format with payload type `pt`: what a
/// `udpsrc` in front of `rtpbin` announces.
pub fn rtp_caps(pt: u8) -> gst::Caps {
    gst::Caps::builder("application/x-rtp")
        .field("media", "video")
        .field("clock-rate", RTP_CLOCK_RATE as i32)
        .field("encoding-name", ENCODING_NAME)
        .field("payload", i32::from(pt))
        .build()
}

/// `application/x-rtp` caps of the payload format, with a dynamic payload type.
pub fn rtp_caps_template() -> gst::Caps {
    gst::Caps::builder("application/x-rtp")
        .field("media", "video")
        .field("payload", gst::IntRange::new(96, 127))
        .field("clock-rate", RTP_CLOCK_RATE as i32)
        .field("encoding-name", ENCODING_NAME)
        .build()
}
