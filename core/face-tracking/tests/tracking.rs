// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! Detector and tracker together on drawn people: stable ids, no jitter, motion followed between
//! detections, misses bridged, and in owner mode the owner kept when a second person crosses
//! and never taken for someone else. Identity here is an oracle that knows who is drawn where
//! (the tracker's rules are under test, not the descriptor network: tests/faceroi.rs runs that
//! on real footage).

use face_tracking::synthetic::{background_i420, i420_planes, Person};
use face_tracking::{
    Descriptor, Detection, DetectorKind, DetectorSettings, FaceDetector, Faces, Mode,
    PictureLayout, Tracker, TrackerSettings,
};

const W: usize = 640;
const H: usize = 480;

/// People drawn in order (later ones in front) on a background that changes a little each
/// frame, like camera noise.
fn picture(people: &[Person], frame: usize) -> Vec<u8> {
    let mut data = background_i420(W, H, frame);
    for p in people {
        p.draw_i420(i420_planes(&mut data, W, H), W, H);
    }
    data
}

struct Run {
    detector: FaceDetector,
    tracker: Tracker,
    settings: DetectorSettings,
    interval: usize,
    frame: usize,
}

impl Run {
    fn new(interval: usize) -> Self {
        Run {
            // The drawn faces are what the cascade was tuned on; these tests are of the tracker.
            detector: FaceDetector::new(DetectorKind::SeetaFace).expect("embedded model"),
            tracker: Tracker::new(),
            settings: DetectorSettings::default(),
            interval,
            frame: 0,
        }
    }

    fn step(&mut self, people: &[Person], tracker_settings: &TrackerSettings) -> Faces {
        let data = picture(people, self.frame);
        let l = PictureLayout::i420(W as u32, H as u32);
        let (y, rest) = data.split_at(W * H);
        let (u, v) = rest.split_at(W * H / 4);
        let (ww, wh) = self.settings.working_size(W as u32, H as u32);
        let working = l.working_frame(&[y, u, v], ww, wh);
        let detections = self.frame.is_multiple_of(self.interval).then(|| {
            self.detector
                .detect(&working, &self.settings)
                .expect("the cascade cannot fail")
        });
        self.frame += 1;
        let mut identify = |d: &Detection| oracle(people, d);
        self.tracker.update_with(
            &working,
            detections.as_deref(),
            &mut identify,
            tracker_settings,
        )
    }
}

/// The descriptor of whoever is drawn under a detection: one number per skin tone, so two
/// people lie sqrt(2) apart and one person at distance 0.
fn oracle(people: &[Person], d: &Detection) -> Option<Descriptor> {
    let p = people
        .iter()
        .max_by(|a, b| {
            let iou = |p: &Person| p.face_box().iou(&d.rect);
            iou(a).total_cmp(&iou(b))
        })
        .filter(|p| p.face_box().iou(&d.rect) > 0.3)?;
    let mut v = vec![0.0; 128];
    v[p.skin as usize % 128] = 1.0;
    Some(Descriptor(v))
}

#[test]
fn drawn_faces_are_found_where_they_are() {
    let mut run = Run::new(1);
    for size in [100.0, 150.0, 220.0] {
        let person = Person {
            size,
            ..Person::owner()
        };
        run.tracker = Tracker::new();
        let faces = run.step(&[person], &TrackerSettings::default());
        assert_eq!(faces.reported.len(), 1, "size {size}");
        let iou = faces.reported[0].rect.iou(&person.face_box());
        assert!(iou >= 0.5, "size {size}: iou {iou} {:?}", faces.reported[0]);
        assert!(
            faces.reported[0].confidence > 2.0,
            "below the score threshold"
        );
    }
}

#[test]
fn a_still_face_keeps_its_id_and_its_box_does_not_jitter() {
    let mut run = Run::new(1);
    let settings = TrackerSettings::default();
    let mut xs = Vec::new();
    let mut ids = Vec::new();
    for _ in 0..40 {
        let faces = run.step(&[Person::owner()], &settings);
        assert_eq!(faces.reported.len(), 1);
        xs.push(faces.reported[0].rect.x);
        ids.push(faces.reported[0].id);
    }
    assert!(ids.iter().all(|&id| id == ids[0]), "{ids:?}");
    let tail = &xs[10..];
    let mean = tail.iter().sum::<f32>() / tail.len() as f32;
    let spread = tail.iter().map(|x| (x - mean).abs()).fold(0.0, f32::max);
    assert!(
        spread <= 1.5,
        "box moved {spread} px while the face stood still: {xs:?}"
    );
}

#[test]
fn boxes_follow_motion_between_detections() {
    let mut run = Run::new(10);
    let settings = TrackerSettings::default();
    let mut worst = 0.0f32;
    for i in 0..60 {
        let person = Person {
            x: 150.0 + 5.0 * i as f32,
            y: 200.0 + 1.5 * i as f32,
            ..Person::owner()
        };
        let faces = run.step(&[person], &settings);
        assert_eq!(faces.reported.len(), 1, "frame {i}");
        let (fx, fy) = faces.reported[0].rect.center();
        let (tx, ty) = person.face_box().center();
        if i >= 10 {
            worst = worst.max(((fx - tx).powi(2) + (fy - ty).powi(2)).sqrt());
        }
    }
    // Without following, a box would lag up to 9 frames x 5.2 px = 47 px behind.
    assert!(worst < 12.0, "box lagged {worst} px behind the face");
}

#[test]
fn short_misses_are_bridged_and_long_ones_are_not() {
    let mut run = Run::new(1);
    let settings = TrackerSettings::default();
    let first = run.step(&[Person::owner()], &settings).reported[0].id;
    run.step(&[Person::owner()], &settings);
    for _ in 0..8 {
        let faces = run.step(&[], &settings);
        assert_eq!(faces.reported.len(), 1, "a short miss keeps the face");
    }
    assert_eq!(
        run.step(&[Person::owner()], &settings).reported[0].id,
        first
    );
    let mut gone_after = None;
    for i in 0..30 {
        if run.step(&[], &settings).reported.is_empty() && gone_after.is_none() {
            gone_after = Some(i);
        }
    }
    assert_eq!(gone_after, Some(settings.max_missed_frames as usize));
    assert_ne!(
        run.step(&[Person::owner()], &settings).reported[0].id,
        first
    );
}

#[test]
fn owner_keeps_the_id_when_a_second_person_crosses_and_the_stranger_is_never_reported() {
    let mut run = Run::new(5);
    let settings = TrackerSettings {
        mode: Mode::Owner,
        ..Default::default()
    };
    let mut owner_id = None;
    let (mut on_owner, mut apart) = (0, 0);
    let frames = 120;
    for i in 0..frames {
        let t = i as f32;
        let owner = Person {
            x: 150.0 + 3.0 * t,
            ..Person::owner()
        };
        let mut people = vec![owner];
        // The stranger walks in from the right after 20 frames, crosses in front of the
        // owner and walks on to the left.
        if i >= 20 {
            people.push(Person {
                x: 600.0 - 4.0 * (t - 20.0),
                ..Person::stranger()
            });
        }
        let faces = run.step(&people, &settings);
        assert!(faces.reported.len() <= 1, "frame {i}: {:?}", faces.reported);
        let crossing = people.len() == 2 && (people[1].x - owner.x).abs() < 1.5 * owner.size;
        apart += usize::from(!crossing && i > 0);
        if let Some(f) = faces.reported.first() {
            assert_eq!(
                *owner_id.get_or_insert(f.id),
                f.id,
                "frame {i}: owner id changed"
            );
            assert!(
                f.rect.iou(&owner.face_box()) >= 0.4,
                "frame {i}: the reported box is not the owner's: {f:?}"
            );
            on_owner += usize::from(!crossing);
        }
        if people.len() == 2 && !crossing {
            assert!(
                faces
                    .others
                    .iter()
                    .any(|o| o.iou(&people[1].face_box()) > 0.3),
                "frame {i}: the stranger is not among the others to mask"
            );
        }
    }
    assert!(
        on_owner * 10 >= apart * 9,
        "owner reported on {on_owner} of {apart} frames with nobody near"
    );
    assert_eq!(run.tracker.owner_id(), owner_id);
}

#[test]
fn an_owner_who_leaves_is_found_again_and_a_stranger_in_their_place_is_never_reported() {
    let mut run = Run::new(2);
    let settings = TrackerSettings {
        mode: Mode::Owner,
        ..Default::default()
    };
    let mut owner_id = None;
    for _ in 0..10 {
        owner_id = run
            .step(&[Person::owner()], &settings)
            .reported
            .first()
            .map(|f| f.id);
    }
    let owner_id = owner_id.expect("owner enrolled");
    assert!(run.tracker.owner_status().present);
    // The owner leaves and, from the next frame on, a stranger sits where the owner was.
    let stranger = Person {
        x: 200.0,
        ..Person::stranger()
    };
    for i in 0..40 {
        let faces = run.step(&[stranger], &settings);
        assert!(
            faces.reported.is_empty(),
            "frame {i}: stranger reported as owner"
        );
        assert_eq!(faces.others.len(), 1, "frame {i}: the stranger is masked");
    }
    assert!(!run.tracker.owner_status().present);
    // The owner comes back on the other side.
    let back = Person {
        x: 480.0,
        ..Person::owner()
    };
    let mut found = false;
    for _ in 0..10 {
        let faces = run.step(&[stranger, back], &settings);
        if let Some(f) = faces.reported.first() {
            assert_eq!(f.id, owner_id);
            assert!(f.rect.iou(&back.face_box()) > 0.4);
            found = true;
        }
    }
    assert!(found, "the returning owner was not found");
    // A new enrollment takes the largest face: here the owner again.
    run.tracker.request_enroll();
    let faces = run.step(&[stranger, back], &settings);
    assert_eq!(faces.reported.len(), 1);
    assert!(faces.reported[0].rect.iou(&back.face_box()) > 0.4);
}

#[test]
fn without_identity_owner_mode_masks_every_face() {
    let mut run = Run::new(1);
    let settings = TrackerSettings {
        mode: Mode::Owner,
        ..Default::default()
    };
    let data = picture(&[Person::owner()], 0);
    let l = PictureLayout::i420(W as u32, H as u32);
    let (y, rest) = data.split_at(W * H);
    let (u, v) = rest.split_at(W * H / 4);
    let (ww, wh) = run.settings.working_size(W as u32, H as u32);
    let working = l.working_frame(&[y, u, v], ww, wh);
    for _ in 0..5 {
        let found = run.detector.detect(&working, &run.settings).unwrap();
        assert_eq!(found.len(), 1);
        let faces = run.tracker.update(&working, Some(&found), &settings);
        assert!(faces.reported.is_empty());
        assert_eq!(faces.others.len(), 1);
    }
    assert_eq!(
        run.tracker.owner_id(),
        None,
        "nobody enrols without a descriptor"
    );
}

#[test]
fn an_owner_photo_decides_over_the_largest_face_and_survives_a_turn_in_all_mode() {
    let mut run = Run::new(1);
    let owner_mode = TrackerSettings {
        mode: Mode::Owner,
        ..Default::default()
    };
    let owner = Person::owner();
    // The stranger is the larger face: enrol-largest would take them.
    let stranger = Person {
        size: 150.0,
        ..Person::stranger()
    };
    let photo = oracle(
        &[owner],
        &Detection {
            rect: owner.face_box(),
            score: 1.0,
            landmarks: None,
        },
    );
    run.tracker.set_owner_photo(photo);
    let people = [owner, stranger];
    let shows_owner = |faces: &Faces| {
        faces.reported.len() == 1 && faces.reported[0].rect.iou(&owner.face_box()) > 0.4
    };
    for i in 0..5 {
        let faces = run.step(&people, &owner_mode);
        assert!(i == 0 || shows_owner(&faces), "frame {i}: {faces:?}");
    }
    let all = TrackerSettings::default();
    for _ in 0..3 {
        assert_eq!(run.step(&people, &all).reported.len(), 2);
    }
    for i in 0..5 {
        let faces = run.step(&people, &owner_mode);
        assert!(
            i == 0 || shows_owner(&faces),
            "back in owner mode, frame {i}: {faces:?}"
        );
    }
}
