// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! The region-of-interest meta faceroi attaches and pixeldiffenc and bgreplace read: written
//! once here. A reported face is a `GstVideoRegionOfInterestMeta` of type [`FACE`] whose box
//! includes faceroi's `margin` and whose `detection` parameter holds the face itself; a face
//! owner mode masks is one of type [`MASKED_FACE`], its box the face.

use picture::Rect;

/// A face faceroi reports.
pub const FACE: &str = "face";
/// A face faceroi's owner mode masked (not the owner's).
pub const MASKED_FACE: &str = "masked-face";
/// The parameter structure of a [`FACE`] meta and its fields.
pub const DETECTION: &str = "detection";

/// The boxes of the buffer's regions of interest of `roi_type`, as attached (margin included).
pub fn boxes(buf: &gst::BufferRef, roi_type: &str) -> Vec<Rect> {
    buf.iter_meta::<gst_video::VideoRegionOfInterestMeta>()
        .filter(|m| m.roi_type() == roi_type)
        .map(|m| {
            let (x, y, w, h) = m.rect();
            Rect::new(x as f32, y as f32, w as f32, h as f32)
        })
        .collect()
}

/// The faces themselves of the buffer's regions of `roi_type`: the `detection` parameter's
/// face before margin where the meta has one, else its box.
pub fn faces(buf: &gst::BufferRef, roi_type: &str) -> Vec<Rect> {
    buf.iter_meta::<gst_video::VideoRegionOfInterestMeta>()
        .filter(|m| m.roi_type() == roi_type)
        .map(|m| {
            let tight = m.param(DETECTION).and_then(|d| {
                Some(Rect::new(
                    d.get::<i32>("face-x").ok()? as f32,
                    d.get::<i32>("face-y").ok()? as f32,
                    d.get::<u32>("face-width").ok()? as f32,
                    d.get::<u32>("face-height").ok()? as f32,
                ))
            });
            let (x, y, w, h) = m.rect();
            tight.unwrap_or(Rect::new(x as f32, y as f32, w as f32, h as f32))
        })
        .collect()
}

/// Attaches a reported face: its box (margin included) and the face itself.
pub fn add_face(
    buf: &mut gst::BufferRef,
    id: i32,
    shown: picture::PixelRect,
    face: Rect,
    confidence: f64,
) {
    let mut meta = gst_video::VideoRegionOfInterestMeta::add(
        buf,
        FACE,
        (shown.x, shown.y, shown.width, shown.height),
    );
    meta.set_id(id);
    meta.add_param(
        gst::Structure::builder(DETECTION)
            .field("confidence", confidence)
            .field("face-x", face.x.round() as i32)
            .field("face-y", face.y.round() as i32)
            .field("face-width", face.width.round().max(1.0) as u32)
            .field("face-height", face.height.round().max(1.0) as u32)
            .build(),
    );
}

/// Attaches a face owner mode masked.
pub fn add_masked_face(buf: &mut gst::BufferRef, face: picture::PixelRect) {
    gst_video::VideoRegionOfInterestMeta::add(
        buf,
        MASKED_FACE,
        (face.x, face.y, face.width, face.height),
    );
}
