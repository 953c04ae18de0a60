// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! Raw 8-bit pictures as GStreamer lays them out (planar, semi-planar, packed, subsampled),
//! described component by component, and the rectangles drawn on them; no GStreamer types.
//! `face-tracking` reads frames through it and `background-model` blends them.

mod geometry;
mod planes;

pub use geometry::{PixelRect, Rect};
pub use planes::{
    ycbcr_to_rgb, Channel, Component, Gray, LayoutError, PictureLayout, WorkingFrame,
};
