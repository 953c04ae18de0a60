// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! What the payloader and depayloader agree on (docs/rtp-pixeldiff.md).

/// RTP encoding name of the payload format (SDP `a=rtpmap:<pt> X-PIXELDIFF/90000`).
pub const ENCODING_NAME: &str = "X-PIXELDIFF";
/// RTP timestamp rate, as for all video.
pub const RTP_CLOCK_RATE: u32 = 90_000;

/// `application/x-rtp` caps of the payload format, with a dynamic payload type.
pub fn rtp_caps_template() -> gst::Caps {
    gst::Caps::builder("application/x-rtp")
        .field("media", "video")
        .field("payload", gst::IntRange::new(96, 127))
        .field("clock-rate", RTP_CLOCK_RATE as i32)
        .field("encoding-name", ENCODING_NAME)
        .build()
}
