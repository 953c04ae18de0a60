// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! Either end of a call restarts: the sender with a new SSRC and a new frame counter, or the
//! receiver while the sender goes on. Real time, over UDP on 127.0.0.1.

use pixelmeet_testkit as common;

use std::time::{Duration, Instant};

use common::*;
use gst::prelude::*;

#[test]
fn a_restarted_sender_is_shown_within_a_second() {
    init();
    let port = 23100;
    let (first, second) = (still_picture("smpte75"), still_picture("colors"));
    let receiver = StillReceiver::start(port, "", &[first, second]);
    let sender = still_sender("smpte75", 0x1000_0001, port);
    std::thread::sleep(Duration::from_secs(2));
    assert!(
        receiver.shown().first_shown[0].is_some(),
        "{:?}",
        receiver.shown()
    );

    // The sender's process restarts: a new pipeline, a new SSRC, frames counted from 0.
    sender.set_state(gst::State::Null).unwrap();
    let restart = Instant::now();
    let sender = still_sender("colors", 0x2000_0002, port);
    std::thread::sleep(Duration::from_secs(3));
    no_errors(&receiver.pipeline);
    let shown = receiver.shown();
    let depay = receiver.pipeline.by_name("depay").unwrap();
    let changes = depay.property::<u64>("source-changes");
    sender.set_state(gst::State::Null).unwrap();

    let recovered = shown.first_shown[1]
        .unwrap_or_else(|| panic!("the restarted sender never shown: {shown:?}"))
        .duration_since(restart);
    eprintln!("restarted sender shown after {recovered:?}; {shown:?}");
    assert!(
        recovered <= Duration::from_secs(1),
        "shown {recovered:?} after the restart"
    );
    assert_eq!(shown.garbage, 0, "{shown:?}");
    assert_eq!(changes, 1, "one new sender followed");
}

#[test]
fn a_restarted_receiver_catches_up_without_the_sender_noticing() {
    init();
    let port = 23200;
    let picture = still_picture("smpte75");
    let sender = still_sender("smpte75", 0x3000_0003, port);
    let receiver = StillReceiver::start(port, "", std::slice::from_ref(&picture));
    std::thread::sleep(Duration::from_secs(2));
    assert!(receiver.shown().exact > 30, "{:?}", receiver.shown());
    let enc = sender.by_name("enc").unwrap();
    let frames_before = enc.property::<u64>("frames");

    // The receiver's process restarts: its port is closed for a moment, then a new pipeline
    // binds it while the sender goes on, sending deltas only.
    drop(receiver);
    std::thread::sleep(Duration::from_millis(300));
    let restart = Instant::now();
    let receiver = StillReceiver::start(port, "", &[picture]);
    std::thread::sleep(Duration::from_secs(3));
    no_errors(&receiver.pipeline);
    no_errors(&sender);
    let shown = receiver.shown();
    let (frames_after, keyframes) = (
        enc.property::<u64>("frames"),
        enc.property::<u64>("keyframes"),
    );
    sender.set_state(gst::State::Null).unwrap();

    let caught_up = shown.first_shown[0]
        .unwrap_or_else(|| panic!("the new receiver never showed the picture: {shown:?}"))
        .duration_since(restart);
    eprintln!("caught up after {caught_up:?}; {shown:?}");
    // Cyclic refresh sends every block again within a second (twice as fast after a keyframe).
    assert!(
        caught_up <= Duration::from_millis(1500),
        "picture whole {caught_up:?} after the restart"
    );
    assert_eq!(shown.garbage, 0, "{shown:?}");
    assert_eq!(keyframes, 1, "the sender made no new keyframe");
    assert!(
        frames_after - frames_before >= 90,
        "the sender went on: {} frames in 3.3 s",
        frames_after - frames_before
    );
}

#[test]
fn size_and_format_changes_mid_call_reach_the_receiver() {
    init();
    let port = 23300;
    let steps = [
        ("I420", 160, 120),
        ("I420", 320, 240),
        ("NV12", 320, 240),
        ("GRAY8", 96, 64),
    ];
    let pictures: Vec<Still> = steps
        .iter()
        .map(|&(format, w, h)| still_picture_as("smpte75", format, w, h))
        .collect();
    let receiver = StillReceiver::start(port, "", &pictures);
    let sender = still_sender("smpte75", 0x4000_0004, port);
    let size = sender.by_name("size").unwrap();
    for (i, &(format, w, h)) in steps.iter().enumerate() {
        let change = Instant::now();
        // The sender starts in the first step's caps.
        if i > 0 {
            size.set_property(
                "caps",
                gst::Caps::builder("video/x-raw")
                    .field("format", format)
                    .field("width", w as i32)
                    .field("height", h as i32)
                    .field("framerate", gst::Fraction::new(30, 1))
                    .build(),
            );
        }
        std::thread::sleep(Duration::from_millis(1500));
        no_errors(&sender);
        no_errors(&receiver.pipeline);
        let shown = receiver.shown();
        let at = shown.first_shown[i]
            .unwrap_or_else(|| panic!("{format} {w}x{h} never shown whole: {shown:?}"));
        if i > 0 {
            assert!(
                at.duration_since(change) <= Duration::from_secs(1),
                "{format} {w}x{h} shown {:?} after the change",
                at.duration_since(change)
            );
        }
    }
    sender.set_state(gst::State::Null).unwrap();
    let shown = receiver.shown();
    eprintln!("{shown:?}");
    assert_eq!(shown.garbage, 0, "{shown:?}");
}
