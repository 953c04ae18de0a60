// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! Sender and receiver pipelines joined by rtpbin over UDP on 127.0.0.1, in real time: the RTCP
//! PLI path from pixeldiffdec to pixeldiffenc, and pixeldiffadapt under a netsim bandwidth cap.

use pixelmeet_testkit as common;

use std::time::{Duration, Instant};

use common::*;
use gst::prelude::*;

/// A sender of `source` to 127.0.0.1:`port` (RTCP +1), taking reports on `port`+4 through
/// pixeldiffadapt; `path` is inserted before the RTP udpsink.
fn sender(source: &str, port: u16, path: &str) -> gst::Pipeline {
    launch_playing(&format!(
        "rtpbin name=tx rtpsession0::rtcp-min-interval=500000000 \
         {source} ! pixeldiffenc name=enc ! rtppixeldiffpay ssrc=1234 ! tx.send_rtp_sink_0 \
         tx.send_rtp_src_0 ! {path} udpsink host=127.0.0.1 port={port} sync=false async=false \
         tx.send_rtcp_src_0 ! udpsink host=127.0.0.1 port={} sync=false async=false \
         udpsrc port={} caps=application/x-rtcp ! pixeldiffadapt name=adapt max-bitrate=3000 start-bitrate=1000 \
           ! tx.recv_rtcp_sink_0",
        port + 1,
        port + 4
    ))
}

/// A receiver on `port` with extra RTP caps fields, `path` after the RTP udpsrc.
fn receiver(port: u16, caps_extra: &str, path: &str) -> gst::Pipeline {
    let caps = pixeldiff_rtp_caps();
    launch_playing(&format!(
        "rtpbin name=rx latency=50 rtpsession0::rtcp-min-interval=500000000 \
         udpsrc port={port} caps=\"{caps}{caps_extra}\" ! {path} rx.recv_rtp_sink_0 \
         udpsrc port={} caps=application/x-rtcp ! rx.recv_rtcp_sink_0 \
         rx.send_rtcp_src_0 ! udpsink host=127.0.0.1 port={} sync=false async=false \
         rx. ! rtppixeldiffdepay name=depay ! pixeldiffdec name=dec ! fakesink sync=false",
        port + 1,
        port + 4
    ))
}

fn stop(pipelines: &[&gst::Pipeline]) {
    for p in pipelines {
        p.set_state(gst::State::Null).unwrap();
    }
}

/// Keyframes the sender made in `seconds` while the receiver loses 10 % of the packets.
fn keyframes_with_loss(port: u16, caps_extra: &str, seconds: u64) -> (u64, u64) {
    init();
    let rx = receiver(port, caps_extra, "netsim drop-probability=0.1 !");
    let tx = sender(
        "videotestsrc is-live=true pattern=smpte75 ! timeoverlay ! video/x-raw,width=320,height=240,framerate=30/1",
        port,
        "",
    );
    std::thread::sleep(Duration::from_secs(seconds));
    let keyframes = tx.by_name("enc").unwrap().property::<u64>("keyframes");
    let frames = rx.by_name("dec").unwrap().property::<u64>("frames");
    stop(&[&tx, &rx]);
    (keyframes, frames)
}

#[test]
fn decoder_keyframe_requests_reach_the_encoder_as_rtcp_pli() {
    let (keyframes, frames) = keyframes_with_loss(22000, ",rtcp-fb-nack-pli=(boolean)true", 5);
    assert!(frames > 100, "the receiver decodes ({frames} frames)");
    // The decoder asks at most every 500 ms: about 8 requests in 4 s of loss.
    assert!(
        keyframes >= 3,
        "only {keyframes} keyframe(s): the requests did not become PLIs and force-key-units"
    );
}

#[test]
fn without_pli_in_the_caps_no_request_crosses_the_network() {
    let (keyframes, frames) = keyframes_with_loss(22100, "", 5);
    assert!(frames > 100, "the receiver decodes ({frames} frames)");
    assert_eq!(
        keyframes, 1,
        "only the first keyframe: the loss heals by refresh"
    );
}

/// (seconds since start, encoder kbps) and (seconds, adapt target) over a run.
#[derive(Default)]
struct Trace {
    sent: Vec<(f64, f64)>,
    target: Vec<(f64, f64)>,
}

fn collect(bus: &gst::Bus, start: Instant, trace: &mut Trace) {
    while let Some(msg) = bus.pop() {
        if let gst::MessageView::Element(e) = msg.view() {
            let s = e.structure().unwrap();
            let t = start.elapsed().as_secs_f64();
            match s.name().as_str() {
                "pixeldiffenc-stats" => trace.sent.push((t, s.get::<f64>("kbps").unwrap())),
                "pixeldiffadapt-stats" => trace
                    .target
                    .push((t, s.get::<u32>("target-kbps").unwrap() as f64)),
                _ => (),
            }
        }
        if let gst::MessageView::Error(e) = msg.view() {
            panic!("{}", e.error());
        }
    }
}

#[test]
fn sender_settles_under_a_300_kbps_cap_and_recovers_when_it_lifts() {
    init();
    let port = 22200;
    let rx = receiver(port, "", "");
    // About 1 Mbit/s of scrolling colour bars when unconstrained.
    let tx = sender(
        "videotestsrc is-live=true pattern=smpte75 horizontal-speed=2 \
         ! video/x-raw,width=640,height=480,framerate=30/1",
        port,
        "netsim name=net max-kbps=300 max-bucket-size=30 !",
    );
    let bus = tx.bus().unwrap();
    let start = Instant::now();
    let mut trace = Trace::default();
    let mut frames_at_10 = 0;
    while start.elapsed() < Duration::from_secs(22) {
        std::thread::sleep(Duration::from_millis(100));
        collect(&bus, start, &mut trace);
        if frames_at_10 == 0 && start.elapsed() >= Duration::from_secs(10) {
            // Lift the cap.
            tx.by_name("net").unwrap().set_property("max-kbps", -1i32);
            frames_at_10 = rx.by_name("dec").unwrap().property::<u64>("frames");
        }
    }
    let frames_at_end = rx.by_name("dec").unwrap().property::<u64>("frames");
    stop(&[&tx, &rx]);
    for (t, k) in &trace.sent {
        eprintln!("{t:5.1} s sent {k:7.1} kbit/s");
    }
    for (t, k) in &trace.target {
        eprintln!("{t:5.1} s target {k:7.1} kbit/s");
    }

    // The real pipeline over UDP, judged in wall-clock windows, so with room for a busy
    // machine: settled near the cap (not the ~1 Mbit/s it sends unconstrained) from 5 s to
    // 10 s, and recovered once it lifts. The bounds themselves (mean under the cap, windows
    // within 10 %, recovered within 10 s) are checked in stream time by the controller's
    // simulation (`settles_under_a_cap_within_5_s_and_recovers_within_10_s_of_its_lifting`),
    // and what this pipeline reaches on an idle machine is in BENCHMARKS.md.
    let capped: Vec<f64> = trace
        .sent
        .iter()
        .filter(|(t, _)| (5.0..=10.0).contains(t))
        .map(|&(_, k)| k)
        .collect();
    assert!(capped.len() >= 4);
    let mean = capped.iter().sum::<f64>() / capped.len() as f64;
    assert!(
        mean <= 360.0,
        "mean {mean:.0} kbit/s from 5 s to 10 s: {capped:?}"
    );
    // Live all along: frames kept coming at the frame rate, under the cap and after.
    assert!(
        frames_at_10 > 250,
        "{frames_at_10} frames shown in the first 10 s"
    );
    assert!(
        frames_at_end - frames_at_10 > 300,
        "frames after the cap lifted"
    );
    // Recovered before the run ends, 12 s after the lift: the target is no longer what limits
    // the encoder.
    let (t, target) = *trace
        .target
        .iter()
        .find(|&&(t, k)| {
            t >= 10.0
                && trace
                    .sent
                    .iter()
                    .rev()
                    .find(|&&(ts, _)| ts <= t)
                    .is_some_and(|&(_, sent)| k >= 1.2 * sent && sent > 500.0)
        })
        .expect("the target outgrows what the encoder needs after the cap lifts");
    eprintln!("recovered at {t:.1} s (target {target:.0} kbit/s)");
}
