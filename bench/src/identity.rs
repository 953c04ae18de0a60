// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! How well faceroi's identity check tells people apart on what the shared media holds: each
//! real clip's person at frames far apart (the same person: pairs that must match) and the
//! annotated photos' faces (strangers to everyone else: pairs that must not), described as
//! faceroi describes a face. For `faceroi-bench` and the faceroi tests.

use crate::rd::Error;
use crate::y4m::read_y4m;
use face_tracking::identity::{frontal_faces, Photo};
use face_tracking::{
    Descriptor, DetectorKind, DetectorSettings, FaceDetector, FaceRecognizer, Picture,
    PictureLayout,
};
use std::path::Path;

/// One described face and whose it is.
pub struct Sample {
    pub person: String,
    pub descriptor: Descriptor,
}

/// The clips with one person in view (file stem, person), in the decoded media directory.
pub const ONE_PERSON_CLIPS: [(&str, &str); 5] = [
    ("LivePortrait_d6_512x512", "d6 woman"),
    ("LivePortrait_d9_512x480", "d9 man"),
    ("LivePortrait_d12_512x512", "d12 man"),
    ("akiyo_cif", "akiyo"),
    ("carphone_qcif", "carphone"),
];

/// Frames read from each clip, spread evenly from the first to the last.
pub const FRAMES_PER_CLIP: usize = 8;

/// The largest frontal face of `FRAMES_PER_CLIP` frames of each one-person clip in `decoded`
/// (I420 Y4M files), and every frontal face of each annotated photo in `media`.
pub fn samples(decoded: &Path, media: &Path) -> Result<Vec<Sample>, Error> {
    let mut detector = FaceDetector::new(DetectorKind::BlazeFace)?;
    let recognizer = FaceRecognizer::load(None)?;
    let settings = DetectorSettings::default();
    let mut out = Vec::new();
    for (stem, person) in ONE_PERSON_CLIPS {
        let clip = read_y4m(decoded.join(format!("{stem}.y4m"))).map_err(|e| e.to_string())?;
        let (w, h) = (clip.width(), clip.height());
        let layout = PictureLayout::i420(w as u32, h as u32);
        let last = clip.frames.len().saturating_sub(1);
        for k in 0..FRAMES_PER_CLIP {
            let Some(frame) = clip.frames.get(k * last / (FRAMES_PER_CLIP - 1)) else {
                continue;
            };
            let planes = i420_planes(frame, w, h);
            let picture = Picture {
                layout: &layout,
                planes: &planes,
            };
            if let Some(face) = frontal_faces(&mut detector, picture, &settings)?.first() {
                out.push(Sample {
                    person: person.to_owned(),
                    descriptor: recognizer.describe(picture, face)?,
                });
            }
        }
    }
    let photos = media.join("faces/dlib");
    let mut files: Vec<_> = std::fs::read_dir(&photos)
        .map_err(|e| format!("{}: {e}", photos.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    files.sort();
    for file in files {
        let image = image::open(&file)
            .map_err(|e| format!("{}: {e}", file.display()))?
            .to_rgb8();
        let photo = Photo::new(image.width(), image.height(), image.into_raw());
        let name = file.file_name().unwrap_or_default().to_string_lossy();
        photo.with_picture(|picture| -> Result<(), Error> {
            let faces = frontal_faces(&mut detector, picture, &settings)?;
            for (i, face) in faces.iter().enumerate() {
                out.push(Sample {
                    person: format!("{name} face {i}"),
                    descriptor: recognizer.describe(picture, face)?,
                });
            }
            Ok(())
        })?;
    }
    Ok(out)
}

fn i420_planes(frame: &[u8], w: usize, h: usize) -> [&[u8]; 3] {
    let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
    let (y, rest) = frame.split_at(w * h);
    let (u, v) = rest.split_at(cw * ch);
    [y, u, &v[..cw * ch]]
}

/// False accepts and rejects of one threshold over every pair of samples.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rates {
    pub threshold: f32,
    pub same_pairs: usize,
    pub false_rejects: usize,
    pub other_pairs: usize,
    pub false_accepts: usize,
}

impl Rates {
    pub fn false_reject_rate(&self) -> f64 {
        self.false_rejects as f64 / self.same_pairs.max(1) as f64
    }

    pub fn false_accept_rate(&self) -> f64 {
        self.false_accepts as f64 / self.other_pairs.max(1) as f64
    }
}

/// Pairs of one person farther apart than `threshold` are false rejects; pairs of two people
/// closer than it are false accepts.
pub fn rates(samples: &[Sample], threshold: f32) -> Rates {
    let mut r = Rates {
        threshold,
        same_pairs: 0,
        false_rejects: 0,
        other_pairs: 0,
        false_accepts: 0,
    };
    for (i, a) in samples.iter().enumerate() {
        for b in &samples[i + 1..] {
            let close = a.descriptor.distance(&b.descriptor) < threshold;
            if a.person == b.person {
                r.same_pairs += 1;
                r.false_rejects += usize::from(!close);
            } else {
                r.other_pairs += 1;
                r.false_accepts += usize::from(close);
            }
        }
    }
    r
}
