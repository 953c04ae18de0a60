// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! Faces in a video meeting, with no GStreamer types: real detectors (MediaPipe's BlazeFace
//! network run by the `inference` core, or rustface's SeetaFace cascade; both models embedded
//! at build time), a tracker that gives stable
//! ids and smooth boxes between detections, owner following by position and appearance, and
//! the `picture` helpers that read and paint raw 8-bit pictures, re-exported.
//!
//! ```
//! use face_tracking::{
//!     DetectorKind, DetectorSettings, FaceDetector, Gray, Tracker, TrackerSettings, WorkingFrame,
//! };
//! let settings = DetectorSettings::default();
//! let (w, h) = settings.working_size(640, 480);
//! let frame = WorkingFrame {
//!     luma: Gray::new(w, h),
//!     cb: Gray::new(w, h),
//!     cr: Gray::new(w, h),
//!     scale: settings.scale(640),
//! };
//! let mut detector = FaceDetector::new(DetectorKind::default()).expect("embedded model");
//! let found = detector.detect(&frame, &settings).expect("runs");
//! let faces = Tracker::new().update(&frame, Some(&found), &TrackerSettings::default());
//! assert!(faces.reported.is_empty(), "a black frame has nobody in it");
//! ```

mod appearance;
pub mod blazeface;
mod detector;
pub mod identity;
pub mod synthetic;
mod tracker;

pub use appearance::Appearance;
pub use detector::{
    Detection, DetectorKind, DetectorSettings, Error, FaceDetector, Landmarks, SeetaFace, WINDOW,
};
pub use identity::{Descriptor, FaceRecognizer, Photo, Picture};
pub use picture::{
    Channel, Component, Gray, LayoutError, PictureLayout, PixelRect, Rect, WorkingFrame,
};
pub use tracker::{
    Enroll, Face, Faces, Identify, Mode, NoIdentity, OwnerStatus, Tracker, TrackerSettings,
    DEFAULT_IDENTITY_THRESHOLD,
};
