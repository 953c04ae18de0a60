// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! Writes the seed corpus: a few small valid encoded streams, made with the encoder from
//! generated pixels, into `corpus/decode/` and `corpus/decode_resealed/` (both targets take a
//! buffer of chunks). Run from the fuzz directory:
//!
//!     cargo +nightly run --example gen_seeds
//!
//! Each seed is one buffer: a keyframe followed by one or two changed frames, so Inter, Intra,
//! Average and Raw macroblocks and multi-chunk frames all appear. Deterministic output.

use pixeldiff_codec::{
    packed_frame_size, packed_planes, Decoder, Encoder, EncoderSettings, Layout, PixelFormat, Rect, RoiMode,
};
use std::path::Path;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Pixel content styles: smooth gradients code as Inter/Intra, noise goes Raw.
#[derive(Clone, Copy)]
enum Content {
    Gradient,
    Noise,
    Mixed,
    /// A texture the camera pans across, 3 samples right and 2 down a frame: motion vectors,
    /// some reading past the picture's edges.
    Pan,
}

fn frame(layout: &Layout, content: Content, t: usize, rng: &mut Rng) -> Vec<u8> {
    let n = packed_frame_size(layout);
    let w = layout.width as usize;
    (0..n)
        .map(|i| {
            let (x, y) = (i % w.max(1), i / w.max(1));
            let smooth = ((x * 3 + y * 5 + t * 9) & 0xff) as u8;
            match content {
                Content::Gradient => smooth,
                Content::Noise => rng.next() as u8,
                Content::Pan => {
                    let (u, v) = (x + 3 * t, y + 2 * t);
                    ((u * 7 ^ v * 13) as u8).wrapping_add((u / 5 + v / 3) as u8 * 17)
                }
                Content::Mixed => {
                    if (x / 16 + y / 16 + t) % 3 == 0 {
                        rng.next() as u8
                    } else {
                        smooth
                    }
                }
            }
        })
        .collect()
}

struct Seed {
    name: &'static str,
    format: PixelFormat,
    width: u32,
    height: u32,
    content: Content,
    frames: usize,
    settings: EncoderSettings,
    roi: Option<Rect>,
}

fn main() {
    let lossless = EncoderSettings {
        lossless: true,
        ..Default::default()
    };
    let lossy = |quality| EncoderSettings {
        quality,
        ..Default::default()
    };
    let average = EncoderSettings {
        motion_threshold: 0,
        ..Default::default()
    };
    let average_ll = EncoderSettings {
        lossless: true,
        motion_threshold: 0,
        ..Default::default()
    };
    let seeds = [
        Seed { name: "gray8-lossless-16x16", format: PixelFormat::Gray8, width: 16, height: 16, content: Content::Gradient, frames: 2, settings: lossless, roi: None },
        Seed { name: "gray8-lossy-q60-33x17", format: PixelFormat::Gray8, width: 33, height: 17, content: Content::Mixed, frames: 2, settings: lossy(60), roi: None },
        Seed { name: "gray8-lossy-q0-1x1", format: PixelFormat::Gray8, width: 1, height: 1, content: Content::Gradient, frames: 2, settings: lossy(0), roi: None },
        Seed { name: "i420-lossless-31x15", format: PixelFormat::I420, width: 31, height: 15, content: Content::Mixed, frames: 2, settings: lossless, roi: None },
        Seed { name: "i420-lossy-q90-48x32", format: PixelFormat::I420, width: 48, height: 32, content: Content::Gradient, frames: 3, settings: lossy(90), roi: None },
        Seed { name: "i420-lossy-roi-40x24", format: PixelFormat::I420, width: 40, height: 24, content: Content::Mixed, frames: 2, settings: EncoderSettings { roi_mode: RoiMode::Prioritize, ..lossy(40) }, roi: Some(Rect { x: 4, y: 2, width: 20, height: 18 }) },
        Seed { name: "nv12-lossless-17x9", format: PixelFormat::Nv12, width: 17, height: 9, content: Content::Noise, frames: 2, settings: lossless, roi: None },
        Seed { name: "nv12-lossy-q20-32x32", format: PixelFormat::Nv12, width: 32, height: 32, content: Content::Mixed, frames: 2, settings: lossy(20), roi: None },
        Seed { name: "rgb-lossless-20x12", format: PixelFormat::Rgb, width: 20, height: 12, content: Content::Gradient, frames: 2, settings: lossless, roi: None },
        Seed { name: "rgb-lossy-noise-raw-32x16", format: PixelFormat::Rgb, width: 32, height: 16, content: Content::Noise, frames: 1, settings: lossy(100), roi: None },
        Seed { name: "rgb-average-lossy-48x16", format: PixelFormat::Rgb, width: 48, height: 16, content: Content::Gradient, frames: 3, settings: average, roi: None },
        Seed { name: "bgrx-lossless-average-32x16", format: PixelFormat::Bgrx, width: 32, height: 16, content: Content::Gradient, frames: 3, settings: average_ll, roi: None },
        Seed { name: "bgrx-lossy-q75-24x40", format: PixelFormat::Bgrx, width: 24, height: 40, content: Content::Mixed, frames: 2, settings: lossy(75), roi: None },
        Seed { name: "i420-lossy-pan-64x48", format: PixelFormat::I420, width: 64, height: 48, content: Content::Pan, frames: 4, settings: lossy(50), roi: None },
        Seed { name: "gray8-lossless-pan-48x32", format: PixelFormat::Gray8, width: 48, height: 32, content: Content::Pan, frames: 3, settings: lossless, roi: None },
        Seed { name: "gray8-lossless-multichunk-96x64", format: PixelFormat::Gray8, width: 96, height: 64, content: Content::Noise, frames: 1, settings: EncoderSettings { mtu: 900, ..lossless }, roi: None },
    ];

    let dirs = ["corpus/decode", "corpus/decode_resealed"];
    for d in dirs {
        std::fs::create_dir_all(d).unwrap();
    }
    let mut total = 0;
    for seed in &seeds {
        let layout = Layout::new(seed.format, seed.width, seed.height).unwrap();
        let mut enc = Encoder::new(layout, 30.0);
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ seed.width as u64 * 131 ^ seed.height as u64);
        let rois: Vec<Rect> = seed.roi.into_iter().collect();
        let mut buf = Vec::new();
        for t in 0..seed.frames {
            let pixels = frame(&layout, seed.content, t, &mut rng);
            let coded = enc
                .encode(&packed_planes(&layout, &pixels).unwrap(), &rois, false, &seed.settings)
                .unwrap();
            buf.extend_from_slice(&coded.data);
        }
        // A seed must be a valid stream, or the fuzzer starts from noise.
        let outcome = Decoder::new().decode(&buf);
        assert!(outcome.errors.is_empty(), "{}: {:?}", seed.name, outcome.errors);
        for d in dirs {
            std::fs::write(Path::new(d).join(format!("seed-{}", seed.name)), &buf).unwrap();
        }
        println!("seed-{}: {} bytes", seed.name, buf.len());
        total += buf.len();
    }
    println!("{} seeds, {} bytes each target", seeds.len(), total);
}
