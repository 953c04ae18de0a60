// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! pixeldiffenc: round trips through pixeldiffdec, keyframes, ROI modes, caps changes, stats.

use pixelmeet_testkit as common;

use common::*;
use gst::prelude::*;
use gst_video::prelude::*;
use pixeldiff_codec::{ChunkHeader, HEADER_LEN};

/// Encode and decode `frames` and check every output is bit-exact to its input.
fn assert_lossless(caps: &gst::Caps, frames: &[gst::Buffer]) {
    let mut h = round_trip_harness("lossless=true", caps);
    for (i, f) in frames.iter().enumerate() {
        let out = h.push_and_pull(f.clone()).expect("a decoded frame");
        assert!(same_pixels(caps, f, &out), "frame {i} differs for {caps}");
    }
}

#[test]
fn lossless_round_trip_is_bit_exact_for_every_format() {
    init();
    for format in ["I420", "NV12", "GRAY8", "RGB", "BGRx"] {
        let caps = raw_caps(format, 96, 64);
        for pattern in ["smpte", "ball", "snow"] {
            assert_lossless(&caps, &test_frames(pattern, &caps, 6));
        }
    }
}

#[test]
fn lossless_round_trip_is_bit_exact_at_odd_sizes() {
    init();
    for (w, h) in [(152, 100), (1, 1), (17, 9), (33, 2)] {
        for format in ["I420", "NV12", "BGRx"] {
            let caps = raw_caps(format, w, h);
            assert_lossless(&caps, &test_frames("ball", &caps, 5));
        }
    }
}

#[test]
fn lossy_quality_keeps_psnr_above_floor_and_orders_rate() {
    init();
    let caps = raw_caps("I420", 320, 240);
    let frames = test_frames("ball", &caps, 30);
    let mut results = Vec::new();
    for quality in [30u32, 60, 85] {
        let mut h = round_trip_harness(&format!("quality={quality}"), &caps);
        let mut worst = f64::MAX;
        for f in &frames {
            let out = h.push_and_pull(f.clone()).expect("a decoded frame");
            worst = worst.min(psnr_first_component(&caps, f, &out));
        }
        let enc = h
            .find_element("pixeldiffenc")
            .expect("encoder in the harness");
        let bytes: u64 = enc.property("bytes");
        results.push((quality, worst, bytes));
    }
    let floors = [28.0, 35.0, 40.0];
    for ((q, worst, _), floor) in results.iter().zip(floors) {
        assert!(
            *worst > floor,
            "quality {q}: worst frame {worst:.2} dB <= {floor} dB"
        );
    }
    assert!(
        results[0].2 < results[1].2 && results[1].2 < results[2].2,
        "bytes grow with quality: {results:?}"
    );
}

#[test]
fn unchanged_frames_converge_to_empty_frames() {
    init();
    let caps = raw_caps("I420", 160, 128);
    let still = test_frames("smpte", &caps, 1).remove(0);
    let mut h = gst_check::Harness::new("pixeldiffenc");
    h.element().unwrap().set_property("refresh-blocks", 0i32);
    h.set_src_caps(caps);
    let sizes: Vec<usize> = (0..8)
        .map(|_| h.push_and_pull(still.clone()).unwrap().size())
        .collect();
    // The first frames refine the keyframe's quantisation error; once the reconstruction is
    // within the noise threshold, a still picture costs a header-only chunk.
    assert!(sizes[1] < sizes[0] / 10, "{sizes:?}");
    assert!(sizes[5..].iter().all(|&s| s == HEADER_LEN), "{sizes:?}");
}

#[test]
fn force_key_unit_makes_the_next_buffer_a_keyframe() {
    init();
    let caps = raw_caps("I420", 64, 48);
    // 20 frames at 30 fps: the request comes 667 ms in, past min-force-key-unit-interval.
    let frames = test_frames("ball", &caps, 21);
    let mut h = gst_check::Harness::new("pixeldiffenc");
    h.set_src_caps(caps);
    let first = h.push_and_pull(frames[0].clone()).unwrap();
    assert!(!first.flags().contains(gst::BufferFlags::DELTA_UNIT));
    for f in &frames[1..20] {
        let b = h.push_and_pull(f.clone()).unwrap();
        assert!(b.flags().contains(gst::BufferFlags::DELTA_UNIT));
        let map = b.map_readable().unwrap();
        assert!(!ChunkHeader::parse(&map).unwrap().keyframe);
    }
    assert!(h.push_upstream_event(
        gst_video::UpstreamForceKeyUnitEvent::builder()
            .all_headers(true)
            .build()
    ));
    let key = h.push_and_pull(frames[20].clone()).unwrap();
    assert!(!key.flags().contains(gst::BufferFlags::DELTA_UNIT));
    let map = key.map_readable().unwrap();
    assert!(ChunkHeader::parse(&map).unwrap().keyframe);
    let keyframes: u64 = h.element().unwrap().property("keyframes");
    assert_eq!(keyframes, 2);
}

/// A keyframe request before each of 30 frames (one second of stream time): by default the
/// encoder makes a keyframe at most every 500 ms; with the interval at 0, one per request.
#[test]
fn keyframe_requests_are_rate_limited_in_stream_time() {
    init();
    let caps = raw_caps("I420", 64, 48);
    let frames = test_frames("ball", &caps, 30);
    let keyframes = |interval: Option<u64>| {
        let mut h = gst_check::Harness::new("pixeldiffenc");
        if let Some(ns) = interval {
            h.element()
                .unwrap()
                .set_property("min-force-key-unit-interval", ns);
        }
        h.set_src_caps(caps.clone());
        let mut keys = 0;
        for f in &frames {
            h.push_upstream_event(
                gst_video::UpstreamForceKeyUnitEvent::builder()
                    .all_headers(true)
                    .build(),
            );
            let b = h.push_and_pull(f.clone()).unwrap();
            keys += !b.flags().contains(gst::BufferFlags::DELTA_UNIT) as u32;
        }
        keys
    };
    let limited = keyframes(None);
    assert!(
        (2..=3).contains(&limited),
        "{limited} keyframes for 30 requests in 1 s"
    );
    assert_eq!(
        keyframes(Some(0)),
        30,
        "without a limit every request is one"
    );
}

#[test]
fn key_int_max_inserts_periodic_keyframes() {
    init();
    let caps = raw_caps("GRAY8", 32, 32);
    let frames = test_frames("ball", &caps, 10);
    let mut h = gst_check::Harness::new("pixeldiffenc");
    h.element().unwrap().set_property("key-int-max", 4u32);
    h.set_src_caps(caps);
    let keys: Vec<bool> = frames
        .iter()
        .map(|f| {
            let b = h.push_and_pull(f.clone()).unwrap();
            !b.flags().contains(gst::BufferFlags::DELTA_UNIT)
        })
        .collect();
    assert_eq!(
        keys,
        [true, false, false, false, true, false, false, false, true, false]
    );
}

#[test]
fn chunks_respect_the_mtu() {
    init();
    let caps = raw_caps("I420", 320, 240);
    let frames = test_frames("snow", &caps, 3);
    let mut h = gst_check::Harness::new("pixeldiffenc");
    h.element().unwrap().set_property("lossless", true);
    h.element().unwrap().set_property("mtu", 1000u32);
    h.set_src_caps(caps);
    for f in frames {
        let b = h.push_and_pull(f).unwrap();
        let map = b.map_readable().unwrap();
        let chunks: Vec<&[u8]> = pixeldiff_codec::split_chunks(&map)
            .collect::<Result<_, _>>()
            .expect("well-formed chunks");
        assert!(chunks.len() > 50, "snow is incompressible: many chunks");
        for c in &chunks {
            assert!(c.len() <= 1000, "chunk of {} bytes", c.len());
            let header = ChunkHeader::parse(c).expect("valid chunk");
            assert_eq!(header.chunk_count as usize, chunks.len());
        }
    }
}

/// A buffer of `frame` with a "face" region of interest.
fn with_face(frame: &gst::Buffer, rect: (u32, u32, u32, u32)) -> gst::Buffer {
    let mut b = frame.copy();
    gst_video::VideoRegionOfInterestMeta::add(b.get_mut().unwrap(), "face", rect);
    b
}

#[test]
fn roi_mode_only_sends_nothing_outside_faces() {
    init();
    let caps = raw_caps("I420", 128, 96);
    let frames = test_frames("snow", &caps, 4);
    let face = (32, 16, 48, 48);
    let mut h = round_trip_harness("lossless=true roi-mode=only", &caps);
    for f in &frames {
        let out = h.push_and_pull(with_face(f, face)).unwrap();
        let info = gst_video::VideoInfo::from_caps(&caps).unwrap();
        let fin = gst_video::VideoFrameRef::from_buffer_ref_readable(f.as_ref(), &info).unwrap();
        let fout = gst_video::VideoFrameRef::from_buffer_ref_readable(out.as_ref(), &info).unwrap();
        let (si, so) = (
            fin.plane_stride()[0] as usize,
            fout.plane_stride()[0] as usize,
        );
        let (di, dout) = (fin.plane_data(0).unwrap(), fout.plane_data(0).unwrap());
        for y in 0..96usize {
            for x in 0..128usize {
                let inside = (32..80).contains(&x) && (16..64).contains(&y);
                if inside {
                    assert_eq!(dout[y * so + x], di[y * si + x], "face pixel {x},{y}");
                } else {
                    assert_eq!(
                        dout[y * so + x],
                        128,
                        "pixel {x},{y} outside the face leaked"
                    );
                }
            }
        }
    }
}

#[test]
fn no_roi_action_skip_sends_empty_frames() {
    init();
    let caps = raw_caps("I420", 64, 64);
    let frames = test_frames("snow", &caps, 4);
    let mut h = gst_check::Harness::new("pixeldiffenc");
    let enc = h.element().unwrap();
    enc.set_property_from_str("roi-mode", "only");
    enc.set_property_from_str("no-roi-action", "skip");
    h.set_src_caps(caps);
    for f in &frames[..2] {
        let b = h.push_and_pull(f.clone()).unwrap();
        assert_eq!(b.size(), HEADER_LEN);
        let map = b.map_readable().unwrap();
        assert_eq!(ChunkHeader::parse(&map).unwrap().mb_count, 0);
    }
    // A face appears: the first frame with video is a keyframe with the face's blocks.
    let b = h
        .push_and_pull(with_face(&frames[2], (0, 0, 16, 16)))
        .unwrap();
    assert!(!b.flags().contains(gst::BufferFlags::DELTA_UNIT));
    let map = b.map_readable().unwrap();
    assert_eq!(ChunkHeader::parse(&map).unwrap().mb_count, 1);
}

#[test]
fn roi_mode_prioritize_sends_face_blocks_first_and_finer() {
    init();
    let caps = raw_caps("I420", 128, 128);
    let frames = test_frames("snow", &caps, 2);
    let mut h = gst_check::Harness::new("pixeldiffenc");
    h.element()
        .unwrap()
        .set_property_from_str("roi-mode", "prioritize");
    h.set_src_caps(caps);
    let b = h
        .push_and_pull(with_face(&frames[0], (64, 64, 32, 32)))
        .unwrap();
    let map = b.map_readable().unwrap();
    let first = pixeldiff_codec::split_chunks(&map).next().unwrap().unwrap();
    let header = ChunkHeader::parse(first).unwrap();
    // Face macroblocks (row 4, columns 4-5: index 36) open the frame.
    assert_eq!(header.first_mb, 36);
}

#[test]
fn caps_change_mid_stream_restarts_with_the_new_size() {
    init();
    let small = raw_caps("I420", 64, 48);
    let large = raw_caps("I420", 96, 80);
    let mut h = round_trip_harness("lossless=true", &small);
    for f in test_frames("ball", &small, 3) {
        let out = h.push_and_pull(f.clone()).unwrap();
        assert!(same_pixels(&small, &f, &out));
    }
    h.set_src_caps(large.clone());
    for f in test_frames("smpte", &large, 3) {
        let out = h.push_and_pull(f.clone()).unwrap();
        assert!(same_pixels(&large, &f, &out));
    }
    let caps = h.sinkpad().unwrap().current_caps().unwrap();
    let s = caps.structure(0).unwrap();
    assert_eq!(s.get::<i32>("width").unwrap(), 96);
    assert_eq!(s.get::<i32>("height").unwrap(), 80);
}

#[test]
fn output_caps_describe_the_stream() {
    init();
    let caps = raw_caps("NV12", 64, 48);
    let mut h = gst_check::Harness::new("pixeldiffenc");
    h.set_src_caps(caps.clone());
    h.push_and_pull(test_frames("ball", &caps, 1).remove(0))
        .unwrap();
    let out = h.sinkpad().unwrap().current_caps().unwrap();
    let s = out.structure(0).unwrap();
    assert_eq!(s.name(), "video/x-pixeldiff");
    assert_eq!(s.get::<i32>("version").unwrap(), 2);
    assert_eq!(s.get::<i32>("width").unwrap(), 64);
    assert_eq!(s.get::<i32>("height").unwrap(), 48);
    assert_eq!(s.get::<&str>("format").unwrap(), "NV12");
    assert_eq!(
        s.get::<gst::Fraction>("framerate").unwrap(),
        gst::Fraction::new(30, 1)
    );
}

#[test]
fn stats_messages_and_counters_agree_with_the_output() {
    init();
    let caps = raw_caps("I420", 64, 48);
    let frames = test_frames("ball", &caps, 30);
    let mut h = gst_check::Harness::new("pixeldiffenc");
    let enc = h.element().unwrap();
    enc.set_property("stats-interval", 200u32);
    let bus = attach_bus(&enc);
    h.set_src_caps(caps);
    let mut cumulative = Vec::new();
    let mut total = 0u64;
    for f in frames {
        total += h.push_and_pull(f).unwrap().size() as u64;
        cumulative.push(total);
    }
    let stats = element_messages(&bus, "pixeldiffenc-stats");
    // 30 frames at 30 fps span one second: four or five 200 ms windows.
    assert!((4..=5).contains(&stats.len()), "{stats:?}");
    for s in &stats {
        let frames = s.get::<u64>("frames").unwrap() as usize;
        assert_eq!(s.get::<u64>("bytes").unwrap(), cumulative[frames - 1]);
        assert_eq!(
            s.get::<Option<gst::ClockTime>>("timestamp").unwrap(),
            Some(gst::ClockTime::from_nseconds(
                (frames as u64 - 1) * 1_000_000_000 / 30
            ))
        );
        assert_eq!(s.get::<u64>("keyframes").unwrap(), 1);
        assert_eq!(s.get::<u64>("chunks").unwrap(), frames as u64);
        assert_eq!(s.get::<u64>("chunks-lost").unwrap(), 0);
        assert!(s.get::<f64>("kbps").unwrap() > 0.0);
        let pct = s.get::<f64>("changed-blocks-percent").unwrap();
        assert!((0.0..=100.0).contains(&pct));
    }
    assert_eq!(enc.property::<u64>("bytes"), total);
    assert_eq!(enc.property::<u64>("frames"), 30);
}
