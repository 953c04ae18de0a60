// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! The model on drawn scenes with an exact person mask: a person walks in over a textured
//! room with camera noise, sits still, and the exposure jumps. The prior comes from the true
//! face box, as faceroi would give it.

use background_model::mask::iou;
use background_model::{silhouette, BackgroundModel, HeadAndShoulders, ModelSettings};
use face_tracking::synthetic::{i420_planes, Person, Room};
use picture::{Gray, PictureLayout};

const W: usize = 160;
const H: usize = 120;

fn segment(model: &mut BackgroundModel, frame: &mut [u8], person: Option<&Person>) -> Gray {
    let layout = PictureLayout::i420(W as u32, H as u32);
    let planes = i420_planes(frame, W, H);
    let refs: Vec<&[u8]> = planes.iter().map(|p| &**p).collect();
    let working = layout.working_frame(&refs, W, H);
    let faces: Vec<HeadAndShoulders> = person
        .map(|p| HeadAndShoulders::from_face(&p.face_box()))
        .into_iter()
        .collect();
    let prior = person.map(|_| silhouette::prior(&faces, W, H));
    model
        .segment(&working, prior.as_ref(), &ModelSettings::default())
        .clone()
}

#[test]
fn a_person_walking_in_sitting_still_and_an_exposure_step() {
    let mut scene = Room::new(W, H);
    let mut model = BackgroundModel::new();
    // The empty room, then the person walks in from the right and stops at the middle.
    for _ in 0..20 {
        let (mut f, _) = scene.frame(&[], 1.0);
        let mask = segment(&mut model, &mut f, None);
        assert!(
            mask.data.iter().all(|&m| m == 0),
            "an empty room is background"
        );
    }
    let mut walking = Vec::new();
    for k in 0..30 {
        let p = Person::small_at(140.0 - k as f32 * 2.0);
        let (mut f, truth) = scene.frame(&[p], 1.0);
        walking.push(iou(
            &segment(&mut model, &mut f, Some(&p)).data,
            &truth.data,
        ));
    }
    // Still for 300 frames (10 s): no fading, no flicker.
    let p = Person::small_at(80.0);
    let mut still = Vec::new();
    let mut previous: Option<Gray> = None;
    let mut changed_pixels = 0;
    for _ in 0..300 {
        let (mut f, truth) = scene.frame(&[p], 1.0);
        let mask = segment(&mut model, &mut f, Some(&p));
        still.push(iou(&mask.data, &truth.data));
        if let Some(prev) = &previous {
            changed_pixels += prev
                .data
                .iter()
                .zip(&mask.data)
                .filter(|(a, b)| a != b)
                .count();
        }
        previous = Some(mask);
    }
    // Auto-exposure brightens everything by 20 %.
    let mut after_step = Vec::new();
    for _ in 0..30 {
        let (mut f, truth) = scene.frame(&[p], 1.2);
        after_step.push(iou(
            &segment(&mut model, &mut f, Some(&p)).data,
            &truth.data,
        ));
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    eprintln!(
        "IoU walking {:.3}, still {:.3} (last {:.3}), after the step {:.3}; {changed_pixels} pixel changes while still",
        mean(&walking[5..]),
        mean(&still),
        still[still.len() - 1],
        mean(&after_step)
    );
    // The first frames of the entrance are the face coming into view at the edge.
    assert!(mean(&walking[5..]) >= 0.85, "walking in: {walking:?}");
    assert!(mean(&still) >= 0.9, "still: mean {}", mean(&still));
    assert!(
        still[still.len() - 20..].iter().all(|&v| v >= 0.9),
        "a still person does not fade: {:?}",
        &still[still.len() - 20..]
    );
    assert!(
        (changed_pixels as f64 / 299.0) < 6.0,
        "a still person's mask does not flicker: {changed_pixels} pixel changes in 300 frames"
    );
    assert!(
        after_step.iter().all(|&v| v >= 0.85),
        "an exposure step does not flood the mask: {after_step:?}"
    );
    assert!((model.gain() - 1.2).abs() < 0.03, "gain {}", model.gain());
}

#[test]
fn without_the_prior_a_moving_person_is_still_found() {
    let mut scene = Room::new(W, H);
    let mut model = BackgroundModel::new();
    for _ in 0..20 {
        let (mut f, _) = scene.frame(&[], 1.0);
        segment(&mut model, &mut f, None);
    }
    let mut scores = Vec::new();
    for k in 0..40 {
        let p = Person::small_at(40.0 + k as f32 * 2.0);
        let (mut f, truth) = scene.frame(&[p], 1.0);
        // The model alone: no face information.
        let layout = PictureLayout::i420(W as u32, H as u32);
        let planes = i420_planes(&mut f, W, H);
        let refs: Vec<&[u8]> = planes.iter().map(|p| &**p).collect();
        let working = layout.working_frame(&refs, W, H);
        let mask = model.segment(&working, None, &ModelSettings::default());
        scores.push(iou(&mask.data, &truth.data));
    }
    let mean = scores[5..].iter().sum::<f64>() / 35.0;
    assert!(mean >= 0.8, "model alone: {mean} {scores:?}");
}

#[test]
fn relearn_forgets_the_room() {
    let mut scene = Room::new(W, H);
    let mut model = BackgroundModel::new();
    for _ in 0..20 {
        let (mut f, _) = scene.frame(&[], 1.0);
        segment(&mut model, &mut f, None);
    }
    // The camera turns to a different room: everything differs from what was learnt.
    scene
        .plate
        .iter_mut()
        .take(W * H)
        .for_each(|v| *v = 255 - *v);
    let mut before = Gray::default();
    for _ in 0..2 {
        let (mut f, _) = scene.frame(&[], 1.0);
        before = segment(&mut model, &mut f, None);
    }
    model.relearn();
    let (mut f, _) = scene.frame(&[], 1.0);
    let after = segment(&mut model, &mut f, None);
    let share = |m: &Gray| m.data.iter().filter(|&&v| v != 0).count() as f64 / m.data.len() as f64;
    assert!(share(&after) < 0.01, "relearnt: {}", share(&after));
    assert!(
        share(&before) > 0.5,
        "a new room looks new: {}",
        share(&before)
    );
}
