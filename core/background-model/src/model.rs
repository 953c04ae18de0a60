// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! The learned background: per-pixel mean and variance of luma and colour differences, a
//! global gain for exposure changes, shadow tolerance, the person prior, and the clean-up that
//! turns a noisy per-pixel decision into one steady person-shaped mask.

use crate::mask::{close, flip_regions};
use crate::silhouette::{FAR, FORCED, NEUTRAL};
use picture::{Gray, WorkingFrame};

/// How the model learns.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ModelSettings {
    /// Weight of each new frame in the background statistics once learnt (0-1): 0.01 adapts
    /// over about 100 frames. Until a pixel has been seen that many times it learns faster
    /// (a running mean), so the first frames build the model.
    pub learning_rate: f32,
    /// How far (in standard deviations of the learnt noise) a pixel must be from the
    /// background to count as person, before the prior scales it.
    pub threshold: f32,
}

impl Default for ModelSettings {
    fn default() -> Self {
        ModelSettings {
            learning_rate: 0.01,
            threshold: 3.5,
        }
    }
}

// Noise below which a difference never counts (8-bit levels at working scale): camera noise
// and compression ringing on a wall that the learnt variance of a very clean clip would miss.
const LUMA_NOISE_FLOOR: f32 = 3.0;
const CHROMA_NOISE_FLOOR: f32 = 2.0;
// Variance given to a pixel on its first sample, until statistics come in.
const INITIAL_VARIANCE: [f32; 3] = [100.0, 36.0, 36.0];
// A pixel up to this much darker than the background with the same hue is a shadow (only
// where the prior does not lean to a person: a dark shirt in front of a pale wall is not a
// shadow), and its luma difference then counts for this much.
const SHADOW_RATIO: f32 = 0.65;
const SHADOW_WEIGHT: f32 = 0.3;
// Temporal smoothing: each frame moves a pixel's score halfway to its new decision; it turns
// on above ON and off below OFF, so a pixel that flips every frame stays as it was.
const SCORE_ON: u8 = 150;
const SCORE_OFF: u8 = 70;
// Person regions smaller than this share of the picture are noise; background holes inside
// the person smaller than HOLE_SHARE are filled.
const BLOB_SHARE: f32 = 0.002;
const HOLE_SHARE: f32 = 0.015;
// Without face information a person-looking pixel is absorbed this many times slower than the
// learning rate: a left-behind object fades eventually, a person sitting still takes minutes.
const SLOW_ABSORB: f32 = 8.0;

/// Per-pixel background statistics and mask state at working scale.
#[derive(Clone, Debug, Default)]
pub struct BackgroundModel {
    width: usize,
    height: usize,
    mean: Vec<[f32; 3]>,
    variance: Vec<[f32; 3]>,
    /// Frames each pixel has learnt from (0: never seen as background).
    seen: Vec<u32>,
    score: Vec<u8>,
    on: Vec<bool>,
    mask: Gray,
    /// Current exposure relative to the learnt background.
    gain: f32,
}

impl BackgroundModel {
    pub fn new() -> Self {
        Self::default()
    }

    /// Forgets everything: the next frames are learnt from scratch.
    pub fn relearn(&mut self) {
        *self = Self::default();
    }

    /// Exposure of the last frame relative to the learnt background (1.0: unchanged).
    pub fn gain(&self) -> f32 {
        self.gain
    }

    fn resize(&mut self, width: usize, height: usize) {
        if (self.width, self.height) == (width, height) && !self.mean.is_empty() {
            return;
        }
        let n = width * height;
        *self = BackgroundModel {
            width,
            height,
            mean: vec![[0.0; 3]; n],
            variance: vec![INITIAL_VARIANCE; n],
            seen: vec![0; n],
            score: vec![0; n],
            on: vec![false; n],
            mask: Gray::new(width, height),
            gain: 1.0,
        };
    }

    /// Segments one frame and learns from it. `prior` (same size as the frame) says per pixel
    /// how likely a person is there (see [`crate::silhouette::prior`]); `None` when nothing
    /// is known about faces. Returns the person mask, 0 or 255 per pixel.
    pub fn segment(
        &mut self,
        frame: &WorkingFrame,
        prior: Option<&Gray>,
        settings: &ModelSettings,
    ) -> &Gray {
        let (w, h) = (frame.luma.width, frame.luma.height);
        self.resize(w, h);
        if let Some(p) = prior {
            assert_eq!((p.width, p.height), (w, h), "prior and frame sizes differ");
        }
        let prior_at = |i: usize| prior.map_or(NEUTRAL, |p| p.data[i]);
        self.gain = self.estimate_gain(frame);
        let inv_gain = 1.0 / self.gain;
        let sample = |i: usize| {
            let c = |v: u8| 128.0 + (v as f32 - 128.0) * inv_gain;
            [
                frame.luma.data[i] as f32 * inv_gain,
                c(frame.cb.data[i]),
                c(frame.cr.data[i]),
            ]
        };

        let limit = settings.threshold.max(0.1);
        for i in 0..w * h {
            let p = prior_at(i);
            let person = if p == FORCED {
                true
            } else if self.seen[i] == 0 {
                p >= NEUTRAL
            } else {
                // A threshold that shrinks near a face and grows far from one.
                let t = limit * (1.5 - p as f32 / 255.0);
                self.distance2(i, sample(i), p <= NEUTRAL) > t * t
            };
            let target = if person { 255u32 } else { 0 };
            let score = ((self.score[i] as u32 + target) / 2) as u8;
            self.score[i] = score;
            self.on[i] = if self.on[i] {
                score >= SCORE_OFF
            } else {
                score >= SCORE_ON
            };
            self.mask.data[i] = if self.on[i] { 255 } else { 0 };
        }
        self.clean_up(prior);
        self.learn(&sample, prior, settings);
        &self.mask
    }

    /// Squared distance of `x` from pixel `i`'s background in standard deviations, shadows
    /// discounted when `shadows_allowed`.
    fn distance2(&self, i: usize, x: [f32; 3], shadows_allowed: bool) -> f32 {
        let m = self.mean[i];
        let v = self.variance[i];
        let mut dy = x[0] - m[0];
        let ratio = x[0] / m[0].max(1.0);
        let mut expected_chroma = [m[1], m[2]];
        if shadows_allowed && dy < 0.0 && ratio >= SHADOW_RATIO {
            // A shadow darkens the colour differences in the same proportion.
            dy *= SHADOW_WEIGHT;
            expected_chroma = expected_chroma.map(|c| 128.0 + (c - 128.0) * ratio);
        }
        let var_y = v[0].max(LUMA_NOISE_FLOOR * LUMA_NOISE_FLOOR);
        let var_c = |k: usize| v[k].max(CHROMA_NOISE_FLOOR * CHROMA_NOISE_FLOOR);
        dy * dy / var_y
            + (x[1] - expected_chroma[0]).powi(2) / var_c(1)
            + (x[2] - expected_chroma[1]).powi(2) / var_c(2)
    }

    /// The frame's exposure against the background: the median luma ratio over pixels that
    /// were background in the last mask (a sparse sample is plenty for a median).
    fn estimate_gain(&self, frame: &WorkingFrame) -> f32 {
        let mut ratios: Vec<f32> = (0..self.width * self.height)
            .step_by(3)
            .filter(|&i| self.seen[i] > 0 && self.mask.data[i] == 0 && self.mean[i][0] > 24.0)
            .map(|i| frame.luma.data[i] as f32 / self.mean[i][0])
            .collect();
        if ratios.len() < (self.width * self.height / 300).max(8) {
            return self.gain.max(0.01);
        }
        let mid = ratios.len() / 2;
        let (_, median, _) = ratios.select_nth_unstable_by(mid, f32::total_cmp);
        median.clamp(0.25, 4.0)
    }

    /// Closing, small person blobs dropped, small holes filled; with faces known, person
    /// regions that touch no silhouette are background.
    fn clean_up(&mut self, prior: Option<&Gray>) {
        let area = (self.width * self.height) as f32;
        let min_blob = (area * BLOB_SHARE).max(4.0) as usize;
        let max_hole = (area * HOLE_SHARE) as usize;
        self.mask = close(&self.mask);
        let width = self.width;
        let near_face = |y: usize, x0: usize, x1: usize| {
            prior.is_some_and(|p| {
                p.data[y * width + x0..y * width + x1]
                    .iter()
                    .any(|&v| v > NEUTRAL)
            })
        };
        flip_regions(&mut self.mask, 255, 0, near_face, |region| {
            if prior.is_some() {
                !region.marked
            } else {
                region.area < min_blob
            }
        });
        flip_regions(
            &mut self.mask,
            0,
            255,
            |_, _, _| false,
            |region| !region.touches_border && region.area < max_hole,
        );
    }

    /// Updates the statistics: background pixels learn; person pixels learn only far from
    /// every face, and then slowly (moving scenery and a moved chair become background, a
    /// person sitting still does not); without face information they learn very slowly.
    fn learn(
        &mut self,
        sample: &impl Fn(usize) -> [f32; 3],
        prior: Option<&Gray>,
        settings: &ModelSettings,
    ) {
        let lr = settings.learning_rate.clamp(0.0, 1.0);
        for i in 0..self.width * self.height {
            let p = prior.map_or(NEUTRAL, |m| m.data[i]);
            let seen = self.seen[i];
            let rate = if self.mask.data[i] == 0 {
                // A running mean until 1/lr frames are in, then an exponential one.
                lr.max(1.0 / (seen as f32 + 1.0))
            } else if prior.is_some() {
                // Nothing near a face; the full rate only where the prior is at its lowest.
                let far = (NEUTRAL.saturating_sub(p) as f32 / (NEUTRAL - FAR) as f32).min(1.0);
                lr * far * far
            } else {
                lr / SLOW_ABSORB
            };
            if p == FORCED || rate <= 0.0 {
                continue;
            }
            let x = sample(i);
            if seen == 0 {
                self.mean[i] = x;
                self.variance[i] = INITIAL_VARIANCE;
            } else {
                let (mean, variance) = (&mut self.mean[i], &mut self.variance[i]);
                for ((m, v), x) in mean.iter_mut().zip(variance.iter_mut()).zip(x) {
                    let d = x - *m;
                    *m += rate * d;
                    *v += rate * (d * d - *v);
                }
            }
            self.seen[i] = seen.saturating_add(1);
        }
    }
}
