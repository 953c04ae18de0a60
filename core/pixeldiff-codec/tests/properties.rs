// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! Property tests of the codec core: exact lossless round trips, and a decoder that survives any
//! input without panicking or unbounded allocation.

use pixeldiff_codec::*;
use proptest::prelude::*;

fn export(dec: &Decoder, layout: &Layout) -> Vec<u8> {
    let mut out = vec![0u8; packed_frame_size(layout)];
    dec.export(&mut packed_planes_mut(layout, &mut out).unwrap())
        .unwrap();
    out
}

/// Random frames for a random small layout: each frame mostly its predecessor with a few random
/// rectangles repainted, like video.
fn video() -> impl Strategy<Value = (Layout, Vec<Vec<u8>>)> {
    (0usize..5, 1u32..70, 1u32..50, 1usize..5, any::<u64>()).prop_map(|(f, w, h, n, seed)| {
        let layout = Layout::new(PixelFormat::ALL[f], w, h).unwrap();
        let mut rng = seed;
        let mut next = move || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        let mut frames = Vec::new();
        let mut cur: Vec<u8> = (0..packed_frame_size(&layout))
            .map(|_| next() as u8)
            .collect();
        for _ in 0..n {
            // A few repainted runs per frame, anywhere in the packed frame.
            for _ in 0..3 {
                let plane = &mut cur;
                let len = plane.len();
                let start = next() as usize % len;
                let run = next() as usize % (len - start).max(1);
                let smooth = next() % 2 == 0;
                let base = next() as u8;
                for (i, v) in plane[start..start + run].iter_mut().enumerate() {
                    *v = if smooth {
                        base.wrapping_add((i / 7) as u8)
                    } else {
                        next() as u8
                    };
                }
            }
            frames.push(cur.clone());
        }
        (layout, frames)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn lossless_round_trip_is_exact((layout, frames) in video(), mtu in 900usize..3000) {
        let settings = EncoderSettings { lossless: true, mtu, ..Default::default() };
        let mut enc = Encoder::new(layout, 30.0);
        let mut dec = Decoder::new();
        for frame in &frames {
            let coded = enc.encode(&packed_planes(&layout, frame).unwrap(), &[], false, &settings).unwrap();
            for r in &coded.chunks {
                prop_assert!(r.len() <= mtu);
            }
            let outcome = dec.decode(&coded.data);
            prop_assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
            let out = export(&dec, &layout);
            if layout.format == PixelFormat::Bgrx {
                // The x byte is filler.
                prop_assert!(frame.chunks(4).zip(out.chunks(4)).all(|(x, y)| x[..3] == y[..3]));
            } else {
                prop_assert_eq!(frame, &out);
            }
        }
    }

    #[test]
    fn lossy_decoder_matches_the_encoder_reference(
        (layout, frames) in video(),
        quality in 0u8..=100,
        roi in proptest::option::of((0u32..64, 0u32..48, 1u32..40, 1u32..40)),
        motion_threshold in prop_oneof![Just(100u8), 0u8..100],
    ) {
        // Face regions exercise per-macroblock quantisers; a low motion threshold, averaging.
        let settings = EncoderSettings {
            quality,
            roi_mode: if roi.is_some() { RoiMode::Prioritize } else { RoiMode::Off },
            motion_threshold,
            ..Default::default()
        };
        let rois: Vec<Rect> = roi
            .map(|(x, y, width, height)| Rect { x, y, width, height })
            .into_iter()
            .collect();
        let mut enc = Encoder::new(layout, 30.0);
        let mut dec = Decoder::new();
        for frame in &frames {
            let coded = enc.encode(&packed_planes(&layout, frame).unwrap(), &rois, false, &settings).unwrap();
            prop_assert!(dec.decode(&coded.data).errors.is_empty());
            let a = export(&dec, &layout);
            // The encoder's reconstruction is exactly what every decoder shows.
            let mut b = vec![0u8; packed_frame_size(&layout)];
            enc.reconstruction()
                .export(&mut packed_planes_mut(&layout, &mut b).unwrap())
                .unwrap();
            prop_assert_eq!(a, b);
        }
    }

    #[test]
    fn decoding_random_bytes_never_panics(data in proptest::collection::vec(any::<u8>(), 0..4000)) {
        let mut dec = Decoder::new();
        let _ = dec.decode(&data);
    }

    #[test]
    fn decoding_mutated_chunks_never_panics(
        (layout, frames) in video(),
        flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8),
        reseal in any::<bool>(),
    ) {
        let mut enc = Encoder::new(layout, 30.0);
        let mut dec = Decoder::new();
        for frame in &frames {
            let coded = enc.encode(&packed_planes(&layout, frame).unwrap(), &[], false, &EncoderSettings::default()).unwrap();
            let mut data = coded.data.clone();
            for &(at, x) in &flips {
                let i = at % data.len();
                data[i] ^= x;
            }
            if reseal {
                // Make damaged chunks pass the checksum, to exercise the payload parser.
                for r in &coded.chunks {
                    let size = u16::from_le_bytes([data[r.start + 2], data[r.start + 3]]) as usize;
                    if r.start + size <= data.len() && size >= HEADER_LEN {
                        seal_chunk(&mut data[r.start..r.start + size]);
                    }
                }
            }
            let _ = dec.decode(&data);
            if let Some(l) = dec.layout() {
                prop_assert!(l.width <= MAX_DIMENSION && l.height <= MAX_DIMENSION);
            }
        }
    }
}
