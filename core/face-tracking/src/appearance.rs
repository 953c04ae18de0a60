// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! An appearance signature that tells two people apart in a meeting: colour histograms of the
//! face and of the clothes just below it. Skin tone, hair and clothing differ between people
//! far more than a tracker's boxes drift, and histograms do not care about small misalignment.

use picture::Rect;
use picture::WorkingFrame;

const LUMA_BINS: usize = 8;
const CHROMA_BINS: usize = 4;
const REGION_BINS: usize = LUMA_BINS + CHROMA_BINS * CHROMA_BINS;

/// Normalised histograms of the face and of the torso region below it. A region outside the
/// frame has an empty histogram and takes no part in comparisons.
#[derive(Clone, Debug, PartialEq)]
pub struct Appearance {
    face: [f32; REGION_BINS],
    torso: [f32; REGION_BINS],
    face_weight: f32,
    torso_weight: f32,
}

impl Appearance {
    /// The signature of the face at `face` (frame pixels) in a working frame.
    pub fn measure(frame: &WorkingFrame, face: &Rect) -> Appearance {
        let f = face.scaled(frame.scale);
        // The middle of the face (hair and background stay out) and a torso box below the chin.
        let inner = Rect::new(
            f.x + f.width * 0.2,
            f.y + f.height * 0.15,
            f.width * 0.6,
            f.height * 0.75,
        );
        let torso = Rect::new(
            f.x - f.width * 0.25,
            f.y + f.height * 1.3,
            f.width * 1.5,
            f.height,
        );
        let (face, face_weight) = histogram(frame, &inner);
        let (torso, torso_weight) = histogram(frame, &torso);
        Appearance {
            face,
            torso,
            face_weight,
            torso_weight,
        }
    }

    /// Bhattacharyya coefficient of the regions both signatures saw, 0 (nothing alike) to 1.
    pub fn similarity(&self, other: &Appearance) -> f32 {
        let bc = |a: &[f32; REGION_BINS], b: &[f32; REGION_BINS]| -> f32 {
            // Luma and chroma parts each sum to 1, so halve to keep the result in 0..1.
            a.iter().zip(b).map(|(x, y)| (x * y).sqrt()).sum::<f32>() / 2.0
        };
        let wf = self.face_weight.min(other.face_weight);
        let wt = self.torso_weight.min(other.torso_weight);
        if wf + wt <= 0.0 {
            return 0.0;
        }
        (wf * bc(&self.face, &other.face) + wt * bc(&self.torso, &other.torso)) / (wf + wt)
    }

    /// Moves this signature a fraction `rate` towards `other` (slow adaptation to lighting).
    pub fn blend(&mut self, other: &Appearance, rate: f32) {
        let mix = |a: &mut [f32; REGION_BINS], b: &[f32; REGION_BINS], wa: f32, wb: f32| {
            if wb > 0.0 && wa > 0.0 {
                a.iter_mut().zip(b).for_each(|(x, y)| *x += (y - *x) * rate);
            } else if wb > 0.0 {
                *a = *b;
            }
        };
        mix(
            &mut self.face,
            &other.face,
            self.face_weight,
            other.face_weight,
        );
        mix(
            &mut self.torso,
            &other.torso,
            self.torso_weight,
            other.torso_weight,
        );
        self.face_weight = self.face_weight.max(other.face_weight);
        self.torso_weight = self.torso_weight.max(other.torso_weight);
    }
}

/// Histogram of a region (working pixels) and how much of the region was inside the frame
/// (1 = all of it, 0 = none or too little to count).
fn histogram(frame: &WorkingFrame, region: &Rect) -> ([f32; REGION_BINS], f32) {
    let mut bins = [0f32; REGION_BINS];
    let (w, h) = (frame.luma.width, frame.luma.height);
    let Some(r) = region.to_pixels(w as u32, h as u32) else {
        return (bins, 0.0);
    };
    let mut n = 0u32;
    // Every second pixel each way is plenty for a 32-bin histogram.
    for y in (r.y..r.y + r.height).step_by(2) {
        for x in (r.x..r.x + r.width).step_by(2) {
            let i = y as usize * w + x as usize;
            bins[frame.luma.data[i] as usize * LUMA_BINS / 256] += 1.0;
            // A luma-only working frame has no chroma: count it as neutral grey.
            let cb = frame.cb.data.get(i).copied().unwrap_or(128) as usize * CHROMA_BINS / 256;
            let cr = frame.cr.data.get(i).copied().unwrap_or(128) as usize * CHROMA_BINS / 256;
            bins[LUMA_BINS + cb * CHROMA_BINS + cr] += 1.0;
            n += 1;
        }
    }
    let inside = (r.width * r.height) as f32 / region.area().max(1.0);
    if n < 4 || inside < 0.3 {
        return ([0f32; REGION_BINS], 0.0);
    }
    bins.iter_mut().for_each(|b| *b /= n as f32);
    (bins, inside.min(1.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use picture::Gray;

    fn frame(paint: impl Fn(usize, usize) -> (u8, u8, u8)) -> WorkingFrame {
        let (w, h) = (64, 64);
        let mut f = WorkingFrame {
            luma: Gray::new(w, h),
            cb: Gray::new(w, h),
            cr: Gray::new(w, h),
            scale: 0.5,
        };
        for y in 0..h {
            for x in 0..w {
                let (l, b, r) = paint(x, y);
                f.luma.data[y * w + x] = l;
                f.cb.data[y * w + x] = b;
                f.cr.data[y * w + x] = r;
            }
        }
        f
    }

    #[test]
    fn same_person_is_alike_and_different_colours_are_not() {
        let skin = frame(|_, y| {
            if y < 30 {
                (150, 110, 160)
            } else {
                (40, 160, 120)
            }
        });
        let other = frame(|_, y| {
            if y < 30 {
                (90, 120, 140)
            } else {
                (220, 128, 128)
            }
        });
        let face = Rect::new(20.0, 10.0, 40.0, 40.0); // frame pixels; 20x20 working
        let a = Appearance::measure(&skin, &face);
        let b = Appearance::measure(&skin, &face.translated(4.0, 2.0));
        let c = Appearance::measure(&other, &face);
        assert!(a.similarity(&b) > 0.9, "{}", a.similarity(&b));
        assert!(a.similarity(&c) < 0.3, "{}", a.similarity(&c));
    }

    #[test]
    fn a_face_outside_the_frame_compares_as_nothing() {
        let f = frame(|_, _| (100, 128, 128));
        let outside = Appearance::measure(&f, &Rect::new(500.0, 500.0, 40.0, 40.0));
        let inside = Appearance::measure(&f, &Rect::new(10.0, 10.0, 40.0, 40.0));
        assert_eq!(outside.similarity(&inside), 0.0);
        let mut learnt = outside.clone();
        learnt.blend(&inside, 0.1);
        assert!(learnt.similarity(&inside) > 0.99);
    }
}
