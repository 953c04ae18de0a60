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
