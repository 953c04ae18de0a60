// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! Criterion benches of the codec core on generated frames (no media files needed):
//! a static 720p scene (the common case of a meeting: nothing moves), a talking-head-like
//! scene with a moving region, and lossless coding. Run with `cargo bench -p pixeldiff-codec`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use pixeldiff_codec::*;

const W: usize = 1280;
const H: usize = 720;

/// A textured I420 frame; `shift` moves a 320x320 "head" region to the right.
fn frame(shift: usize) -> Vec<u8> {
    let mut f = vec![0u8; W * H * 3 / 2];
    for y in 0..H {
        for x in 0..W {
            let wall = ((x / 8 + y / 8) % 7 * 9 + (x * y % 13)) as u8 + 60;
            let in_head = (480 + shift..800 + shift).contains(&x) && (200..520).contains(&y);
            f[y * W + x] = if in_head {
                (((x - shift) * 3 + y * 5) % 97) as u8 + 100
            } else {
                wall
            };
        }
    }
    for v in &mut f[W * H..] {
        *v = 128;
    }
    f
}

fn layout() -> Layout {
    Layout::new(PixelFormat::I420, W as u32, H as u32).unwrap()
}

fn planes(f: &[u8]) -> Vec<InPlane<'_>> {
    packed_planes(&layout(), f).unwrap()
}

fn run(c: &mut Criterion, name: &str, settings: EncoderSettings, frames: &[Vec<u8>]) {
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Elements(1));
    let mut enc = Encoder::new(layout(), 30.0);
    let mut dec = Decoder::new();
    // Start from a steady state: the keyframe is behind us.
    for f in frames {
        dec.decode(&enc.encode(&planes(f), &[], false, &settings).unwrap().data);
    }
    let mut i = 0;
    let mut out = vec![0u8; W * H * 3 / 2];
    group.bench_function("encode+decode 720p frame", |b| {
        b.iter(|| {
            let f = &frames[i % frames.len()];
            i += 1;
            let coded = enc.encode(&planes(f), &[], false, &settings).unwrap();
            dec.decode(&coded.data);
            dec.export(&mut packed_planes_mut(&layout(), &mut out).unwrap())
                .unwrap();
            coded.data.len()
        })
    });
    group.finish();
}

fn benches(c: &mut Criterion) {
    let still = vec![frame(0)];
    let moving: Vec<Vec<u8>> = (0..8).map(|k| frame(k * 2)).collect();
    run(c, "static-lossy", EncoderSettings::default(), &still);
    run(c, "moving-head-lossy", EncoderSettings::default(), &moving);
    let lossless = EncoderSettings {
        lossless: true,
        ..Default::default()
    };
    run(c, "static-lossless", lossless, &still);
    run(c, "moving-head-lossless", lossless, &moving);
}

criterion_group! {
    name = codec;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(3));
    targets = benches
}
criterion_main!(codec);
