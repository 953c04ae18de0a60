// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! The codec's own picture: coded planes padded to whole macroblocks, and the mapping from and
//! to each pixel format's memory layout.

use crate::format::{Layout, PixelFormat};
use crate::mbcode::{MbGeom, MbPixels};
use crate::Error;

/// One memory plane of a raw frame, as a video frame hands it over.
#[derive(Clone, Copy, Debug)]
pub struct InPlane<'a> {
    pub data: &'a [u8],
    /// Bytes from one row to the next.
    pub stride: usize,
}

/// One writable memory plane of a raw frame.
#[derive(Debug)]
pub struct OutPlane<'a> {
    pub data: &'a mut [u8],
    pub stride: usize,
}

/// Where coded plane `p` lives in memory: (memory plane, byte offset in a pixel, bytes per pixel).
/// Packed RGB is coded as G, B, R: G carries most of the luminance and gets the first plane's
/// contexts.
fn sample_map(format: PixelFormat) -> &'static [(usize, usize, usize)] {
    match format {
        PixelFormat::Gray8 => &[(0, 0, 1)],
        PixelFormat::I420 => &[(0, 0, 1), (1, 0, 1), (2, 0, 1)],
        PixelFormat::Nv12 => &[(0, 0, 1), (1, 0, 2), (1, 1, 2)],
        PixelFormat::Rgb => &[(0, 1, 3), (0, 2, 3), (0, 0, 3)],
        PixelFormat::Bgrx => &[(0, 1, 4), (0, 0, 4), (0, 2, 4)],
    }
}

/// Number of memory planes a frame of `format` has.
pub fn memory_planes(format: PixelFormat) -> usize {
    match format {
        PixelFormat::I420 => 3,
        PixelFormat::Nv12 => 2,
        _ => 1,
    }
}

/// Row length in bytes and row count of each memory plane of a tightly packed frame (no row
/// padding, planes back to back), as Y4M files and many applications hold frames.
pub fn packed_plane_sizes(layout: &Layout) -> Vec<(usize, usize)> {
    let (w, h) = (layout.width as usize, layout.height as usize);
    let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
    match layout.format {
        PixelFormat::Gray8 => vec![(w, h)],
        PixelFormat::I420 => vec![(w, h), (cw, ch), (cw, ch)],
        PixelFormat::Nv12 => vec![(w, h), (2 * cw, ch)],
        PixelFormat::Rgb => vec![(3 * w, h)],
        PixelFormat::Bgrx => vec![(4 * w, h)],
    }
}

/// Bytes of one tightly packed frame.
pub fn packed_frame_size(layout: &Layout) -> usize {
    packed_plane_sizes(layout).iter().map(|(s, h)| s * h).sum()
}

/// The memory planes of a tightly packed frame.
pub fn packed_planes<'a>(layout: &Layout, mut data: &'a [u8]) -> Result<Vec<InPlane<'a>>, Error> {
    if data.len() < packed_frame_size(layout) {
        return Err(Error::BadInput("frame smaller than its layout"));
    }
    Ok(packed_plane_sizes(layout)
        .into_iter()
        .map(|(stride, rows)| {
            let (plane, rest) = data.split_at(stride * rows);
            data = rest;
            InPlane {
                data: plane,
                stride,
            }
        })
        .collect())
}

/// The writable memory planes of a tightly packed frame.
pub fn packed_planes_mut<'a>(
    layout: &Layout,
    mut data: &'a mut [u8],
) -> Result<Vec<OutPlane<'a>>, Error> {
    if data.len() < packed_frame_size(layout) {
        return Err(Error::BadInput("frame smaller than its layout"));
    }
    Ok(packed_plane_sizes(layout)
        .into_iter()
        .map(|(stride, rows)| {
            let (plane, rest) = std::mem::take(&mut data).split_at_mut(stride * rows);
            data = rest;
            OutPlane {
                data: plane,
                stride,
            }
        })
        .collect())
}

/// Check that memory plane `mem` with `len` bytes and `stride` holds a `w` x `h` coded plane.
fn check_plane(len: usize, stride: usize, w: usize, h: usize, offset: usize, step: usize) -> bool {
    stride >= w * step && len > (h - 1) * stride + (w - 1) * step + offset
}

#[derive(Clone, Debug)]
pub struct Picture {
    pub layout: Layout,
    pub geom: MbGeom,
    planes: Vec<Vec<u8>>,
    strides: [usize; 3],
}

impl Picture {
    /// A mid-grey picture.
    pub fn blank(layout: Layout) -> Self {
        let geom = MbGeom::new(&layout);
        let mut strides = [0; 3];
        let planes = (0..geom.planes)
            .map(|p| {
                let s = layout.plane(p);
                strides[p] = s.padded_width;
                vec![layout.format.blank_value(p); s.padded_width * s.padded_height]
            })
            .collect();
        Picture {
            layout,
            geom,
            planes,
            strides,
        }
    }

    pub fn clear(&mut self) {
        for (p, plane) in self.planes.iter_mut().enumerate() {
            plane.fill(self.layout.format.blank_value(p));
        }
    }

    /// Copy a raw frame in, replicating the last column and row into the padding.
    pub fn import(&mut self, input: &[InPlane]) -> Result<(), Error> {
        let format = self.layout.format;
        if input.len() < memory_planes(format) {
            return Err(Error::BadInput("too few planes for the format"));
        }
        for (p, &(mem, offset, step)) in sample_map(format).iter().enumerate() {
            let size = self.layout.plane(p);
            let (w, h) = (size.width, size.height);
            let src = input[mem];
            if !check_plane(src.data.len(), src.stride, w, h, offset, step) {
                return Err(Error::BadInput(
                    "plane smaller than its size and stride need",
                ));
            }
            let stride = self.strides[p];
            let dst = &mut self.planes[p];
            for y in 0..h {
                let row = &mut dst[y * stride..(y + 1) * stride];
                let from = &src.data[y * src.stride + offset..];
                if step == 1 {
                    row[..w].copy_from_slice(&from[..w]);
                } else {
                    for (x, d) in row[..w].iter_mut().enumerate() {
                        *d = from[x * step];
                    }
                }
                let last = row[w - 1];
                row[w..].fill(last);
            }
            let (done, rest) = dst.split_at_mut(h * stride);
            let last_row = &done[(h - 1) * stride..];
            for row in rest.chunks_exact_mut(stride) {
                row.copy_from_slice(last_row);
            }
        }
        Ok(())
    }

    /// Write the picture into a raw frame's memory planes. Filler bytes (the x of BGRx) are 255.
    pub fn export(&self, out: &mut [OutPlane]) -> Result<(), Error> {
        let format = self.layout.format;
        if out.len() < memory_planes(format) {
            return Err(Error::BadInput("too few planes for the format"));
        }
        for (p, &(mem, offset, step)) in sample_map(format).iter().enumerate() {
            let size = self.layout.plane(p);
            let (w, h) = (size.width, size.height);
            let dst = &mut out[mem];
            if !check_plane(dst.data.len(), dst.stride, w, h, offset, step) {
                return Err(Error::BadInput(
                    "plane smaller than its size and stride need",
                ));
            }
            let src = &self.planes[p];
            for y in 0..h {
                let from = &src[y * self.strides[p]..][..w];
                let row = &mut dst.data[y * dst.stride + offset..];
                if step == 1 {
                    row[..w].copy_from_slice(from);
                } else {
                    for (x, &v) in from.iter().enumerate() {
                        row[x * step] = v;
                    }
                }
            }
        }
        if format == PixelFormat::Bgrx {
            let (w, h) = (self.layout.width as usize, self.layout.height as usize);
            let dst = &mut out[0];
            for y in 0..h {
                for x in 0..w {
                    dst.data[y * dst.stride + x * 4 + 3] = 255;
                }
            }
        }
        Ok(())
    }

    /// Top-left sample of macroblock `mb` in plane `p`, as an index into that plane.
    fn mb_origin(&self, p: usize, mb: usize) -> usize {
        let cols = self.layout.mb_cols();
        let side = self.geom.side[p];
        (mb / cols) * side * self.strides[p] + (mb % cols) * side
    }

    pub fn load_mb(&self, mb: usize, out: &mut MbPixels) {
        for p in 0..self.geom.planes {
            let (side, stride) = (self.geom.side[p], self.strides[p]);
            let origin = self.mb_origin(p, mb);
            let dst = &mut out.0[self.geom.offset[p]..][..side * side];
            for (y, row) in dst.chunks_exact_mut(side).enumerate() {
                copy_row(row, &self.planes[p][origin + y * stride..][..side]);
            }
        }
    }

    pub fn store_mb(&mut self, mb: usize, px: &MbPixels) {
        for p in 0..self.geom.planes {
            let (side, stride) = (self.geom.side[p], self.strides[p]);
            let origin = self.mb_origin(p, mb);
            let src = &px.0[self.geom.offset[p]..][..side * side];
            for (y, row) in src.chunks_exact(side).enumerate() {
                copy_row(&mut self.planes[p][origin + y * stride..][..side], row);
            }
        }
    }

    /// Difference of macroblock `mb` between two pictures of the same layout: the largest sum of
    /// squared differences over its 8x8 blocks (a small local change must not drown in a large
    /// still block), over the first plane only when `first_plane_only`.
    pub fn mb_max_block_sse(&self, other: &Picture, mb: usize, first_plane_only: bool) -> u32 {
        let planes = if first_plane_only {
            1
        } else {
            self.geom.planes
        };
        let mut worst = 0;
        for p in 0..planes {
            let (side, stride) = (self.geom.side[p], self.strides[p]);
            let origin = self.mb_origin(p, mb);
            let (a, b) = (&self.planes[p][origin..], &other.planes[p][origin..]);
            for by in (0..side).step_by(8) {
                for bx in (0..side).step_by(8) {
                    worst = worst.max(block_sse(
                        &a[by * stride + bx..],
                        &b[by * stride + bx..],
                        stride,
                    ));
                }
            }
        }
        worst
    }

    /// True if macroblock `mb` is identical in both pictures.
    pub fn mb_equal(&self, other: &Picture, mb: usize) -> bool {
        (0..self.geom.planes).all(|p| {
            let (side, stride) = (self.geom.side[p], self.strides[p]);
            let origin = self.mb_origin(p, mb);
            (0..side).all(|y| {
                let i = origin + y * stride;
                rows_equal(&self.planes[p][i..i + side], &other.planes[p][i..i + side])
            })
        })
    }

    /// For every macroblock, whether it differs between the two pictures: one pass over memory.
    pub fn differing_mbs(&self, other: &Picture, out: &mut Vec<bool>) {
        let cols = self.layout.mb_cols();
        out.clear();
        out.resize(self.layout.mb_count(), false);
        for p in 0..self.geom.planes {
            let (side, stride) = (self.geom.side[p], self.strides[p]);
            for (y, (ra, rb)) in self.planes[p]
                .chunks_exact(stride)
                .zip(other.planes[p].chunks_exact(stride))
                .enumerate()
            {
                let flags = &mut out[(y / side) * cols..][..cols];
                for (f, (a, b)) in flags
                    .iter_mut()
                    .zip(ra.chunks_exact(side).zip(rb.chunks_exact(side)))
                {
                    *f |= !rows_equal(a, b);
                }
            }
        }
    }
}

/// Copy one macroblock row (16 or 8 samples) as a fixed-size move rather than a library call.
#[inline(always)]
fn copy_row(dst: &mut [u8], src: &[u8]) {
    match (
        <&mut [u8; 16]>::try_from(&mut *dst),
        <&[u8; 16]>::try_from(src),
    ) {
        (Ok(d), Ok(s)) => *d = *s,
        _ => match (
            <&mut [u8; 8]>::try_from(&mut *dst),
            <&[u8; 8]>::try_from(src),
        ) {
            (Ok(d), Ok(s)) => *d = *s,
            _ => dst.copy_from_slice(src),
        },
    }
}

/// Sum of squared differences of two 8x8 blocks (rows `stride` apart).
#[inline]
fn block_sse(a: &[u8], b: &[u8], stride: usize) -> u32 {
    let (a, b) = (&a[..7 * stride + 8], &b[..7 * stride + 8]);
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: SSE2 is part of the x86_64 baseline; each 8-byte load reads a[y * stride..][..8]
        // (and the same of b), inside the slices whose length was checked just above.
        unsafe { block_sse_sse2(a, b, stride) }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let mut acc = [0i32; 8];
        for y in 0..8 {
            for i in 0..8 {
                let d = a[y * stride + i] as i32 - b[y * stride + i] as i32;
                acc[i] += d * d;
            }
        }
        acc.iter().sum::<i32>() as u32
    }
}

/// SSE2 version of [`block_sse`]: widen to 16 bits, subtract, multiply-add pairs to 32 bits.
#[cfg(target_arch = "x86_64")]
#[inline]
unsafe fn block_sse_sse2(a: &[u8], b: &[u8], stride: usize) -> u32 {
    use std::arch::x86_64::*;
    let zero = _mm_setzero_si128();
    let mut acc = _mm_setzero_si128();
    for y in 0..8 {
        let pa = _mm_loadl_epi64(a.as_ptr().add(y * stride) as *const __m128i);
        let pb = _mm_loadl_epi64(b.as_ptr().add(y * stride) as *const __m128i);
        let d = _mm_sub_epi16(_mm_unpacklo_epi8(pa, zero), _mm_unpacklo_epi8(pb, zero));
        acc = _mm_add_epi32(acc, _mm_madd_epi16(d, d));
    }
    let hi = _mm_shuffle_epi32(acc, 0b01_00_11_10);
    let sum2 = _mm_add_epi32(acc, hi);
    let sum1 = _mm_add_epi32(sum2, _mm_shuffle_epi32(sum2, 0b00_00_00_01));
    _mm_cvtsi128_si32(sum1) as u32
}

/// Equality of two macroblock rows (8 or 16 samples) without a library call: fixed-size
/// compares become single vector compares.
#[inline]
fn rows_equal(a: &[u8], b: &[u8]) -> bool {
    match (<&[u8; 16]>::try_from(a), <&[u8; 16]>::try_from(b)) {
        (Ok(x), Ok(y)) => u128::from_ne_bytes(*x) == u128::from_ne_bytes(*y),
        _ => match (<&[u8; 8]>::try_from(a), <&[u8; 8]>::try_from(b)) {
            (Ok(x), Ok(y)) => u64::from_ne_bytes(*x) == u64::from_ne_bytes(*y),
            _ => a == b,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_sse_matches_the_definition() {
        let stride = 21;
        let a: Vec<u8> = (0..8 * stride).map(|i| (i * 37 % 256) as u8).collect();
        let b: Vec<u8> = (0..8 * stride).map(|i| (i * 91 % 253) as u8).collect();
        let mut want = 0u32;
        for y in 0..8 {
            for x in 0..8 {
                let d = a[y * stride + x] as i32 - b[y * stride + x] as i32;
                want += (d * d) as u32;
            }
        }
        assert_eq!(block_sse(&a, &b, stride), want);
        assert_eq!(block_sse(&[255; 200], &[0; 200], 20), 64 * 255 * 255);
    }
}
