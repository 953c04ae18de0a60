// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! A working frame (luma and colour differences at one size) as a network's input tensor.

use picture::{ycbcr_to_rgb, WorkingFrame};

use crate::InputShape;

/// How the frame is laid into the network's square or landscape input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fit {
    /// Scaled to fill the input exactly, aspect ratio ignored (MediaPipe's segmenters).
    Stretch,
    /// Scaled to fit whole, aspect ratio kept, centred on black (MediaPipe's face detectors).
    Letterbox,
}

/// Where the frame landed in the input, in input pixels: input = frame working pixel * scale
/// + offset, per axis.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Placement {
    pub scale_x: f32,
    pub scale_y: f32,
    pub offset_x: f32,
    pub offset_y: f32,
}

impl Placement {
    /// An input pixel position back in the frame's working pixels.
    pub fn to_frame(&self, x: f32, y: f32) -> (f32, f32) {
        (
            (x - self.offset_x) / self.scale_x,
            (y - self.offset_y) / self.scale_y,
        )
    }
}

/// The values the network expects for black and for white.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Range {
    pub black: f32,
    pub white: f32,
}

/// RGB in [0, 1].
pub const UNIT: Range = Range {
    black: 0.0,
    white: 1.0,
};
/// RGB in [-1, 1].
pub const SIGNED: Range = Range {
    black: -1.0,
    white: 1.0,
};

/// Bilinear sample of an 8-bit plane at (x, y) in pixel-centre coordinates, clamped at the
/// edges.
fn bilinear(plane: &[u8], width: usize, height: usize, x: f32, y: f32) -> f32 {
    let x = x.clamp(0.0, (width - 1) as f32);
    let y = y.clamp(0.0, (height - 1) as f32);
    let (x0, y0) = (x as usize, y as usize);
    let (x1, y1) = ((x0 + 1).min(width - 1), (y0 + 1).min(height - 1));
    let (fx, fy) = (x - x0 as f32, y - y0 as f32);
    let at = |xx: usize, yy: usize| plane[yy * width + xx] as f32;
    let top = at(x0, y0) + (at(x1, y0) - at(x0, y0)) * fx;
    let bottom = at(x0, y1) + (at(x1, y1) - at(x0, y1)) * fx;
    top + (bottom - top) * fy
}

/// The frame as a `[1, 3, height, width]` NCHW RGB tensor of `shape`, bilinear-resampled, and
/// where it was placed. A frame without colour (empty Cb/Cr) is read as grey.
pub fn rgb_tensor(
    frame: &WorkingFrame,
    shape: InputShape,
    fit: Fit,
    range: Range,
) -> (Vec<f32>, Placement) {
    let (fw, fh) = (frame.luma.width, frame.luma.height);
    let plane = shape.width * shape.height;
    let black = range.black;
    let mut out = vec![black; 3 * plane];
    let (sx, sy) = (
        shape.width as f32 / fw.max(1) as f32,
        shape.height as f32 / fh.max(1) as f32,
    );
    let placement = match fit {
        Fit::Stretch => Placement {
            scale_x: sx,
            scale_y: sy,
            offset_x: 0.0,
            offset_y: 0.0,
        },
        Fit::Letterbox => {
            let s = sx.min(sy);
            Placement {
                scale_x: s,
                scale_y: s,
                offset_x: (shape.width as f32 - fw as f32 * s) / 2.0,
                offset_y: (shape.height as f32 - fh as f32 * s) / 2.0,
            }
        }
    };
    if fw == 0 || fh == 0 {
        return (out, placement);
    }
    let colour = frame.cb.data.len() == fw * fh && frame.cr.data.len() == fw * fh;
    let gain = (range.white - range.black) / 255.0;
    for oy in 0..shape.height {
        for ox in 0..shape.width {
            let (x, y) = placement.to_frame(ox as f32 + 0.5, oy as f32 + 0.5);
            if x < 0.0 || y < 0.0 || x > fw as f32 || y > fh as f32 {
                continue;
            }
            let (x, y) = (x - 0.5, y - 0.5);
            let luma = bilinear(&frame.luma.data, fw, fh, x, y);
            let rgb = if colour {
                ycbcr_to_rgb(
                    luma,
                    bilinear(&frame.cb.data, fw, fh, x, y),
                    bilinear(&frame.cr.data, fw, fh, x, y),
                )
            } else {
                [ycbcr_to_rgb(luma, 128.0, 128.0)[0]; 3]
            };
            let i = oy * shape.width + ox;
            for (c, v) in rgb.iter().enumerate() {
                out[c * plane + i] = black + v * gain;
            }
        }
    }
    (out, placement)
}

#[cfg(test)]
mod tests {
    use super::*;
    use picture::Gray;

    fn flat(width: usize, height: usize, y: u8, cb: u8, cr: u8) -> WorkingFrame {
        let plane = |v| Gray {
            width,
            height,
            data: vec![v; width * height],
        };
        WorkingFrame {
            luma: plane(y),
            cb: plane(cb),
            cr: plane(cr),
            scale: 1.0,
        }
    }

    #[test]
    fn white_and_black_reach_the_range_ends() {
        let shape = InputShape {
            height: 4,
            width: 6,
        };
        let (white, _) = rgb_tensor(&flat(8, 8, 235, 128, 128), shape, Fit::Stretch, SIGNED);
        assert!(white.iter().all(|v| (v - 1.0).abs() < 0.01), "{white:?}");
        let (black, _) = rgb_tensor(&flat(8, 8, 16, 128, 128), shape, Fit::Stretch, UNIT);
        assert!(black.iter().all(|v| v.abs() < 0.01));
    }

    #[test]
    fn red_lands_in_the_first_channel() {
        // BT.601 limited-range pure red.
        let shape = InputShape {
            height: 2,
            width: 2,
        };
        let (t, _) = rgb_tensor(&flat(4, 4, 82, 90, 240), shape, Fit::Stretch, UNIT);
        assert!(t[..4].iter().all(|v| *v > 0.95), "red {t:?}");
        assert!(t[4..].iter().all(|v| *v < 0.05), "green and blue {t:?}");
    }

    #[test]
    fn letterbox_centres_a_wide_frame_and_maps_back() {
        let shape = InputShape {
            height: 8,
            width: 8,
        };
        let (t, p) = rgb_tensor(&flat(16, 8, 235, 128, 128), shape, Fit::Letterbox, SIGNED);
        assert_eq!((p.scale_x, p.offset_x, p.offset_y), (0.5, 0.0, 2.0));
        // Rows 0-1 and 6-7 are the black bars, rows 2-5 the picture.
        for row in 0..8 {
            let v = t[row * 8 + 3];
            let want = if (2..6).contains(&row) { 1.0 } else { -1.0 };
            assert!((v - want).abs() < 0.01, "row {row}: {v}");
        }
        assert_eq!(p.to_frame(4.0, 2.0), (8.0, 0.0));
    }

    #[test]
    fn empty_and_grey_frames_do_not_panic() {
        let shape = InputShape {
            height: 3,
            width: 3,
        };
        let empty = WorkingFrame::default();
        assert_eq!(rgb_tensor(&empty, shape, Fit::Letterbox, UNIT).0.len(), 27);
        let mut grey = flat(5, 5, 126, 0, 0);
        grey.cb = Gray::default();
        grey.cr = Gray::default();
        let (t, _) = rgb_tensor(&grey, shape, Fit::Stretch, UNIT);
        assert!(t
            .iter()
            .all(|v| (v - t[0]).abs() < 1e-6 && *v > 0.4 && *v < 0.6));
    }
}
