// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! Person segmentation by a neural network (MediaPipe's selfie segmenter, through the
//! `inference` core): whoever is in view is person from the first frame, still or not.
//!
//! Per frame: the working frame is stretched to the network's input; its person probability
//! is smoothed over time only where the picture holds still (so a still edge does not flicker
//! and a moving one does not lag), enlarged to working size, pulled onto the picture's own
//! edges by a guided filter on the working luma (hair and shoulders follow the image, not the
//! network's coarse grid), and forced to person inside every face's head. The network can run
//! every Nth frame, or be skipped while the picture barely changes.

use std::path::Path;

use inference::image::{rgb_tensor, Fit, UNIT};
use inference::models::{Embedded, SELFIE_GENERAL, SELFIE_LANDSCAPE};
use inference::{Error, Network};
use picture::{Gray, WorkingFrame};

use crate::mask::resize;
use crate::silhouette::HeadAndShoulders;

/// Which of MediaPipe's two selfie segmenters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SegmenterModel {
    /// 256x144: a third fewer pixels than `General`, made for landscape video calls.
    #[default]
    Landscape,
    /// 256x256: more rows for portrait and square frames.
    General,
}

impl SegmenterModel {
    fn embedded(self) -> Embedded {
        match self {
            SegmenterModel::Landscape => SELFIE_LANDSCAPE,
            SegmenterModel::General => SELFIE_GENERAL,
        }
    }
}

/// How the network's probabilities become a mask.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NeuralSettings {
    /// Person probability (0-1) from which a pixel is person.
    pub threshold: f32,
    /// Share of the previous probability a pixel that holds still keeps (0 = none, every
    /// frame stands alone; 0.9 = very steady). Moving pixels always take the new one.
    pub smoothing: f32,
    /// Run the network every this many frames (1 = every frame); in between the last
    /// probabilities are reused, refined on the new frame's edges.
    pub interval: u32,
    /// Reuse the last probabilities while the working luma changed less than this mean
    /// absolute difference (8-bit levels) since the network last ran; 0 never skips.
    pub skip_below: f32,
}

impl Default for NeuralSettings {
    fn default() -> Self {
        NeuralSettings {
            threshold: 0.5,
            smoothing: 0.6,
            interval: 1,
            // Off by default: with the network skipped on most frames the process's RSS grew by
            // about 0.4 MiB per flushing seek in tests/state_changes.rs (flat when it runs on
            // every frame or every other); 1 luma level gives the same masks on the shared
            // clips with the network on a quarter of LivePortrait_d9's frames.
            skip_below: 0.0,
        }
    }
}

// A pixel whose model-size luma moved by this many levels counts as moving: it takes the new
// probability whole.
const MOTION_LEVELS: f32 = 10.0;
// Guided filter: window radius in working pixels per 320 of working width, and the
// regularisation (guide in [0, 1]): small enough to follow hair, large enough to ignore noise.
const GUIDE_RADIUS_PER_320: f32 = 4.0;
const GUIDE_EPSILON: f32 = 1e-3;
// Half width of the ramp around the threshold that keeps edges soft: probabilities within it
// blend person and backdrop.
const EDGE_RAMP: f32 = 0.15;

/// What the last call did, for stats.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct SegmentReport {
    /// Whether the network ran on this frame.
    pub ran: bool,
}

#[derive(Debug)]
pub struct PersonSegmenter {
    network: Network,
    /// Smoothed probabilities at network size, with the network-size luma they were made
    /// from (for the motion test).
    probability: Vec<f32>,
    luma: Vec<f32>,
    /// Working luma when the network last ran, for `skip_below`.
    last_run_luma: Gray,
    frames: u64,
    has_run: bool,
}

impl PersonSegmenter {
    /// The embedded network of `model`.
    pub fn new(model: SegmenterModel) -> Result<Self, Error> {
        Self::load(model, None)
    }

    /// The network of `model` from `file` (an ONNX file with the same input and output) when
    /// one is given, else the embedded one.
    pub fn load(model: SegmenterModel, file: Option<&Path>) -> Result<Self, Error> {
        Ok(PersonSegmenter {
            network: model.embedded().load_from(file)?,
            probability: Vec::new(),
            luma: Vec::new(),
            last_run_luma: Gray::default(),
            frames: 0,
            has_run: false,
        })
    }

    /// Forgets the past frames (a new scene, a new size).
    pub fn reset(&mut self) {
        self.has_run = false;
        self.frames = 0;
    }

    /// The person mask of `frame` at its own (working) size, 255 = person, with the faces of
    /// `people` (in working pixels) always person.
    pub fn segment(
        &mut self,
        frame: &WorkingFrame,
        people: &[HeadAndShoulders],
        settings: &NeuralSettings,
    ) -> Result<(Gray, SegmentReport), Error> {
        let (w, h) = (frame.luma.width, frame.luma.height);
        if w == 0 || h == 0 {
            return Ok((Gray::new(w, h), SegmentReport::default()));
        }
        let due = self.frames.is_multiple_of(settings.interval.max(1) as u64);
        let changed = mean_difference(&frame.luma, &self.last_run_luma)
            .is_none_or(|d| d >= settings.skip_below);
        let run = !self.has_run || (due && changed);
        self.frames += 1;
        if run {
            self.run_network(frame, settings)?;
            self.last_run_luma = frame.luma.clone();
        }
        let shape = self.network.input();
        let small = Gray {
            width: shape.width,
            height: shape.height,
            data: self
                .probability
                .iter()
                .map(|p| (p * 255.0 + 0.5) as u8)
                .collect(),
        };
        let coarse: Vec<f32> = resize(&small, w, h)
            .data
            .iter()
            .map(|&v| v as f32 / 255.0)
            .collect();
        let radius = ((GUIDE_RADIUS_PER_320 * w as f32 / 320.0).round() as usize).max(1);
        let refined = guided_filter(&frame.luma, &coarse, radius, GUIDE_EPSILON);
        let (lo, hi) = (
            settings.threshold - EDGE_RAMP,
            settings.threshold + EDGE_RAMP,
        );
        let mut mask = Gray::new(w, h);
        for (m, &p) in mask.data.iter_mut().zip(&refined) {
            *m = (((p - lo) / (hi - lo)).clamp(0.0, 1.0) * 255.0 + 0.5) as u8;
        }
        force_heads(&mut mask, people);
        Ok((mask, SegmentReport { ran: run }))
    }

    fn run_network(
        &mut self,
        frame: &WorkingFrame,
        settings: &NeuralSettings,
    ) -> Result<(), Error> {
        let shape = self.network.input();
        let (tensor, _) = rgb_tensor(frame, shape, Fit::Stretch, UNIT);
        let plane = shape.width * shape.height;
        let luma: Vec<f32> = (0..plane)
            .map(|i| {
                (tensor[i] * 0.299 + tensor[plane + i] * 0.587 + tensor[2 * plane + i] * 0.114)
                    * 255.0
            })
            .collect();
        let raw = self.network.run(tensor)?.swap_remove(0).data;
        let fresh: Vec<f32> = raw.iter().map(|p| p.clamp(0.0, 1.0)).collect();
        if !self.has_run || self.probability.len() != plane {
            self.probability = fresh;
        } else {
            let keep = settings.smoothing.clamp(0.0, 1.0);
            for i in 0..plane {
                let moving = ((luma[i] - self.luma[i]).abs() / MOTION_LEVELS).min(1.0);
                let new_weight = 1.0 - keep * (1.0 - moving);
                self.probability[i] += (fresh[i] - self.probability[i]) * new_weight;
            }
        }
        self.luma = luma;
        self.has_run = true;
        Ok(())
    }
}

/// Mean absolute difference of two images of the same size; `None` when the sizes differ.
fn mean_difference(a: &Gray, b: &Gray) -> Option<f32> {
    if a.width != b.width || a.height != b.height || a.data.is_empty() {
        return None;
    }
    let sum: u64 = a
        .data
        .iter()
        .zip(&b.data)
        .map(|(&x, &y)| x.abs_diff(y) as u64)
        .sum();
    Some(sum as f32 / a.data.len() as f32)
}

/// Every pixel inside a detected head is person: a face the detector found is never cut.
fn force_heads(mask: &mut Gray, people: &[HeadAndShoulders]) {
    if people.is_empty() {
        return;
    }
    let (w, h) = (mask.width, mask.height);
    for p in people {
        let (x0, y0, x1, y1) = p.head_bounds();
        let clamp = |v: f32, n: usize| (v.max(0.0) as usize).min(n);
        for y in clamp(y0, h)..clamp(y1.ceil(), h) {
            for x in clamp(x0, w)..clamp(x1.ceil(), w) {
                if p.is_head_core(x as f32 + 0.5, y as f32 + 0.5) {
                    mask.data[y * w + x] = 255;
                }
            }
        }
    }
}

/// Means over a (2r+1)^2 window, clamped at the edges: running sums along rows, then along
/// columns.
fn box_mean(values: &[f32], width: usize, height: usize, radius: usize) -> Vec<f32> {
    let mut rows = vec![0f32; width * height];
    for (src, dst) in values.chunks_exact(width).zip(rows.chunks_exact_mut(width)) {
        box_line(src, dst, width, radius);
    }
    let mut out = vec![0f32; width * height];
    let mut column = vec![0f32; height];
    let mut means = vec![0f32; height];
    for x in 0..width {
        for y in 0..height {
            column[y] = rows[y * width + x];
        }
        box_line(&column, &mut means, height, radius);
        for y in 0..height {
            out[y * width + x] = means[y];
        }
    }
    out
}

/// One line of [`box_mean`]: `dst[i]` is the mean of `src` over `i - r ..= i + r`, clamped.
fn box_line(src: &[f32], dst: &mut [f32], n: usize, radius: usize) {
    let mut sum = 0f32;
    // The window of element 0 is 0..=r.
    for v in &src[..(radius + 1).min(n)] {
        sum += v;
    }
    for i in 0..n {
        let (lo, hi) = (i.saturating_sub(radius), (i + radius).min(n - 1));
        dst[i] = sum / (hi - lo + 1) as f32;
        // Slide: add the element entering at i + r + 1, drop the one leaving at i - r.
        if i + radius + 1 < n {
            sum += src[i + radius + 1];
        }
        if i >= radius {
            sum -= src[i - radius];
        }
    }
}

/// Half the size by 2x2 means (odd edges repeated).
fn halve(values: &[f32], width: usize, height: usize) -> (Vec<f32>, usize, usize) {
    let (w, h) = (width.div_ceil(2), height.div_ceil(2));
    let mut out = vec![0f32; w * h];
    for y in 0..h {
        let (y0, y1) = (2 * y, (2 * y + 1).min(height - 1));
        for x in 0..w {
            let (x0, x1) = (2 * x, (2 * x + 1).min(width - 1));
            out[y * w + x] = 0.25
                * (values[y0 * width + x0]
                    + values[y0 * width + x1]
                    + values[y1 * width + x0]
                    + values[y1 * width + x1]);
        }
    }
    (out, w, h)
}

/// Bilinear enlargement of a [`halve`]d image back to `width` x `height`.
fn double(values: &[f32], w: usize, h: usize, width: usize, height: usize) -> Vec<f32> {
    let taps = |n_out: usize, n_in: usize| -> Vec<(usize, usize, f32)> {
        (0..n_out)
            .map(|o| {
                let pos = ((o as f32 + 0.5) / 2.0 - 0.5).clamp(0.0, (n_in - 1) as f32);
                let i0 = pos as usize;
                (i0, (i0 + 1).min(n_in - 1), pos - i0 as f32)
            })
            .collect()
    };
    let (xs, ys) = (taps(width, w), taps(height, h));
    let mut out = vec![0f32; width * height];
    for (y, &(y0, y1, fy)) in ys.iter().enumerate() {
        for (x, &(x0, x1, fx)) in xs.iter().enumerate() {
            let top = values[y0 * w + x0] + (values[y0 * w + x1] - values[y0 * w + x0]) * fx;
            let bottom = values[y1 * w + x0] + (values[y1 * w + x1] - values[y1 * w + x0]) * fx;
            out[y * width + x] = top + (bottom - top) * fy;
        }
    }
    out
}

/// He, Sun and Tang's guided filter: `input` made locally a linear function of `guide`, so its
/// edges move onto the guide's edges. `guide` 8-bit, read as [0, 1]. The linear coefficients
/// are found at half size and enlarged (He and Sun's fast guided filter: a quarter of the
/// work, the same edges, as the coefficients are smooth); `radius` is in full-size pixels.
pub fn guided_filter(guide: &Gray, input: &[f32], radius: usize, epsilon: f32) -> Vec<f32> {
    let (width, height) = (guide.width, guide.height);
    if width == 0 || height == 0 {
        return Vec::new();
    }
    let full: Vec<f32> = guide.data.iter().map(|&v| v as f32 / 255.0).collect();
    let (i, w, h) = halve(&full, width, height);
    let (p, _, _) = halve(input, width, height);
    let r = (radius / 2).max(1);
    let ii: Vec<f32> = i.iter().map(|v| v * v).collect();
    let ip: Vec<f32> = i.iter().zip(&p).map(|(a, b)| a * b).collect();
    let mean_i = box_mean(&i, w, h, r);
    let mean_p = box_mean(&p, w, h, r);
    let mean_ii = box_mean(&ii, w, h, r);
    let mean_ip = box_mean(&ip, w, h, r);
    let mut a = vec![0f32; w * h];
    let mut b = vec![0f32; w * h];
    for k in 0..w * h {
        let var = mean_ii[k] - mean_i[k] * mean_i[k];
        let cov = mean_ip[k] - mean_i[k] * mean_p[k];
        a[k] = cov / (var + epsilon);
        b[k] = mean_p[k] - a[k] * mean_i[k];
    }
    let mean_a = double(&box_mean(&a, w, h, r), w, h, width, height);
    let mean_b = double(&box_mean(&b, w, h, r), w, h, width, height);
    (0..width * height)
        .map(|k| (mean_a[k] * full[k] + mean_b[k]).clamp(0.0, 1.0))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use picture::Rect;

    fn frame(w: usize, h: usize, luma: u8) -> WorkingFrame {
        let plane = |v| Gray {
            width: w,
            height: h,
            data: vec![v; w * h],
        };
        WorkingFrame {
            luma: plane(luma),
            cb: plane(128),
            cr: plane(128),
            scale: 1.0,
        }
    }

    #[test]
    fn box_mean_matches_a_direct_sum() {
        let (w, h) = (13, 7);
        let v: Vec<f32> = (0..w * h).map(|k| ((k * 37) % 11) as f32).collect();
        for r in [1, 2, 5, 20] {
            let fast = box_mean(&v, w, h, r);
            for y in 0..h {
                for x in 0..w {
                    let (mut sum, mut n) = (0.0, 0.0);
                    for yy in y.saturating_sub(r)..(y + r + 1).min(h) {
                        for xx in x.saturating_sub(r)..(x + r + 1).min(w) {
                            sum += v[yy * w + xx];
                            n += 1.0;
                        }
                    }
                    assert!((fast[y * w + x] - sum / n).abs() < 1e-4, "r {r} at {x},{y}");
                }
            }
        }
    }

    #[test]
    fn guided_filter_moves_a_blurry_edge_onto_the_guide_edge() {
        // Guide: dark left half, bright right half. Input: a ramp across the middle third.
        let (w, h) = (60, 8);
        let mut guide = Gray::new(w, h);
        for y in 0..h {
            for x in 30..w {
                guide.data[y * w + x] = 200;
            }
        }
        let input: Vec<f32> = (0..w * h)
            .map(|k| ((k % w) as f32 - 20.0).clamp(0.0, 20.0) / 20.0)
            .collect();
        let out = guided_filter(&guide, &input, 4, 1e-3);
        let at = |x: usize| out[3 * w + x];
        // The input rises 0.05 a pixel; across the guide's edge the output jumps.
        let jump = at(30) - at(29);
        assert!(
            jump > 4.0 * 0.05,
            "jump {jump}: {:?}",
            &out[3 * w + 20..3 * w + 40]
        );
        assert!(
            at(26) < input[3 * w + 26] && at(34) > input[3 * w + 34],
            "sharper than the ramp"
        );
    }

    #[test]
    fn a_face_head_is_person_even_where_the_network_sees_nobody() {
        let mut seg = PersonSegmenter::new(SegmenterModel::Landscape).expect("embedded");
        let f = frame(160, 90, 60);
        let face = HeadAndShoulders::from_face(&Rect::new(70.0, 20.0, 20.0, 20.0));
        let (mask, report) = seg
            .segment(&f, &[face], &NeuralSettings::default())
            .unwrap();
        assert!(report.ran);
        assert_eq!(mask.data[30 * 160 + 80], 255, "the face centre");
        assert_eq!((mask.width, mask.height), (160, 90));
        let (empty, _) = seg.segment(&f, &[], &NeuralSettings::default()).unwrap();
        assert!(
            empty.data.iter().filter(|&&m| m >= 128).count() < 160 * 90 / 20,
            "flat grey is no person"
        );
    }

    #[test]
    fn interval_and_skip_reuse_the_last_probabilities() {
        let mut seg = PersonSegmenter::new(SegmenterModel::Landscape).expect("embedded");
        let f = frame(64, 36, 90);
        let every_third = NeuralSettings {
            interval: 3,
            skip_below: 0.0,
            ..NeuralSettings::default()
        };
        let ran: Vec<bool> = (0..6)
            .map(|_| seg.segment(&f, &[], &every_third).unwrap().1.ran)
            .collect();
        assert_eq!(ran, [true, false, false, true, false, false]);
        seg.reset();
        let skip = NeuralSettings {
            skip_below: 2.0,
            ..NeuralSettings::default()
        };
        assert!(
            seg.segment(&f, &[], &skip).unwrap().1.ran,
            "first frame always runs"
        );
        assert!(
            !seg.segment(&f, &[], &skip).unwrap().1.ran,
            "unchanged frame"
        );
        let brighter = frame(64, 36, 120);
        assert!(
            seg.segment(&brighter, &[], &skip).unwrap().1.ran,
            "changed frame"
        );
        let never = NeuralSettings {
            skip_below: 0.0,
            ..NeuralSettings::default()
        };
        assert!(
            seg.segment(&brighter, &[], &never).unwrap().1.ran,
            "0 never skips"
        );
    }

    #[test]
    fn tiny_and_empty_frames_do_not_panic() {
        let mut seg = PersonSegmenter::new(SegmenterModel::General).expect("embedded");
        for (w, h) in [(0, 0), (1, 1), (2, 300), (300, 2)] {
            let (mask, _) = seg
                .segment(&frame(w, h, 100), &[], &NeuralSettings::default())
                .unwrap();
            assert_eq!(mask.data.len(), w * h);
        }
    }
}
