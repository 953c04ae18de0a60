// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! Periodic stats messages in stream time, for every pixelmeet element that posts them: when an
//! interval has passed by the buffers' timestamps, the `stats-interval` property, posting.

use gst::glib;
use gst::prelude::*;

/// Frame duration assumed when buffers carry no timestamps.
const FALLBACK_FRAME: gst::ClockTime = gst::ClockTime::from_nseconds(33_333_333);

/// Tells when a stats interval of stream time has passed, from the timestamps of the frames in
/// it. A window spans from its first frame to one frame past its last, so 30 frames at 30 fps
/// make one second.
#[derive(Debug, Default, Clone)]
pub struct IntervalClock {
    start: Option<gst::ClockTime>,
    frames: u64,
    total_frames: u64,
}

impl IntervalClock {
    /// Count one frame; when `interval` has elapsed, start a new window and return the length
    /// of the one that ended, in seconds.
    pub fn frame(&mut self, pts: Option<gst::ClockTime>, interval: gst::ClockTime) -> Option<f64> {
        self.frames += 1;
        self.total_frames += 1;
        let now = pts.unwrap_or(FALLBACK_FRAME * self.total_frames);
        let start = *self.start.get_or_insert(now);
        let elapsed = now.saturating_sub(start);
        let frame = if self.frames > 1 {
            elapsed / (self.frames - 1)
        } else {
            FALLBACK_FRAME
        };
        let span = elapsed + frame;
        if interval.is_zero() || span < interval || span.is_zero() {
            return None;
        }
        self.start = None;
        self.frames = 0;
        Some(span.nseconds() as f64 / 1e9)
    }
}

/// Default period of the stats messages, in milliseconds.
pub const DEFAULT_STATS_INTERVAL: u32 = 1000;

/// The `stats-interval` property of an element whose messages are named `message`.
pub fn interval_property(message: &str) -> glib::ParamSpec {
    let blurb = format!(
        "Milliseconds of stream time between {message} element messages, 0 to 3600000; 0 = none"
    );
    glib::ParamSpecUInt::builder("stats-interval")
        .nick("Stats interval")
        .blurb(&blurb)
        .maximum(3_600_000)
        .default_value(DEFAULT_STATS_INTERVAL)
        .mutable_playing()
        .build()
}

/// Post a stats message, if one is due, from `element`. Posting fails only without a bus (as
/// in a test harness), which is no error.
pub fn post(element: &gst::Element, message: Option<gst::Structure>) {
    if let Some(s) = message {
        let _ = element.post_message(gst::message::Element::builder(s).src(element).build());
    }
}
