// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! Who a face is: dlib's face recognition ResNet (128 numbers per face, run by the `inference`
//! core) on a face chip aligned from BlazeFace's keypoints, compared by euclidean distance.
//! Two chips of one person lie closer than about 0.6 (dlib's threshold); strangers further.

use std::path::Path;

use inference::models::FACE_DESCRIPTOR;
use inference::{Error, Network};
use picture::{PictureLayout, Rect};

use crate::detector::{Detection, DetectorSettings, FaceDetector, Landmarks};

/// Side of the chip the network reads, in pixels.
pub const CHIP_SIZE: usize = 150;

/// Where the eyes, nose tip and mouth centre of an upright face sit in dlib's 150-pixel chip
/// (`get_face_chip_details` with padding 0.25): dlib's mean face shape, eye centres as the mean
/// of their corners, mapped by `(0.25 + v) / 1.5 * 150`.
const TEMPLATE: [(f32, f32); 4] = [(47.6, 46.8), (100.4, 46.8), (74.0, 76.6), (74.0, 105.4)];
/// How much each template point counts in the fit: the nose tip moves most with head turns.
const TEMPLATE_WEIGHTS: [f32; 4] = [1.0, 1.0, 0.5, 1.0];
/// Without keypoints (the cascade) the same points as fractions of a face box, as BlazeFace
/// places them in its boxes on frontal faces.
const BOX_POINTS: [(f32, f32); 4] = [(0.32, 0.36), (0.68, 0.36), (0.5, 0.56), (0.5, 0.76)];

/// dlib's same-person distance; `identity-threshold` defaults to what faceroi-bench measured.
pub const DLIB_THRESHOLD: f32 = 0.6;

/// A face's 128-number description; one person's chips lie close together.
#[derive(Clone, Debug, PartialEq)]
pub struct Descriptor(pub Vec<f32>);

impl Descriptor {
    /// Euclidean distance: under about 0.6 the same person.
    pub fn distance(&self, other: &Descriptor) -> f32 {
        self.0
            .iter()
            .zip(&other.0)
            .map(|(a, b)| (a - b) * (a - b))
            .sum::<f32>()
            .sqrt()
    }
}

/// The picture a face is read from, at full resolution.
#[derive(Clone, Copy)]
pub struct Picture<'a> {
    pub layout: &'a PictureLayout,
    pub planes: &'a [&'a [u8]],
}

/// A decoded photo, packed RGB (3 bytes a pixel), to read faces from.
pub struct Photo {
    layout: PictureLayout,
    rgb: Vec<u8>,
}

impl Photo {
    pub fn new(width: u32, height: u32, rgb: Vec<u8>) -> Self {
        Photo {
            layout: PictureLayout::rgb(width, height),
            rgb,
        }
    }

    /// Runs `f` on the photo as a [`Picture`].
    pub fn with_picture<R>(&self, f: impl FnOnce(Picture<'_>) -> R) -> R {
        let planes = [self.rgb.as_slice()];
        f(Picture {
            layout: &self.layout,
            planes: &planes,
        })
    }
}

/// Whether a face is turned far enough towards the camera for its description to be
/// trusted: both eyes apart by a fair part of the box and the nose between them. A profile's
/// description is not that person's, so profiles are neither accepted nor rejected.
pub fn is_frontal(d: &Detection) -> bool {
    let Some(l) = d.landmarks else {
        return true; // the cascade finds frontal faces only
    };
    let eye_gap = (l.left_eye.0 - l.right_eye.0).hypot(l.left_eye.1 - l.right_eye.1);
    let mid = (
        (l.left_eye.0 + l.right_eye.0) / 2.0,
        (l.left_eye.1 + l.right_eye.1) / 2.0,
    );
    let nose_off = ((l.nose_tip.0 - mid.0) * (l.left_eye.0 - l.right_eye.0)
        + (l.nose_tip.1 - mid.1) * (l.left_eye.1 - l.right_eye.1))
        .abs()
        / eye_gap.max(1e-3);
    eye_gap >= 0.25 * d.rect.width && nose_off <= 0.3 * eye_gap
}

/// Runs the descriptor network on aligned chips.
pub struct FaceRecognizer {
    network: Network,
}

impl std::fmt::Debug for FaceRecognizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaceRecognizer")
            .field("network", &self.network.name())
            .finish()
    }
}

impl FaceRecognizer {
    /// The embedded network, or an ONNX file of the same shapes.
    pub fn load(file: Option<&Path>) -> Result<Self, Error> {
        Ok(FaceRecognizer {
            network: FACE_DESCRIPTOR.load_from(file)?,
        })
    }

    /// The description of the face `d` in `picture`.
    pub fn describe(&self, picture: Picture<'_>, d: &Detection) -> Result<Descriptor, Error> {
        let chip = face_chip(picture, d, &IDENTITY);
        let out = self.network.run(chip)?;
        Ok(Descriptor(out[0].data.clone()))
    }

    /// The mean description of the face over small shifts, scalings, turns and its mirror
    /// image (dlib's "jitter"): closer to the person's usual description than one chip, for
    /// the descriptor everything is compared with (an owner photo). `JITTERS` times the cost.
    pub fn describe_steadily(
        &self,
        picture: Picture<'_>,
        d: &Detection,
    ) -> Result<Descriptor, Error> {
        let mut sum = vec![0.0f32; 128];
        for jitter in &JITTERS {
            let out = self.network.run(face_chip(picture, d, jitter))?;
            sum.iter_mut().zip(&out[0].data).for_each(|(s, v)| *s += v);
        }
        Ok(Descriptor(
            sum.into_iter().map(|v| v / JITTERS.len() as f32).collect(),
        ))
    }
}

/// Every face `detector` finds in a whole picture that is seen from the front, largest first:
/// what enrolment from a photo and the identity measurements describe.
pub fn frontal_faces(
    detector: &mut FaceDetector,
    picture: Picture<'_>,
    settings: &DetectorSettings,
) -> Result<Vec<Detection>, Error> {
    let layout = picture.layout;
    let (w, h) = settings.working_size(layout.width, layout.height);
    let working = layout.working_frame(picture.planes, w, h);
    let mut found = detector.detect(&working, settings)?;
    found.retain(is_frontal);
    found.sort_by(|a, b| b.rect.area().total_cmp(&a.rect.area()));
    Ok(found)
}

/// A small change of the chip: shift in chip pixels, scale, turn in radians, mirror image.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Jitter {
    pub shift: (f32, f32),
    pub scale: f32,
    pub turn: f32,
    pub mirror: bool,
}

const IDENTITY: Jitter = Jitter {
    shift: (0.0, 0.0),
    scale: 1.0,
    turn: 0.0,
    mirror: false,
};

const fn jitter(shift: (f32, f32), scale: f32, turn: f32, mirror: bool) -> Jitter {
    Jitter {
        shift,
        scale,
        turn,
        mirror,
    }
}

/// The chips of [`FaceRecognizer::describe_steadily`]: each change and its mirror image.
const JITTERS: [Jitter; 8] = [
    IDENTITY,
    jitter((0.0, 0.0), 1.0, 0.0, true),
    jitter((3.0, -2.0), 1.04, 0.04, false),
    jitter((3.0, -2.0), 1.04, 0.04, true),
    jitter((-3.0, 2.0), 0.96, -0.04, false),
    jitter((-3.0, 2.0), 0.96, -0.04, true),
    jitter((2.0, 3.0), 0.98, 0.02, false),
    jitter((-2.0, -3.0), 1.02, -0.02, true),
];

/// The chip as the network reads it: NCHW RGB in 0-255, the face warped by the similarity
/// transform that best puts its keypoints on the template, then jittered.
pub fn face_chip(picture: Picture<'_>, d: &Detection, jitter: &Jitter) -> Vec<f32> {
    let points = match d.landmarks {
        Some(l) => keypoints(&l),
        None => box_points(&d.rect),
    };
    let (a, b, tx, ty) = fit_similarity(&TEMPLATE, &points, &TEMPLATE_WEIGHTS);
    let plane = CHIP_SIZE * CHIP_SIZE;
    let centre = CHIP_SIZE as f32 / 2.0;
    let (sin, cos) = jitter.turn.sin_cos();
    let mut out = vec![0.0; 3 * plane];
    for oy in 0..CHIP_SIZE {
        for ox in 0..CHIP_SIZE {
            let mx = if jitter.mirror {
                CHIP_SIZE - 1 - ox
            } else {
                ox
            };
            // The chip pixel, moved about the chip's centre by the jitter.
            let (cu, cv) = (mx as f32 + 0.5 - centre, oy as f32 + 0.5 - centre);
            let u = (cos * cu - sin * cv) / jitter.scale + centre + jitter.shift.0;
            let v = (sin * cu + cos * cv) / jitter.scale + centre + jitter.shift.1;
            let (x, y) = (a * u - b * v + tx, b * u + a * v + ty);
            let rgb = picture.layout.rgb_at(picture.planes, x, y);
            let i = oy * CHIP_SIZE + ox;
            out[i] = rgb[0];
            out[plane + i] = rgb[1];
            out[2 * plane + i] = rgb[2];
        }
    }
    out
}

fn keypoints(l: &Landmarks) -> [(f32, f32); 4] {
    [l.right_eye, l.left_eye, l.nose_tip, l.mouth]
}

fn box_points(r: &Rect) -> [(f32, f32); 4] {
    BOX_POINTS.map(|(fx, fy)| (r.x + fx * r.width, r.y + fy * r.height))
}

/// The weighted least-squares similarity transform (scale and rotation `a`, `b`, shift `tx`,
/// `ty`) taking each `from` point to its `to` point: `x = a u - b v + tx`, `y = b u + a v + ty`.
fn fit_similarity(
    from: &[(f32, f32); 4],
    to: &[(f32, f32); 4],
    weights: &[f32; 4],
) -> (f32, f32, f32, f32) {
    let total: f32 = weights.iter().sum();
    let centre = |p: &[(f32, f32); 4]| {
        p.iter().zip(weights).fold((0.0, 0.0), |(x, y), (q, w)| {
            (x + q.0 * w / total, y + q.1 * w / total)
        })
    };
    let (fc, tc) = (centre(from), centre(to));
    let (mut dot, mut cross, mut norm) = (0.0, 0.0, 0.0);
    for ((f, t), w) in from.iter().zip(to).zip(weights) {
        let (u, v) = (f.0 - fc.0, f.1 - fc.1);
        let (x, y) = (t.0 - tc.0, t.1 - tc.1);
        dot += w * (u * x + v * y);
        cross += w * (u * y - v * x);
        norm += w * (u * u + v * v);
    }
    let (a, b) = if norm > 0.0 {
        (dot / norm, cross / norm)
    } else {
        (1.0, 0.0)
    };
    (
        a,
        b,
        tc.0 - (a * fc.0 - b * fc.1),
        tc.1 - (b * fc.0 + a * fc.1),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fit_recovers_a_rotation_scale_and_shift() {
        let (a, b, tx, ty) = (1.5 * 0.3f32.cos(), 1.5 * 0.3f32.sin(), 40.0, -7.0);
        let to = TEMPLATE.map(|(u, v)| (a * u - b * v + tx, b * u + a * v + ty));
        let fit = fit_similarity(&TEMPLATE, &to, &TEMPLATE_WEIGHTS);
        for (got, want) in [fit.0, fit.1, fit.2, fit.3].iter().zip([a, b, tx, ty]) {
            assert!((got - want).abs() < 1e-3, "{fit:?}");
        }
    }

    #[test]
    fn a_face_turned_to_profile_is_not_frontal() {
        let face = |right_eye: (f32, f32), left_eye: (f32, f32), nose: (f32, f32)| Detection {
            rect: Rect::new(0.0, 0.0, 100.0, 100.0),
            score: 0.9,
            landmarks: Some(Landmarks {
                right_eye,
                left_eye,
                nose_tip: nose,
                mouth: (50.0, 75.0),
                right_ear: (0.0, 40.0),
                left_ear: (100.0, 40.0),
            }),
        };
        assert!(is_frontal(&face((32.0, 36.0), (68.0, 36.0), (50.0, 56.0))));
        assert!(
            !is_frontal(&face((55.0, 36.0), (68.0, 36.0), (75.0, 56.0))),
            "eyes close together"
        );
        assert!(
            !is_frontal(&face((32.0, 36.0), (68.0, 36.0), (66.0, 56.0))),
            "nose beside an eye"
        );
    }
}
