// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! Boxes in frame pixels: sub-pixel ones for tracking, whole-pixel ones for meta and painting.

/// A box in frame pixels, kept in floating point so smoothing does not round away slow motion.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct Rect {
    pub x: f32,
    pub y: f32,
    pub width: f32,
    pub height: f32,
}

/// A box in whole pixels that lies inside the frame and is at least 1x1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct PixelRect {
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
}

impl Rect {
    pub fn new(x: f32, y: f32, width: f32, height: f32) -> Self {
        Rect {
            x,
            y,
            width,
            height,
        }
    }

    pub fn center(&self) -> (f32, f32) {
        (self.x + self.width / 2.0, self.y + self.height / 2.0)
    }

    pub fn area(&self) -> f32 {
        self.width.max(0.0) * self.height.max(0.0)
    }

    /// Intersection over union, 0 for boxes that do not touch.
    pub fn iou(&self, other: &Rect) -> f32 {
        let w = (self.x + self.width).min(other.x + other.width) - self.x.max(other.x);
        let h = (self.y + self.height).min(other.y + other.height) - self.y.max(other.y);
        if w <= 0.0 || h <= 0.0 {
            return 0.0;
        }
        let inter = w * h;
        inter / (self.area() + other.area() - inter)
    }

    pub fn translated(&self, dx: f32, dy: f32) -> Rect {
        Rect::new(self.x + dx, self.y + dy, self.width, self.height)
    }

    pub fn scaled(&self, factor: f32) -> Rect {
        Rect::new(
            self.x * factor,
            self.y * factor,
            self.width * factor,
            self.height * factor,
        )
    }

    /// Widened by `percent` of its size on each side, more below than above, which turns a face
    /// box into a head-and-shoulders box: half the margin above, the full margin to each side
    /// and one and a half below (the shoulders).
    pub fn widened(&self, percent: u32) -> Rect {
        let m = percent as f32 / 100.0;
        Rect::new(
            self.x - self.width * m,
            self.y - self.height * m * 0.5,
            self.width * (1.0 + 2.0 * m),
            self.height * (1.0 + 2.0 * m),
        )
    }

    /// The part inside a `frame_width` x `frame_height` frame, rounded outwards to whole
    /// pixels; `None` when nothing is left.
    pub fn to_pixels(&self, frame_width: u32, frame_height: u32) -> Option<PixelRect> {
        if ![self.x, self.y, self.width, self.height]
            .iter()
            .all(|v| v.is_finite())
        {
            return None;
        }
        let x0 = self.x.floor().max(0.0);
        let y0 = self.y.floor().max(0.0);
        let x1 = (self.x + self.width).ceil().min(frame_width as f32);
        let y1 = (self.y + self.height).ceil().min(frame_height as f32);
        if !(x1 - x0 >= 1.0 && y1 - y0 >= 1.0) {
            return None;
        }
        Some(PixelRect {
            x: x0 as u32,
            y: y0 as u32,
            width: (x1 - x0) as u32,
            height: (y1 - y0) as u32,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iou_of_known_boxes() {
        let a = Rect::new(0.0, 0.0, 10.0, 10.0);
        assert_eq!(a.iou(&a), 1.0);
        assert_eq!(a.iou(&Rect::new(10.0, 0.0, 10.0, 10.0)), 0.0);
        let half = a.iou(&Rect::new(5.0, 0.0, 10.0, 10.0));
        assert!((half - 50.0 / 150.0).abs() < 1e-6, "{half}");
    }

    #[test]
    fn pixels_are_clipped_to_the_frame() {
        let r = Rect::new(-3.5, 2.2, 10.0, 100.0).to_pixels(8, 20).unwrap();
        assert_eq!(
            r,
            PixelRect {
                x: 0,
                y: 2,
                width: 7,
                height: 18
            }
        );
        assert_eq!(Rect::new(30.0, 0.0, 5.0, 5.0).to_pixels(8, 8), None);
        assert_eq!(Rect::new(1.0, 1.0, f32::NAN, 5.0).to_pixels(8, 8), None);
    }

    #[test]
    fn widening_makes_room_for_the_shoulders() {
        let r = Rect::new(100.0, 100.0, 50.0, 60.0).widened(50);
        assert_eq!(r, Rect::new(75.0, 85.0, 100.0, 120.0));
        assert!(r.y + r.height - 160.0 > 100.0 - r.y);
    }
}
