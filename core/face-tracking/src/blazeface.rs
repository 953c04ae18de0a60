// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! BlazeFace, MediaPipe's single-shot face detector, through the `inference` core: the frame is
//! letterboxed into the network's square input, every anchor's box and score decoded as
//! MediaPipe's SSD calculators do, and overlapping boxes merged by weighted non-maximum
//! suppression.

use inference::image::{rgb_tensor, Fit, SIGNED};
use inference::models::{Embedded, BLAZEFACE_FULL, BLAZEFACE_SHORT};
use inference::{Error, Network};
use picture::{Rect, WorkingFrame};
use std::path::Path;

use crate::detector::{Detection, Landmarks};

/// Which of MediaPipe's two face detectors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Range {
    /// 128x128 input, faces within about 2 m of the camera.
    Short,
    /// 192x192 input, faces up to about 5 m: small faces in a wide shot or a group photo.
    Full,
}

impl Range {
    fn model(self) -> Embedded {
        match self {
            Range::Short => BLAZEFACE_SHORT,
            Range::Full => BLAZEFACE_FULL,
        }
    }

    /// The anchor grid of MediaPipe's `SsdAnchorsCalculator` for this model: strides of its
    /// layers, each layer two anchors a cell (short) or one (full, no interpolated scale);
    /// layers of one stride share a grid. Anchors are of fixed unit size, so only centres
    /// matter.
    fn anchors(self) -> Vec<(f32, f32)> {
        let (size, layers): (usize, &[(usize, usize)]) = match self {
            // (stride, anchors per cell)
            Range::Short => (128, &[(8, 2), (16, 6)]),
            Range::Full => (192, &[(4, 1)]),
        };
        let mut anchors = Vec::new();
        for &(stride, per_cell) in layers {
            let cells = size.div_ceil(stride);
            for y in 0..cells {
                for x in 0..cells {
                    let centre = (
                        (x as f32 + 0.5) / cells as f32,
                        (y as f32 + 0.5) / cells as f32,
                    );
                    anchors.extend(std::iter::repeat_n(centre, per_cell));
                }
            }
        }
        anchors
    }
}

/// Boxes overlapping a kept one by more than this IoU are merged into it (MediaPipe's
/// `min_suppression_threshold`).
const SUPPRESSION_IOU: f32 = 0.3;
/// Logits are clipped to this before the sigmoid, as MediaPipe does.
const SCORE_CLIP: f32 = 100.0;

pub struct BlazeFace {
    range: Range,
    network: Network,
    anchors: Vec<(f32, f32)>,
}

impl std::fmt::Debug for BlazeFace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlazeFace")
            .field("range", &self.range)
            .field("network", &self.network.name())
            .finish()
    }
}

impl BlazeFace {
    /// The embedded network of `range`.
    pub fn new(range: Range) -> Result<Self, Error> {
        Self::load(range, None)
    }

    /// The network of `range` from `file` (an ONNX file with the same input and outputs) when
    /// one is given, else the embedded one.
    pub fn load(range: Range, file: Option<&Path>) -> Result<Self, Error> {
        Ok(BlazeFace {
            range,
            network: range.model().load_from(file)?,
            anchors: range.anchors(),
        })
    }

    pub fn range(&self) -> Range {
        self.range
    }

    /// Faces in `frame` whose probability reaches `min_confidence` (0-1), in frame pixels
    /// (`frame.scale` working pixels per frame pixel), most confident first.
    pub fn detect(
        &self,
        frame: &WorkingFrame,
        min_confidence: f32,
    ) -> Result<Vec<Detection>, Error> {
        if frame.luma.width == 0 || frame.luma.height == 0 || frame.scale <= 0.0 {
            return Ok(Vec::new());
        }
        let shape = self.network.input();
        let (tensor, placement) = rgb_tensor(frame, shape, Fit::Letterbox, SIGNED);
        let outputs = self.network.run(tensor)?;
        let (boxes, logits) = (&outputs[0].data, &outputs[1].data);
        let size = shape.width as f32;
        let mut candidates: Vec<Detection> = Vec::new();
        for (i, &(ax, ay)) in self.anchors.iter().enumerate() {
            let score = sigmoid(logits[i].clamp(-SCORE_CLIP, SCORE_CLIP));
            if score < min_confidence {
                continue;
            }
            let r = &boxes[i * 16..i * 16 + 4];
            // Centre offset and size in input pixels, relative to the anchor centre.
            let cx = ax * size + r[0];
            let cy = ay * size + r[1];
            let (w, h) = (r[2].max(0.0), r[3].max(0.0));
            let (x0, y0) = placement.to_frame(cx - w / 2.0, cy - h / 2.0);
            let (x1, y1) = placement.to_frame(cx + w / 2.0, cy + h / 2.0);
            let rect = Rect::new(x0, y0, x1 - x0, y1 - y0).scaled(1.0 / frame.scale);
            // Six keypoints follow the box, each an offset from the anchor centre.
            let points = std::array::from_fn(|k| {
                let (px, py) = placement.to_frame(
                    ax * size + boxes[i * 16 + 4 + 2 * k],
                    ay * size + boxes[i * 16 + 5 + 2 * k],
                );
                (px / frame.scale, py / frame.scale)
            });
            if rect.width > 0.0 && rect.height > 0.0 {
                candidates.push(Detection {
                    rect,
                    score,
                    landmarks: Some(Landmarks::from_points(points)),
                });
            }
        }
        Ok(weighted_suppression(candidates))
    }
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// MediaPipe's weighted non-maximum suppression: the most confident box takes every box that
/// overlaps it by more than [`SUPPRESSION_IOU`] and becomes their score-weighted mean, keeping
/// its own score. Steadier boxes than plain suppression, frame to frame.
fn weighted_suppression(mut candidates: Vec<Detection>) -> Vec<Detection> {
    // A box that is not finite (a network gone wrong) overlaps nothing, not even itself.
    candidates.retain(|d| {
        let r = d.rect;
        [r.x, r.y, r.width, r.height].iter().all(|v| v.is_finite()) && r.area() > 0.0
    });
    candidates.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut kept = Vec::new();
    while let Some(best) = candidates.first().copied() {
        let (cluster, rest): (Vec<Detection>, Vec<Detection>) = candidates
            .into_iter()
            .partition(|d| d.rect.iou(&best.rect) > SUPPRESSION_IOU);
        candidates = rest;
        if cluster.is_empty() {
            // The best box has IoU 1 with itself unless it is not finite: drop it, never loop.
            candidates.remove(0);
            continue;
        }
        let total: f32 = cluster.iter().map(|d| d.score).sum();
        let mean =
            |f: fn(&Rect) -> f32| cluster.iter().map(|d| f(&d.rect) * d.score).sum::<f32>() / total;
        // Keypoints are averaged by the same weights, over the boxes that have them.
        let with_points: Vec<(Landmarks, f32)> = cluster
            .iter()
            .filter_map(|d| Some((d.landmarks?, d.score)))
            .collect();
        let landmarks = (!with_points.is_empty()).then(|| {
            let weight: f32 = with_points.iter().map(|p| p.1).sum();
            Landmarks::from_points(std::array::from_fn(|k| {
                with_points.iter().fold((0.0, 0.0), |(x, y), (l, s)| {
                    let p = l.points()[k];
                    (x + p.0 * s / weight, y + p.1 * s / weight)
                })
            }))
        });
        kept.push(Detection {
            rect: Rect::new(
                mean(|r| r.x),
                mean(|r| r.y),
                mean(|r| r.width),
                mean(|r| r.height),
            ),
            score: best.score,
            landmarks,
        });
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;
    use picture::Gray;

    #[test]
    fn anchor_counts_match_the_networks() {
        assert_eq!(Range::Short.anchors().len(), 896);
        assert_eq!(Range::Full.anchors().len(), 2304);
        let full = Range::Full.anchors();
        assert_eq!(full[0], (0.5 / 48.0, 0.5 / 48.0));
        assert_eq!(full[48], (0.5 / 48.0, 1.5 / 48.0));
        let short = Range::Short.anchors();
        assert_eq!(short[0], short[1], "two anchors a cell on the first layer");
        assert_eq!(short[512], (0.5 / 8.0, 0.5 / 8.0));
    }

    #[test]
    fn overlapping_boxes_merge_by_weight_and_apart_ones_stay() {
        let d = |x: f32, score: f32| Detection {
            rect: Rect::new(x, 0.0, 10.0, 10.0),
            score,
            landmarks: Some(Landmarks::from_points([(x, 5.0); 6])),
        };
        let kept = weighted_suppression(vec![d(0.0, 0.9), d(1.0, 0.3), d(50.0, 0.6)]);
        assert_eq!(kept.len(), 2);
        assert_eq!(kept[0].score, 0.9);
        assert!((kept[0].rect.x - 0.25).abs() < 1e-5, "{:?}", kept[0]);
        let eye = kept[0].landmarks.expect("merged keypoints").right_eye;
        assert!(
            (eye.0 - 0.25).abs() < 1e-5,
            "keypoints merge by the same weights"
        );
        assert_eq!(kept[1].rect.x, 50.0);
    }

    #[test]
    fn a_box_that_is_not_finite_is_dropped_without_looping() {
        let nan = Detection {
            rect: Rect::new(f32::NAN, 0.0, 10.0, 10.0),
            score: 0.99,
            landmarks: None,
        };
        let fine = Detection {
            rect: Rect::new(0.0, 0.0, 10.0, 10.0),
            score: 0.5,
            landmarks: None,
        };
        assert_eq!(weighted_suppression(vec![nan, fine]), vec![fine]);
    }

    #[test]
    fn blank_and_tiny_frames_find_nothing() {
        let detector = BlazeFace::new(Range::Full).expect("embedded model loads");
        for (w, h) in [(0, 0), (1, 1), (3, 200), (320, 240)] {
            let frame = WorkingFrame {
                luma: Gray {
                    width: w,
                    height: h,
                    data: vec![128; w * h],
                },
                cb: Gray::default(),
                cr: Gray::default(),
                scale: 1.0,
            };
            assert!(detector.detect(&frame, 0.5).unwrap().is_empty(), "{w}x{h}");
        }
    }
}
