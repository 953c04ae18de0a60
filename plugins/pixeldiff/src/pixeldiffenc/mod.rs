// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! `pixeldiffenc`: conditional-replenishment video encoder.
//!
//! Sends only the 16x16 macroblocks that differ from what the decoder shows, each predicted
//! from the decoder's previous picture with a motion vector (found by a search per block that
//! starts from a global estimate for a moving camera), lossless (`lossless=true`, bit-exact) or
//! lossy (`quality`, `target-bitrate`). Each output buffer is one frame: self-delimiting chunks
//! of at most `mtu` bytes, each decodable on its own (`threads` codes them in parallel). A few
//! blocks are re-sent intra per frame (`refresh-blocks`), and blocks refreshed in the current
//! cycle predict only from each other, so a receiver that lost packets converges without a
//! keyframe. Face regions (`GstVideoRegionOfInterestMeta` of type "face", as `faceroi`
//! or `facedetect` attach) can be prioritised or made the only thing sent (`roi-mode`).
//!
//! ```text
//! gst-launch-1.0 videotestsrc ! video/x-raw,format=I420,width=640,height=480 ! \
//!     pixeldiffenc quality=60 ! pixeldiffdec ! videoconvert ! autovideosink
//! gst-launch-1.0 videotestsrc pattern=ball ! pixeldiffenc lossless=true ! filesink location=out.pxd
//! ```
//!
//! Every `stats-interval` ms it posts an element message `pixeldiffenc-stats` with fields
//! `timestamp` (PTS of the last frame, ClockTime), `frames`, `bytes`, `keyframes`,
//! `chunks` (u64 totals since start), `kbps` and `changed-blocks-percent` (double, over the
//! interval), `chunks-lost` and `chunks-corrupt` (always 0 here). The totals are also read-only
//! properties.

use gst::glib;
use gst::prelude::*;

mod imp;

pub use imp::{NoRoiAction, RoiMode};

glib::wrapper! {
    pub struct PixeldiffEnc(ObjectSubclass<imp::PixeldiffEnc>)
        @extends gst_video::VideoEncoder, gst::Element, gst::Object;
}

pub fn register(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    #[cfg(feature = "doc")]
    {
        RoiMode::static_type().mark_as_plugin_api(gst::PluginAPIFlags::empty());
        NoRoiAction::static_type().mark_as_plugin_api(gst::PluginAPIFlags::empty());
    }
    gst::Element::register(
        Some(plugin),
        "pixeldiffenc",
        gst::Rank::SECONDARY,
        PixeldiffEnc::static_type(),
    )
}
