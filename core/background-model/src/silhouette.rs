// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! Where a person is likely to be, given their face: a head-and-shoulders silhouette grown
//! from the face box, as a signed distance so the same shape gives the forced core, the
//! soft band that leans to "person" and the soft mask of the `roi` method.

use crate::mask::resize;
use picture::{Gray, Rect};

/// Prior value of a pixel that is person whatever its colour (deep inside a silhouette).
pub const FORCED: u8 = 255;
/// Prior value when nothing is known (no face information at all).
pub const NEUTRAL: u8 = 128;
/// Prior value far from every face: leans to background.
pub const FAR: u8 = 40;

// Distances in face widths. The head's core is the head shrunk by this much: deep enough that
// a face box off by a fifth of a face still leaves it inside the person.
const CORE_DEPTH: f32 = 0.2;
// The chest's core: a column under the chin, well below the shoulder line, narrower than any
// pair of shoulders. Shoulders and arms vary too much between people to force.
const CHEST_HALF_WIDTH: f32 = 0.45;
const CHEST_TOP: f32 = 1.25;
// The head with hair and ears, in face sizes: an ellipse of these radii, its centre this far
// above the face's.
const HEAD_RADII: (f32, f32) = (0.62, 0.8);
const HEAD_LIFT: f32 = 0.1;
// Outside the silhouette the prior falls from just above neutral to FAR over this distance.
const BAND_WIDTH: f32 = 1.0;
// Soft edge of the `roi` silhouette.
const ROI_EDGE: f32 = 0.12;

/// A head-and-shoulders shape in front of a camera, sized from the face.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HeadAndShoulders {
    cx: f32,
    cy: f32,
    size: f32,
}

/// Approximate signed distance to an axis-aligned ellipse, in the ellipse's units.
fn ellipse_distance(u: f32, v: f32, rx: f32, ry: f32) -> f32 {
    let k = ((u / rx).powi(2) + (v / ry).powi(2)).sqrt();
    (k - 1.0) * rx.min(ry)
}

impl HeadAndShoulders {
    /// From a face box (eyebrows to chin, as detectors give it).
    pub fn from_face(face: &Rect) -> Self {
        let (cx, cy) = face.center();
        HeadAndShoulders {
            cx,
            cy,
            size: ((face.width + face.height) / 2.0).max(1.0),
        }
    }

    /// Signed distance of pixel centre (`x`, `y`) from the silhouette, in face widths
    /// (negative inside).
    pub fn distance(&self, x: f32, y: f32) -> f32 {
        let u = (x - self.cx) / self.size;
        let v = (y - self.cy) / self.size;
        // Head with hair and ears: taller than the face box and reaching above it.
        let head = ellipse_distance(u, v + HEAD_LIFT, HEAD_RADII.0, HEAD_RADII.1);
        // Neck, from the chin to the shoulders.
        let neck = (u.abs() - 0.3).max((v - 0.6).abs() - 0.4);
        // Shoulders widen below the neck to a torso that runs to the bottom of the picture.
        let below = ((v - 0.95) / 0.55).clamp(0.0, 1.0);
        let half_width = 0.55 + 1.0 * below.sqrt();
        let torso = (u.abs() - half_width).max(0.95 - v);
        head.min(neck).min(torso)
    }

    /// Whether pixel centre (`x`, `y`) is person whatever its colour: deep in the head, or
    /// in the middle of the chest.
    pub fn is_core(&self, x: f32, y: f32) -> bool {
        let u = (x - self.cx) / self.size;
        let v = (y - self.cy) / self.size;
        self.is_head_core(x, y) || (u.abs() < CHEST_HALF_WIDTH && v > CHEST_TOP)
    }

    /// Whether pixel centre (`x`, `y`) is deep inside the head (hair and ears included): what
    /// the neural segmenter always keeps.
    pub fn is_head_core(&self, x: f32, y: f32) -> bool {
        let u = (x - self.cx) / self.size;
        let v = (y - self.cy) / self.size;
        ellipse_distance(u, v + HEAD_LIFT, HEAD_RADII.0, HEAD_RADII.1) < -CORE_DEPTH
    }

    /// A box (x0, y0, x1, y1) around the whole head ellipse: nothing of
    /// [`is_head_core`](Self::is_head_core) lies outside it.
    pub fn head_bounds(&self) -> (f32, f32, f32, f32) {
        let (rx, ry) = (HEAD_RADII.0 * self.size, HEAD_RADII.1 * self.size);
        let cy = self.cy - HEAD_LIFT * self.size;
        (self.cx - rx, cy - ry, self.cx + rx, cy + ry)
    }

    /// The same person in another coordinate system (`factor` new pixels per old pixel).
    pub fn scaled(&self, factor: f32) -> Self {
        HeadAndShoulders {
            cx: self.cx * factor,
            cy: self.cy * factor,
            size: self.size * factor,
        }
    }
}

/// Each pixel centre of a `width` x `height` grid mapped through `value(distance, core)`:
/// the smallest signed distance to any of `people` and whether it is in one's core.
fn map(
    people: &[HeadAndShoulders],
    width: usize,
    height: usize,
    value: impl Fn(f32, bool) -> u8,
) -> Gray {
    let mut out = Gray::new(width, height);
    for y in 0..height {
        for x in 0..width {
            let (px, py) = (x as f32 + 0.5, y as f32 + 0.5);
            let d = people
                .iter()
                .map(|p| p.distance(px, py))
                .fold(f32::INFINITY, f32::min);
            let core = d < 0.0 && people.iter().any(|p| p.is_core(px, py));
            out.data[y * width + x] = value(d, core);
        }
    }
    out
}

/// The person prior of each pixel: [`FORCED`] in the core of a silhouette, a little above
/// [`NEUTRAL`] on it, falling to [`FAR`] away from it. With no faces, every pixel is [`FAR`]:
/// whoever is there, the face finder says nobody is.
///
/// The prior is smooth, so it is computed on a grid 4 times coarser and interpolated; only the
/// forced core needs to be exact, and it is (interpolation never reaches 255 off the core).
pub fn prior(people: &[HeadAndShoulders], width: usize, height: usize) -> Gray {
    let coarse: Vec<HeadAndShoulders> = people
        .iter()
        .map(|p| p.scaled(1.0 / PRIOR_STEP as f32))
        .collect();
    let grid = prior_at_full_resolution(
        &coarse,
        width.div_ceil(PRIOR_STEP),
        height.div_ceil(PRIOR_STEP),
    );
    resize(&grid, width, height)
}

const PRIOR_STEP: usize = 4;

fn prior_at_full_resolution(people: &[HeadAndShoulders], width: usize, height: usize) -> Gray {
    let on_shape = NEUTRAL as f32 + 40.0;
    map(people, width, height, |d, core| {
        if core {
            FORCED
        } else if d <= 0.0 {
            on_shape as u8
        } else {
            let t = (d / BAND_WIDTH).min(1.0);
            (on_shape + (FAR as f32 - on_shape) * t) as u8
        }
    })
}

/// The `roi` method's mask: the silhouettes with soft edges (255 inside, 0 outside).
pub fn soft_mask(people: &[HeadAndShoulders], width: usize, height: usize) -> Gray {
    map(people, width, height, |d, _| {
        ((0.5 - d / ROI_EDGE).clamp(0.0, 1.0) * 255.0).round() as u8
    })
}

/// Only the people whose faces are `kept`: the parts of `mask` (person from 128 up) connected
/// to a kept face's head, less whatever lies nearer the silhouette of a `dropped` face than
/// every kept one (two people side by side touch at the shoulders). No kept face keeps nobody.
/// Soft edges stay soft where they lie nearest a kept person.
pub fn keep_people(mask: &Gray, kept: &[HeadAndShoulders], dropped: &[HeadAndShoulders]) -> Gray {
    let (w, h) = (mask.width, mask.height);
    let mut out = Gray::new(w, h);
    if kept.is_empty() || w == 0 || h == 0 {
        return out;
    }
    let nearest_is_kept = |x: usize, y: usize| {
        let (px, py) = (x as f32 + 0.5, y as f32 + 0.5);
        let near = |people: &[HeadAndShoulders]| {
            people
                .iter()
                .map(|p| p.distance(px, py))
                .fold(f32::INFINITY, f32::min)
        };
        near(kept) <= near(dropped)
    };
    // Person pixels reached from the kept heads, 8-connected.
    let person = |i: usize| mask.data[i] >= 128;
    let mut reached = vec![false; w * h];
    let mut stack = Vec::new();
    for p in kept {
        let (x0, y0, x1, y1) = p.head_bounds();
        let clamp = |v: f32, n: usize| (v.max(0.0) as usize).min(n - 1);
        for y in clamp(y0, h)..=clamp(y1, h) {
            for x in clamp(x0, w)..=clamp(x1, w) {
                let i = y * w + x;
                let head = p.is_head_core(x as f32 + 0.5, y as f32 + 0.5);
                if head && person(i) && !reached[i] {
                    reached[i] = true;
                    stack.push(i);
                }
            }
        }
    }
    while let Some(i) = stack.pop() {
        let (x, y) = ((i % w) as i64, (i / w) as i64);
        for (dx, dy) in [
            (-1, -1),
            (0, -1),
            (1, -1),
            (-1, 0),
            (1, 0),
            (-1, 1),
            (0, 1),
            (1, 1),
        ] {
            let (nx, ny) = (x + dx, y + dy);
            if nx < 0 || ny < 0 || nx >= w as i64 || ny >= h as i64 {
                continue;
            }
            let j = ny as usize * w + nx as usize;
            if !reached[j] && person(j) && nearest_is_kept(nx as usize, ny as usize) {
                reached[j] = true;
                stack.push(j);
            }
        }
    }
    for y in 0..h {
        for x in 0..w {
            let i = y * w + x;
            let keep = if person(i) {
                reached[i]
            } else {
                nearest_is_kept(x, y)
            };
            if keep {
                out.data[i] = mask.data[i];
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_kept_person_stays_even_where_two_touch_at_the_shoulders() {
        let left = HeadAndShoulders::from_face(&Rect::new(30.0, 30.0, 40.0, 40.0));
        let right = HeadAndShoulders::from_face(&Rect::new(130.0, 30.0, 40.0, 40.0));
        let both = soft_mask(&[left, right], 200, 160);
        assert_eq!(both.data[150 * 200 + 100], 255, "the two silhouettes touch");
        let only_left = keep_people(&both, &[left], &[right]);
        assert_eq!(only_left.data[50 * 200 + 50], 255, "the kept face");
        assert_eq!(only_left.data[130 * 200 + 40], 255, "the kept chest");
        assert_eq!(only_left.data[50 * 200 + 150], 0, "the other face");
        assert_eq!(only_left.data[130 * 200 + 160], 0, "the other chest");
        // Touching, a person faceroi did not mask stays with the kept one; apart, they go.
        let touching = keep_people(&both, &[left], &[]);
        assert_eq!(touching.data[50 * 200 + 150], 255);
        let far = HeadAndShoulders::from_face(&Rect::new(330.0, 30.0, 40.0, 40.0));
        let apart = keep_people(&soft_mask(&[left, far], 400, 160), &[left], &[]);
        assert_eq!(apart.data[50 * 400 + 50], 255);
        assert_eq!(
            apart.data[50 * 400 + 350],
            0,
            "not connected to a reported face"
        );
        assert!(keep_people(&both, &[], &[right])
            .data
            .iter()
            .all(|&v| v == 0));
    }

    #[test]
    fn the_face_and_chest_are_inside_and_the_corners_far() {
        let person = HeadAndShoulders::from_face(&Rect::new(60.0, 40.0, 40.0, 40.0));
        assert!(person.distance(80.0, 60.0) < -CORE_DEPTH, "face centre");
        assert!(person.distance(80.0, 130.0) < -CORE_DEPTH, "chest");
        assert!(person.distance(80.0, 28.0) < 0.0, "hair above the box");
        assert!(person.distance(5.0, 5.0) > 1.0, "top-left corner");
        assert!(person.distance(20.0, 60.0) > 0.5, "beside the head");
        let p = prior(&[person], 160, 160);
        assert_eq!(p.data[60 * 160 + 80], FORCED);
        assert_eq!(p.data[5 * 160 + 5], FAR);
        let m = soft_mask(&[person], 160, 160);
        assert_eq!((m.data[60 * 160 + 80], m.data[5 * 160 + 5]), (255, 0));
    }

    #[test]
    fn no_faces_mean_far_everywhere() {
        assert!(prior(&[], 8, 8).data.iter().all(|&p| p == FAR));
    }
}
