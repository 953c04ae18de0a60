// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! Loss resilience between rtppixeldiffpay and rtppixeldiffdepay: the keyframe lost, random
//! loss through netsim, bursts; measured against the source and against a receiver that lost
//! nothing. Runs in one process, so the receiver's keyframe requests reach the encoder only
//! when a test lets them (as RTCP PLI would).

use pixelmeet_testkit as common;

use std::sync::{Arc, Mutex};

use common::*;
use gst::prelude::*;

/// Frame rate of the generated frames.
const FPS: u64 = 30;

struct Run {
    /// Source frames, by index; frame i has PTS i/30 s.
    source: Vec<gst::Buffer>,
    /// What a receiver that lost nothing shows, and what the lossy one shows.
    reference: Vec<gst::Buffer>,
    lossy: Vec<gst::Buffer>,
    /// PTS of the last packet dropped by the test's own dropper.
    last_drop: Option<gst::ClockTime>,
    keyframes_sent: u64,
    packets_lost: u64,
}

/// Random loss by netsim: probability, and the PTS from which the network is clean again.
struct NetsimLoss(f64, gst::ClockTime);

/// Encode `source` and send it to two receivers: one gets every packet, the other goes through
/// a dropper that drops packet `i` when `drop(i)`, then netsim (random loss while `netsim`
/// says). Keyframe requests from the lossy receiver reach the encoder only if `feedback`; then
/// frames are pushed in real time, as a camera would, so that the request arrives while the
/// encoder is at the frame the receiver is at (not frames ahead in queues).
fn run(
    source: Vec<gst::Buffer>,
    caps: &gst::Caps,
    netsim: Option<NetsimLoss>,
    drop: impl Fn(usize) -> bool + Send + Sync + 'static,
    feedback: bool,
) -> Run {
    let pipeline = gst::parse::launch(
        "appsrc name=src format=time ! pixeldiffenc name=enc ! rtppixeldiffpay ! tee name=t \
         t. ! queue ! rtppixeldiffdepay ! pixeldiffdec ! appsink name=reference sync=false \
         t. ! queue ! identity name=dropper ! netsim name=net ! rtppixeldiffdepay name=depay \
            ! pixeldiffdec ! appsink name=lossy sync=false",
    )
    .unwrap()
    .downcast::<gst::Pipeline>()
    .unwrap();
    let appsrc = pipeline
        .by_name("src")
        .unwrap()
        .downcast::<gst_app::AppSrc>()
        .unwrap();
    appsrc.set_caps(Some(caps));

    let last_drop = Arc::new(Mutex::new(None));
    let dropper = pipeline.by_name("dropper").unwrap();
    let src_pad = dropper.static_pad("src").unwrap();
    let index = std::sync::atomic::AtomicUsize::new(0);
    let record = last_drop.clone();
    let net = pipeline.by_name("net").unwrap();
    if let Some(NetsimLoss(p, _)) = netsim {
        net.set_property("drop-probability", p as f32);
    }
    src_pad.add_probe(gst::PadProbeType::BUFFER, move |_, info| {
        let i = index.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let pts = info.buffer().and_then(|b| b.pts());
        if let Some(NetsimLoss(_, until)) = netsim {
            if pts >= Some(until) {
                net.set_property("drop-probability", 0f32);
            }
        }
        if drop(i) {
            *record.lock().unwrap() = pts;
            gst::PadProbeReturn::Drop
        } else {
            gst::PadProbeReturn::Ok
        }
    });
    if !feedback {
        // No feedback channel: the receiver's force-key-unit requests go nowhere.
        dropper.static_pad("sink").unwrap().add_probe(
            gst::PadProbeType::EVENT_UPSTREAM,
            |_, info| {
                let is_request = info
                    .event()
                    .is_some_and(|e| gst_video::UpstreamForceKeyUnitEvent::parse(e).is_ok());
                if is_request {
                    // Take the event and say it was handled: returning Drop here made
                    // GStreamer unref a NULL event (a CRITICAL).
                    let _ = info.take_event();
                    gst::PadProbeReturn::Handled
                } else {
                    gst::PadProbeReturn::Ok
                }
            },
        );
    }

    let collect = |name: &str| {
        let sink = pipeline
            .by_name(name)
            .unwrap()
            .downcast::<gst_app::AppSink>()
            .unwrap();
        let frames = Arc::new(Mutex::new(Vec::new()));
        let store = frames.clone();
        sink.set_callbacks(
            gst_app::AppSinkCallbacks::builder()
                .new_sample(move |s| {
                    let sample = s.pull_sample().map_err(|_| gst::FlowError::Eos)?;
                    store.lock().unwrap().push(sample.buffer_owned().unwrap());
                    Ok(gst::FlowSuccess::Ok)
                })
                .build(),
        );
        frames
    };
    let reference = collect("reference");
    let lossy = collect("lossy");

    pipeline.set_state(gst::State::Playing).unwrap();
    let start = std::time::Instant::now();
    for f in &source {
        if feedback {
            let due = std::time::Duration::from_nanos(f.pts().unwrap().nseconds());
            std::thread::sleep(due.saturating_sub(start.elapsed()));
        }
        appsrc.push_buffer(f.clone()).unwrap();
    }
    appsrc.end_of_stream().unwrap();
    let bus = pipeline.bus().unwrap();
    let msg = bus
        .timed_pop_filtered(
            gst::ClockTime::from_seconds(60),
            &[gst::MessageType::Eos, gst::MessageType::Error],
        )
        .expect("the run ends");
    assert!(
        matches!(msg.view(), gst::MessageView::Eos(_)),
        "pipeline error: {msg:?}"
    );
    let keyframes_sent = pipeline
        .by_name("enc")
        .unwrap()
        .property::<u64>("keyframes");
    let packets_lost = pipeline
        .by_name("depay")
        .unwrap()
        .property::<u64>("packets-lost");
    pipeline.set_state(gst::State::Null).unwrap();
    let reference = std::mem::take(&mut *reference.lock().unwrap());
    let lossy = std::mem::take(&mut *lossy.lock().unwrap());
    let last_drop = *last_drop.lock().unwrap();
    Run {
        source,
        reference,
        lossy,
        last_drop,
        keyframes_sent,
        packets_lost,
    }
}

fn frame_index(pts: Option<gst::ClockTime>) -> usize {
    // Round: videotestsrc drops fractions of nanoseconds.
    ((pts.unwrap().nseconds() * FPS + 500_000_000) / 1_000_000_000) as usize
}

/// The first PTS from which the lossy receiver shows exactly what the lossless one shows, for
/// every frame to the end.
fn converged_from(caps: &gst::Caps, run: &Run) -> Option<gst::ClockTime> {
    let reference: std::collections::HashMap<usize, &gst::Buffer> = run
        .reference
        .iter()
        .map(|b| (frame_index(b.pts()), b))
        .collect();
    let mut from = None;
    for b in &run.lossy {
        let same = reference
            .get(&frame_index(b.pts()))
            .is_some_and(|r| same_pixels(caps, r, b));
        match (same, from) {
            (true, None) => from = b.pts(),
            (false, _) => from = None,
            _ => (),
        }
    }
    from
}

/// Frames of a still picture (colour bars) with a running clock on it: every block matters, a
/// few change every frame.
fn source(caps: &gst::Caps, n: u32) -> Vec<gst::Buffer> {
    frames_from(
        &format!(
            "videotestsrc pattern=smpte75 num-buffers={n} ! timeoverlay font-desc=\"Sans 28\" \
             halignment=center valignment=center"
        ),
        caps,
        n,
    )
}

/// The same colour bars panning left 3 samples a frame under the clock, as a camera turning:
/// every block moves, and the encoder sends most of them with motion vectors.
fn panning_source(caps: &gst::Caps, n: u32) -> Vec<gst::Buffer> {
    frames_from(
        &format!(
            "videotestsrc pattern=smpte75 horizontal-speed=3 num-buffers={n} ! timeoverlay \
             font-desc=\"Sans 28\" halignment=center valignment=center"
        ),
        caps,
        n,
    )
}

#[test]
fn keyframe_lost_recovers_without_asking() {
    init();
    let caps = raw_caps("I420", 640, 480);
    let run = run(source(&caps, 90), &caps, None, |i| i < 30, false);
    assert_eq!(
        run.keyframes_sent, 1,
        "no keyframe was asked for, none sent"
    );
    assert_eq!(
        run.packets_lost, 0,
        "the dropped packets were the first ones: no gap seen"
    );
    let mut psnrs = Vec::new();
    for b in &run.lossy {
        let i = frame_index(b.pts());
        if b.pts().unwrap() >= gst::ClockTime::from_seconds(1) {
            let psnr = psnr_first_component(&caps, &run.source[i], b);
            assert!(psnr >= 30.0, "frame {i}: {psnr:.1} dB");
            psnrs.push(psnr);
        }
    }
    assert!(
        psnrs.len() >= 55,
        "frames from 1 s to 3 s are shown, {}",
        psnrs.len()
    );
    let mean = psnrs.iter().sum::<f64>() / psnrs.len() as f64;
    let min = psnrs.iter().cloned().fold(f64::INFINITY, f64::min);
    eprintln!("keyframe lost: from 1 s on, Y-PSNR min {min:.1} dB, mean {mean:.1} dB");
    assert!(mean >= 35.0, "mean Y-PSNR from 1 s on: {mean:.1} dB");
}

/// Frames shown, and convergence after the loss, for a run with loss up to `loss_ends`.
fn check_loss_run(caps: &gst::Caps, run: &Run, loss_ends: gst::ClockTime, within: gst::ClockTime) {
    let shown = run.lossy.len() as f64 / run.source.len() as f64;
    assert!(shown >= 0.9, "{:.0} % of frames shown", shown * 100.0);
    assert_eq!(
        run.reference.len(),
        run.source.len(),
        "the clean receiver shows every frame"
    );
    let converged = converged_from(caps, run).unwrap_or_else(|| {
        let last = run.lossy.last().map(|b| frame_index(b.pts()));
        panic!(
            "the receivers never converge (last frame shown {last:?}, {} shown)",
            run.lossy.len()
        )
    });
    eprintln!(
        "loss ended at {loss_ends}, identical from {converged}, {:.1} % of frames shown",
        shown * 100.0
    );
    assert!(
        converged <= loss_ends + within,
        "loss ended at {loss_ends}, pictures identical only from {converged}"
    );
    // Never garbage: every frame is close to the source, even during loss.
    for b in &run.lossy {
        let psnr = psnr_first_component(caps, &run.source[frame_index(b.pts())], b);
        assert!(psnr > 15.0, "frame at {}: {psnr:.1} dB", b.pts().unwrap());
    }
}

#[test]
fn random_loss_through_netsim_converges_within_a_second() {
    init();
    let caps = raw_caps("I420", 640, 480);
    // 5 % random loss for 2 s, then a clean network for 2 s.
    let loss_ends = gst::ClockTime::from_seconds(2);
    let run = run(
        source(&caps, 120),
        &caps,
        Some(NetsimLoss(0.05, loss_ends)),
        |_| false,
        false,
    );
    assert!(run.packets_lost > 0, "netsim dropped packets");
    check_loss_run(&caps, &run, loss_ends, gst::ClockTime::from_seconds(1));
}

/// Two bursts of 10 packets lost, 100 packets apart.
fn bursts(i: usize) -> bool {
    i < 200 && i % 100 >= 90
}

#[test]
fn bursts_of_ten_converge_within_a_second() {
    init();
    let caps = raw_caps("I420", 640, 480);
    let src = source(&caps, 150);
    let run = run(src, &caps, None, bursts, false);
    let loss_ends = run.last_drop.expect("packets were dropped");
    assert_eq!(run.packets_lost, 20, "every dropped packet counted");
    check_loss_run(&caps, &run, loss_ends, gst::ClockTime::from_seconds(1));
}

#[test]
fn bursts_with_keyframe_requests_converge_within_200_ms() {
    init();
    let caps = raw_caps("I420", 640, 480);
    let src = source(&caps, 150);
    let run = run(src, &caps, None, bursts, true);
    let loss_ends = run.last_drop.expect("packets were dropped");
    assert!(
        run.keyframes_sent > 1,
        "the receiver's requests reached the encoder"
    );
    check_loss_run(&caps, &run, loss_ends, gst::ClockTime::from_mseconds(200));
}

/// With motion, a loss that ends mid-cycle may still reach blocks the cycle refreshed before
/// it ended; the first refresh cycle that begins after it is clean (docs/pixeldiff-format.md,
/// section 7): identical within two cycles (2 s at the default refresh).
#[test]
fn random_loss_under_a_panning_camera_converges_within_two_refresh_cycles() {
    init();
    let caps = raw_caps("I420", 640, 480);
    let loss_ends = gst::ClockTime::from_seconds(2);
    let run = run(
        panning_source(&caps, 150),
        &caps,
        Some(NetsimLoss(0.05, loss_ends)),
        |_| false,
        false,
    );
    assert!(run.packets_lost > 0, "netsim dropped packets");
    check_loss_run(&caps, &run, loss_ends, gst::ClockTime::from_seconds(2));
}

#[test]
fn bursts_under_a_panning_camera_converge_within_two_refresh_cycles() {
    init();
    let caps = raw_caps("I420", 640, 480);
    let run = run(panning_source(&caps, 150), &caps, None, bursts, false);
    let loss_ends = run.last_drop.expect("packets were dropped");
    assert_eq!(run.packets_lost, 20, "every dropped packet counted");
    check_loss_run(&caps, &run, loss_ends, gst::ClockTime::from_seconds(2));
}

#[test]
fn a_lost_keyframe_under_a_panning_camera_is_whole_within_a_second() {
    init();
    let caps = raw_caps("I420", 640, 480);
    let run = run(panning_source(&caps, 60), &caps, None, |i| i < 30, false);
    assert_eq!(run.keyframes_sent, 1);
    let converged = converged_from(&caps, &run).expect("the receivers converge");
    eprintln!("keyframe lost under a pan: identical from {converged}");
    assert!(
        converged <= gst::ClockTime::from_seconds(1),
        "identical only from {converged}"
    );
}
