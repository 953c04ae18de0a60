// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! Every element through NULL -> PLAYING -> NULL 150 times, and flushing seeks while
//! playing: no deadlock (every change completes in time) and no leak (RSS flat once warm).

use pixelmeet_testkit as common;

use std::time::Duration;

use common::*;
use gst::prelude::*;

/// Every pixelmeet element in one non-live chain, the encoder's output through RTP and back.
const CHAIN: &str =
    "videotestsrc pattern=ball ! video/x-raw,format=I420,width=640,height=480,framerate=30/1 \
    ! faceroi ! bgreplace ! pixeldiffenc ! rtppixeldiffpay ! rtppixeldiffdepay \
    ! pixeldiffdec ! fakesink name=sink sync=false";

/// Sets `state` and waits for it, failing after 10 s (a deadlock).
fn change(pipeline: &gst::Pipeline, state: gst::State) {
    pipeline
        .set_state(state)
        .unwrap_or_else(|e| panic!("{e} to {state:?}"));
    let (result, now, _) = pipeline.state(gst::ClockTime::from_seconds(10));
    assert!(
        result.is_ok() && now == state,
        "stuck going to {state:?}: {result:?}, at {now:?}"
    );
}

/// RSS sampled every tenth round from the 50th on (the first dozens warm buffer pools and
/// allocator arenas up). One sample swings by several MiB as the allocator hands memory back,
/// so the check compares the median of the first half of the samples with that of the second:
/// a 640x480 frame leaked per round would add over 20 MiB between them.
#[derive(Default)]
struct RssTrend(Vec<f64>);

impl RssTrend {
    fn sample(&mut self, round: u64) {
        if round >= 50 && round.is_multiple_of(10) {
            self.0.push(rss_mib());
        }
    }

    fn assert_flat(&self) {
        let median = |v: &[f64]| {
            let mut v = v.to_vec();
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        let half = self.0.len() / 2;
        let (early, late) = (
            median(&self.0[..half]),
            median(&self.0[self.0.len() - half..]),
        );
        eprintln!("RSS samples (MiB): {:?}", self.0);
        assert!(
            late - early < 10.0,
            "RSS grew from {early:.1} to {late:.1} MiB: {:?}",
            self.0
        );
    }
}

/// Frames the fakesink has handled.
fn handled(pipeline: &gst::Pipeline) -> u64 {
    let sink = pipeline.by_name("sink").unwrap();
    let stats = sink.property::<gst::Structure>("stats");
    stats.get::<u64>("rendered").unwrap()
}

#[test]
fn null_playing_null_over_a_hundred_times_neither_leaks_nor_hangs() {
    init();
    let pipeline = launch_playing(CHAIN);
    change(&pipeline, gst::State::Null);
    let mut rss = RssTrend::default();
    for round in 0..150 {
        change(&pipeline, gst::State::Playing);
        // Let frames flow through every element before tearing down.
        let start = std::time::Instant::now();
        while handled(&pipeline) < 3 {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "no frames in round {round}"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        no_errors(&pipeline);
        change(&pipeline, gst::State::Null);
        rss.sample(round);
    }
    rss.assert_flat();
}

#[test]
fn flushing_seeks_while_playing_keep_the_frames_coming() {
    init();
    let pipeline = launch_playing(CHAIN);
    change(&pipeline, gst::State::Playing);
    let mut rss = RssTrend::default();
    for round in 0..150u64 {
        let position = gst::ClockTime::from_mseconds(round % 7 * 100);
        pipeline
            .seek_simple(gst::SeekFlags::FLUSH | gst::SeekFlags::ACCURATE, position)
            .unwrap_or_else(|e| panic!("seek {round}: {e}"));
        change(&pipeline, gst::State::Playing);
        let before = handled(&pipeline);
        let start = std::time::Instant::now();
        while handled(&pipeline) < before + 3 {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "no frames after seek {round}"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        no_errors(&pipeline);
        rss.sample(round);
    }
    change(&pipeline, gst::State::Null);
    rss.assert_flat();
}
