// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! Putting the person over a new background, in the frame's own layout: a colour, a picture,
//! the frame blurred, or a still plate of the room.

use crate::mask::{blur, resize, shrink};
use picture::{Channel, Component, Gray, PictureLayout};
use std::borrow::Cow;
use std::path::Path;

/// What replaces the background.
#[derive(Clone, Copy, Debug)]
pub enum Backdrop<'a> {
    /// A flat colour (`rgb`) laid over the real background with `opacity` (255: opaque).
    Colour { rgb: [u8; 3], opacity: u8 },
    /// Planes in the frame's layout (same strides): a picture, a blurred copy or a plate.
    Plate(&'a [Vec<u8>]),
}

/// The frame's mask on component `c`'s grid: the mean of the pixels each sample covers.
fn component_mask<'m>(c: &Component, mask: &'m Gray) -> Cow<'m, Gray> {
    if c.x_shift == 0 && c.y_shift == 0 {
        Cow::Borrowed(mask)
    } else {
        Cow::Owned(shrink(mask, 1 << c.x_shift, 1 << c.y_shift))
    }
}

/// `(a * fg + (255 - a) * bg) / 255`, rounded to nearest (division by 255 as shifts): exact
/// at 0 and 255.
fn mix(fg: u8, bg: u8, a: u8) -> u8 {
    let a = a as u32;
    let t = a * fg as u32 + (255 - a) * bg as u32 + 128;
    ((t + (t >> 8)) >> 8) as u8
}

/// Keeps the person (`mask` 255, at frame size) and replaces the rest by `backdrop`, in place;
/// alpha is left alone.
pub fn replace(layout: &PictureLayout, planes: &mut [&mut [u8]], mask: &Gray, backdrop: Backdrop) {
    let mut subsampled: Option<(u32, u32, Gray)> = None;
    for c in &layout.components {
        if c.channel == Channel::Alpha {
            continue;
        }
        let m: &Gray = if c.x_shift == 0 && c.y_shift == 0 {
            mask
        } else {
            if subsampled.as_ref().map(|s| (s.0, s.1)) != Some((c.x_shift, c.y_shift)) {
                let m = component_mask(c, mask).into_owned();
                subsampled = Some((c.x_shift, c.y_shift, m));
            }
            &subsampled.as_ref().expect("just set").2
        };
        let (w, h) = layout.component_size(c);
        for y in 0..h {
            let start = layout.sample_index(c, 0, y);
            let alpha = &m.data[y * w..][..w];
            let row = &mut planes[c.plane][start..];
            match backdrop {
                Backdrop::Colour { rgb, opacity } => {
                    let value = c.channel.of_rgb(rgb).unwrap_or(0);
                    for (x, &a) in alpha.iter().enumerate() {
                        let s = &mut row[x * c.step];
                        *s = match (a, opacity) {
                            (255, _) => continue,
                            (0, 255) => value,
                            (_, 255) => mix(*s, value, a),
                            _ => mix(*s, mix(value, *s, opacity), a),
                        };
                    }
                }
                Backdrop::Plate(plate) => {
                    let plate_row = &plate[c.plane][start..];
                    for (x, &a) in alpha.iter().enumerate() {
                        let i = x * c.step;
                        row[i] = match a {
                            255 => continue,
                            0 => plate_row[i],
                            _ => mix(row[i], plate_row[i], a),
                        };
                    }
                }
            }
        }
    }
}

/// Writes `mask` (frame size) into the alpha component, if the layout has one.
pub fn write_alpha(layout: &PictureLayout, planes: &mut [&mut [u8]], mask: &Gray) {
    if let Some(c) = layout
        .components
        .iter()
        .find(|c| c.channel == Channel::Alpha)
    {
        layout.scatter(c, planes, &component_mask(c, mask));
    }
}

/// The alpha component at frame size (`None` when the layout has no alpha).
pub fn read_alpha(layout: &PictureLayout, planes: &[&[u8]]) -> Option<Gray> {
    let c = layout
        .components
        .iter()
        .find(|c| c.channel == Channel::Alpha)?;
    (c.x_shift == 0 && c.y_shift == 0).then(|| layout.gather(c, planes))
}

/// A copy of the planes, the starting point of every plate.
pub fn copy_planes(planes: &[&[u8]]) -> Vec<Vec<u8>> {
    planes.iter().map(|p| p.to_vec()).collect()
}

/// `plate` becomes the frame blurred by about `radius` frame pixels. A wide blur keeps no
/// detail, so it runs on a copy reduced by up to a third of the radius and is enlarged back:
/// the cost hardly depends on the radius.
pub fn blur_into(layout: &PictureLayout, planes: &[&[u8]], plate: &mut [Vec<u8>], radius: usize) {
    let mut out: Vec<&mut [u8]> = plate.iter_mut().map(|p| p.as_mut_slice()).collect();
    for c in &layout.components {
        if c.channel == Channel::Alpha {
            continue;
        }
        let r = (radius >> c.x_shift.min(c.y_shift)).max(1);
        let factor = (r / 3).clamp(1, 8);
        let samples = layout.gather(c, planes);
        let small = blur(&shrink(&samples, factor, factor), (r / factor).max(1));
        layout.scatter(c, &mut out, &resize(&small, samples.width, samples.height));
    }
}

/// A still picture of the room that fills in behind the person as they move: each pixel is
/// taken the first time it is seen as background and then never changes.
#[derive(Clone, Debug, Default)]
pub struct FrozenPlate {
    pub plate: Vec<Vec<u8>>,
    settled: Vec<bool>,
}

impl FrozenPlate {
    pub fn reset(&mut self) {
        *self = Self::default();
    }

    /// Takes this frame's background pixels that the plate does not have yet (the whole frame
    /// the first time, so the plate is never empty).
    pub fn update(&mut self, layout: &PictureLayout, planes: &[&[u8]], mask: &Gray) {
        let sizes_match = self.plate.len() == planes.len()
            && self
                .plate
                .iter()
                .zip(planes)
                .all(|(a, b)| a.len() == b.len())
            && self.settled.len() == mask.data.len();
        if !sizes_match {
            self.plate = copy_planes(planes);
            self.settled = mask.data.iter().map(|&m| m == 0).collect();
            return;
        }
        let width = mask.width;
        for c in &layout.components {
            let (w, h) = layout.component_size(c);
            for y in 0..h {
                for x in 0..w {
                    let p = (y << c.y_shift) * width + (x << c.x_shift);
                    if !self.settled[p] && mask.data[p] == 0 {
                        let i = layout.sample_index(c, x, y);
                        self.plate[c.plane][i] = planes[c.plane][i];
                    }
                }
            }
        }
        for (s, &m) in self.settled.iter_mut().zip(&mask.data) {
            *s |= m == 0;
        }
    }
}

/// Why a background picture cannot be used.
#[derive(Debug)]
pub struct ImageError(pub String);

impl std::fmt::Display for ImageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ImageError {}

/// Longest side of a background picture, in pixels.
pub const MAX_BACKDROP_SIDE: u32 = 8192;
/// Most memory decoding a background picture may take, in bytes.
pub const MAX_BACKDROP_BYTES: u64 = 512 << 20;

/// A decoded background picture (PNG or JPEG), RGB.
#[derive(Clone, Debug)]
pub struct BackdropImage(image::RgbImage);

impl BackdropImage {
    /// Reads and decodes `path`; the error names the file and what went wrong.
    pub fn open(path: &Path) -> Result<Self, ImageError> {
        let data = picture::read_picture_file(path)
            .map_err(|e| ImageError(format!("{}: {e}", path.display())))?;
        Self::decode(&data)
            .map_err(|e| ImageError(format!("cannot decode {}: {e}", path.display())))
    }

    /// Decodes a PNG or JPEG held in memory. A file is whatever its user hands us: a picture
    /// larger than [`MAX_BACKDROP_SIDE`] a side, or one that would need more than
    /// [`MAX_BACKDROP_BYTES`] to decode, is refused before anything that size is allocated.
    pub fn decode(data: &[u8]) -> Result<Self, image::ImageError> {
        let mut reader =
            image::ImageReader::new(std::io::Cursor::new(data)).with_guessed_format()?;
        let mut limits = image::Limits::default();
        limits.max_image_width = Some(MAX_BACKDROP_SIDE);
        limits.max_image_height = Some(MAX_BACKDROP_SIDE);
        limits.max_alloc = Some(MAX_BACKDROP_BYTES);
        reader.limits(limits);
        Ok(BackdropImage(reader.decode()?.into_rgb8()))
    }

    /// The picture scaled to cover `width` x `height` (aspect kept, the overflow cropped
    /// evenly), tightly packed RGB.
    pub fn cover(&self, width: u32, height: u32) -> Vec<u8> {
        let (iw, ih) = self.0.dimensions();
        let scale = (width as f32 / iw as f32).max(height as f32 / ih as f32);
        let (cw, ch) = (
            ((width as f32 / scale).round() as u32).clamp(1, iw),
            ((height as f32 / scale).round() as u32).clamp(1, ih),
        );
        let crop =
            image::imageops::crop_imm(&self.0, (iw - cw) / 2, (ih - ch) / 2, cw, ch).to_image();
        image::imageops::resize(
            &crop,
            width.max(1),
            height.max(1),
            image::imageops::FilterType::Triangle,
        )
        .into_raw()
    }

    /// The picture as planes of `layout`, with `plane_lengths` bytes each.
    pub fn plate(&self, layout: &PictureLayout, plane_lengths: &[usize]) -> Vec<Vec<u8>> {
        let mut plate: Vec<Vec<u8>> = plane_lengths.iter().map(|&n| vec![0; n]).collect();
        let mut planes: Vec<&mut [u8]> = plate.iter_mut().map(|p| p.as_mut_slice()).collect();
        layout.paint_rgb(&mut planes, &self.cover(layout.width, layout.height));
        plate
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn i420(w: u32, h: u32, y: u8) -> (PictureLayout, Vec<Vec<u8>>) {
        let layout = PictureLayout::i420(w, h);
        let c = (w.div_ceil(2) * h.div_ceil(2)) as usize;
        (
            layout,
            vec![vec![y; (w * h) as usize], vec![128; c], vec![128; c]],
        )
    }

    #[test]
    fn colour_replaces_only_the_background() {
        let (layout, mut planes) = i420(4, 2, 200);
        let mut mask = Gray::new(4, 2);
        mask.data[..2].fill(255);
        mask.data[4..6].fill(255);
        let mut refs: Vec<&mut [u8]> = planes.iter_mut().map(|p| p.as_mut_slice()).collect();
        replace(
            &layout,
            &mut refs,
            &mask,
            Backdrop::Colour {
                rgb: [0, 0, 0],
                opacity: 255,
            },
        );
        assert_eq!(planes[0], vec![200, 200, 16, 16, 200, 200, 16, 16]);
        assert_eq!(planes[1], vec![128, 128]);
    }

    #[test]
    fn a_half_mask_mixes_half() {
        assert_eq!(
            (mix(200, 100, 0), mix(200, 100, 255), mix(200, 100, 128)),
            (100, 200, 150)
        );
    }

    #[test]
    fn frozen_plate_fills_in_where_the_person_was() {
        let (layout, first) = i420(2, 2, 10);
        let refs: Vec<&[u8]> = first.iter().map(|p| p.as_slice()).collect();
        let mut mask = Gray::new(2, 2);
        mask.data[0] = 255;
        let mut plate = FrozenPlate::default();
        plate.update(&layout, &refs, &mask);
        let (_, second) = i420(2, 2, 90);
        let refs: Vec<&[u8]> = second.iter().map(|p| p.as_slice()).collect();
        plate.update(&layout, &refs, &Gray::new(2, 2));
        assert_eq!(
            plate.plate[0],
            vec![90, 10, 10, 10],
            "only the uncovered pixel is new"
        );
    }

    /// A real PNG of `w` x `h` whose header then claims `claim_w` x `claim_h`, checksum fixed,
    /// as a hostile or broken file could.
    fn png_claiming(claim_w: u32, claim_h: u32) -> Vec<u8> {
        let mut data = Vec::new();
        image::RgbImage::new(4, 4)
            .write_to(
                &mut std::io::Cursor::new(&mut data),
                image::ImageFormat::Png,
            )
            .unwrap();
        // Signature (8), IHDR length (4), "IHDR" (4), width, height, ...; the CRC follows the
        // 13 data bytes and covers the type and the data.
        data[16..20].copy_from_slice(&claim_w.to_be_bytes());
        data[20..24].copy_from_slice(&claim_h.to_be_bytes());
        let crc = crc32(&data[12..29]);
        data[29..33].copy_from_slice(&crc.to_be_bytes());
        data
    }

    /// CRC-32 as PNG uses it (reflected 0xedb88320), bit by bit: a test needs no table.
    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &b in bytes {
            crc ^= b as u32;
            for _ in 0..8 {
                crc = if crc & 1 != 0 {
                    (crc >> 1) ^ 0xedb8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    #[test]
    fn backdrops_decode_and_huge_or_broken_files_are_refused_before_allocating() {
        let ok = BackdropImage::decode(&png_claiming(4, 4)).expect("the untouched picture decodes");
        assert_eq!(ok.cover(8, 8).len(), 8 * 8 * 3);
        // 60000 x 60000 RGB would be 10 GB.
        let err = BackdropImage::decode(&png_claiming(60_000, 60_000)).unwrap_err();
        assert!(
            matches!(err, image::ImageError::Limits(_)),
            "refused for its size, not later: {err}"
        );
        // 8000 x 8000 (192 MB) is within both limits: the decoder then finds too little data,
        // an error and not a panic.
        assert!(BackdropImage::decode(&png_claiming(8000, 8000)).is_err());
        for junk in [
            &b""[..],
            b"\x89PNG\r\n\x1a\n",
            b"\xff\xd8\xff\xe0 not really",
        ] {
            assert!(BackdropImage::decode(junk).is_err());
        }
    }
}
