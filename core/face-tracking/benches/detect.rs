// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! Detector and tracker cost on a working-size image, without a pipeline.

use criterion::{criterion_group, criterion_main, Criterion};
use face_tracking::{
    DetectorKind, DetectorSettings, FaceDetector, Gray, Tracker, TrackerSettings, WorkingFrame,
};

fn textured(w: usize, h: usize) -> Gray {
    let mut g = Gray::new(w, h);
    for y in 0..h {
        for x in 0..w {
            g.data[y * w + x] = ((x * 7 + y * 13) ^ (x * y / 5)) as u8;
        }
    }
    g
}

fn bench(c: &mut Criterion) {
    let settings = DetectorSettings::default();
    let (w, h) = settings.working_size(640, 480);
    let frame = WorkingFrame {
        luma: textured(w, h),
        cb: Gray::new(w, h),
        cr: Gray::new(w, h),
        scale: settings.scale(640),
    };
    for kind in [
        DetectorKind::BlazeFace,
        DetectorKind::BlazeFaceShort,
        DetectorKind::SeetaFace,
    ] {
        let mut detector = FaceDetector::new(kind).expect("embedded model");
        c.bench_function(&format!("detect {kind:?} {w}x{h}"), |b| {
            b.iter(|| detector.detect(&frame, &settings))
        });
    }
    let mut tracker = Tracker::new();
    c.bench_function("track, no detection", |b| {
        b.iter(|| tracker.update(&frame, None, &TrackerSettings::default()))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
