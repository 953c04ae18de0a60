// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! Background replacement for a meeting camera, with no GStreamer types: a neural person
//! segmenter (MediaPipe's selfie segmentation through the `inference` core, see [`neural`]),
//! or a learned per-pixel
//! background model (luma and colour differences, exposure-compensated, shadow-tolerant) led
//! by a head-and-shoulders prior grown from faces; a clean-up that gives one steady mask; and
//! compositing over a colour, a picture, the blurred frame or a still plate, in any 8-bit
//! layout `picture` describes.
//!
//! ```
//! use background_model::{silhouette, BackgroundModel, HeadAndShoulders, ModelSettings};
//! use picture::{Gray, Rect, WorkingFrame};
//! let flat = |v| Gray { width: 64, height: 48, data: vec![v; 64 * 48] };
//! let frame = WorkingFrame { luma: flat(100), cb: flat(128), cr: flat(128), scale: 1.0 };
//! let mut model = BackgroundModel::new();
//! let settings = ModelSettings::default();
//! for _ in 0..10 {
//!     model.segment(&frame, None, &settings);
//! }
//! assert!(model.segment(&frame, None, &settings).data.iter().all(|&m| m == 0), "all background");
//! // A face at the top middle: its head and shoulders count as person, whatever the colour.
//! let face = HeadAndShoulders::from_face(&Rect::new(26.0, 6.0, 12.0, 12.0));
//! let prior = silhouette::prior(&[face], 64, 48);
//! model.segment(&frame, Some(&prior), &settings); // one frame is not enough: no flicker
//! assert_eq!(model.segment(&frame, Some(&prior), &settings).data[12 * 64 + 32], 255);
//! ```

pub mod compose;
pub mod mask;
mod model;
pub mod neural;
pub mod silhouette;

pub use compose::{Backdrop, BackdropImage, FrozenPlate, ImageError};
pub use model::{BackgroundModel, ModelSettings};
pub use neural::{NeuralSettings, PersonSegmenter, SegmentReport, SegmenterModel};
pub use silhouette::HeadAndShoulders;
