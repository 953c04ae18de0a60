// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! pixeldiffdec: loss, damaged and hostile input, keyframe requests, resolution changes, stats.

use pixelmeet_testkit as common;

use common::*;
use gst::prelude::*;
use pixeldiff_codec::{seal_chunk, HEADER_LEN};

/// Encode `frames` with `pixeldiffenc PROPS` and return the encoded buffers.
fn encode(caps: &gst::Caps, frames: &[gst::Buffer], props: &str) -> Vec<gst::Buffer> {
    let mut h = gst_check::Harness::new_parse(&format!("pixeldiffenc {props}"));
    h.set_src_caps(caps.clone());
    frames
        .iter()
        .map(|f| h.push_and_pull(f.clone()).expect("encoded frame"))
        .collect()
}

/// A decoder harness with a bus, fed `video/x-pixeldiff` caps without size: the chunks say it.
fn decoder() -> (gst_check::Harness, gst::Bus) {
    let mut h = gst_check::Harness::new("pixeldiffdec");
    let bus = attach_bus(&h.element().unwrap());
    h.set_src_caps_str("video/x-pixeldiff,version=2,framerate=30/1");
    (h, bus)
}

fn force_key_unit_requests(h: &mut gst_check::Harness) -> usize {
    std::iter::from_fn(|| h.try_pull_upstream_event())
        .filter(|e| gst_video::UpstreamForceKeyUnitEvent::parse(e).is_ok())
        .count()
}

#[test]
fn decodes_what_the_encoder_sends() {
    init();
    let caps = raw_caps("I420", 80, 64);
    let frames = test_frames("ball", &caps, 5);
    let (mut h, bus) = decoder();
    for (f, e) in frames.iter().zip(encode(&caps, &frames, "lossless=true")) {
        let out = h.push_and_pull(e).unwrap();
        assert!(same_pixels(&caps, f, &out));
    }
    let out_caps = h.sinkpad().unwrap().current_caps().unwrap();
    assert!(
        out_caps.is_subset(&caps),
        "{out_caps} from the chunks and input framerate"
    );
    assert!(warnings(&bus).is_empty());
    assert_eq!(force_key_unit_requests(&mut h), 0);
}

#[test]
fn a_lost_frame_keeps_the_last_good_blocks_and_asks_for_a_keyframe() {
    init();
    let caps = raw_caps("I420", 64, 64);
    let frames = test_frames("ball", &caps, 4);
    let encoded = encode(&caps, &frames, "lossless=true refresh-blocks=0");
    let (mut h, bus) = decoder();
    let first = h.push_and_pull(encoded[0].clone()).unwrap();
    assert!(same_pixels(&caps, &frames[0], &first));
    // Frame 1 is lost: frame 2's changes apply on top of frame 0's picture.
    let out = h.push_and_pull(encoded[2].clone()).unwrap();
    let lost: u64 = h.element().unwrap().property("chunks-lost");
    assert_eq!(lost, 1);
    assert_eq!(force_key_unit_requests(&mut h), 1);
    let w = warnings(&bus);
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(w[0].contains("Damaged or missing input"), "{w:?}");
    // Where neither frame 1 nor 2 changed anything, the picture is frame 0's and so exact;
    // what frame 2 sent predicts (with motion) from a picture that lacks frame 1, so only
    // those blocks may be off.
    let still = still_luma_blocks(&caps, &frames[..3]);
    assert!(!still.is_empty(), "some blocks stand still");
    let exact = still_luma_blocks(&caps, &[frames[2].clone(), out]);
    assert!(
        still.iter().all(|b| exact.contains(b)),
        "{still:?} vs {exact:?}"
    );
    // A keyframe heals everything.
    let key = encode(&caps, &frames[3..4], "lossless=true").remove(0);
    let healed = h.push_and_pull(key).unwrap();
    assert!(same_pixels(&caps, &frames[3], &healed));
}

#[test]
fn a_damaged_chunk_is_rejected_and_the_previous_picture_stays() {
    init();
    let caps = raw_caps("GRAY8", 64, 32);
    let frames = test_frames("ball", &caps, 3);
    let encoded = encode(&caps, &frames, "lossless=true refresh-blocks=0");
    let (mut h, bus) = decoder();
    let good = h.push_and_pull(encoded[0].clone()).unwrap();
    let mut damaged = encoded[1].copy();
    {
        let b = damaged.get_mut().unwrap();
        let mut map = b.map_writable().unwrap();
        let last = map.len() - 1;
        map[last] ^= 0x5a;
    }
    // Nothing of it applies, so no frame comes out: the sink keeps showing the last one.
    h.push(damaged).unwrap();
    assert!(h.try_pull().is_none(), "a frame out of nothing applied");
    let w = warnings(&bus);
    assert!(w.iter().any(|m| m.contains("checksum")), "{w:?}");
    assert_eq!(h.element().unwrap().property::<u64>("chunks-corrupt"), 1);
    assert_eq!(force_key_unit_requests(&mut h), 1);
    // The picture underneath is untouched: the intact copy of the frame decodes bit-exactly.
    let out = h.push_and_pull(encoded[1].clone()).unwrap();
    assert!(same_pixels(&caps, &frames[1], &out));
    assert!(!same_pixels(&caps, &good, &out), "the ball moved");
}

#[test]
fn truncated_and_garbage_buffers_give_warnings_not_panics() {
    init();
    let caps = raw_caps("I420", 96, 96);
    let frames = test_frames("snow", &caps, 2);
    let encoded = encode(&caps, &frames, "lossless=true mtu=1000");
    let (mut h, bus) = decoder();
    // Garbage before any stream: nothing to show, so no output at all.
    let garbage: Vec<u8> = (0..5000u32).map(|i| (i * 7919 % 251) as u8).collect();
    h.push(gst::Buffer::from_slice(garbage)).unwrap();
    assert!(h.try_pull().is_none());
    assert!(!warnings(&bus).is_empty());
    // A frame cut in the middle of a chunk: the whole chunks before the cut still apply.
    let map = encoded[0].map_readable().unwrap();
    let half = gst::Buffer::from_slice(map[..map.len() / 2].to_vec());
    let out = h.push_and_pull(half).unwrap();
    assert_eq!(out.size(), 96 * 96 * 3 / 2);
    let corrupt: u64 = h.element().unwrap().property("chunks-corrupt");
    assert!(corrupt >= 2, "garbage and the cut chunk: {corrupt}");
    // Empty and one-byte buffers.
    h.push(gst::Buffer::new()).unwrap();
    h.push(gst::Buffer::from_slice([b'P'])).unwrap();
    // The stream goes on normally afterwards: the whole keyframe, then the next frame.
    while h.try_pull().is_some() {}
    for (f, e) in frames.iter().zip(&encoded) {
        let out = h.push_and_pull(e.clone()).unwrap();
        assert!(same_pixels(&caps, f, &out));
    }
}

#[test]
fn absurd_dimensions_are_refused_with_a_clear_message() {
    init();
    let caps = raw_caps("GRAY8", 16, 16);
    let frames = test_frames("smpte", &caps, 1);
    let mut chunk = encode(&caps, &frames, "lossless=true")[0]
        .map_readable()
        .unwrap()
        .to_vec();
    // Claim 40000 x 40000 and make the checksum right, as a hostile sender could.
    chunk[10..12].copy_from_slice(&40000u16.to_le_bytes());
    chunk[12..14].copy_from_slice(&40000u16.to_le_bytes());
    seal_chunk(&mut chunk);
    let (mut h, bus) = decoder();
    h.push(gst::Buffer::from_slice(chunk)).unwrap();
    assert!(h.try_pull().is_none());
    let w = warnings(&bus);
    assert!(
        w.iter()
            .any(|m| m.contains("invalid dimensions 40000x40000")),
        "{w:?}"
    );
}

#[test]
fn resolution_change_mid_stream_renegotiates() {
    init();
    let small = raw_caps("NV12", 48, 32);
    let large = raw_caps("NV12", 100, 60);
    let (mut h, bus) = decoder();
    for (f, e) in test_frames("ball", &small, 2).iter().zip(encode(
        &small,
        &test_frames("ball", &small, 2),
        "lossless=true",
    )) {
        assert!(same_pixels(&small, f, &h.push_and_pull(e).unwrap()));
    }
    let big_frames = test_frames("smpte", &large, 2);
    for (f, e) in big_frames
        .iter()
        .zip(encode(&large, &big_frames, "lossless=true"))
    {
        assert!(same_pixels(&large, f, &h.push_and_pull(e).unwrap()));
    }
    assert!(h
        .sinkpad()
        .unwrap()
        .current_caps()
        .unwrap()
        .is_subset(&large));
    assert!(warnings(&bus).is_empty());
}

#[test]
fn a_late_joiner_converges_from_refresh_alone() {
    init();
    let caps = raw_caps("I420", 160, 96);
    let frames = test_frames("smpte", &caps, 40);
    let encoded = encode(&caps, &frames, "quality=80");
    let (mut h, _bus) = decoder();
    // Join at frame 5: the keyframe was missed; cyclic refresh covers the picture in 30 frames.
    let mut last = None;
    for (f, e) in frames.iter().zip(&encoded).skip(5) {
        last = Some((f.clone(), h.push_and_pull(e.clone()).unwrap()));
    }
    let (f, out) = last.unwrap();
    let psnr = psnr_first_component(&caps, &f, &out);
    assert!(psnr > 35.0, "converged picture at {psnr:.1} dB");
    assert_eq!(h.element().unwrap().property::<u64>("keyframes"), 0);
}

#[test]
fn empty_frames_decode_to_a_blank_picture() {
    init();
    let caps = raw_caps("I420", 32, 32);
    let frames = test_frames("snow", &caps, 2);
    let encoded = encode(&caps, &frames, "roi-mode=only no-roi-action=skip");
    let (mut h, _bus) = decoder();
    for e in encoded {
        assert_eq!(e.size(), HEADER_LEN);
        let out = h.push_and_pull(e).unwrap();
        let map = out.map_readable().unwrap();
        assert!(
            map.iter().all(|&v| v == 128),
            "blank is mid grey, never garbage"
        );
    }
}

#[test]
fn stats_messages_count_loss_field_by_field() {
    init();
    let caps = raw_caps("I420", 64, 48);
    let frames = test_frames("ball", &caps, 12);
    let encoded = encode(&caps, &frames, "");
    let (mut h, bus) = decoder();
    h.element().unwrap().set_property("stats-interval", 100u32);
    let mut bytes = 0u64;
    for (i, e) in encoded.into_iter().enumerate() {
        if i == 4 || i == 5 {
            continue;
        }
        bytes += e.size() as u64;
        h.push_and_pull(e).unwrap();
    }
    let stats = element_messages(&bus, "pixeldiffdec-stats");
    assert!(stats.len() >= 2, "{stats:?}");
    for m in &stats {
        let frames = m.get::<u64>("frames").unwrap();
        // Frames 4 and 5 are missing: the gap is seen when frame 6 arrives (the 5th pushed).
        let lost = if frames >= 5 { 2 } else { 0 };
        assert_eq!(m.get::<u64>("chunks-lost").unwrap(), lost, "{m:?}");
        assert_eq!(m.get::<u64>("chunks").unwrap(), frames);
        assert_eq!(m.get::<u64>("chunks-corrupt").unwrap(), 0);
        assert_eq!(m.get::<u64>("keyframes").unwrap(), 1);
        assert!(m.get::<f64>("kbps").unwrap() > 0.0);
    }
    let dec = h.element().unwrap();
    assert_eq!(dec.property::<u64>("frames"), 10);
    assert_eq!(dec.property::<u64>("bytes"), bytes);
    assert_eq!(dec.property::<u64>("chunks-lost"), 2);
}

/// The 16x16 blocks (as raster indices) whose first component is the same in every frame.
fn still_luma_blocks(caps: &gst::Caps, frames: &[gst::Buffer]) -> Vec<usize> {
    use gst_video::prelude::*;
    let info = gst_video::VideoInfo::from_caps(caps).expect("raw caps");
    let maps: Vec<_> = frames
        .iter()
        .map(|f| gst_video::VideoFrameRef::from_buffer_ref_readable(f.as_ref(), &info).unwrap())
        .collect();
    let (w, h) = (info.width() as usize, info.height() as usize);
    let stride = maps[0].comp_stride(0) as usize;
    let cols = w.div_ceil(16);
    (0..cols * h.div_ceil(16))
        .filter(|&b| {
            let (x0, y0) = ((b % cols) * 16, (b / cols) * 16);
            (y0..(y0 + 16).min(h)).all(|y| {
                let row = y * stride + x0..y * stride + (x0 + 16).min(w);
                let first = &maps[0].comp_data(0).unwrap()[row.clone()];
                maps.iter()
                    .all(|m| &m.comp_data(0).unwrap()[row.clone()] == first)
            })
        })
        .collect()
}
