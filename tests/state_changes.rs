// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! Every element through NULL -> PLAYING -> NULL a hundred times, and flushing seeks while
//! playing: no deadlock (every change completes in time) and no leak (RSS flat once warm).

mod common;

use std::time::Duration;

use common::*;
use gst::prelude::*;

/// Every pixelmeet element in one non-live chain, the encoder's output through RTP and back.
/// At 640x480 a frame leaked per round would be 40 MiB over the run.
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

/// Frames the fakesink has handled.
fn handled(pipeline: &gst::Pipeline) -> u64 {
    let sink = pipeline.by_name("sink").unwrap();
    let stats = sink.property::<gst::Structure>("stats");
    stats.get::<u64>("rendered").unwrap()
}

#[test]
fn null_playing_null_a_hundred_times_neither_leaks_nor_hangs() {
    init();
    let pipeline = launch_playing(CHAIN);
    change(&pipeline, gst::State::Null);
    let mut warm = 0.0;
    for round in 0..100 {
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
        if round == 9 {
            warm = rss_mib();
        }
    }
    let end = rss_mib();
    eprintln!("RSS {warm:.1} MiB after 10 rounds, {end:.1} MiB after 100");
    assert!(end - warm < 8.0, "RSS grew from {warm:.1} to {end:.1} MiB");
}

#[test]
fn flushing_seeks_while_playing_keep_the_frames_coming() {
    init();
    let pipeline = launch_playing(CHAIN);
    change(&pipeline, gst::State::Playing);
    let mut warm = 0.0;
    for round in 0..50u64 {
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
        if round == 9 {
            warm = rss_mib();
        }
    }
    change(&pipeline, gst::State::Null);
    let end = rss_mib();
    eprintln!("RSS {warm:.1} MiB after 10 seeks, {end:.1} MiB after 50");
    assert!(end - warm < 8.0, "RSS grew from {warm:.1} to {end:.1} MiB");
}
