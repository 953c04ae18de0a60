// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! A call behind a real queue: `pixelmeetsend`'s video passes a 500 kbit/s bottleneck with a
//! 1 s buffer (`pixelmeet_testkit::bottleneck`, a drop-tail queue on 127.0.0.1) on its way to
//! `pixelmeetrecv`, whose reports and transport-wide feedback come straight back. A moving test
//! pattern at 320x240 wants about 2 Mbit/s and can go down to about 250 kbit/s. With loss alone to go by, the sender would fill the buffer
//! (a second of delay) before the first packet is lost; with the delay-based estimate the queue
//! stays short and the link stays used.

use gst::prelude::*;
use pixelmeet_testkit as common;
use std::time::Duration;

const SENDS_TO: u16 = 25700;
const RECEIVER: u16 = 25720;
const REPORTS: u16 = 25710;
const CAPACITY_KBPS: f64 = 500.0;
const SECONDS: u64 = 20;
/// From here on the estimate must have settled (the issue asks for 5 s in stream time; the
/// sender starts at 300 kbit/s and climbs).
const SETTLED_S: f64 = 5.0;

#[test]
fn behind_a_deep_buffer_the_queue_stays_short_and_the_link_used() {
    common::init();
    let to = |port: u16| std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let queue =
        common::bottleneck::Bottleneck::start(SENDS_TO, to(RECEIVER), CAPACITY_KBPS, 1000.0)
            .expect("bottleneck ports free");
    let _rtcp = common::bottleneck::Relay::start(SENDS_TO + 1, to(RECEIVER + 1)).unwrap();
    let rx = common::launch(&format!(
        "pixelmeetrecv port={RECEIVER} report-host=127.0.0.1 report-port={REPORTS} audio=false \
         ! fakesink sync=false"
    ))
    .unwrap();
    let tx = common::launch(&format!(
        "videotestsrc is-live=true pattern=smpte horizontal-speed=4 \
         ! video/x-raw,width=320,height=240,framerate=30/1 \
         ! pixelmeetsend name=tx host=127.0.0.1 port={SENDS_TO} report-port={REPORTS} \
           find-faces=false replace-background=false"
    ))
    .unwrap();
    rx.set_state(gst::State::Playing).unwrap();
    tx.set_state(gst::State::Playing).unwrap();
    std::thread::sleep(Duration::from_secs(SECONDS));
    let adapt = tx
        .by_name("tx")
        .unwrap()
        .dynamic_cast::<gst::ChildProxy>()
        .unwrap()
        .child_by_name("pixeldiffadapt")
        .unwrap();
    let feedback = adapt.property::<u64>("transport-feedback");
    let estimate = adapt.property::<u32>("estimated-bitrate");
    tx.set_state(gst::State::Null).unwrap();
    rx.set_state(gst::State::Null).unwrap();

    let passages = queue.passages();
    let settled: Vec<_> = passages.iter().filter(|p| p.at >= SETTLED_S).collect();
    let span = passages.last().map_or(0.0, |p| p.at) - SETTLED_S;
    let kept: Vec<f64> = settled.iter().filter_map(|p| p.queued_ms).collect();
    let mean_queue = kept.iter().sum::<f64>() / kept.len().max(1) as f64;
    let delivered_kbps = settled
        .iter()
        .filter(|p| p.queued_ms.is_some())
        .map(|p| p.bytes as f64 * 8.0 / 1000.0)
        .sum::<f64>()
        / span;
    let report = format!(
        "{feedback} feedback messages, estimate {estimate} kbit/s; from {SETTLED_S} s: \
         queue {mean_queue:.0} ms mean, {delivered_kbps:.0} kbit/s delivered, {} of {} dropped",
        settled.len() - kept.len(),
        settled.len()
    );
    eprintln!("{report}");
    assert!(feedback > 50, "{report}");
    assert!(
        estimate > 0 && (estimate as f64) < 1.5 * CAPACITY_KBPS,
        "{report}"
    );
    // The bench's bound is 100 ms in stream time; a busy machine's scheduling adds spread here.
    assert!(mean_queue <= 150.0, "the queue filled: {report}");
    assert!(
        delivered_kbps >= 0.7 * CAPACITY_KBPS,
        "the link went unused: {report}"
    );
}
