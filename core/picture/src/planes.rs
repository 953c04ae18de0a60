// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! Raw 8-bit pictures in any common layout (planar, semi-planar, packed, subsampled), described
//! component by component the way GStreamer's `VideoFormatInfo` does, so one piece of code reads
//! and paints I420, NV12, RGB, BGRx, RGBA and the rest.

use crate::geometry::PixelRect;

/// What a component holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Channel {
    Luma,
    Cb,
    Cr,
    Red,
    Green,
    Blue,
    Alpha,
}

/// Where the samples of one component sit: in plane `plane`, at byte `offset` of a row, one
/// every `step` bytes; subsampled by `1 << x_shift` across and `1 << y_shift` down.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Component {
    pub channel: Channel,
    pub plane: usize,
    pub offset: usize,
    pub step: usize,
    pub x_shift: u32,
    pub y_shift: u32,
}

/// The geometry of one picture: its size, components and the row stride of each plane.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PictureLayout {
    pub width: u32,
    pub height: u32,
    pub components: Vec<Component>,
    pub strides: Vec<usize>,
}

/// An 8-bit single-channel image, tightly packed.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Gray {
    pub width: usize,
    pub height: usize,
    pub data: Vec<u8>,
}

impl Gray {
    pub fn new(width: usize, height: usize) -> Self {
        Gray {
            width,
            height,
            data: vec![0; width * height],
        }
    }
}

/// The picture at detection scale: luma and both colour differences at the same size.
#[derive(Clone, Debug, Default)]
pub struct WorkingFrame {
    pub luma: Gray,
    pub cb: Gray,
    pub cr: Gray,
    /// Working pixels per frame pixel.
    pub scale: f32,
}

/// Why a layout cannot be used with the planes given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LayoutError {
    NoColour,
    PlaneTooSmall { plane: usize },
    MissingPlane { plane: usize },
}

impl std::fmt::Display for LayoutError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LayoutError::NoColour => {
                write!(f, "the format has neither luma nor red, green and blue")
            }
            LayoutError::PlaneTooSmall { plane } => {
                write!(f, "plane {plane} is too small for the picture")
            }
            LayoutError::MissingPlane { plane } => write!(f, "plane {plane} is missing"),
        }
    }
}

impl std::error::Error for LayoutError {}

// BT.601 in 8-bit fixed point: the weights every webcam pipeline uses for SD and most HD.
fn rgb_to_ycbcr(r: u32, g: u32, b: u32) -> (u8, u8, u8) {
    let (r, g, b) = (r as i32, g as i32, b as i32);
    let y = (66 * r + 129 * g + 25 * b + 128) / 256 + 16;
    let cb = (-38 * r - 74 * g + 112 * b + 128) / 256 + 128;
    let cr = (112 * r - 94 * g - 18 * b + 128) / 256 + 128;
    (
        y.clamp(0, 255) as u8,
        cb.clamp(0, 255) as u8,
        cr.clamp(0, 255) as u8,
    )
}

/// BT.601 limited range, the inverse of [`Channel::of_rgb`]: red, green and blue in 0-255,
/// unrounded.
pub fn ycbcr_to_rgb(y: f32, cb: f32, cr: f32) -> [f32; 3] {
    let y = 1.164 * (y - 16.0);
    let (cb, cr) = (cb - 128.0, cr - 128.0);
    [y + 1.596 * cr, y - 0.392 * cb - 0.813 * cr, y + 2.017 * cb].map(|v| v.clamp(0.0, 255.0))
}

impl Channel {
    /// This channel's value for the colour `rgb` (BT.601 for luma and colour differences);
    /// `None` for alpha.
    pub fn of_rgb(self, rgb: [u8; 3]) -> Option<u8> {
        let (y, cb, cr) = rgb_to_ycbcr(rgb[0] as u32, rgb[1] as u32, rgb[2] as u32);
        match self {
            Channel::Luma => Some(y),
            Channel::Cb => Some(cb),
            Channel::Cr => Some(cr),
            Channel::Red => Some(rgb[0]),
            Channel::Green => Some(rgb[1]),
            Channel::Blue => Some(rgb[2]),
            Channel::Alpha => None,
        }
    }
}

impl Component {
    /// The components of a format described as GStreamer's `VideoFormatInfo` does it (one
    /// entry per component in the format's component order: plane, byte offset, pixel stride,
    /// subsampling shifts). A fourth component is alpha.
    pub fn of_format(
        is_rgb: bool,
        planes: &[u32],
        offsets: &[u32],
        pixel_strides: &[i32],
        x_shifts: &[u32],
        y_shifts: &[u32],
    ) -> Vec<Component> {
        (0..planes.len())
            .map(|i| Component {
                channel: match (is_rgb, i) {
                    (_, 3) => Channel::Alpha,
                    (true, 0) => Channel::Red,
                    (true, 1) => Channel::Green,
                    (true, _) => Channel::Blue,
                    (false, 0) => Channel::Luma,
                    (false, 1) => Channel::Cb,
                    (false, _) => Channel::Cr,
                },
                plane: planes[i] as usize,
                offset: offsets[i] as usize,
                step: pixel_strides[i].max(1) as usize,
                x_shift: x_shifts[i],
                y_shift: y_shifts[i],
            })
            .collect()
    }
}

impl PictureLayout {
    /// Tightly packed I420 (Y, then U and V at half size, rounded up), as
    /// `face_tracking::synthetic` draws it.
    pub fn i420(width: u32, height: u32) -> Self {
        let chroma_width = width.div_ceil(2) as usize;
        let component = |channel, plane, shift| Component {
            channel,
            plane,
            offset: 0,
            step: 1,
            x_shift: shift,
            y_shift: shift,
        };
        PictureLayout {
            width,
            height,
            components: vec![
                component(Channel::Luma, 0, 0),
                component(Channel::Cb, 1, 1),
                component(Channel::Cr, 2, 1),
            ],
            strides: vec![width as usize, chroma_width, chroma_width],
        }
    }

    fn component(&self, channel: Channel) -> Option<&Component> {
        self.components.iter().find(|c| c.channel == channel)
    }

    /// Width and height of a component's sample grid (rounded up, as GStreamer does).
    pub fn component_size(&self, c: &Component) -> (usize, usize) {
        let w = (self.width as usize + (1 << c.x_shift) - 1) >> c.x_shift;
        let h = (self.height as usize + (1 << c.y_shift) - 1) >> c.y_shift;
        (w, h)
    }

    /// Checks that every component's samples lie inside its plane.
    pub fn check(&self, plane_lengths: &[usize]) -> Result<(), LayoutError> {
        let yuv = self.component(Channel::Luma).is_some();
        let rgb = [Channel::Red, Channel::Green, Channel::Blue]
            .iter()
            .all(|&ch| self.component(ch).is_some());
        if !yuv && !rgb {
            return Err(LayoutError::NoColour);
        }
        for c in &self.components {
            let (w, h) = self.component_size(c);
            let len = *plane_lengths
                .get(c.plane)
                .ok_or(LayoutError::MissingPlane { plane: c.plane })?;
            let stride = *self
                .strides
                .get(c.plane)
                .ok_or(LayoutError::MissingPlane { plane: c.plane })?;
            let last = (h.max(1) - 1) * stride + c.offset + (w.max(1) - 1) * c.step;
            if w > 0 && h > 0 && last >= len {
                return Err(LayoutError::PlaneTooSmall { plane: c.plane });
            }
        }
        Ok(())
    }

    /// Resamples the picture to `out_width` x `out_height` luma, Cb and Cr by area averaging
    /// (nearest sample when enlarging). Call [`check`](Self::check) first.
    pub fn working_frame(
        &self,
        planes: &[&[u8]],
        out_width: usize,
        out_height: usize,
    ) -> WorkingFrame {
        self.resampled(planes, out_width, out_height, true)
    }

    /// Only the luma of [`working_frame`](Self::working_frame) (Cb and Cr left empty): enough
    /// for following faces between detections, at a third of the cost for RGB input.
    pub fn working_luma(
        &self,
        planes: &[&[u8]],
        out_width: usize,
        out_height: usize,
    ) -> WorkingFrame {
        self.resampled(planes, out_width, out_height, false)
    }

    fn resampled(
        &self,
        planes: &[&[u8]],
        out_width: usize,
        out_height: usize,
        colour: bool,
    ) -> WorkingFrame {
        let scale = out_width as f32 / self.width.max(1) as f32;
        let (luma, cb, cr) = if let Some(y) = self.component(Channel::Luma) {
            // Grey formats have no colour: neutral chroma keeps signatures comparable.
            let grey = if colour {
                Gray {
                    width: out_width,
                    height: out_height,
                    data: vec![128; out_width * out_height],
                }
            } else {
                Gray::default()
            };
            let plain = |c: &Component| {
                self.resample(c, c.offset, planes, out_width, out_height, |s| s[0] as u32)
            };
            let luma = plain(y);
            let chroma = |ch| {
                self.component(ch)
                    .filter(|_| colour)
                    .map(plain)
                    .unwrap_or_else(|| grey.clone())
            };
            (luma, chroma(Channel::Cb), chroma(Channel::Cr))
        } else {
            let [r, g, b] = [Channel::Red, Channel::Green, Channel::Blue]
                .map(|ch| *self.component(ch).expect("checked by PictureLayout::check"));
            let same_plane = r.plane == g.plane && r.plane == b.plane && r.step == g.step;
            if same_plane {
                // Packed RGB: one pass per output channel over the pixel's bytes.
                let base = r.offset.min(g.offset).min(b.offset);
                let (ro, go, bo) = (r.offset - base, g.offset - base, b.offset - base);
                let at = |channel: usize| {
                    self.resample(&r, base, planes, out_width, out_height, move |s| {
                        let ycc = rgb_to_ycbcr(s[ro] as u32, s[go] as u32, s[bo] as u32);
                        [ycc.0, ycc.1, ycc.2][channel] as u32
                    })
                };
                if colour {
                    (at(0), at(1), at(2))
                } else {
                    (at(0), Gray::default(), Gray::default())
                }
            } else {
                // Planar RGB: average each plane, then convert.
                let [pr, pg, pb] = [r, g, b].map(|c| {
                    self.resample(&c, c.offset, planes, out_width, out_height, |s| s[0] as u32)
                });
                let mut out = [0, 1, 2].map(|_| Gray::new(out_width, out_height));
                for i in 0..pr.data.len() {
                    let ycc = rgb_to_ycbcr(pr.data[i] as u32, pg.data[i] as u32, pb.data[i] as u32);
                    out[0].data[i] = ycc.0;
                    out[1].data[i] = ycc.1;
                    out[2].data[i] = ycc.2;
                }
                let [l, cb, cr] = out;
                (l, cb, cr)
            }
        };
        WorkingFrame {
            luma,
            cb,
            cr,
            scale,
        }
    }

    /// Area average of `sample` over each output pixel's footprint on component `c`'s grid.
    /// `sample` gets the plane from byte `base` of the pixel onwards.
    fn resample(
        &self,
        c: &Component,
        base: usize,
        planes: &[&[u8]],
        out_width: usize,
        out_height: usize,
        sample: impl Fn(&[u8]) -> u32,
    ) -> Gray {
        let (cw, ch) = self.component_size(c);
        let mut out = Gray::new(out_width, out_height);
        if cw == 0 || ch == 0 || out_width == 0 || out_height == 0 {
            return out;
        }
        let plane = planes[c.plane];
        let stride = self.strides[c.plane];
        let spans = |n_out: usize, n_in: usize| -> Vec<(usize, usize)> {
            (0..n_out)
                .map(|o| {
                    let a = o * n_in / n_out;
                    let b = ((o + 1) * n_in / n_out).max(a + 1).min(n_in);
                    (a, b)
                })
                .collect()
        };
        let xs = spans(out_width, cw);
        let ys = spans(out_height, ch);
        let mut row_sums = vec![0u32; out_width];
        for (oy, &(y0, y1)) in ys.iter().enumerate() {
            row_sums.iter_mut().for_each(|s| *s = 0);
            for y in y0..y1 {
                let row = &plane[y * stride + base..];
                for (sum, &(x0, x1)) in row_sums.iter_mut().zip(&xs) {
                    for x in x0..x1 {
                        *sum += sample(&row[x * c.step..]);
                    }
                }
            }
            let rows = (y1 - y0) as u32;
            for (ox, (&sum, &(x0, x1))) in row_sums.iter().zip(&xs).enumerate() {
                let n = rows * (x1 - x0) as u32;
                out.data[oy * out_width + ox] = ((sum + n / 2) / n) as u8;
            }
        }
        out
    }
}

impl PictureLayout {
    /// `rect` on component `c`'s grid: start rounded down, end rounded up.
    fn component_span(&self, c: &Component, rect: PixelRect) -> (usize, usize, usize, usize) {
        let (cw, ch) = self.component_size(c);
        let x0 = (rect.x >> c.x_shift) as usize;
        let y0 = (rect.y >> c.y_shift) as usize;
        let x1 = (((rect.x + rect.width) as usize + (1 << c.x_shift) - 1) >> c.x_shift).min(cw);
        let y1 = (((rect.y + rect.height) as usize + (1 << c.y_shift) - 1) >> c.y_shift).min(ch);
        (x0.min(x1), y0.min(y1), x1, y1)
    }

    /// Paints `rect` in the colour `rgb` (alpha is left alone). Call [`check`](Self::check)
    /// first.
    pub fn fill(&self, planes: &mut [&mut [u8]], rect: PixelRect, rgb: [u8; 3]) {
        for c in &self.components {
            let Some(value) = c.channel.of_rgb(rgb) else {
                continue;
            };
            let (x0, y0, x1, y1) = self.component_span(c, rect);
            let plane = &mut *planes[c.plane];
            for row in y0..y1 {
                let start = self.sample_index(c, 0, row);
                for x in x0..x1 {
                    plane[start + x * c.step] = value;
                }
            }
        }
    }

    /// Replaces `rect` by squares of `block` pixels, each the average of what it covers: the
    /// usual way to make a face unrecognisable while keeping the scene readable.
    pub fn pixelate(&self, planes: &mut [&mut [u8]], rect: PixelRect, block: u32) {
        for c in &self.components {
            if c.channel == Channel::Alpha {
                continue;
            }
            let (x0, y0, x1, y1) = self.component_span(c, rect);
            let bw = ((block >> c.x_shift) as usize).max(1);
            let bh = ((block >> c.y_shift) as usize).max(1);
            let plane = &mut *planes[c.plane];
            for by in (y0..y1).step_by(bh) {
                let by1 = (by + bh).min(y1);
                for bx in (x0..x1).step_by(bw) {
                    let bx1 = (bx + bw).min(x1);
                    let index = |x: usize, y: usize| self.sample_index(c, x, y);
                    let mut sum = 0u32;
                    for y in by..by1 {
                        for x in bx..bx1 {
                            sum += plane[index(x, y)] as u32;
                        }
                    }
                    let n = ((by1 - by) * (bx1 - bx)) as u32;
                    let mean = ((sum + n / 2) / n) as u8;
                    for y in by..by1 {
                        for x in bx..bx1 {
                            plane[index(x, y)] = mean;
                        }
                    }
                }
            }
        }
    }

    /// One plane of `step` bytes a pixel holding each channel at its byte offset.
    pub fn packed(width: u32, height: u32, step: usize, channels: &[(Channel, usize)]) -> Self {
        PictureLayout {
            width,
            height,
            components: channels
                .iter()
                .map(|&(channel, offset)| Component {
                    channel,
                    plane: 0,
                    offset,
                    step,
                    x_shift: 0,
                    y_shift: 0,
                })
                .collect(),
            strides: vec![width as usize * step],
        }
    }

    /// Tightly packed RGB, 3 bytes a pixel (a decoded photo).
    pub fn rgb(width: u32, height: u32) -> Self {
        let channels = [(Channel::Red, 0), (Channel::Green, 1), (Channel::Blue, 2)];
        Self::packed(width, height, 3, &channels)
    }

    /// Red, green and blue (0-255) at frame position (`x`, `y`), pixel centres at .5: each
    /// component interpolated bilinearly on its own grid, clamped at the edges; grey formats
    /// come back grey. For resampling a small region at any angle (a face chip) where
    /// [`working_frame`](Self::working_frame) would read the whole picture. Call
    /// [`check`](Self::check) first.
    pub fn rgb_at(&self, planes: &[&[u8]], x: f32, y: f32) -> [f32; 3] {
        let at = |c: &Component| -> f32 {
            let (w, h) = self.component_size(c);
            if w == 0 || h == 0 {
                return 0.0;
            }
            let gx = (x / (1 << c.x_shift) as f32 - 0.5).clamp(0.0, (w - 1) as f32);
            let gy = (y / (1 << c.y_shift) as f32 - 0.5).clamp(0.0, (h - 1) as f32);
            let (x0, y0) = (gx as usize, gy as usize);
            let (x1, y1) = ((x0 + 1).min(w - 1), (y0 + 1).min(h - 1));
            let (fx, fy) = (gx - x0 as f32, gy - y0 as f32);
            let p = planes[c.plane];
            let v = |sx, sy| p[self.sample_index(c, sx, sy)] as f32;
            let top = v(x0, y0) + (v(x1, y0) - v(x0, y0)) * fx;
            let bottom = v(x0, y1) + (v(x1, y1) - v(x0, y1)) * fx;
            top + (bottom - top) * fy
        };
        if let Some(luma) = self.component(Channel::Luma) {
            let chroma = |ch| self.component(ch).map_or(128.0, at);
            ycbcr_to_rgb(at(luma), chroma(Channel::Cb), chroma(Channel::Cr))
        } else {
            [Channel::Red, Channel::Green, Channel::Blue]
                .map(|ch| self.component(ch).map_or(0.0, at))
        }
    }

    /// Byte index of component `c`'s sample at column `x`, row `y` of its grid.
    pub fn sample_index(&self, c: &Component, x: usize, y: usize) -> usize {
        y * self.strides[c.plane] + c.offset + x * c.step
    }

    /// Component `c`'s samples as a tight image of its grid size.
    pub fn gather(&self, c: &Component, planes: &[&[u8]]) -> Gray {
        let (w, h) = self.component_size(c);
        let mut out = Gray::new(w, h);
        for y in 0..h {
            for x in 0..w {
                out.data[y * w + x] = planes[c.plane][self.sample_index(c, x, y)];
            }
        }
        out
    }

    /// Writes a tight image of component `c`'s grid size back into the planes.
    pub fn scatter(&self, c: &Component, planes: &mut [&mut [u8]], image: &Gray) {
        let (w, h) = self.component_size(c);
        debug_assert_eq!((image.width, image.height), (w, h));
        for y in 0..h {
            for x in 0..w {
                let i = self.sample_index(c, x, y);
                planes[c.plane][i] = image.data[y * w + x];
            }
        }
    }

    /// Paints a tightly packed RGB picture of the layout's size (3 bytes a pixel) into every
    /// component: subsampled ones get the average colour of the pixels they cover; alpha is
    /// made opaque.
    pub fn paint_rgb(&self, planes: &mut [&mut [u8]], rgb: &[u8]) {
        let width = self.width as usize;
        debug_assert_eq!(rgb.len(), width * self.height as usize * 3);
        for c in &self.components {
            let (w, h) = self.component_size(c);
            let (bw, bh) = (1usize << c.x_shift, 1usize << c.y_shift);
            for y in 0..h {
                for x in 0..w {
                    let mut sum = [0u32; 3];
                    let mut n = 0;
                    for py in y * bh..((y + 1) * bh).min(self.height as usize) {
                        for px in x * bw..((x + 1) * bw).min(width) {
                            let p = &rgb[(py * width + px) * 3..][..3];
                            sum.iter_mut().zip(p).for_each(|(s, &v)| *s += v as u32);
                            n += 1;
                        }
                    }
                    let mean = sum.map(|s| ((s + n / 2) / n.max(1)) as u8);
                    let i = self.sample_index(c, x, y);
                    planes[c.plane][i] = c.channel.of_rgb(mean).unwrap_or(255);
                }
            }
        }
    }

    /// Draws the border of `rect`, `thickness` pixels wide, inside the rectangle.
    pub fn outline(&self, planes: &mut [&mut [u8]], rect: PixelRect, thickness: u32, rgb: [u8; 3]) {
        let t = thickness.min(rect.width).min(rect.height).max(1);
        let (x, y, w, h) = (rect.x, rect.y, rect.width, rect.height);
        for side in [
            PixelRect {
                x,
                y,
                width: w,
                height: t,
            },
            PixelRect {
                x,
                y: y + h - t,
                width: w,
                height: t,
            },
            PixelRect {
                x,
                y,
                width: t,
                height: h,
            },
            PixelRect {
                x: x + w - t,
                y,
                width: t,
                height: h,
            },
        ] {
            self.fill(planes, side, rgb);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn i420(width: u32, height: u32) -> (PictureLayout, Vec<Vec<u8>>) {
        let layout = PictureLayout::i420(width, height);
        let (cw, ch) = (layout.strides[1], height.div_ceil(2) as usize);
        let planes = vec![
            vec![0; (width * height) as usize],
            vec![128; cw * ch],
            vec![128; cw * ch],
        ];
        (layout, planes)
    }

    fn bgrx(width: u32, height: u32) -> (PictureLayout, Vec<u8>) {
        let channels = [(Channel::Blue, 0), (Channel::Green, 1), (Channel::Red, 2)];
        let layout = PictureLayout::packed(width, height, 4, &channels);
        (layout, vec![0; (width * height * 4) as usize])
    }

    #[test]
    fn downscaling_averages_areas() {
        let (layout, mut planes) = i420(4, 2);
        planes[0] = vec![0, 100, 200, 200, 100, 200, 0, 0];
        let refs: Vec<&[u8]> = planes.iter().map(|p| p.as_slice()).collect();
        layout
            .check(&refs.iter().map(|p| p.len()).collect::<Vec<_>>())
            .unwrap();
        let w = layout.working_frame(&refs, 2, 1);
        assert_eq!(w.luma.data, vec![100, 100]);
        assert_eq!(w.cb.data, vec![128, 128]);
        assert_eq!(w.scale, 0.5);
    }

    #[test]
    fn packed_bgr_gives_the_same_luma_as_the_conversion() {
        let (layout, mut data) = bgrx(2, 1);
        data[..4].copy_from_slice(&[255, 0, 0, 0]); // blue
        data[4..].copy_from_slice(&[0, 0, 255, 0]); // red
        let w = layout.working_frame(&[&data], 2, 1);
        assert_eq!(
            w.luma.data,
            vec![rgb_to_ycbcr(0, 0, 255).0, rgb_to_ycbcr(255, 0, 0).0]
        );
        assert!(
            w.cb.data[0] > 200 && w.cr.data[1] > 200,
            "{:?} {:?}",
            w.cb,
            w.cr
        );
    }

    #[test]
    fn odd_sizes_and_enlarging_stay_in_bounds() {
        let (layout, planes) = i420(5, 3);
        let refs: Vec<&[u8]> = planes.iter().map(|p| p.as_slice()).collect();
        layout
            .check(&refs.iter().map(|p| p.len()).collect::<Vec<_>>())
            .unwrap();
        let w = layout.working_frame(&refs, 11, 7);
        assert_eq!((w.luma.width, w.luma.height, w.cr.data.len()), (11, 7, 77));
    }

    #[test]
    fn short_planes_are_refused() {
        let (layout, planes) = i420(8, 8);
        let mut lengths: Vec<usize> = planes.iter().map(|p| p.len()).collect();
        lengths[2] -= 1;
        assert_eq!(
            layout.check(&lengths),
            Err(LayoutError::PlaneTooSmall { plane: 2 })
        );
        assert_eq!(
            layout.check(&lengths[..2]),
            Err(LayoutError::MissingPlane { plane: 2 })
        );
    }

    #[test]
    fn fill_and_outline_touch_only_the_rectangle() {
        let (layout, mut planes) = i420(8, 8);
        let rect = PixelRect {
            x: 2,
            y: 2,
            width: 4,
            height: 4,
        };
        {
            let mut refs: Vec<&mut [u8]> = planes.iter_mut().map(|p| p.as_mut_slice()).collect();
            layout.outline(&mut refs, rect, 1, [255, 255, 255]);
        }
        let y = &planes[0];
        assert_eq!(y[2 * 8 + 2], 235);
        assert_eq!(y[3 * 8 + 3], 0, "inside the border stays");
        assert_eq!(y[8 + 1], 0, "outside stays");
        assert_eq!(y[5 * 8 + 5], 235);
        let (layout, mut data) = bgrx(4, 1);
        layout.fill(
            &mut [&mut data],
            PixelRect {
                x: 1,
                y: 0,
                width: 2,
                height: 1,
            },
            [10, 20, 30],
        );
        assert_eq!(
            data,
            vec![0, 0, 0, 0, 30, 20, 10, 0, 30, 20, 10, 0, 0, 0, 0, 0]
        );
    }

    #[test]
    fn pixelate_averages_blocks() {
        let (layout, mut planes) = i420(4, 4);
        planes[0] = (0..16).map(|i| i as u8 * 10).collect();
        let mut refs: Vec<&mut [u8]> = planes.iter_mut().map(|p| p.as_mut_slice()).collect();
        layout.pixelate(
            &mut refs,
            PixelRect {
                x: 0,
                y: 0,
                width: 2,
                height: 2,
            },
            2,
        );
        assert_eq!(&planes[0][..2], &[25, 25]);
        assert_eq!(&planes[0][4..6], &[25, 25]);
        assert_eq!(planes[0][2], 20, "outside the block is untouched");
    }

    #[test]
    fn rgb_at_interpolates_between_pixel_centres_and_reads_back_a_painted_colour() {
        let layout = PictureLayout::rgb(2, 1);
        let data = vec![0, 100, 200, 100, 200, 0];
        let planes = [data.as_slice()];
        assert_eq!(layout.rgb_at(&planes, 0.5, 0.5), [0.0, 100.0, 200.0]);
        assert_eq!(layout.rgb_at(&planes, 1.0, 0.5), [50.0, 150.0, 100.0]);
        assert_eq!(
            layout.rgb_at(&planes, -5.0, 9.0),
            [0.0, 100.0, 200.0],
            "clamped at the edge"
        );
        let (yuv, mut yuv_planes) = i420(6, 4);
        let mut views: Vec<&mut [u8]> = yuv_planes.iter_mut().map(|p| p.as_mut_slice()).collect();
        let all = PixelRect {
            x: 0,
            y: 0,
            width: 6,
            height: 4,
        };
        yuv.fill(&mut views, all, [200, 40, 90]);
        let views: Vec<&[u8]> = yuv_planes.iter().map(|p| p.as_slice()).collect();
        let rgb = yuv.rgb_at(&views, 3.3, 1.7);
        for (got, want) in rgb.iter().zip([200.0, 40.0, 90.0]) {
            assert!((got - want).abs() < 3.0, "{rgb:?}");
        }
    }
}
