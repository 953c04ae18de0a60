// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! The detector on real photos from the shared media (skipped with a message when absent):
//! the annotated faces are found, and photos without people give no face.

use face_tracking::{Channel, Component, DetectorSettings, FaceDetector, PictureLayout, Rect};
use std::path::PathBuf;

fn media() -> Option<PathBuf> {
    let dir = std::env::var_os("PIXELMEET_MEDIA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/media"));
    if dir.join("faces/annotations.csv").is_file() {
        Some(dir)
    } else {
        eprintln!(
            "skipped: no shared media at {} (set PIXELMEET_MEDIA)",
            dir.display()
        );
        None
    }
}

fn detect(path: &PathBuf, settings: &DetectorSettings) -> Vec<Rect> {
    let img = image::open(path).unwrap().to_rgb8();
    let (w, h) = img.dimensions();
    let comp = |channel, offset| Component {
        channel,
        plane: 0,
        offset,
        step: 3,
        x_shift: 0,
        y_shift: 0,
    };
    let layout = PictureLayout {
        width: w,
        height: h,
        components: vec![
            comp(Channel::Red, 0),
            comp(Channel::Green, 1),
            comp(Channel::Blue, 2),
        ],
        strides: vec![w as usize * 3],
    };
    let (ww, wh) = settings.working_size(w, h);
    let frame = layout.working_frame(&[img.as_raw()], ww, wh);
    let mut detector = FaceDetector::new();
    detector
        .detect(&frame.luma, frame.scale, settings)
        .into_iter()
        .map(|d| d.rect)
        .collect()
}

/// One row of annotations.csv: a face box, or none for a photo without people.
struct Truth {
    file: String,
    face: Option<Rect>,
}

fn annotations(dir: &std::path::Path) -> Vec<Truth> {
    std::fs::read_to_string(dir.join("faces/annotations.csv"))
        .unwrap()
        .lines()
        .skip(1)
        .map(|line| {
            let f: Vec<&str> = line.split(',').collect();
            let n = |i: usize| f[i].parse::<f32>().unwrap();
            Truth {
                file: f[0].to_owned(),
                face: (f[7] == "face").then(|| Rect::new(n(3), n(4), n(5), n(6))),
            }
        })
        .collect()
}

#[test]
fn annotated_faces_are_found_and_negatives_stay_empty() {
    let Some(dir) = media() else { return };
    let settings = DetectorSettings {
        min_face_size: 30,
        working_width: 0,
        ..Default::default()
    };
    let truth = annotations(&dir);
    let mut files: Vec<&String> = truth.iter().map(|t| &t.file).collect();
    files.dedup();
    let faces = truth.iter().filter(|t| t.face.is_some()).count();
    let (mut hits, mut detections, mut in_negatives) = (0, 0, 0);
    for file in files {
        let found = detect(&dir.join("faces").join(file), &settings);
        detections += found.len();
        let boxes: Vec<Rect> = truth
            .iter()
            .filter(|t| &t.file == file)
            .filter_map(|t| t.face)
            .collect();
        if boxes.is_empty() {
            in_negatives += found.len();
        }
        hits += boxes
            .iter()
            .filter(|b| found.iter().any(|f| f.iou(b) >= 0.3))
            .count();
        eprintln!("{file}: {} of {} found", found.len(), boxes.len());
    }
    let recall = hits as f32 / faces as f32;
    let precision = hits as f32 / detections.max(1) as f32;
    eprintln!("recall {recall:.2} precision {precision:.2} at IoU 0.3");
    assert!(recall >= 0.8, "recall {recall}");
    assert!(precision >= 0.8, "precision {precision}");
    assert!(
        in_negatives <= 1,
        "{in_negatives} faces in photos without people"
    );
}
