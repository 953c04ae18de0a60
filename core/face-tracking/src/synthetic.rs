// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! A drawn person (oval face with eyes, brows, nose, mouth and hair, and a shirt) that the
//! detector finds with a clear score, so tests and demos can make their own faces instead of
//! shipping photos. Skin tone and shirt colour differ per person, which is what owner
//! following tells people apart by.

use picture::{Gray, Rect};

/// One drawn person; `x`, `y` is the middle of the face, `size` the face width, in pixels.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Person {
    pub x: f32,
    pub y: f32,
    pub size: f32,
    /// Luma of the skin at the middle of the face.
    pub skin: u8,
    /// Shirt colour as Y, Cb, Cr.
    pub shirt: [u8; 3],
}

impl Person {
    /// The owner of the owner-mode tests, in a 640x480 frame: lighter skin, green shirt.
    pub fn owner() -> Self {
        Self {
            x: 200.0,
            y: 200.0,
            size: 130.0,
            skin: 190,
            shirt: [70, 170, 110],
        }
    }

    /// The stranger beside [`owner`](Self::owner): darker skin, purple shirt.
    pub fn stranger() -> Self {
        Self {
            x: 450.0,
            y: 210.0,
            size: 120.0,
            skin: 150,
            shirt: [150, 90, 200],
        }
    }

    /// A small person (36-pixel face) at column `x` of a 128-high test room.
    pub fn small_at(x: f32) -> Self {
        Self {
            x,
            y: 50.0,
            size: 36.0,
            skin: 170,
            shirt: [70, 150, 110],
        }
    }

    /// Where a detector puts this face (measured: the box sits a little low and wider than
    /// the oval).
    pub fn face_box(&self) -> Rect {
        let w = self.size * 1.15;
        Rect::new(self.x - w / 2.0, self.y + self.size * 0.08 - w / 2.0, w, w)
    }

    /// Whether the pixel at column `x`, row `y` is mostly this person (the exact mask of what
    /// [`draw_i420`](Self::draw_i420) paints).
    pub fn covers(&self, x: usize, y: usize) -> bool {
        self.colour_at(x as f32 + 0.5, y as f32 + 0.5).is_some()
    }

    /// Luma, Cb and Cr at a point, `None` outside the person.
    fn colour_at(&self, px: f32, py: f32) -> Option<[f32; 3]> {
        let (u, v) = ((px - self.x) / self.size, (py - self.y) / self.size);
        let skin_chroma = [108.0, 152.0];
        let e = (u / 0.5).powi(2) + (v / 0.65).powi(2);
        if e >= 1.0 {
            let shirt = v > 0.6 && u.abs() < 1.0;
            return shirt.then(|| self.shirt.map(f32::from));
        }
        let ellipse = |cx: f32, cy: f32, rx: f32, ry: f32| {
            ((u - cx) / rx).powi(2) + ((v - cy) / ry).powi(2) < 1.0
        };
        let mut l = self.skin as f32 - 40.0 * e;
        let mut chroma = skin_chroma;
        if v < -0.45 {
            l = 50.0;
            chroma = [128.0, 132.0];
        } else if ellipse(-0.2, -0.12, 0.11, 0.05) || ellipse(0.2, -0.12, 0.11, 0.05) {
            l = 40.0;
        } else if ellipse(-0.2, -0.25, 0.14, 0.03) || ellipse(0.2, -0.25, 0.14, 0.03) {
            l = 60.0;
        } else if ellipse(0.0, 0.2, 0.07, 0.03) {
            l = 90.0;
        } else if ellipse(0.0, 0.38, 0.18, 0.04) {
            l = 80.0;
            chroma = [118.0, 160.0];
        } else if ellipse(0.0, 0.1, 0.05, 0.15) {
            l -= 25.0;
        }
        Some([l, chroma[0], chroma[1]])
    }

    /// Draws the person into an I420 picture (odd sizes allowed), softening edges with a 2x2
    /// supersample so the detector sees an image, not a cartoon with hard steps.
    pub fn draw_i420(&self, planes: [&mut [u8]; 3], width: usize, height: usize) {
        let [y_plane, u_plane, v_plane] = planes;
        let reach = self.size * 1.1;
        let x0 = (self.x - reach).floor().max(0.0) as usize;
        let x1 = ((self.x + reach).ceil().max(0.0) as usize).min(width);
        let y0 = (self.y - self.size * 0.7).floor().max(0.0) as usize;
        let cw = width.div_ceil(2);
        for y in y0..height {
            for x in x0..x1 {
                let mut sum = [0f32; 3];
                let mut inside = 0;
                for (dx, dy) in [(0.25, 0.25), (0.75, 0.25), (0.25, 0.75), (0.75, 0.75)] {
                    if let Some(c) = self.colour_at(x as f32 + dx, y as f32 + dy) {
                        sum.iter_mut().zip(c).for_each(|(s, c)| *s += c);
                        inside += 1;
                    }
                }
                if inside == 0 {
                    continue;
                }
                let old = y_plane[y * width + x] as f32;
                let luma = (sum[0] + old * (4 - inside) as f32) / 4.0;
                y_plane[y * width + x] = luma.clamp(0.0, 255.0) as u8;
                if x % 2 == 0 && y % 2 == 0 && inside == 4 {
                    let c = (y / 2) * cw + x / 2;
                    u_plane[c] = (sum[1] / 4.0) as u8;
                    v_plane[c] = (sum[2] / 4.0) as u8;
                }
            }
        }
    }
}

/// An I420 frame of grey background with a little texture, for drawing people on.
pub fn background_i420(width: usize, height: usize, seed: usize) -> Vec<u8> {
    let (cw, ch) = (width.div_ceil(2), height.div_ceil(2));
    let mut frame = vec![128u8; width * height + 2 * cw * ch];
    for y in 0..height {
        for x in 0..width {
            frame[y * width + x] = 95 + ((x * 7 + y * 3 + seed) % 5) as u8 * 4;
        }
    }
    frame
}

/// The three planes of an I420 buffer of `width` x `height`, tightly packed.
pub fn i420_planes(frame: &mut [u8], width: usize, height: usize) -> [&mut [u8]; 3] {
    let (cw, ch) = (width.div_ceil(2), height.div_ceil(2));
    let (y, rest) = frame.split_at_mut(width * height);
    let (u, v) = rest.split_at_mut(cw * ch);
    [y, u, v]
}

/// A room to film drawn people in: a textured wall with shelves (so the background is not
/// flat), camera noise that differs every frame, and an exposure gain, with the exact mask of
/// who is in each frame. Deterministic.
pub struct Room {
    width: usize,
    height: usize,
    /// The empty room, I420.
    pub plate: Vec<u8>,
    noise: u64,
}

impl Room {
    pub fn new(width: usize, height: usize) -> Self {
        let mut plate = background_i420(width, height, 0);
        for y in 0..height {
            for x in 0..width {
                if (x / 20 + y / 30) % 3 == 0 {
                    plate[y * width + x] = 150;
                }
            }
        }
        Room {
            width,
            height,
            plate,
            noise: 0x9e37_79b9_7f4a_7c15,
        }
    }

    /// Camera noise: the sum of three uniforms in -2..=2 (roughly Gaussian, sigma ~2.4), from
    /// a xorshift generator: tests need "small and new every frame", not statistics.
    fn noise(&mut self) -> f32 {
        self.noise ^= self.noise << 13;
        self.noise ^= self.noise >> 7;
        self.noise ^= self.noise << 17;
        (0..3)
            .map(|k| ((self.noise >> (k * 8)) % 5) as f32 - 2.0)
            .sum()
    }

    /// A frame (I420) with `people` in the room, everything brightened by `gain` (the colour
    /// differences too, as an exposure change does), and its exact person mask (255 = person).
    pub fn frame(&mut self, people: &[Person], gain: f32) -> (Vec<u8>, Gray) {
        let (w, h) = (self.width, self.height);
        let mut frame = self.plate.clone();
        let mut mask = Gray::new(w, h);
        for p in people {
            p.draw_i420(i420_planes(&mut frame, w, h), w, h);
            for y in 0..h {
                for x in 0..w {
                    if p.covers(x, y) {
                        mask.data[y * w + x] = 255;
                    }
                }
            }
        }
        let luma = w * h;
        for (i, v) in frame.iter_mut().enumerate() {
            let offset = if i < luma { 0.0 } else { 128.0 };
            let lit = (*v as f32 - offset) * gain + offset + self.noise();
            *v = lit.round().clamp(0.0, 255.0) as u8;
        }
        (frame, mask)
    }
}
