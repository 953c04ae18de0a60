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

/// The faces of a frame as they cross the network inside the media payload (so end-to-end
/// encryption covers them), specified in docs/rtp-pixeldiff.md section 2.4: a block after the
/// chunk of the first and of the last packet of a frame.
pub mod wire {
    /// The block's first byte.
    pub const TAG: u8 = b'F';
    /// Boxes one block lists at most; `count` still says how many faces there were.
    pub const MAX_LISTED: usize = 8;
    /// Bytes of one listed face.
    pub const FACE_LEN: usize = 10;
    /// Bytes of the largest block: what a sender leaves room for in each packet.
    pub const MAX_LEN: usize = 3 + MAX_LISTED * FACE_LEN;

    /// One face: the tracker's id (modulo 65536) and the face's box in picture pixels.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
    pub struct Face {
        pub id: u16,
        pub x: u16,
        pub y: u16,
        pub width: u16,
        pub height: u16,
    }

    /// The faces of one frame: how many there were, and the boxes of the first
    /// [`MAX_LISTED`].
    #[derive(Debug, Clone, PartialEq, Eq, Default)]
    pub struct Faces {
        pub count: u8,
        pub listed: Vec<Face>,
    }

    impl Faces {
        pub fn new(faces: &[Face]) -> Self {
            Self {
                count: faces.len().min(u8::MAX as usize) as u8,
                listed: faces.iter().take(MAX_LISTED).copied().collect(),
            }
        }

        /// The block: tag, count, listed, then each face as five big-endian u16.
        pub fn to_bytes(&self) -> Vec<u8> {
            let mut out = Vec::with_capacity(3 + self.listed.len() * FACE_LEN);
            out.extend([TAG, self.count, self.listed.len() as u8]);
            for f in &self.listed {
                for v in [f.id, f.x, f.y, f.width, f.height] {
                    out.extend(v.to_be_bytes());
                }
            }
            out
        }

        /// A block as [`Faces::to_bytes`] writes it; `None` for anything else (another tag, a
        /// length that does not match, more listed than counted or than [`MAX_LISTED`]).
        pub fn parse(bytes: &[u8]) -> Option<Self> {
            let (&[tag, count, listed], rest) = bytes.split_first_chunk::<3>()?;
            let listed = listed as usize;
            if tag != TAG
                || listed > MAX_LISTED
                || listed > count as usize
                || rest.len() != listed * FACE_LEN
            {
                return None;
            }
            let listed = rest
                .chunks_exact(FACE_LEN)
                .map(|f| {
                    let v = |i: usize| u16::from_be_bytes([f[2 * i], f[2 * i + 1]]);
                    Face {
                        id: v(0),
                        x: v(1),
                        y: v(2),
                        width: v(3),
                        height: v(4),
                    }
                })
                .collect();
            Some(Self { count, listed })
        }
    }
}

/// The reported faces of a buffer as they go on the wire: the `detection` face where the meta
/// has one, else its box, clamped to 16 bits.
pub fn wire_faces(buf: &gst::BufferRef) -> Vec<wire::Face> {
    buf.iter_meta::<gst_video::VideoRegionOfInterestMeta>()
        .filter(|m| m.roi_type() == FACE)
        .map(|m| {
            let (x, y, w, h) = m.rect();
            let (mut fx, mut fy, mut fw, mut fh) = (x as i64, y as i64, w as i64, h as i64);
            if let Some(d) = m.param(DETECTION) {
                if let (Ok(x), Ok(y), Ok(w), Ok(h)) = (
                    d.get::<i32>("face-x"),
                    d.get::<i32>("face-y"),
                    d.get::<u32>("face-width"),
                    d.get::<u32>("face-height"),
                ) {
                    (fx, fy, fw, fh) = (x.into(), y.into(), w.into(), h.into());
                }
            }
            let u16_of = |v: i64| v.clamp(0, u16::MAX.into()) as u16;
            wire::Face {
                id: (m.id() as u32 & 0xffff) as u16,
                x: u16_of(fx),
                y: u16_of(fy),
                width: u16_of(fw),
                height: u16_of(fh),
            }
        })
        .collect()
}

/// Attaches a face that came over the wire as a [`FACE`] meta: its box is the face (the
/// sender's margin does not travel), its `detection` parameter the same box.
pub fn add_wire_face(buf: &mut gst::BufferRef, face: &wire::Face) {
    let rect = picture::PixelRect {
        x: face.x.into(),
        y: face.y.into(),
        width: face.width.into(),
        height: face.height.into(),
    };
    let tight = Rect::new(
        face.x.into(),
        face.y.into(),
        face.width.into(),
        face.height.into(),
    );
    add_face(buf, face.id.into(), rect, tight, 1.0);
}
