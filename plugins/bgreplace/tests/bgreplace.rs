// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! bgreplace on frames made here: drawn people in a drawn room with camera noise (exact masks),
//! faces given as faceroi gives them (ROI meta), or found by faceroi itself.

use pixelmeet_testkit as common;

use background_model::mask::iou;
use common::{attach_bus, init, raw_caps};
use face_tracking::synthetic::{Person, Room};
use gst::prelude::*;

const W: usize = 160;
const H: usize = 120;
const LUMA: usize = W * H;
const CHROMA: usize = (W / 2) * (H / 2);

fn harness(props: &[(&str, &str)], format: &str) -> gst_check::Harness {
    init();
    let mut h = gst_check::Harness::new("bgreplace");
    let element = h.element().unwrap();
    for (name, value) in props {
        element.set_property_from_str(name, value);
    }
    h.set_src_caps(raw_caps(format, W as u32, H as u32));
    h
}

/// An I420 frame (A420 with an opaque alpha plane when `alpha`) as a buffer at frame `n`,
/// with a face ROI meta per person, shaped as faceroi attaches it.
fn buffer(i420: Vec<u8>, people: &[Person], n: u64, alpha: bool) -> gst::Buffer {
    let mut data = i420;
    if alpha {
        data.extend(std::iter::repeat_n(255u8, LUMA));
    }
    let mut buf = gst::Buffer::from_mut_slice(data);
    {
        let b = buf.get_mut().unwrap();
        b.set_pts(gst::ClockTime::from_mseconds(n * 33));
        for p in people {
            let face = p.face_box();
            let wide = face.widened(60);
            let mut meta = gst_video::VideoRegionOfInterestMeta::add(
                b,
                "face",
                (
                    wide.x.max(0.0) as u32,
                    wide.y.max(0.0) as u32,
                    wide.width as u32,
                    wide.height as u32,
                ),
            );
            meta.add_param(
                gst::Structure::builder("detection")
                    .field("confidence", 12.0f64)
                    .field("face-x", face.x.round() as i32)
                    .field("face-y", face.y.round() as i32)
                    .field("face-width", face.width.round() as u32)
                    .field("face-height", face.height.round() as u32)
                    .build(),
            );
        }
    }
    buf
}

fn plane(buf: &gst::Buffer, range: std::ops::Range<usize>) -> Vec<u8> {
    buf.map_readable().unwrap()[range].to_vec()
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

/// The model through the element: the empty room, the person walking in, 150 still frames,
/// then a 20 % exposure step; the mask read back from the alpha plane (`output-mask`).
#[test]
fn model_finds_the_person_stays_steady_and_ignores_an_exposure_step() {
    let mut h = harness(&[("method", "model"), ("output-mask", "true")], "A420");
    let mut room = Room::new(W, H);
    let mut n = 0;
    let mut run = |people: &[Person], gain: f32| {
        let (frame, truth) = room.frame(people, gain);
        let out = h
            .push_and_pull(buffer(frame, people, n, true))
            .expect("a frame out");
        n += 1;
        let mask = plane(&out, LUMA + 2 * CHROMA..2 * LUMA + 2 * CHROMA);
        (iou(&mask, &truth.data), mask)
    };
    for _ in 0..20 {
        let (_, mask) = run(&[], 1.0);
        assert!(mask.iter().all(|&m| m == 0), "an empty room is background");
    }
    let walking: Vec<f64> = (0..30)
        .map(|k| run(&[Person::small_at(140.0 - 2.0 * k as f32)], 1.0).0)
        .collect();
    let still: Vec<f64> = (0..150)
        .map(|_| run(&[Person::small_at(80.0)], 1.0).0)
        .collect();
    let stepped: Vec<f64> = (0..30)
        .map(|_| run(&[Person::small_at(80.0)], 1.2).0)
        .collect();
    assert!(mean(&walking[5..]) >= 0.85, "walking in: {walking:?}");
    assert!(mean(&still) >= 0.9, "still: {}", mean(&still));
    assert!(
        still[140..].iter().all(|&v| v >= 0.9),
        "no fading: {still:?}"
    );
    assert!(
        stepped.iter().all(|&v| v >= 0.85),
        "exposure step: {stepped:?}"
    );
}

#[test]
fn colour_replaces_the_background_and_keeps_the_person() {
    // Opaque pure blue: Y 41, Cb 240, Cr 111 in 8-bit BT.601.
    let mut h = harness(&[("color", "0xff0000ff"), ("feather", "0")], "I420");
    let mut room = Room::new(W, H);
    let p = Person::small_at(80.0);
    let mut last = None;
    for n in 0..40 {
        let people: &[Person] = if n < 20 { &[] } else { &[p] };
        let (frame, truth) = room.frame(people, 1.0);
        let out = h
            .push_and_pull(buffer(frame.clone(), people, n, false))
            .unwrap();
        last = Some((frame, truth, out));
    }
    let (input, truth, out) = last.unwrap();
    let y = plane(&out, 0..LUMA);
    let (cb, cr) = (
        plane(&out, LUMA..LUMA + CHROMA),
        plane(&out, LUMA + CHROMA..LUMA + 2 * CHROMA),
    );
    assert_eq!(
        (y[0], cb[0], cr[0]),
        (41, 240, 111),
        "a corner is the colour"
    );
    let far: Vec<usize> = (0..LUMA)
        .filter(|&i| i % W < 20 || i % W >= W - 20)
        .collect();
    assert!(far.iter().all(|&i| y[i] == 41), "the sides are all colour");
    // The middle of the face is untouched, bit for bit.
    let face = p.face_box();
    let (x0, y0) = (face.x + face.width / 4.0, face.y + face.height / 4.0);
    for yy in y0 as usize..(y0 + face.height / 2.0) as usize {
        for xx in x0 as usize..(x0 + face.width / 2.0) as usize {
            assert_eq!(truth.data[yy * W + xx], 255, "{xx},{yy} is person");
            assert_eq!(y[yy * W + xx], input[yy * W + xx], "face pixel {xx},{yy}");
        }
    }
}

#[test]
fn alpha_method_uses_the_given_mask_exactly() {
    let mut h = harness(&[("method", "alpha"), ("color", "0xff102030")], "RGBA");
    let mut data = vec![0u8; LUMA * 4];
    for (i, px) in data.chunks_exact_mut(4).enumerate() {
        let alpha = [0u8, 255, 128, 77][i % 4];
        px.copy_from_slice(&[200, 100, (i % 251) as u8, alpha]);
    }
    let out = h
        .push_and_pull(gst::Buffer::from_slice(data.clone()))
        .unwrap();
    let out = out.map_readable().unwrap();
    let mix = |fg: u8, bg: u8, a: u8| {
        ((a as f64 * fg as f64 + (255 - a) as f64 * bg as f64) / 255.0).round() as u8
    };
    for (i, (src, dst)) in data.chunks_exact(4).zip(out.chunks_exact(4)).enumerate() {
        let a = src[3];
        let expected = [
            mix(src[0], 0x10, a),
            mix(src[1], 0x20, a),
            mix(src[2], 0x30, a),
            a,
        ];
        assert_eq!(dst, &expected, "pixel {i}");
    }
}

#[test]
fn alpha_and_output_mask_negotiate_a_format_with_alpha() {
    init();
    for props in ["bgreplace method=alpha", "bgreplace output-mask=true"] {
        let pipeline = gst::parse::launch(&format!(
            "videotestsrc num-buffers=3 ! video/x-raw,width=64,height=48 ! videoconvert ! \
             {props} ! appsink name=sink"
        ))
        .unwrap()
        .downcast::<gst::Pipeline>()
        .unwrap();
        let sink = pipeline
            .by_name("sink")
            .unwrap()
            .downcast::<gst_app::AppSink>()
            .unwrap();
        pipeline.set_state(gst::State::Playing).unwrap();
        let sample = sink.pull_sample().expect("a frame");
        let info = gst_video::VideoInfo::from_caps(sample.caps().unwrap()).unwrap();
        assert!(
            info.format_info().has_alpha(),
            "{props}: {:?}",
            info.format()
        );
        pipeline.set_state(gst::State::Null).unwrap();
    }
}

/// Half-size frames with a sharp checkerboard and no person (method=roi, no faces: everything
/// is background).
fn checkerboard() -> Vec<u8> {
    let mut f = vec![128u8; LUMA + 2 * CHROMA];
    for y in 0..H {
        for x in 0..W {
            f[y * W + x] = if (x / 4 + y / 4) % 2 == 0 { 40 } else { 220 };
        }
    }
    f
}

#[test]
fn blur_smooths_the_background() {
    let mut h = harness(&[("method", "roi"), ("background", "blur")], "I420");
    let input = checkerboard();
    let out = h
        .push_and_pull(buffer(input.clone(), &[], 0, false))
        .unwrap();
    let y = plane(&out, 0..LUMA);
    let spread = |v: &[u8]| {
        let m = v.iter().map(|&x| x as f64).sum::<f64>() / v.len() as f64;
        (
            m,
            (v.iter().map(|&x| (x as f64 - m).powi(2)).sum::<f64>() / v.len() as f64).sqrt(),
        )
    };
    let (m_in, sd_in) = spread(&input[..LUMA]);
    let (m_out, sd_out) = spread(&y);
    assert!(
        (m_in - m_out).abs() < 2.0,
        "brightness kept: {m_in} {m_out}"
    );
    assert!(sd_out < sd_in / 10.0, "detail gone: {sd_in} -> {sd_out}");
}

#[test]
fn freeze_keeps_a_still_plate_while_the_room_changes() {
    let mut h = harness(&[("method", "roi"), ("background", "freeze")], "I420");
    let first = checkerboard();
    h.push_and_pull(buffer(first.clone(), &[], 0, false))
        .unwrap();
    // Someone switches the light off: the room goes dark, the plate does not.
    let dark = vec![16u8; LUMA + 2 * CHROMA];
    let out = h.push_and_pull(buffer(dark, &[], 1, false)).unwrap();
    assert_eq!(plane(&out, 0..LUMA), first[..LUMA].to_vec());
}

#[test]
fn roi_silhouette_follows_the_face() {
    let mut h = harness(
        &[("method", "roi"), ("color", "0xff000000"), ("feather", "0")],
        "I420",
    );
    let mut room = Room::new(W, H);
    for x in [50.0, 110.0] {
        let p = Person::small_at(x);
        let (frame, _) = room.frame(&[p], 1.0);
        let out = h
            .push_and_pull(buffer(frame.clone(), &[p], 0, false))
            .unwrap();
        let y = plane(&out, 0..LUMA);
        let (fx, fy) = p.face_box().center();
        let at = |dx: f32, dy: f32| {
            let i = (fy + dy) as usize * W + (fx + dx) as usize;
            (y[i], frame[i])
        };
        let (face_out, face_in) = at(0.0, 0.0);
        assert_eq!(face_out, face_in, "face at {x} kept");
        let far_x = if x < 80.0 { 60.0 } else { -60.0 };
        assert_eq!(at(far_x, -30.0).0, 16, "far from the face at {x} is black");
    }
}

#[test]
fn a_picture_background_is_scaled_over_the_frame() {
    init();
    let dir = std::env::temp_dir().join(format!("bgreplace-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // Left half red, right half blue, at another size and aspect than the frame.
    let path = dir.join("backdrop.png");
    let img = image::RgbImage::from_fn(64, 32, |x, _| {
        if x < 32 {
            image::Rgb([255, 0, 0])
        } else {
            image::Rgb([0, 0, 255])
        }
    });
    img.save(&path).unwrap();
    let mut h = harness(
        &[
            ("method", "roi"),
            ("background", "image"),
            ("location", path.to_str().unwrap()),
        ],
        "RGBA",
    );
    let out = h
        .push_and_pull(gst::Buffer::from_slice(vec![128u8; LUMA * 4]))
        .unwrap();
    let out = out.map_readable().unwrap();
    let px = |x: usize, y: usize| out[(y * W + x) * 4..][..3].to_vec();
    assert_eq!(px(5, 60), vec![255, 0, 0]);
    assert_eq!(px(W - 5, 60), vec![0, 0, 255]);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_missing_or_unreadable_picture_fails_at_the_state_change() {
    init();
    let dir = std::env::temp_dir().join(format!("bgreplace-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let garbage = dir.join("not-a-picture.png");
    std::fs::write(&garbage, b"this is not a PNG").unwrap();
    let missing = dir.join("missing.jpg");
    // A device that never ends is refused, not read.
    let endless = std::path::PathBuf::from("/dev/zero");
    for (path, domain_error, words) in [
        (&garbage, gst::ResourceError::OpenRead, "cannot decode"),
        (&missing, gst::ResourceError::NotFound, "does not exist"),
        (&endless, gst::ResourceError::OpenRead, "not a regular file"),
    ] {
        let element = gst::ElementFactory::make("bgreplace")
            .property_from_str("background", "image")
            .property("location", path.to_str().unwrap())
            .build()
            .unwrap();
        let bus = attach_bus(&element);
        assert!(element.set_state(gst::State::Paused).is_err());
        let error = std::iter::from_fn(|| bus.pop())
            .find_map(|m| match m.view() {
                gst::MessageView::Error(e) => Some(e.error()),
                _ => None,
            })
            .expect("an error message");
        assert_eq!(error.kind::<gst::ResourceError>(), Some(domain_error));
        let text = error.to_string();
        assert!(
            text.contains(words) && text.contains(path.file_name().unwrap().to_str().unwrap()),
            "{text}"
        );
        element.set_state(gst::State::Null).unwrap();
    }
    let element = gst::ElementFactory::make("bgreplace")
        .property_from_str("background", "image")
        .build()
        .unwrap();
    assert!(
        element.set_state(gst::State::Paused).is_err(),
        "no location"
    );
    element.set_state(gst::State::Null).unwrap();
    std::fs::remove_dir_all(&dir).ok();
}

/// faceroi in front, as in the launchers: its ROI meta drives the silhouette.
#[test]
fn behind_faceroi_the_face_leads_the_mask() {
    init();
    let mut h = gst_check::Harness::new_parse(
        "faceroi detection-interval=1 min-face-size=30 margin=60 ! bgreplace method=roi color=0xff000000 feather=0",
    );
    h.set_src_caps(raw_caps("I420", W as u32, H as u32));
    let mut room = Room::new(W, H);
    let p = Person::small_at(80.0);
    let (frame, truth) = room.frame(&[p], 1.0);
    let out = h.push_and_pull(buffer(frame, &[], 0, false)).unwrap();
    let y = plane(&out, 0..LUMA);
    let kept: Vec<u8> = y.iter().map(|&v| if v == 16 { 0 } else { 255 }).collect();
    assert!(
        out.meta::<gst_video::VideoRegionOfInterestMeta>().is_some(),
        "faceroi found the face"
    );
    // A silhouette grown from a face is a rough outline (the drawn person has no neck), but
    // it sits on the person: most of what it keeps is person, most of the person is kept.
    let score = iou(&kept, &truth.data);
    assert!(score > 0.5, "silhouette vs drawn person: {score}");
}

/// The neural default on drawn people who are there from the first frame: kept whole at once,
/// with no learning period, and the background replaced.
#[test]
fn neural_keeps_people_in_view_from_the_first_frame() {
    let mut h = harness(&[("output-mask", "true")], "A420");
    let mut room = Room::new(W, H);
    let p = Person::small_at(80.0);
    for n in 0..5 {
        let (frame, truth) = room.frame(&[p], 1.0);
        let out = h.push_and_pull(buffer(frame, &[p], n, true)).unwrap();
        let mask = plane(&out, LUMA + 2 * CHROMA..2 * LUMA + 2 * CHROMA);
        let score = iou(&mask, &truth.data);
        assert!(score >= 0.8, "frame {n}: IoU {score}");
        // The corners are room: replaced from the first frame on.
        for i in [0, W - 1, LUMA - W, LUMA - 1] {
            assert_eq!(mask[i], 0, "frame {n}: corner {i} is background");
        }
    }
}

/// A model file that is missing or not a network of the right shape: a clear error at READY
/// to PAUSED, never a panic; likewise for faceroi's detector.
#[test]
fn a_bad_model_file_fails_at_the_state_change() {
    init();
    let dir = std::env::temp_dir().join(format!("bgreplace-model-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let garbage = dir.join("garbage.onnx");
    std::fs::write(&garbage, b"not a network").unwrap();
    let missing = dir.join("missing.onnx");
    for (factory, path, words) in [
        ("bgreplace", &garbage, "not a readable ONNX network"),
        ("bgreplace", &missing, "cannot read"),
        ("faceroi", &garbage, "not a readable ONNX network"),
    ] {
        let element = gst::ElementFactory::make(factory)
            .property("model-location", path.to_str().unwrap())
            .build()
            .unwrap();
        let bus = attach_bus(&element);
        assert!(
            element.set_state(gst::State::Paused).is_err(),
            "{factory} with {}",
            path.display()
        );
        let error = std::iter::from_fn(|| bus.pop())
            .find_map(|m| match m.view() {
                gst::MessageView::Error(e) => Some(e.error().to_string()),
                _ => None,
            })
            .expect("an error message");
        assert!(error.contains(words), "{factory}: {error}");
        element.set_state(gst::State::Null).unwrap();
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// The shared real clips (skipped without them): people in view from the first frame are kept
/// and the room replaced, scored on the hand-marked regions of `bench/regions` over the first
/// 200 frames.
#[test]
fn real_clips_keep_people_from_the_first_frame() {
    init();
    let regions =
        pixelmeet_bench::regions::read_dir(&pixelmeet_bench::regions::default_dir()).unwrap();
    let mut scored = 0;
    for clip in ["LivePortrait_d9_512x480", "LivePortrait_d12_512x512"] {
        let Some((pipeline, sink)) =
            common::real_clip(clip, "RGBA", "faceroi ! bgreplace output-mask=true")
        else {
            continue;
        };
        let marks = regions
            .iter()
            .find(|r| r.clip == clip)
            .expect("regions of the clip");
        let mut frame = 0;
        while frame < 200 {
            let Ok(sample) = sink.pull_sample() else {
                break;
            };
            if let Some(marked) = marks.marked(frame) {
                let buffer = sample.buffer().unwrap();
                let map = buffer.map_readable().unwrap();
                let (w, h) = (marks.width, marks.height);
                let mask =
                    pixelmeet_bench::composite::mask_from_channel(&map, 4 * w, (w, h), 4, 3, 128);
                let s = pixelmeet_bench::regions::score(&mask, marked);
                let (kept, replaced) = (s.kept.unwrap(), s.replaced.unwrap());
                assert!(kept >= 0.95, "{clip} frame {frame}: person kept {kept}");
                assert!(
                    replaced >= 0.95,
                    "{clip} frame {frame}: background replaced {replaced}"
                );
                scored += 1;
            }
            frame += 1;
        }
        pipeline.set_state(gst::State::Null).unwrap();
        assert!(frame >= 183, "{clip}: {frame} frames out");
    }
    if scored > 0 {
        assert!(scored >= 8, "{scored} marked frames scored");
    }
}

/// The neural default on frames smaller than the network's input and of odd sizes, in planar,
/// semi-planar, packed and alpha formats: every frame comes out whole, flat frames are all
/// background, and the stats message counts them.
#[test]
fn neural_takes_tiny_and_odd_frames_in_every_layout() {
    init();
    for (format, w, h) in [
        ("I420", 1, 1),
        ("I420", 17, 9),
        ("NV12", 33, 17),
        ("BGRx", 3, 41),
        ("AYUV", 161, 121),
    ] {
        let mut harness = gst_check::Harness::new("bgreplace");
        let element = harness.element().unwrap();
        element.set_property_from_str("color", "0xff0000ff");
        // One message over the four frames (40 ms apart).
        element.set_property("stats-interval", 160u32);
        let bus = attach_bus(&element);
        let caps = raw_caps(format, w, h);
        harness.set_src_caps(caps.clone());
        let info = gst_video::VideoInfo::from_caps(&caps).unwrap();
        for n in 0..4u64 {
            let mut buf = gst::Buffer::from_mut_slice(vec![128u8; info.size()]);
            buf.get_mut()
                .unwrap()
                .set_pts(gst::ClockTime::from_mseconds(40 * n));
            let out = harness.push_and_pull(buf).unwrap();
            assert_eq!(out.size(), info.size(), "{format} {w}x{h}");
        }
        let stats = common::element_messages(&bus, "bgreplace-stats");
        assert_eq!(stats.len(), 1, "{format} {w}x{h}");
        let s = &stats[0];
        assert_eq!(s.get::<u64>("frames").unwrap(), 4);
        assert_eq!(
            s.get::<u64>("network-runs").unwrap(),
            4,
            "skip-threshold 0 runs it always"
        );
        let person = s.get::<f64>("person-percent").unwrap();
        assert!(
            person < 5.0,
            "{format} {w}x{h}: a flat grey frame is {person} % person"
        );
        assert!(s.get::<f64>("ms-per-frame").unwrap() > 0.0);
        assert_eq!(
            s.get::<Option<gst::ClockTime>>("timestamp").unwrap(),
            Some(gst::ClockTime::from_mseconds(120))
        );
    }
}
