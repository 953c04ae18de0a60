// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! The codec's own picture: coded planes padded to whole macroblocks, and the mapping from and
//! to each pixel format's memory layout.

use crate::format::{Layout, PixelFormat, MB};
use crate::mbcode::{MbGeom, MbPixels, MotionVector};
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

    /// Coded plane `p`, row after row, `stride(p)` samples apart.
    pub(crate) fn plane(&self, p: usize) -> &[u8] {
        &self.planes[p]
    }

    pub(crate) fn stride(&self, p: usize) -> usize {
        self.strides[p]
    }

    /// Copy macroblock `mb` of `other` (same layout) into this picture.
    fn copy_mb_from(&mut self, other: &Picture, mb: usize) {
        for p in 0..self.geom.planes {
            let (side, stride) = (self.geom.side[p], self.strides[p]);
            let origin = self.mb_origin(p, mb);
            for y in 0..side {
                let row = origin + y * stride..origin + y * stride + side;
                copy_row(&mut self.planes[p][row.clone()], &other.planes[p][row]);
            }
        }
    }

    /// The prediction of macroblock `mb` from this picture displaced by `mv` (spec 5.9): each
    /// plane's block at its origin plus the vector, samples outside the coded plane taken from
    /// its nearest edge, half-sample positions the rounded mean of their two or four neighbours.
    pub fn predict_mb(&self, mb: usize, mv: MotionVector, out: &mut MbPixels) {
        if mv == MotionVector::ZERO {
            return self.load_mb(mb, out);
        }
        for p in 0..self.geom.planes {
            let side = self.geom.side[p];
            let dst = &mut out.0[self.geom.offset[p]..][..side * side];
            self.predict_block(p, mb, mv, dst);
        }
    }

    /// [`Self::predict_mb`] for plane `p` only, into `dst` (`side` x `side`, row-major).
    pub(crate) fn predict_block(&self, p: usize, mb: usize, mv: MotionVector, dst: &mut [u8]) {
        let shift = if p == 0 {
            0
        } else {
            self.layout.format.chroma_shift()
        };
        let v = mv.in_plane(shift);
        let (side, stride) = (self.geom.side[p], self.strides[p]);
        let plane = &self.planes[p];
        let height = plane.len() / stride;
        let cols = self.layout.mb_cols();
        let x0 = ((mb % cols) * side) as i64 + (v.x >> 1) as i64;
        let y0 = ((mb / cols) * side) as i64 + (v.y >> 1) as i64;
        let (fx, fy) = ((v.x & 1) as usize, (v.y & 1) as usize);
        // What the interpolation reads: one more column or row at a half position.
        let (nx, ny) = (side + fx, side + fy);
        let inside = x0 >= 0 && y0 >= 0 && x0 as usize + nx <= stride && y0 as usize + ny <= height;
        if inside {
            let from = y0 as usize * stride + x0 as usize;
            return interpolate(&plane[from..], stride, side, fx, fy, dst);
        }
        // Near an edge: the window the interpolation reads, edge samples repeated outside the
        // plane: each row is the edge sample, the part inside, the other edge sample.
        let n = side + 1;
        let inner = |x: i64| (x - x0).clamp(0, nx as i64) as usize;
        let (first, past) = (inner(0), inner(stride as i64));
        let mut window = [0u8; (MB + 1) * (MB + 1)];
        for (y, row) in window.chunks_exact_mut(n).take(ny).enumerate() {
            let line =
                &plane[(y0 + y as i64).clamp(0, height as i64 - 1) as usize * stride..][..stride];
            row[..first].fill(line[0]);
            if first < past {
                let from = (x0 + first as i64) as usize;
                row[first..past].copy_from_slice(&line[from..from + past - first]);
            }
            row[past..nx].fill(line[stride - 1]);
        }
        interpolate(&window, n, side, fx, fy, dst);
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
            if side == 16 {
                for by in [0, 8 * stride] {
                    let [l, r] = block_pair_sse(&a[by..], &b[by..], stride);
                    worst = worst.max(l).max(r);
                }
            } else {
                worst = worst.max(block_sse(a, b, stride));
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
                    // Once a row differs, the rest of the block need not be read.
                    *f = *f || !rows_equal(a, b);
                }
            }
        }
    }
}

/// What a decoder shows, and the picture of the end of the previous frame that motion vectors
/// point into: macroblocks of a frame predict only from the previous frame, never from each
/// other, so every chunk decodes alone. Only the macroblocks a frame touched are copied over
/// when the next one starts.
#[derive(Clone, Debug)]
pub struct Reconstruction {
    shown: Picture,
    previous: Picture,
    touched: Vec<u32>,
    is_touched: Vec<bool>,
}

impl Reconstruction {
    pub fn blank(layout: Layout) -> Self {
        Reconstruction {
            shown: Picture::blank(layout),
            previous: Picture::blank(layout),
            touched: Vec::new(),
            is_touched: vec![false; layout.mb_count()],
        }
    }

    pub fn shown(&self) -> &Picture {
        &self.shown
    }

    /// The picture as the previous frame left it: what predictions read.
    pub fn previous(&self) -> &Picture {
        &self.previous
    }

    pub fn clear(&mut self) {
        self.shown.clear();
        self.previous.clear();
        self.touched.clear();
        self.is_touched.fill(false);
    }

    /// A new frame starts: the previous picture catches up with what the last one stored.
    pub fn begin_frame(&mut self) {
        for &mb in &self.touched {
            self.previous.copy_mb_from(&self.shown, mb as usize);
            self.is_touched[mb as usize] = false;
        }
        self.touched.clear();
    }

    pub fn store_mb(&mut self, mb: usize, px: &MbPixels) {
        self.split().1.store_mb(mb, px);
    }

    /// The previous picture to predict from, and a writer of the shown one, at once.
    pub fn split(&mut self) -> (&Picture, ShownWriter<'_>) {
        (
            &self.previous,
            ShownWriter {
                shown: &mut self.shown,
                touched: &mut self.touched,
                is_touched: &mut self.is_touched,
            },
        )
    }
}

/// Writes macroblocks of a [`Reconstruction`]'s shown picture, noting which a frame touched.
pub struct ShownWriter<'a> {
    shown: &'a mut Picture,
    touched: &'a mut Vec<u32>,
    is_touched: &'a mut [bool],
}

impl ShownWriter<'_> {
    pub fn store_mb(&mut self, mb: usize, px: &MbPixels) {
        if !std::mem::replace(&mut self.is_touched[mb], true) {
            self.touched.push(mb as u32);
        }
        self.shown.store_mb(mb, px);
    }
}

/// The `side` x `side` block at `src` (rows `stride` apart) moved by half a sample right when
/// `fx` is 1 and down when `fy` is 1: the rounded mean of the two or four samples around each
/// half position (SSE2 on x86_64, the scalar reference elsewhere; bit-identical).
fn interpolate(src: &[u8], stride: usize, side: usize, fx: usize, fy: usize, dst: &mut [u8]) {
    // Every row read, the one below the last included when moving down.
    let src = &src[..(side - 1 + fy) * stride + side + fx];
    let dst = &mut dst[..side * side];
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: SSE2 is part of the x86_64 baseline; the kernel reads `side + 1` bytes of
        // rows 0..side-1+fy of `src` only where `fx` says (lengths checked above) and writes
        // `side * side` bytes of `dst`.
        unsafe { interpolate_sse2(src, stride, side, fx, fy, dst) }
    }
    #[cfg(not(target_arch = "x86_64"))]
    interpolate_scalar(src, stride, side, fx, fy, dst)
}

/// The definition [`interpolate`]'s kernel must match.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
fn interpolate_scalar(
    src: &[u8],
    stride: usize,
    side: usize,
    fx: usize,
    fy: usize,
    dst: &mut [u8],
) {
    for (y, out) in dst.chunks_exact_mut(side).take(side).enumerate() {
        for (x, o) in out.iter_mut().enumerate() {
            let at = |dx: usize, dy: usize| src[(y + dy) * stride + x + dx] as u32;
            *o = ((at(0, 0) + at(fx, 0) + at(0, fy) + at(fx, fy) + 2) >> 2) as u8;
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "sse2")]
unsafe fn interpolate_sse2(
    src: &[u8],
    stride: usize,
    side: usize,
    fx: usize,
    fy: usize,
    dst: &mut [u8],
) {
    use std::arch::x86_64::*;
    // Loads and stores of 16 or 8 bytes.
    let load = |at: usize| {
        if side == 16 {
            _mm_loadu_si128(src.as_ptr().add(at) as *const __m128i)
        } else {
            _mm_loadl_epi64(src.as_ptr().add(at) as *const __m128i)
        }
    };
    let zero = _mm_setzero_si128();
    for y in 0..side {
        let row = y * stride;
        let v = match (fx, fy) {
            (0, 0) => load(row),
            // _mm_avg_epu8 is (a + b + 1) >> 1, the two-sample mean.
            (1, 0) => _mm_avg_epu8(load(row), load(row + 1)),
            (0, _) => _mm_avg_epu8(load(row), load(row + stride)),
            _ => {
                // Four samples: sum in 16 bits, + 2, >> 2, for the low and high halves.
                let (a, b) = (load(row), load(row + 1));
                let (c, d) = (load(row + stride), load(row + stride + 1));
                let half = |f: unsafe fn(__m128i, __m128i) -> __m128i| {
                    let s = _mm_add_epi16(
                        _mm_add_epi16(f(a, zero), f(b, zero)),
                        _mm_add_epi16(f(c, zero), f(d, zero)),
                    );
                    _mm_srli_epi16(_mm_add_epi16(s, _mm_set1_epi16(2)), 2)
                };
                _mm_packus_epi16(half(_mm_unpacklo_epi8), half(_mm_unpackhi_epi8))
            }
        };
        let out = dst.as_mut_ptr().add(y * side);
        if side == 16 {
            _mm_storeu_si128(out as *mut __m128i, v);
        } else {
            _mm_storel_epi64(out as *mut __m128i, v);
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

/// [`block_sse`] of the two 8x8 blocks side by side at `a` and `b`, in one pass of 16-sample
/// rows.
#[inline]
fn block_pair_sse(a: &[u8], b: &[u8], stride: usize) -> [u32; 2] {
    let (a, b) = (&a[..7 * stride + 16], &b[..7 * stride + 16]);
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: SSE2 is part of the x86_64 baseline; each 16-byte load reads
        // a[y * stride..][..16] (and the same of b), inside the slices checked just above.
        unsafe { block_pair_sse_sse2(a, b, stride) }
    }
    #[cfg(not(target_arch = "x86_64"))]
    [block_sse(a, b, stride), block_sse(&a[8..], &b[8..], stride)]
}

#[cfg(target_arch = "x86_64")]
#[inline]
unsafe fn block_pair_sse_sse2(a: &[u8], b: &[u8], stride: usize) -> [u32; 2] {
    use std::arch::x86_64::*;
    let zero = _mm_setzero_si128();
    let (mut left, mut right) = (_mm_setzero_si128(), _mm_setzero_si128());
    for y in 0..8 {
        let pa = _mm_loadu_si128(a.as_ptr().add(y * stride) as *const __m128i);
        let pb = _mm_loadu_si128(b.as_ptr().add(y * stride) as *const __m128i);
        let lo = _mm_sub_epi16(_mm_unpacklo_epi8(pa, zero), _mm_unpacklo_epi8(pb, zero));
        let hi = _mm_sub_epi16(_mm_unpackhi_epi8(pa, zero), _mm_unpackhi_epi8(pb, zero));
        left = _mm_add_epi32(left, _mm_madd_epi16(lo, lo));
        right = _mm_add_epi32(right, _mm_madd_epi16(hi, hi));
    }
    let sum = |v: __m128i| {
        let s2 = _mm_add_epi32(v, _mm_shuffle_epi32(v, 0b01_00_11_10));
        _mm_cvtsi128_si32(_mm_add_epi32(s2, _mm_shuffle_epi32(s2, 0b00_00_00_01))) as u32
    };
    [sum(left), sum(right)]
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

    /// The prediction as the spec words it (section 5.9), sample by sample.
    fn predicted_sample(
        p: &Picture,
        plane: usize,
        mb: usize,
        mv: MotionVector,
        i: usize,
        j: usize,
    ) -> u8 {
        let shift = if plane == 0 {
            0
        } else {
            p.layout.format.chroma_shift()
        };
        let v = mv.in_plane(shift);
        let side = p.geom.side[plane];
        let (w, h) = (
            p.strides[plane] as i64,
            (p.planes[plane].len() / p.strides[plane]) as i64,
        );
        let cols = p.layout.mb_cols();
        let x = ((mb % cols) * side + i) as i64 + (v.x >> 1) as i64;
        let y = ((mb / cols) * side + j) as i64 + (v.y >> 1) as i64;
        let r = |x: i64, y: i64| {
            p.planes[plane][(y.clamp(0, h - 1) * w + x.clamp(0, w - 1)) as usize] as u32
        };
        let (fx, fy) = ((v.x & 1) as i64, (v.y & 1) as i64);
        ((r(x, y) + r(x + fx, y) + r(x, y + fy) + r(x + fx, y + fy) + 2) >> 2) as u8
    }

    #[test]
    fn predictions_are_the_spec_in_the_middle_and_at_every_edge() {
        let layout = Layout::new(PixelFormat::I420, 48, 40).unwrap();
        let mut p = Picture::blank(layout);
        let data: Vec<u8> = (0..packed_frame_size(&layout))
            .map(|i| (i * 73 % 251) as u8)
            .collect();
        p.import(&packed_planes(&layout, &data).unwrap()).unwrap();
        for mb in 0..layout.mb_count() {
            for mv in [
                (0, 0),
                (1, 0),
                (0, 1),
                (1, 1),
                (-3, 5),
                (7, -9),
                (-40, 3),
                (33, 31),
                (-1, -1),
            ] {
                let mv = MotionVector::new(mv.0, mv.1);
                let mut out = MbPixels::default();
                p.predict_mb(mb, mv, &mut out);
                for plane in 0..3 {
                    let side = p.geom.side[plane];
                    for j in 0..side {
                        for i in 0..side {
                            assert_eq!(
                                out.0[p.geom.offset[plane] + j * side + i],
                                predicted_sample(&p, plane, mb, mv, i, j),
                                "mb {mb}, {mv:?}, plane {plane}, ({i}, {j})"
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn the_interpolation_kernel_matches_the_definition() {
        let stride = 40;
        let src: Vec<u8> = (0..18 * stride).map(|i| (i * 89 % 256) as u8).collect();
        let extremes = [255u8; 18 * 40];
        for side in [8, 16] {
            for (fx, fy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                for src in [&src[..], &extremes[..]] {
                    let (mut got, mut want) = ([0u8; 256], [0u8; 256]);
                    interpolate(src, stride, side, fx, fy, &mut got);
                    interpolate_scalar(src, stride, side, fx, fy, &mut want);
                    assert_eq!(got, want, "side {side}, fx {fx}, fy {fy}");
                }
            }
        }
    }

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
        assert_eq!(
            block_pair_sse(&a, &b, stride),
            [
                block_sse(&a, &b, stride),
                block_sse(&a[8..], &b[8..], stride)
            ]
        );
        assert_eq!(
            block_pair_sse(&[255; 200], &[0; 200], 20),
            [64 * 255 * 255; 2]
        );
    }
}
