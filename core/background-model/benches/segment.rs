// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! Cost of one 640x480 frame: segmentation at the 320x240 working scale (model, prior,
//! clean-up, feather, upscale) and the colour and blur replacements at full size.

use background_model::compose::{blur_into, copy_planes, replace};
use background_model::mask::{blur, resize};
use background_model::{silhouette, Backdrop, BackgroundModel, HeadAndShoulders, ModelSettings};
use criterion::{criterion_group, criterion_main, Criterion};
use face_tracking::synthetic::{background_i420, i420_planes, Person};
use picture::{PictureLayout, Rect};

const W: usize = 640;
const H: usize = 480;

fn frame() -> Vec<u8> {
    let mut f = background_i420(W, H, 0);
    let person = Person {
        x: 320.0,
        y: 200.0,
        size: 120.0,
        skin: 170,
        shirt: [60, 140, 110],
    };
    person.draw_i420(i420_planes(&mut f, W, H), W, H);
    f
}

fn bench(c: &mut Criterion) {
    let layout = PictureLayout::i420(W as u32, H as u32);
    let mut data = frame();
    let planes = i420_planes(&mut data, W, H);
    let refs: Vec<&[u8]> = planes.iter().map(|p| &**p).collect();
    let working = layout.working_frame(&refs, W / 2, H / 2);
    let face = HeadAndShoulders::from_face(&Rect::new(250.0, 130.0, 140.0, 140.0)).scaled(0.5);
    let settings = ModelSettings::default();
    let mut model = BackgroundModel::new();
    c.bench_function("segment 640x480 (working 320x240, one face)", |b| {
        b.iter(|| {
            let prior = silhouette::prior(&[face], W / 2, H / 2);
            let mask = model.segment(&working, Some(&prior), &settings);
            resize(&blur(mask, 2), W, H)
        })
    });
    let prior = silhouette::prior(&[face], W / 2, H / 2);
    let mask = resize(
        &blur(model.segment(&working, Some(&prior), &settings), 2),
        W,
        H,
    );
    c.bench_function("replace by colour 640x480 I420", |b| {
        b.iter(|| {
            let mut copy = copy_planes(&refs);
            let mut out: Vec<&mut [u8]> = copy.iter_mut().map(|p| p.as_mut_slice()).collect();
            replace(
                &layout,
                &mut out,
                &mask,
                Backdrop::Colour {
                    rgb: [40, 80, 120],
                    opacity: 255,
                },
            );
        })
    });
    let mut plate = copy_planes(&refs);
    c.bench_function("blur plate radius 12 640x480 I420", |b| {
        b.iter(|| blur_into(&layout, &refs, &mut plate, 12))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
