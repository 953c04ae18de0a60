// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! The face detectors: MediaPipe's BlazeFace network (the default, see [`crate::blazeface`]) or
//! rustface's funnel-structured cascade (SeetaFace), with its model embedded in the binary by
//! `build.rs`.

use std::path::Path;

use picture::Gray;
use picture::Rect;
use picture::WorkingFrame;

use crate::blazeface::{BlazeFace, Range};
pub use inference::Error;

static MODEL: &[u8] = include_bytes!(env!("SEETA_MODEL_PATH"));

/// The cascade scans a 40x40 window on an image pyramid that starts at the image as given, so a
/// face smaller than this many pixels in the scanned image is never found.
pub const WINDOW: u32 = 40;

/// A face found in one frame, in that frame's pixels.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Detection {
    pub rect: Rect,
    /// BlazeFace: the probability of a face (0-1). SeetaFace: the cascade's score, about 2 at
    /// the edge of what is a face, 10-30 for a clear one.
    pub score: f32,
    /// BlazeFace's six keypoints, in frame pixels; the cascade gives none.
    pub landmarks: Option<Landmarks>,
}

/// Face keypoints in BlazeFace's order, in frame pixels. "Right" is the person's right: the
/// eye on the left of the picture.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Landmarks {
    pub right_eye: (f32, f32),
    pub left_eye: (f32, f32),
    pub nose_tip: (f32, f32),
    pub mouth: (f32, f32),
    pub right_ear: (f32, f32),
    pub left_ear: (f32, f32),
}

impl Landmarks {
    pub fn from_points(p: [(f32, f32); 6]) -> Self {
        Landmarks {
            right_eye: p[0],
            left_eye: p[1],
            nose_tip: p[2],
            mouth: p[3],
            right_ear: p[4],
            left_ear: p[5],
        }
    }

    pub fn points(&self) -> [(f32, f32); 6] {
        [
            self.right_eye,
            self.left_eye,
            self.nose_tip,
            self.mouth,
            self.right_ear,
            self.left_ear,
        ]
    }
}

/// Which detector finds the faces.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum DetectorKind {
    /// BlazeFace full range: profiles, turned heads and faces far from the camera.
    #[default]
    BlazeFace,
    /// BlazeFace short range: faces within about 2 m, a smaller network.
    BlazeFaceShort,
    /// The SeetaFace cascade: frontal faces only.
    SeetaFace,
}

/// What decides the size of the scanned image and what is kept.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DetectorSettings {
    /// Smallest face to find, in frame pixels.
    pub min_face_size: u32,
    /// SeetaFace: detections scoring below this are dropped.
    pub score_threshold: f64,
    /// BlazeFace: detections less probable than this (0-1) are dropped.
    pub min_confidence: f64,
    /// Widest image to scan, in pixels; 0 scans at whatever size `min_face_size` asks for.
    pub working_width: u32,
}

impl Default for DetectorSettings {
    fn default() -> Self {
        DetectorSettings {
            min_face_size: 24,
            score_threshold: 2.0,
            min_confidence: 0.5,
            working_width: 320,
        }
    }
}

// Never scan more than twice the frame or wider than this, whatever the settings say.
const MAX_UPSCALE: f32 = 2.0;
const MAX_WORKING_WIDTH: f32 = 2048.0;

impl DetectorSettings {
    /// Working pixels per frame pixel: a `min_face_size` face becomes one detector window, unless
    /// `working_width` caps it.
    pub fn scale(&self, frame_width: u32) -> f32 {
        let mut scale = WINDOW as f32 / self.min_face_size.max(1) as f32;
        if self.working_width > 0 {
            scale = scale.min(self.working_width as f32 / frame_width.max(1) as f32);
        }
        scale
            .min(MAX_UPSCALE)
            .min(MAX_WORKING_WIDTH / frame_width.max(1) as f32)
    }

    /// Size of the working image for a frame.
    pub fn working_size(&self, frame_width: u32, frame_height: u32) -> (usize, usize) {
        let s = self.scale(frame_width);
        (
            ((frame_width as f32 * s).round() as usize).max(1),
            ((frame_height as f32 * s).round() as usize).max(1),
        )
    }

    /// The smallest face this configuration can find in a frame `frame_width` wide.
    pub fn smallest_face(&self, frame_width: u32) -> u32 {
        (WINDOW as f32 / self.scale(frame_width)).ceil() as u32
    }
}

/// A face detector of either kind.
#[derive(Debug)]
pub enum FaceDetector {
    BlazeFace(BlazeFace),
    SeetaFace(SeetaFace),
}

impl FaceDetector {
    /// The detector of `kind` with its embedded model.
    pub fn new(kind: DetectorKind) -> Result<Self, Error> {
        Self::load(kind, None)
    }

    /// The detector of `kind`; a BlazeFace network is read from `file` when one is given (an
    /// ONNX file with the inputs and outputs of the embedded one). SeetaFace has no other
    /// model and ignores it.
    pub fn load(kind: DetectorKind, file: Option<&Path>) -> Result<Self, Error> {
        let range = match kind {
            DetectorKind::BlazeFace => Range::Full,
            DetectorKind::BlazeFaceShort => Range::Short,
            DetectorKind::SeetaFace => return Ok(FaceDetector::SeetaFace(SeetaFace::new())),
        };
        Ok(FaceDetector::BlazeFace(BlazeFace::load(range, file)?))
    }

    pub fn kind(&self) -> DetectorKind {
        match self {
            FaceDetector::BlazeFace(b) if b.range() == Range::Short => DetectorKind::BlazeFaceShort,
            FaceDetector::BlazeFace(_) => DetectorKind::BlazeFace,
            FaceDetector::SeetaFace(_) => DetectorKind::SeetaFace,
        }
    }

    /// Finds faces in the working frame; boxes come back in frame pixels, best first, none
    /// smaller than `settings.min_face_size` (with a fifth of slack for box jitter).
    pub fn detect(
        &mut self,
        frame: &WorkingFrame,
        settings: &DetectorSettings,
    ) -> Result<Vec<Detection>, Error> {
        let mut found = match self {
            FaceDetector::BlazeFace(b) => b.detect(frame, settings.min_confidence as f32)?,
            FaceDetector::SeetaFace(s) => s.detect(&frame.luma, frame.scale, settings),
        };
        found.retain(|d| d.rect.width >= settings.min_face_size as f32 * 0.8);
        Ok(found)
    }
}

/// rustface's cascade with its embedded model.
pub struct SeetaFace {
    cascade: Box<dyn rustface::Detector>,
}

// SAFETY: `create_detector_with_model` returns a `FuStDetector`, whose fields (rustface 0.1.7,
// pinned in Cargo.toml) are owned `Vec`s, numbers and the owned model: no `Rc`, `Cell` or
// stored raw pointer. The trait object only lacks the `Send` bound in its declaration. The
// detector is used by one thread at a time (`&mut self`); it is not `Sync`.
unsafe impl Send for SeetaFace {}

impl std::fmt::Debug for SeetaFace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SeetaFace")
    }
}

impl Default for SeetaFace {
    fn default() -> Self {
        Self::new()
    }
}

impl SeetaFace {
    pub fn new() -> Self {
        // The model is part of the binary and was read by rustface's own parser in this crate's
        // tests, so a failure here is a build defect, not a run-time condition.
        let model = rustface::read_model(MODEL).expect("embedded SeetaFace model is valid");
        let mut cascade = rustface::create_detector_with_model(model);
        cascade.set_pyramid_scale_factor(0.8);
        cascade.set_slide_window_step(4, 4);
        SeetaFace { cascade }
    }

    /// Finds faces in the working luma image; boxes come back in frame pixels (`scale` is
    /// working pixels per frame pixel), best score first.
    pub fn detect(
        &mut self,
        luma: &Gray,
        scale: f32,
        settings: &DetectorSettings,
    ) -> Vec<Detection> {
        // The cascade panics on images smaller than its window.
        if luma.width < WINDOW as usize || luma.height < WINDOW as usize || scale <= 0.0 {
            return Vec::new();
        }
        self.cascade
            .set_score_thresh(settings.score_threshold.max(f64::MIN_POSITIVE));
        let image = rustface::ImageData::new(&luma.data, luma.width as u32, luma.height as u32);
        let mut found: Vec<Detection> = self
            .cascade
            .detect(&image)
            .into_iter()
            .map(|face| {
                let b = face.bbox();
                Detection {
                    rect: Rect::new(
                        b.x() as f32,
                        b.y() as f32,
                        b.width() as f32,
                        b.height() as f32,
                    )
                    .scaled(1.0 / scale),
                    score: face.score() as f32,
                    landmarks: None,
                }
            })
            .collect();
        found.sort_by(|a, b| b.score.total_cmp(&a.score));
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_follows_min_face_size_under_the_working_width_cap() {
        let s = DetectorSettings {
            min_face_size: 80,
            working_width: 0,
            ..DetectorSettings::default()
        };
        assert_eq!(s.scale(640), 0.5);
        assert_eq!(s.working_size(640, 480), (320, 240));
        assert_eq!(s.smallest_face(640), 80);
        let capped = DetectorSettings {
            working_width: 160,
            ..s
        };
        assert_eq!(capped.scale(640), 0.25);
        assert_eq!(capped.smallest_face(640), 160);
        let tiny = DetectorSettings {
            min_face_size: 1,
            working_width: 0,
            ..s
        };
        assert_eq!(tiny.scale(16), MAX_UPSCALE);
    }

    #[test]
    fn images_smaller_than_the_window_find_nothing_and_do_not_panic() {
        let mut d = SeetaFace::new();
        let s = DetectorSettings::default();
        for (w, h) in [(1, 1), (16, 16), (39, 200), (200, 39)] {
            assert!(d.detect(&Gray::new(w, h), 1.0, &s).is_empty());
        }
        assert!(
            d.detect(&Gray::new(64, 64), 1.0, &s).is_empty(),
            "a flat image has no face"
        );
    }
}
