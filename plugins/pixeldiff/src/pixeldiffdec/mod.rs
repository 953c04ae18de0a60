// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! `pixeldiffdec`: decoder for `video/x-pixeldiff`.
//!
//! Applies every chunk that arrives, on its own: a lost or damaged chunk leaves only its own
//! blocks stale and the last good picture stays on screen; the output never contains
//! uninitialised memory (before anything arrives for a block, it is mid grey). On a gap in the
//! frame counter or a damaged chunk it posts a warning (at most one a second) and asks upstream
//! for a keyframe with a force-key-unit event, rate-limited by the base class property
//! `min-force-key-unit-interval` (set to 500 ms here).
//!
//! ```text
//! gst-launch-1.0 videotestsrc ! pixeldiffenc lossless=true ! pixeldiffdec ! videoconvert ! autovideosink
//! gst-launch-1.0 videotestsrc ! pixeldiffenc ! pixeldiffdec ! videoconvert ! autovideosink
//! ```
//!
//! Every `stats-interval` ms it posts an element message `pixeldiffdec-stats` with fields
//! `timestamp`, `frames`, `bytes`, `keyframes`, `chunks`, `chunks-lost`, `chunks-corrupt` (u64
//! totals since start), `kbps` and `changed-blocks-percent` (double, over the interval). The
//! totals are also read-only properties.

use gst::glib;
use gst::prelude::*;

mod imp;

glib::wrapper! {
    pub struct PixeldiffDec(ObjectSubclass<imp::PixeldiffDec>)
        @extends gst_video::VideoDecoder, gst::Element, gst::Object;
}

pub fn register(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    // PRIMARY: the only decoder for video/x-pixeldiff, so decodebin picks it.
    gst::Element::register(
        Some(plugin),
        "pixeldiffdec",
        gst::Rank::PRIMARY,
        PixeldiffDec::static_type(),
    )
}
