// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! Encoder behaviour on generated video: rate control, averaging under motion and refinement,
//! convergence of a late or lossy receiver through cyclic refresh.

use pixeldiff_codec::*;

const W: usize = 320;
const H: usize = 240;

/// An I420 frame: a textured wall and a textured square that moves `shift` pixels right.
/// With `pan`, the whole wall texture moves too (a hand-held camera).
fn frame(shift: usize, pan: usize) -> Vec<u8> {
    let mut f = vec![128u8; W * H * 3 / 2];
    for y in 0..H {
        for x in 0..W {
            let wx = x + pan;
            let wall = (((wx / 4) * 7 + (y / 4) * 13) % 64) as u8 + 60 + ((wx ^ y) % 5) as u8;
            let inside = (100 + shift..180 + shift).contains(&x) && (60..160).contains(&y);
            f[y * W + x] = if inside {
                (((x - shift) * 5 + y * 3) % 90) as u8 + 120
            } else {
                wall
            };
        }
    }
    f
}

fn planes(f: &[u8]) -> Vec<InPlane<'_>> {
    packed_planes(&layout(), f).unwrap()
}

/// The picture as an I420 frame.
fn export(p: &Picture) -> Vec<u8> {
    let mut out = vec![0u8; packed_frame_size(&layout())];
    p.export(&mut packed_planes_mut(&layout(), &mut out).unwrap())
        .unwrap();
    out
}

fn luma_psnr(a: &Picture, b: &[u8]) -> f64 {
    let out = export(a);
    let mse = out[..W * H]
        .iter()
        .zip(&b[..W * H])
        .map(|(&p, &q)| ((p as f64) - (q as f64)).powi(2))
        .sum::<f64>()
        / (W * H) as f64;
    if mse == 0.0 {
        100.0
    } else {
        10.0 * (255.0 * 255.0 / mse).log10()
    }
}

fn layout() -> Layout {
    Layout::new(PixelFormat::I420, W as u32, H as u32).unwrap()
}

#[test]
fn rate_control_settles_near_the_target() {
    for target in [150u32, 600] {
        let settings = EncoderSettings {
            target_bitrate: target,
            quality: 100,
            ..Default::default()
        };
        let mut enc = Encoder::new(layout(), 30.0);
        let mut bytes = Vec::new();
        for k in 0..150 {
            let f = frame((k * 3) % 120, k);
            bytes.push(
                enc.encode(&planes(&f), &[], false, &settings)
                    .unwrap()
                    .data
                    .len(),
            );
        }
        // The last two seconds, once settled.
        let kbps = bytes[90..].iter().sum::<usize>() as f64 * 8.0 * 30.0 / 60.0 / 1000.0;
        let t = target as f64;
        assert!(
            kbps > 0.7 * t && kbps < 1.3 * t,
            "target {target}: {kbps:.0} kbit/s"
        );
    }
}

#[test]
fn heavy_motion_is_sent_averaged_then_refined() {
    let settings = EncoderSettings {
        motion_threshold: 30,
        quality: 70,
        ..Default::default()
    };
    let mut enc = Encoder::new(layout(), 30.0);
    let mut averaged = 0;
    for k in 0..10 {
        let f = frame(0, k * 4);
        averaged += enc
            .encode(&planes(&f), &[], false, &settings)
            .unwrap()
            .averaged_mbs;
    }
    assert!(
        averaged > 100,
        "a panning camera moves most blocks: {averaged} averaged"
    );
    let still = frame(0, 36);
    let during = luma_psnr(enc.reconstruction(), &still);
    let mut last = EncodedFrame::default();
    for _ in 0..6 {
        last = enc.encode(&planes(&still), &[], false, &settings).unwrap();
    }
    let after = luma_psnr(enc.reconstruction(), &still);
    assert_eq!(last.averaged_mbs, 0);
    assert!(
        after > 38.0 && after > during + 5.0,
        "refined from {during:.1} to {after:.1} dB"
    );
}

#[test]
fn a_receiver_that_missed_the_start_converges_within_a_second() {
    let settings = EncoderSettings {
        quality: 50,
        ..Default::default()
    };
    let mut enc = Encoder::new(layout(), 30.0);
    let mut dec = Decoder::new();
    for k in 0..45 {
        let f = frame(k % 40, 0);
        let coded = enc.encode(&planes(&f), &[], false, &settings).unwrap();
        // The first ten frames, keyframe included, never arrive.
        if k >= 10 {
            dec.decode(&coded.data);
        }
        if k >= 10 + 30 {
            // One refresh cycle after joining: exactly the encoder's reference picture.
            assert!(
                export(dec.picture().unwrap()) == export(enc.reconstruction()),
                "frame {k}"
            );
        }
    }
}

#[test]
fn lost_chunks_heal_within_a_refresh_cycle() {
    let settings = EncoderSettings {
        quality: 60,
        mtu: 900,
        ..Default::default()
    };
    let mut enc = Encoder::new(layout(), 30.0);
    let mut dec = Decoder::new();
    let mut lost = 0;
    for k in 0..70 {
        let f = frame((k * 2) % 100, 0);
        let coded = enc.encode(&planes(&f), &[], false, &settings).unwrap();
        // Drop every third chunk during the first second.
        for (n, r) in coded.chunks.iter().enumerate() {
            if k < 30 && (k + n) % 3 == 0 {
                lost += 1;
                continue;
            }
            dec.decode(&coded.data[r.clone()]);
        }
        if k >= 30 + 30 {
            let enc_psnr = luma_psnr(enc.reconstruction(), &f);
            let dec_psnr = luma_psnr(dec.picture().unwrap(), &f);
            assert!(
                (enc_psnr - dec_psnr).abs() < 1e-9,
                "frame {k}: {dec_psnr} vs {enc_psnr}"
            );
        }
    }
    assert!(lost > 20);
}

#[test]
fn frames_without_faces_keep_the_frame_counter_going() {
    // roi-mode=only with no-roi-action=skip: empty frames while nobody is there, then a face.
    let settings = EncoderSettings {
        roi_mode: RoiMode::Only,
        no_roi_action: NoRoiAction::Skip,
        ..Default::default()
    };
    let face = Rect {
        x: 100,
        y: 60,
        width: 80,
        height: 100,
    };
    let mut enc = Encoder::new(layout(), 30.0);
    let mut dec = Decoder::new();
    let mut numbers = Vec::new();
    for k in 0..12 {
        let rois: &[Rect] = if (4..8).contains(&k) { &[] } else { &[face] };
        let coded = enc
            .encode(&planes(&frame(k, 0)), rois, false, &settings)
            .unwrap();
        assert_eq!(coded.empty, rois.is_empty());
        for c in split_chunks(&coded.data) {
            numbers.push(ChunkHeader::parse(c.unwrap()).unwrap().frame);
        }
        let outcome = dec.decode(&coded.data);
        assert!(outcome.errors.is_empty());
        assert_eq!(outcome.lost_chunks, 0, "frame {k}: nothing was lost");
    }
    let mut frames = numbers.clone();
    frames.dedup();
    assert_eq!(frames, (0..12).collect::<Vec<u16>>(), "{numbers:?}");
}

#[test]
fn a_target_below_the_coarsest_leaves_no_debt_when_it_rises() {
    let mut settings = EncoderSettings {
        target_bitrate: 5,
        quality: 100,
        ..Default::default()
    };
    let mut enc = Encoder::new(layout(), 30.0);
    let mut bytes = Vec::new();
    for k in 0..240 {
        // Four seconds far below what the panning content costs at its coarsest, then room.
        if k == 120 {
            settings.target_bitrate = 100;
        }
        let f = frame((k * 3) % 120, k);
        let coded = enc.encode(&planes(&f), &[], false, &settings).unwrap();
        bytes.push(coded.data.len());
    }
    let kbps = |frames: &[usize]| {
        frames.iter().sum::<usize>() as f64 * 8.0 * 30.0 / frames.len() as f64 / 1000.0
    };
    let floor = kbps(&bytes[90..120]);
    assert!(
        floor > 15.0,
        "the content costs more than 15 kbit/s at its coarsest ({floor:.0})"
    );
    // Within half a second of the raise the encoder uses the new budget...
    let after = kbps(&bytes[135..150]);
    assert!(
        after > 0.7 * 100.0,
        "{after:.0} kbit/s half a second after the raise (floor {floor:.0})"
    );
    // ...and no second after it goes over by more than the rate control's own wobble.
    for start in 120..=210 {
        let second = kbps(&bytes[start..start + 30]);
        assert!(
            second < 1.15 * 100.0,
            "{second:.0} kbit/s in the second from frame {start}"
        );
    }
}

/// A hand-held camera over a textured scene: the window at (`x`, `y`) of a large texture (blurred
/// noise, so that it has detail at every scale and no repeats).
struct Scene {
    texture: Vec<u8>,
    side: usize,
}

impl Scene {
    fn new() -> Self {
        let side = W + 200;
        let mut seed = 7u32;
        let noise: Vec<u8> = (0..side * side)
            .map(|_| {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                (seed >> 16) as u8
            })
            .collect();
        // A 3x3 box blur: still full of detail, but with slopes a motion search can follow.
        let texture = (0..side * side)
            .map(|i| {
                let (x, y) = ((i % side).clamp(1, side - 2), (i / side).clamp(1, side - 2));
                let sum: u32 = (0..9)
                    .map(|k| noise[(y + k / 3 - 1) * side + x + k % 3 - 1] as u32)
                    .sum();
                (sum / 9) as u8
            })
            .collect();
        Scene { texture, side }
    }

    fn frame(&self, x: usize, y: usize) -> Vec<u8> {
        let mut f = vec![128u8; W * H * 3 / 2];
        for row in 0..H {
            f[row * W..][..W].copy_from_slice(&self.texture[(y + row) * self.side + x..][..W]);
        }
        // Chroma from the texture too, at half resolution.
        let (u, v) = f[W * H..].split_at_mut(W * H / 4);
        for row in 0..H / 2 {
            for col in 0..W / 2 {
                let t = self.texture[(y + 2 * row) * self.side + x + 2 * col];
                u[row * W / 2 + col] = t / 2 + 64;
                v[row * W / 2 + col] = 192 - t / 2;
            }
        }
        f
    }
}

/// The camera's path: a pan right, then down, then left, then up, 2 to 3 samples a frame, so that
/// vectors point every way.
fn camera(k: usize) -> (usize, usize) {
    let leg = k % 120;
    match leg / 30 {
        0 => (20 + 3 * (leg % 30), 20),
        1 => (110, 20 + 2 * (leg % 30)),
        2 => (110 - 3 * (leg % 30), 80),
        _ => (20, 80 - 2 * (leg % 30)),
    }
}

/// The gradual refresh under motion: chunks lost while the camera pans damage the picture, but
/// once a refresh cycle begins after the loss, the clean part of the picture is exactly what a
/// receiver that lost nothing shows, frame after frame, and the whole picture is once that cycle
/// ends. Motion vectors were used throughout (the test would prove nothing without them).
#[test]
fn under_motion_damage_stays_outside_the_clean_part_and_heals_in_one_cycle() {
    let scene = Scene::new();
    let settings = EncoderSettings {
        quality: 50,
        mtu: 900,
        ..Default::default()
    };
    let mut enc = Encoder::new(layout(), 30.0);
    let (mut clean_rx, mut lossy_rx) = (Decoder::new(), Decoder::new());
    let total = layout().mb_count();
    let mut rng = 99u32;
    let (mut lost, mut moved) = (0, 0);
    let loss = 40..100;
    let mut previous_clean = 0;
    let mut cycle_began_after_loss = None;
    let mut healed_at = None;
    for k in 0..200 {
        let (x, y) = camera(k);
        let f = scene.frame(x, y);
        let coded = enc.encode(&planes(&f), &[], false, &settings).unwrap();
        moved += coded.moved_mbs;
        assert!(clean_rx.decode(&coded.data).errors.is_empty());
        for r in &coded.chunks {
            rng = rng.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            // 10 % of the chunks, and every chunk of frames 60 and 61 (a burst).
            if loss.contains(&k) && ((rng >> 16).is_multiple_of(10) || k == 60 || k == 61) {
                lost += 1;
                continue;
            }
            lossy_rx.decode(&coded.data[r.clone()]);
        }
        let (want, got) = (
            export(clean_rx.picture().unwrap()),
            export(lossy_rx.picture().unwrap()),
        );
        // A new cycle begins when the clean part shrinks (the walk wrapped).
        if k >= loss.end && cycle_began_after_loss.is_none() && coded.clean_mbs < previous_clean {
            cycle_began_after_loss = Some(k);
        }
        previous_clean = coded.clean_mbs;
        if let Some(began) = cycle_began_after_loss {
            let clean = if healed_at.is_some() {
                total
            } else {
                coded.clean_mbs
            };
            let differing = differing_mbs(&want, &got);
            assert!(
                differing.iter().all(|&mb| mb >= clean),
                "frame {k} (cycle began at {began}): clean part {clean}, differing {differing:?}"
            );
            if clean == total && healed_at.is_none() {
                healed_at = Some(k);
            }
        } else if k == loss.end {
            assert!(want != got, "the loss damaged the picture");
        }
    }
    let began = cycle_began_after_loss.expect("a refresh cycle began after the loss");
    let healed = healed_at.expect("the picture healed");
    // One cycle of a 300-macroblock picture at 10 refresh macroblocks a frame is 30 frames.
    assert!(healed - began < 30, "cycle from {began} to {healed}");
    assert!(lost > 30, "{lost} chunks lost");
    assert!(moved > 100 * total, "{moved} macroblocks moved by vectors");
}

/// Macroblocks whose samples differ between two I420 frames of `layout()`.
fn differing_mbs(a: &[u8], b: &[u8]) -> Vec<usize> {
    let cols = W.div_ceil(16);
    let mut out = Vec::new();
    for mb in 0..layout().mb_count() {
        let (x0, y0) = ((mb % cols) * 16, (mb / cols) * 16);
        let luma = (y0..(y0 + 16).min(H)).any(|y| {
            let r = y * W + x0..y * W + (x0 + 16).min(W);
            a[r.clone()] != b[r]
        });
        let chroma = (y0 / 2..(y0 / 2 + 8).min(H / 2)).any(|y| {
            [W * H, W * H * 5 / 4].iter().any(|&base| {
                let r = base + y * W / 2 + x0 / 2..base + y * W / 2 + (x0 / 2 + 8).min(W / 2);
                a[r.clone()] != b[r]
            })
        });
        if luma || chroma {
            out.push(mb);
        }
    }
    out
}

/// With threads, each thread codes its share of the blocks into chunks of its own: every frame
/// still decodes to the encoder's own picture, and costs and looks about the same as on one.
#[test]
fn threads_code_the_same_pictures_in_chunks_of_their_own() {
    let scene = Scene::new();
    let run = |threads: usize| {
        let settings = EncoderSettings {
            quality: 50,
            threads,
            ..Default::default()
        };
        let mut enc = Encoder::new(layout(), 30.0);
        let mut dec = Decoder::new();
        let (mut bytes, mut chunks, mut psnr) = (0, 0, 0.0);
        for k in 0..40 {
            let (x, y) = camera(k);
            let f = scene.frame(x, y);
            let coded = enc.encode(&planes(&f), &[], false, &settings).unwrap();
            assert!(dec.decode(&coded.data).errors.is_empty());
            assert!(
                export(dec.picture().unwrap()) == export(enc.reconstruction()),
                "{threads} threads, frame {k}"
            );
            bytes += coded.data.len();
            chunks += coded.chunks.len();
            psnr += luma_psnr(enc.reconstruction(), &f) / 40.0;
        }
        (bytes, chunks, psnr)
    };
    let (one, three) = (run(1), run(3));
    assert!(three.1 > one.1, "more chunks: {one:?} vs {three:?}");
    assert!(
        (three.0 as f64 / one.0 as f64 - 1.0).abs() < 0.03,
        "{one:?} vs {three:?}"
    );
    assert!((three.2 - one.2).abs() < 0.05, "{one:?} vs {three:?}");
}
