// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! Counters shared by the encoder and decoder elements: running totals exposed as properties and
//! an interval window for the periodic stats messages.

use gst::glib;
use gst::glib::prelude::*;

pub use video_glue::stats::{interval_property, post, IntervalClock, DEFAULT_STATS_INTERVAL};

/// Running totals and the current reporting window.
#[derive(Debug, Default, Clone)]
pub struct Counters {
    pub frames: u64,
    pub bytes: u64,
    pub keyframes: u64,
    pub chunks: u64,
    pub chunks_lost: u64,
    pub chunks_corrupt: u64,
    /// Rate and changed share of the last completed window.
    pub kbps: f64,
    pub changed_percent: f64,
    window: Window,
}

#[derive(Debug, Default, Clone)]
struct Window {
    interval: IntervalClock,
    bytes: u64,
    changed_mbs: u64,
    total_mbs: u64,
}

impl Counters {
    /// Account one frame; returns true when `interval` has elapsed and a message is due.
    pub fn add_frame(
        &mut self,
        pts: Option<gst::ClockTime>,
        bytes: usize,
        changed_mbs: usize,
        total_mbs: usize,
        interval: gst::ClockTime,
    ) -> bool {
        self.frames += 1;
        self.bytes += bytes as u64;
        let w = &mut self.window;
        w.bytes += bytes as u64;
        w.changed_mbs += changed_mbs as u64;
        w.total_mbs += total_mbs as u64;
        let Some(secs) = w.interval.frame(pts, interval) else {
            return false;
        };
        self.kbps = kbit_per_second(w.bytes, secs);
        self.changed_percent = if w.total_mbs > 0 {
            100.0 * w.changed_mbs as f64 / w.total_mbs as f64
        } else {
            0.0
        };
        w.bytes = 0;
        w.changed_mbs = 0;
        w.total_mbs = 0;
        true
    }

    /// The `<name>-stats` element message structure.
    pub fn structure(&self, name: &str, pts: Option<gst::ClockTime>) -> gst::Structure {
        gst::Structure::builder(name)
            .field("timestamp", pts)
            .field("frames", self.frames)
            .field("bytes", self.bytes)
            .field("kbps", self.kbps)
            .field("changed-blocks-percent", self.changed_percent)
            .field("keyframes", self.keyframes)
            .field("chunks", self.chunks)
            .field("chunks-lost", self.chunks_lost)
            .field("chunks-corrupt", self.chunks_corrupt)
            .build()
    }
}

/// A read-only u64 counter property.
pub fn read_only_u64(name: &str, nick: &str, blurb: &str) -> glib::ParamSpec {
    glib::ParamSpecUInt64::builder(name)
        .nick(nick)
        .blurb(blurb)
        .read_only()
        .build()
}

/// A read-only double property from 0 to `max`.
pub fn read_only_f64(name: &str, nick: &str, blurb: &str, max: f64) -> glib::ParamSpec {
    glib::ParamSpecDouble::builder(name)
        .nick(nick)
        .blurb(blurb)
        .minimum(0.0)
        .maximum(max)
        .read_only()
        .build()
}

/// Bitrate in kbit/s of `bytes` sent or received over `secs` seconds.
pub fn kbit_per_second(bytes: u64, secs: f64) -> f64 {
    bytes as f64 * 8.0 / secs / 1000.0
}

/// Read-only property specs for the counters, shared by both elements.
pub fn counter_properties() -> Vec<glib::ParamSpec> {
    vec![
        read_only_u64("frames", "Frames", "Frames processed since start"),
        read_only_u64("bytes", "Bytes", "Encoded bytes processed since start"),
        read_only_u64("keyframes", "Keyframes", "Keyframes since start"),
        read_only_u64("chunks", "Chunks", "Chunks processed since start"),
        read_only_u64(
            "chunks-lost",
            "Chunks lost",
            "Chunks found missing since start (decoder; 0 on the encoder)",
        ),
        read_only_u64(
            "chunks-corrupt",
            "Chunks corrupt",
            "Chunks rejected as damaged since start (decoder; 0 on the encoder)",
        ),
        read_only_f64(
            "kbps",
            "Bitrate",
            "Encoded bitrate over the last stats interval, in kbit/s",
            f64::MAX,
        ),
        read_only_f64(
            "changed-blocks-percent",
            "Changed blocks",
            "Share of macroblocks updated over the last stats interval, 0 to 100 %",
            100.0,
        ),
    ]
}

impl Counters {
    /// Value of one of the [`counter_properties`], or None if `name` is not one.
    pub fn property(&self, name: &str) -> Option<glib::Value> {
        Some(match name {
            "frames" => self.frames.to_value(),
            "bytes" => self.bytes.to_value(),
            "keyframes" => self.keyframes.to_value(),
            "chunks" => self.chunks.to_value(),
            "chunks-lost" => self.chunks_lost.to_value(),
            "chunks-corrupt" => self.chunks_corrupt.to_value(),
            "kbps" => self.kbps.to_value(),
            "changed-blocks-percent" => self.changed_percent.to_value(),
            _ => return None,
        })
    }
}
