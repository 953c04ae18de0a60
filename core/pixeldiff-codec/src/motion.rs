// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! Motion estimation of the encoder: a global estimate for a camera that moves, a per-macroblock
//! search against the previous reconstruction, and the footprint a vector reads (for the
//! gradual-refresh constraint). Nothing here is normative: a decoder only follows the vectors.

use crate::format::{Layout, MB};
use crate::mbcode::MotionVector;
use crate::picture::Picture;

/// Farthest a search goes from the zero vector, in samples of the first plane.
pub(crate) const SEARCH_RANGE: i32 = 32;
/// Most steps of the diamond search around the best candidate.
const DIAMOND_STEPS: usize = 16;
/// A candidate this close (SAD of the first plane's 256 samples) needs no search: what is left
/// is noise, which no other vector would remove.
const GOOD_ENOUGH_SAD: u32 = 256;

/// The largest raster index among the macroblocks the prediction of `mb` displaced by `mv`
/// reads, in any plane (every macroblock read has a row and a column no larger). Reads outside
/// the coded planes come from their edges, so they count as the edge macroblocks. The first
/// plane reaches furthest: a subsampled plane's vector is halved, rounding away from zero, and
/// so is its macroblock, which never takes it into a further one (the test
/// `the_first_plane_reaches_furthest` checks every vector a search can choose).
pub(crate) fn last_mb_read(layout: &Layout, mb: usize, mv: MotionVector) -> usize {
    let (cols, rows) = (layout.mb_cols(), layout.mb_rows());
    let row = reach(mb / cols, mv.y, rows, MB);
    let col = reach(mb % cols, mv.x, cols, MB);
    row * cols + col
}

/// The macroblock (of `count` along an axis, `side` samples each) holding the last sample the
/// block at macroblock `origin` reads when displaced by `half` half samples: its last sample
/// displaced, and one more at a half position.
fn reach(origin: usize, half: i32, count: usize, side: usize) -> usize {
    let side = side as i64;
    let end = origin as i64 * side + side - 1 + (half >> 1) as i64 + (half & 1) as i64;
    (end.clamp(0, count as i64 * side - 1) / side) as usize
}

/// Per-column and per-row sums of the first plane: what [`global_motion`] matches. (Summing
/// every second row or column instead would make the sums depend on the parity of the shift.)
#[derive(Clone, Debug, Default)]
pub(crate) struct Projections {
    columns: Vec<u32>,
    rows: Vec<u32>,
}

impl Projections {
    pub(crate) fn of(picture: &Picture) -> Self {
        let size = picture.layout.plane(0);
        let (w, h) = (size.width, size.height);
        let (plane, stride) = (picture.plane(0), picture.stride(0));
        let mut columns = vec![0u32; w];
        let mut rows = vec![0u32; h];
        // Sums in 16 bits where 255 times the count fits (256 samples), which vectorise twice
        // as wide, carried into 32 bits after each band of 256 rows or run of 256 samples.
        let mut band = vec![0u16; w];
        for (y, r) in rows.iter_mut().enumerate() {
            *r = project_row(&plane[y * stride..][..w], &mut band);
            if y % 256 == 255 || y + 1 == h {
                for (c, b) in columns.iter_mut().zip(band.iter_mut()) {
                    *c += std::mem::take(b) as u32;
                }
            }
        }
        Projections { columns, rows }
    }
}

/// Add a row's samples to the 16-bit column sums `band` (as long as `line`) and return the
/// row's sum: SSE2 on x86_64, else the scalar reference; bit-identical.
fn project_row(line: &[u8], band: &mut [u16]) -> u32 {
    let band = &mut band[..line.len()];
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: SSE2 is part of the x86_64 baseline; the kernel reads and writes 16 samples
        // at a time inside `line` and `band`, which have the same length, and the tail scalar.
        unsafe { simd::project_row_sse2(line, band) }
    }
    #[cfg(not(target_arch = "x86_64"))]
    project_row_scalar(line, band)
}

/// The definition [`project_row`]'s kernel must match.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
fn project_row_scalar(line: &[u8], band: &mut [u16]) -> u32 {
    for (c, &v) in band.iter_mut().zip(line) {
        *c = c.wrapping_add(v as u16);
    }
    line.iter().map(|&v| v as u32).sum()
}

/// The displacement of the whole picture since `previous`, in whole samples as a vector in
/// half samples: for each axis, the shift that best matches the two pictures' projections (mean
/// absolute difference over the overlap, which must keep at least half the picture). A camera
/// that pans or shakes moves every projection alike; people moving in front of it do not.
pub(crate) fn global_motion(current: &Projections, previous: &Projections) -> MotionVector {
    fn best_shift(cur: &[u32], prev: &[u32]) -> i32 {
        let n = cur.len();
        let range = SEARCH_RANGE.min((n / 2) as i32);
        let mut best: (u64, i32) = (u64::MAX, 0);
        for d in -range..=range {
            // The prediction of cur[i] is prev[i + d], over the overlap.
            let (lo, hi) = ((-d).max(0) as usize, n - d.max(0) as usize);
            let shifted = &prev[(lo as i64 + d as i64) as usize..][..hi - lo];
            // 32-bit sums of runs short enough not to overflow (a projection is at most
            // 8192 * 255), which vectorise; 64 bits across runs.
            let sad: u64 = cur[lo..hi]
                .chunks(1024)
                .zip(shifted.chunks(1024))
                .map(|(a, b)| a.iter().zip(b).map(|(&a, &b)| a.abs_diff(b)).sum::<u32>() as u64)
                .sum();
            // Compare means; prefer the smaller shift on ties.
            let score = sad * 1024 / (hi - lo).max(1) as u64;
            if score < best.0 || (score == best.0 && d.abs() < best.1.abs()) {
                best = (score, d);
            }
        }
        best.1
    }
    if current.columns.len() != previous.columns.len() || current.rows.len() != previous.rows.len()
    {
        return MotionVector::ZERO;
    }
    MotionVector::new(
        2 * best_shift(&current.columns, &previous.columns),
        2 * best_shift(&current.rows, &previous.rows),
    )
}

/// Sum of absolute differences of two 16x16 blocks, rows `a_stride` and `b_stride` apart:
/// AVX2 where the CPU has it, SSE2 on any other x86_64, else the scalar reference.
#[inline]
pub(crate) fn sad16(a: &[u8], a_stride: usize, b: &[u8], b_stride: usize) -> u32 {
    let (a, b) = (&a[..15 * a_stride + 16], &b[..15 * b_stride + 16]);
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx2") {
            // SAFETY: AVX2 is present; every load reads 16 bytes of a row inside the slices
            // whose lengths were checked above.
            return unsafe { simd::sad16_avx2(a, a_stride, b, b_stride) };
        }
        // SAFETY: SSE2 is part of the x86_64 baseline; loads as above.
        unsafe { simd::sad16_sse2(a, a_stride, b, b_stride) }
    }
    #[cfg(not(target_arch = "x86_64"))]
    sad16_scalar(a, a_stride, b, b_stride)
}

/// SAD of the 16x16 `source` (rows 16 apart) against the rounded mean of the blocks at `b`
/// and `step` samples on (1: half a sample right; `stride`: half a sample down), which is the
/// half-sample prediction (`Picture::predict_block`) without building it.
#[inline]
pub(crate) fn sad16_half(source: &[u8], b: &[u8], stride: usize, step: usize) -> u32 {
    let b = &b[..15 * stride + 16 + step];
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: SSE2 is part of the x86_64 baseline; the kernel reads 16 bytes at
        // y * stride and y * stride + step for y < 16, inside `b` as sliced above, and 16
        // bytes of each of the 16 rows of `source` (checked by the slice below).
        unsafe { simd::sad16_half_sse2(&source[..256], b, stride, step) }
    }
    #[cfg(not(target_arch = "x86_64"))]
    sad16_half_scalar(source, b, stride, step)
}

/// The definition [`sad16_half`]'s kernel must match.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
pub(crate) fn sad16_half_scalar(source: &[u8], b: &[u8], stride: usize, step: usize) -> u32 {
    (0..256)
        .map(|i| {
            let at = (i / 16) * stride + i % 16;
            let mean = ((b[at] as u32 + b[at + step] as u32 + 1) >> 1) as u8;
            source[i].abs_diff(mean) as u32
        })
        .sum()
}

/// The definition the vector kernels must match bit for bit (and the kernel elsewhere).
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
pub(crate) fn sad16_scalar(a: &[u8], a_stride: usize, b: &[u8], b_stride: usize) -> u32 {
    (0..16)
        .map(|y| {
            a[y * a_stride..][..16]
                .iter()
                .zip(&b[y * b_stride..][..16])
                .map(|(&x, &y)| x.abs_diff(y) as u32)
                .sum::<u32>()
        })
        .sum()
}

#[cfg(target_arch = "x86_64")]
pub(crate) mod simd {
    use std::arch::x86_64::*;

    /// # Safety
    /// `line` and `band` must have the same length.
    #[target_feature(enable = "sse2")]
    pub(crate) unsafe fn project_row_sse2(line: &[u8], band: &mut [u16]) -> u32 {
        let zero = _mm_setzero_si128();
        let mut total = _mm_setzero_si128();
        let whole = line.len() / 16 * 16;
        for x in (0..whole).step_by(16) {
            let v = _mm_loadu_si128(line.as_ptr().add(x) as *const __m128i);
            // The row's sum: SAD against zero gives two 64-bit partial sums.
            total = _mm_add_epi64(total, _mm_sad_epu8(v, zero));
            let at = band.as_mut_ptr().add(x) as *mut __m128i;
            let lo = _mm_add_epi16(_mm_loadu_si128(at), _mm_unpacklo_epi8(v, zero));
            let hi = _mm_add_epi16(_mm_loadu_si128(at.add(1)), _mm_unpackhi_epi8(v, zero));
            _mm_storeu_si128(at, lo);
            _mm_storeu_si128(at.add(1), hi);
        }
        let mut sum =
            (_mm_cvtsi128_si64(total) + _mm_cvtsi128_si64(_mm_unpackhi_epi64(total, total))) as u32;
        for x in whole..line.len() {
            band[x] = band[x].wrapping_add(line[x] as u16);
            sum += line[x] as u32;
        }
        sum
    }

    /// # Safety
    /// `source` must hold 256 bytes and `b` 16 rows of 16 bytes at `stride`, plus `step`.
    #[target_feature(enable = "sse2")]
    pub(crate) unsafe fn sad16_half_sse2(
        source: &[u8],
        b: &[u8],
        stride: usize,
        step: usize,
    ) -> u32 {
        let mut acc = _mm_setzero_si128();
        for y in 0..16 {
            let s = _mm_loadu_si128(source.as_ptr().add(y * 16) as *const __m128i);
            let p = b.as_ptr().add(y * stride);
            // _mm_avg_epu8 is (a + b + 1) >> 1, the two-sample mean of the prediction.
            let mean = _mm_avg_epu8(
                _mm_loadu_si128(p as *const __m128i),
                _mm_loadu_si128(p.add(step) as *const __m128i),
            );
            acc = _mm_add_epi64(acc, _mm_sad_epu8(s, mean));
        }
        (_mm_cvtsi128_si64(acc) + _mm_cvtsi128_si64(_mm_unpackhi_epi64(acc, acc))) as u32
    }

    /// # Safety
    /// `a` and `b` must hold 16 rows of 16 bytes at their strides.
    #[target_feature(enable = "sse2")]
    pub(crate) unsafe fn sad16_sse2(a: &[u8], a_stride: usize, b: &[u8], b_stride: usize) -> u32 {
        let mut acc = _mm_setzero_si128();
        for y in 0..16 {
            let pa = _mm_loadu_si128(a.as_ptr().add(y * a_stride) as *const __m128i);
            let pb = _mm_loadu_si128(b.as_ptr().add(y * b_stride) as *const __m128i);
            acc = _mm_add_epi64(acc, _mm_sad_epu8(pa, pb));
        }
        (_mm_cvtsi128_si64(acc) + _mm_cvtsi128_si64(_mm_unpackhi_epi64(acc, acc))) as u32
    }

    /// # Safety
    /// As [`sad16_sse2`], and the CPU must have AVX2.
    #[target_feature(enable = "avx2")]
    pub(crate) unsafe fn sad16_avx2(a: &[u8], a_stride: usize, b: &[u8], b_stride: usize) -> u32 {
        let mut acc = _mm256_setzero_si256();
        for y in (0..16).step_by(2) {
            let row = |p: &[u8], stride: usize| {
                let lo = _mm_loadu_si128(p.as_ptr().add(y * stride) as *const __m128i);
                let hi = _mm_loadu_si128(p.as_ptr().add((y + 1) * stride) as *const __m128i);
                _mm256_inserti128_si256(_mm256_castsi128_si256(lo), hi, 1)
            };
            acc = _mm256_add_epi64(acc, _mm256_sad_epu8(row(a, a_stride), row(b, b_stride)));
        }
        let sum = _mm_add_epi64(
            _mm256_castsi256_si128(acc),
            _mm256_extracti128_si256(acc, 1),
        );
        (_mm_cvtsi128_si64(sum) + _mm_cvtsi128_si64(_mm_unpackhi_epi64(sum, sum))) as u32
    }
}

/// Bits of a vector difference in the bitstream's signed Exp-Golomb code, about.
fn mvd_bits(d: MotionVector) -> u32 {
    let one = |v: i32| {
        let mapped = if v < 0 { -2 * v - 1 } else { 2 * v } as u32;
        2 * (32 - (mapped + 1).leading_zeros() - 1) + 1
    };
    one(d.x) + one(d.y)
}

/// Search cost weight of one bit of vector, in SAD units times 4: about 2^((qp - 12) / 6), the
/// weight H.264 encoders use, so a coarse quantiser favours cheap vectors.
pub(crate) fn lambda4(qp: u8) -> u32 {
    (4.0 * 2f64.powf((qp as f64 - 12.0) / 6.0)).round().max(1.0) as u32
}

/// One macroblock's search: the first plane of its source, where it is, and what it may read.
pub(crate) struct Search<'a> {
    pub reference: &'a Picture,
    /// The source macroblock's first plane, 16x16 row-major.
    pub source: &'a [u8],
    pub mb: usize,
    pub lambda4: u32,
    /// Predictor the vector will be coded against (the previous macroblock's vector).
    pub predictor: MotionVector,
    /// Gradual refresh: macroblocks below this raster index that read only from below it.
    pub clean_before: usize,
}

impl Search<'_> {
    fn allowed(&self, mv: MotionVector) -> bool {
        let r = SEARCH_RANGE * 2;
        mv.x.abs() <= r
            && mv.y.abs() <= r
            && (self.mb >= self.clean_before
                || last_mb_read(&self.reference.layout, self.mb, mv) < self.clean_before)
    }

    /// SAD of the first plane's prediction with `mv`.
    fn sad(&self, mv: MotionVector) -> u32 {
        let layout = &self.reference.layout;
        let cols = layout.mb_cols();
        let (plane, stride) = (self.reference.plane(0), self.reference.stride(0));
        let height = plane.len() / stride;
        let x = ((self.mb % cols) * MB) as i64 + (mv.x >> 1) as i64;
        let y = ((self.mb / cols) * MB) as i64 + (mv.y >> 1) as i64;
        let (fx, fy) = ((mv.x & 1) as usize, (mv.y & 1) as usize);
        let inside =
            x >= 0 && y >= 0 && x as usize + MB + fx <= stride && y as usize + MB + fy <= height;
        if inside && fx + fy < 2 {
            let at = &plane[y as usize * stride + x as usize..];
            return match (fx, fy) {
                (0, 0) => sad16(self.source, MB, at, stride),
                // Half a sample: averaged on the fly, as the prediction would be.
                (1, _) => sad16_half(self.source, at, stride, 1),
                _ => sad16_half(self.source, at, stride, stride),
            };
        }
        let mut predicted = [0u8; MB * MB];
        self.reference.predict_block(0, self.mb, mv, &mut predicted);
        sad16(self.source, MB, &predicted, MB)
    }

    fn cost(&self, mv: MotionVector) -> (u32, u32) {
        let sad = self.sad(mv);
        let bits = mvd_bits(MotionVector::new(
            mv.x - self.predictor.x,
            mv.y - self.predictor.y,
        ));
        (4 * sad + self.lambda4 * bits, sad)
    }

    /// The best vector among the candidates (rounded to whole samples), refined by a diamond
    /// search in whole samples and then by the eight half-sample positions around it. Returns
    /// the vector and its SAD. The zero vector is always a candidate and wins ties.
    pub(crate) fn run(&self, candidates: &[MotionVector]) -> (MotionVector, u32) {
        let mut best = (MotionVector::ZERO, self.cost(MotionVector::ZERO));
        let consider = |mv: MotionVector, best: &mut (MotionVector, (u32, u32))| {
            if mv != best.0 && self.allowed(mv) {
                let c = self.cost(mv);
                if c.0 < best.1 .0 {
                    *best = (mv, c);
                }
            }
        };
        for &c in candidates {
            consider(MotionVector::new(c.x & !1, c.y & !1), &mut best);
        }
        if best.1 .1 <= GOOD_ENOUGH_SAD {
            return (best.0, best.1 .1);
        }
        for _ in 0..DIAMOND_STEPS {
            let centre = best.0;
            for (dx, dy) in [(-2, 0), (2, 0), (0, -2), (0, 2)] {
                consider(MotionVector::new(centre.x + dx, centre.y + dy), &mut best);
            }
            if best.0 == centre {
                break;
            }
        }
        // Half samples: the four neighbours, then the diagonal between the better horizontal
        // and the better vertical one (the other three diagonals rarely win: measured +0.6 %
        // rate on LivePortrait without them, for 5 % of the encoder's instructions).
        let centre = best.0;
        let at = |dx: i32, dy: i32| MotionVector::new(centre.x + dx, centre.y + dy);
        // (cost, SAD) of a neighbour, or no cost at all where it may not be read.
        let side_cost = |mv: MotionVector| {
            if self.allowed(mv) {
                self.cost(mv)
            } else {
                (u32::MAX, u32::MAX)
            }
        };
        let (left, right) = (side_cost(at(-1, 0)), side_cost(at(1, 0)));
        let (up, down) = (side_cost(at(0, -1)), side_cost(at(0, 1)));
        for (mv, c) in [
            (at(-1, 0), left),
            (at(1, 0), right),
            (at(0, -1), up),
            (at(0, 1), down),
        ] {
            if c.0 < best.1 .0 {
                best = (mv, c);
            }
        }
        let dx = if left.0 < right.0 { -1 } else { 1 };
        let dy = if up.0 < down.0 { -1 } else { 1 };
        consider(at(dx, dy), &mut best);
        (best.0, best.1 .1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::PixelFormat;

    fn noise(n: usize, seed: u32) -> Vec<u8> {
        let mut s = seed;
        (0..n)
            .map(|_| {
                s = s.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                (s >> 16) as u8
            })
            .collect()
    }

    #[test]
    fn sad_kernels_match_the_scalar_definition() {
        for (a_stride, b_stride, seed) in [(16, 16, 1), (37, 16, 2), (16, 300, 3), (64, 65, 4)] {
            let a = noise(16 * a_stride, seed);
            let b = noise(16 * b_stride, seed + 10);
            let want = sad16_scalar(&a, a_stride, &b, b_stride);
            assert_eq!(sad16(&a, a_stride, &b, b_stride), want);
            #[cfg(target_arch = "x86_64")]
            unsafe {
                assert_eq!(simd::sad16_sse2(&a, a_stride, &b, b_stride), want);
                if std::is_x86_feature_detected!("avx2") {
                    assert_eq!(simd::sad16_avx2(&a, a_stride, &b, b_stride), want);
                }
            }
        }
        let (white, black) = ([255u8; 256], [0u8; 256]);
        assert_eq!(sad16(&white, 16, &black, 16), 256 * 255);
        for (stride, step) in [(17, 1), (17, 17), (40, 1), (40, 40)] {
            let (source, b) = (noise(256, 8), noise(17 * stride + 1, 9));
            let want = sad16_half_scalar(&source, &b, stride, step);
            assert_eq!(
                sad16_half(&source, &b, stride, step),
                want,
                "{stride} {step}"
            );
        }
    }

    #[test]
    fn the_half_sample_sad_is_the_sad_of_the_prediction() {
        let layout = Layout::new(PixelFormat::Gray8, 64, 64).unwrap();
        let data = noise(64 * 64, 11);
        let mut picture = Picture::blank(layout);
        picture
            .import(&[crate::InPlane {
                data: &data,
                stride: 64,
            }])
            .unwrap();
        let source = noise(256, 12);
        for mv in [
            MotionVector::new(3, 0),
            MotionVector::new(-2, 5),
            MotionVector::new(7, 7),
        ] {
            let mut predicted = [0u8; 256];
            picture.predict_block(0, 5, mv, &mut predicted);
            let search = Search {
                reference: &picture,
                source: &source,
                mb: 5,
                lambda4: 4,
                predictor: MotionVector::ZERO,
                clean_before: 0,
            };
            assert_eq!(
                search.sad(mv),
                sad16_scalar(&source, 16, &predicted, 16),
                "{mv:?}"
            );
        }
    }

    #[test]
    fn the_projection_kernel_matches_the_definition() {
        for len in [1, 15, 16, 17, 100, 512] {
            let line = noise(len, len as u32);
            // Column sums of any value, wrapping where they overflow.
            let sums: Vec<u16> = noise(2 * len, 5)
                .chunks(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]]))
                .collect();
            let (mut got, mut want) = (sums.clone(), sums);
            assert_eq!(
                project_row(&line, &mut got),
                project_row_scalar(&line, &mut want)
            );
            assert_eq!(got, want, "{len} samples");
        }
    }

    #[test]
    fn the_first_plane_reaches_furthest() {
        // Chroma of 4:2:0 against luma, for every vector the search may choose and more, from
        // every macroblock of a 4 x 4 picture (edges included).
        let range = 4 * SEARCH_RANGE;
        for origin in 0..4 {
            for half in -range..=range {
                let chroma = MotionVector::new(half, 0).in_plane(1).x;
                assert!(
                    reach(origin, chroma, 4, MB / 2) <= reach(origin, half, 4, MB),
                    "macroblock {origin}, {half} half samples"
                );
            }
        }
    }

    #[test]
    fn the_footprint_covers_every_macroblock_a_vector_reads() {
        let layout = Layout::new(PixelFormat::I420, 64, 48).unwrap();
        // 4 x 3 macroblocks; macroblock 5 is (row 1, col 1).
        assert_eq!(last_mb_read(&layout, 5, MotionVector::ZERO), 5);
        // Half a sample right: the next column is read too.
        assert_eq!(last_mb_read(&layout, 5, MotionVector::new(1, 0)), 6);
        // Half a sample up: still this row (the half position reads down, not up).
        assert_eq!(last_mb_read(&layout, 5, MotionVector::new(0, -1)), 5);
        // Chroma rounds -1 half luma sample away from zero, to -1 half chroma sample, which
        // reads down a row from the row above: still row 1.
        assert_eq!(last_mb_read(&layout, 5, MotionVector::new(-1, -1)), 5);
        // One sample down: the next row.
        assert_eq!(last_mb_read(&layout, 5, MotionVector::new(0, 2)), 9);
        // Far off the bottom right: clamped to the last macroblock.
        assert_eq!(last_mb_read(&layout, 0, MotionVector::new(999, 999)), 11);
        // Far off the top left: the edge of the first macroblock.
        assert_eq!(last_mb_read(&layout, 11, MotionVector::new(-999, -999)), 0);
    }

    #[test]
    fn a_panned_picture_is_found_whole_and_by_the_search() {
        let layout = Layout::new(PixelFormat::Gray8, 96, 64).unwrap();
        let texture = noise(200 * 200, 7);
        let frame = |dx: usize, dy: usize| {
            let mut p = Picture::blank(layout);
            let data: Vec<u8> = (0..64)
                .flat_map(|y| (0..96).map(move |x| (x, y)))
                .map(|(x, y)| texture[(y + dy + 50) * 200 + x + dx + 50])
                .collect();
            p.import(&[crate::InPlane {
                data: &data,
                stride: 96,
            }])
            .unwrap();
            p
        };
        // The camera moved 3 right and 2 down: content moved left and up, so what is now at
        // (x, y) was at (x + 3, y + 2).
        let (prev, cur) = (frame(0, 0), frame(3, 2));
        let gm = global_motion(&Projections::of(&cur), &Projections::of(&prev));
        assert_eq!(gm, MotionVector::new(6, 4));

        let mut source = crate::mbcode::MbPixels::default();
        cur.load_mb(7, &mut source);
        let search = Search {
            reference: &prev,
            source: &source.0[..256],
            mb: 7,
            lambda4: lambda4(26),
            predictor: MotionVector::ZERO,
            clean_before: 0,
        };
        // Noise has no slope for the diamond to follow from zero: the global candidate finds it.
        assert_eq!(search.run(&[gm]), (MotionVector::new(6, 4), 0));
        // In the clean part (below macroblock 11), macroblock 7 may not read row 2's.
        let constrained = Search {
            clean_before: 11,
            ..search
        };
        let (mv, _) = constrained.run(&[gm]);
        assert!(last_mb_read(&layout, 7, mv) < 11, "{mv:?}");
    }
}
