// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! 8x8 integer DCT, quantisation and zigzag scan (docs/pixeldiff-format.md, "Transform").
//!
//! The inverse transform is exact integer arithmetic, so an encoder and any decoder reconstruct
//! the same pixels; the matrix is the 8-point integer DCT approximation used by HEVC (entries are
//! about 181 times the orthonormal DCT), whose rounding shifts make the forward transform output
//! 16 times the orthonormal coefficients and the inverse undo exactly that gain.

/// Integer DCT basis: row k is frequency k.
const T: [[i32; 8]; 8] = [
    [64, 64, 64, 64, 64, 64, 64, 64],
    [89, 75, 50, 18, -18, -50, -75, -89],
    [83, 36, -36, -83, -83, -36, 36, 83],
    [75, -18, -89, -50, 50, 89, 18, -75],
    [64, -64, -64, 64, 64, -64, -64, 64],
    [50, -89, 18, 75, -75, -18, 89, -50],
    [36, -83, 83, -36, -36, 83, -83, 36],
    [18, -50, 75, -89, 89, -75, 50, -18],
];

/// Zigzag scan: scan position -> raster index in the 8x8 block.
pub const ZIGZAG: [u8; 64] = [
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20,
    13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59,
    52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
];

/// Highest quantiser index.
pub const QP_MAX: u8 = 51;

/// Dequantisation multiplier for `qp`: about 16 x 2^((qp - 4) / 6), the quantiser step in units of
/// the forward transform's output (which is 16x orthonormal).
pub fn dequant_scale(qp: u8) -> i32 {
    const LEVEL_SCALE: [i32; 6] = [40, 45, 51, 57, 64, 72];
    let qp = qp.min(QP_MAX);
    (LEVEL_SCALE[(qp % 6) as usize] << (qp / 6)) >> 2
}

/// One 8-point forward DCT (even/odd butterfly; equal to multiplying by `T`).
#[inline]
fn forward8(x: [i32; 8]) -> [i32; 8] {
    let e = [x[0] + x[7], x[1] + x[6], x[2] + x[5], x[3] + x[4]];
    let o = [x[0] - x[7], x[1] - x[6], x[2] - x[5], x[3] - x[4]];
    let (ee0, ee1) = (e[0] + e[3], e[1] + e[2]);
    let (eo0, eo1) = (e[0] - e[3], e[1] - e[2]);
    let odd = |k: usize| (0..4).map(|n| T[k][n] * o[n]).sum::<i32>();
    [
        64 * (ee0 + ee1),
        odd(1),
        83 * eo0 + 36 * eo1,
        odd(3),
        64 * (ee0 - ee1),
        odd(5),
        36 * eo0 - 83 * eo1,
        odd(7),
    ]
}

/// One 8-point inverse DCT (even/odd butterfly; exactly the sum over `T`'s rows).
#[inline]
fn inverse8(c: [i32; 8]) -> [i32; 8] {
    let o: [i32; 4] =
        std::array::from_fn(|k| T[1][k] * c[1] + T[3][k] * c[3] + T[5][k] * c[5] + T[7][k] * c[7]);
    let (eo0, eo1) = (83 * c[2] + 36 * c[6], 36 * c[2] - 83 * c[6]);
    let (ee0, ee1) = (64 * (c[0] + c[4]), 64 * (c[0] - c[4]));
    let e = [ee0 + eo0, ee1 + eo1, ee1 - eo1, ee0 - eo0];
    [
        e[0] + o[0],
        e[1] + o[1],
        e[2] + o[2],
        e[3] + o[3],
        e[3] - o[3],
        e[2] - o[2],
        e[1] - o[1],
        e[0] - o[0],
    ]
}

/// Forward 8x8 transform of a residual block (raster order, samples in -255..=255). Encoder
/// only, so its rounding is free to choose; it mirrors the inverse's structure.
pub fn forward(residual: &[i32; 64]) -> [i32; 64] {
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: SSE2 is part of the x86_64 baseline.
        unsafe { forward_sse2(residual) }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        forward_scalar(residual)
    }
}

/// Portable forward transform, and the reference the SIMD version is tested against.
pub fn forward_scalar(residual: &[i32; 64]) -> [i32; 64] {
    let mut tmp = [0i32; 64];
    for y in 0..8 {
        let row: [i32; 8] = residual[y * 8..y * 8 + 8].try_into().expect("8 samples");
        for (k, v) in forward8(row).into_iter().enumerate() {
            tmp[y * 8 + k] = (v + 2) >> 2;
        }
    }
    let mut out = [0i32; 64];
    for kx in 0..8 {
        let col: [i32; 8] = std::array::from_fn(|y| tmp[y * 8 + kx]);
        for (ky, v) in forward8(col).into_iter().enumerate() {
            out[ky * 8 + kx] = (v + 256) >> 9;
        }
    }
    out
}

/// The forward transform as 16-bit dot products (`pmaddwd`): residuals fit 16 bits, and so do
/// the row pass's outputs after its shift (at most 255 * 512 / 4 = 32640).
#[cfg(target_arch = "x86_64")]
#[inline]
unsafe fn forward_sse2(residual: &[i32; 64]) -> [i32; 64] {
    use std::arch::x86_64::*;

    /// Four horizontal sums of four vectors of four i32.
    #[inline(always)]
    unsafe fn sum4(a: __m128i, b: __m128i, c: __m128i, d: __m128i) -> __m128i {
        let ab = _mm_add_epi32(_mm_unpacklo_epi32(a, b), _mm_unpackhi_epi32(a, b));
        let cd = _mm_add_epi32(_mm_unpacklo_epi32(c, d), _mm_unpackhi_epi32(c, d));
        _mm_add_epi32(_mm_unpacklo_epi64(ab, cd), _mm_unpackhi_epi64(ab, cd))
    }

    /// One 8-point transform of a row of eight i16: (freq 0-3, freq 4-7) as i32, rounded.
    #[inline(always)]
    unsafe fn row8(
        row: __m128i,
        basis: &[__m128i; 8],
        round: __m128i,
        shift: i32,
    ) -> (__m128i, __m128i) {
        let m: [__m128i; 8] = std::array::from_fn(|k| _mm_madd_epi16(row, basis[k]));
        let lo = sum4(m[0], m[1], m[2], m[3]);
        let hi = sum4(m[4], m[5], m[6], m[7]);
        let sh = _mm_cvtsi32_si128(shift);
        (
            _mm_sra_epi32(_mm_add_epi32(lo, round), sh),
            _mm_sra_epi32(_mm_add_epi32(hi, round), sh),
        )
    }

    let basis: [__m128i; 8] = std::array::from_fn(|k| {
        let t = T[k].map(|v| v as i16);
        _mm_loadu_si128(t.as_ptr() as *const __m128i)
    });

    // Row pass: tmp row y = transform of residual row y, as i16.
    let mut rows = [_mm_setzero_si128(); 8];
    for (y, r) in rows.iter_mut().enumerate() {
        let p = residual.as_ptr().add(y * 8) as *const __m128i;
        let x = _mm_packs_epi32(_mm_loadu_si128(p), _mm_loadu_si128(p.add(1)));
        let (lo, hi) = row8(x, &basis, _mm_set1_epi32(2), 2);
        *r = _mm_packs_epi32(lo, hi);
    }
    // Column pass without a transpose: output row ky (vertical frequency ky, all eight
    // horizontal ones) is the sum over rows y of T[ky][y] * row y, as 16-bit dot products of
    // rows interleaved in pairs with the pair of basis values (exact: at most 8 * 32640 * 89).
    let pairs: [(__m128i, __m128i); 4] = std::array::from_fn(|j| {
        (
            _mm_unpacklo_epi16(rows[2 * j], rows[2 * j + 1]),
            _mm_unpackhi_epi16(rows[2 * j], rows[2 * j + 1]),
        )
    });
    let round = _mm_set1_epi32(256);
    let mut out = [0i32; 64];
    for (ky, basis_row) in T.iter().enumerate() {
        let (mut lo, mut hi) = (round, round);
        for (j, &(plo, phi)) in pairs.iter().enumerate() {
            let pair = (basis_row[2 * j + 1] << 16) | (basis_row[2 * j] & 0xffff);
            let t = _mm_set1_epi32(pair);
            lo = _mm_add_epi32(lo, _mm_madd_epi16(plo, t));
            hi = _mm_add_epi32(hi, _mm_madd_epi16(phi, t));
        }
        let p = out.as_mut_ptr().add(ky * 8) as *mut __m128i;
        _mm_storeu_si128(p, _mm_srai_epi32(lo, 9));
        _mm_storeu_si128(p.add(1), _mm_srai_epi32(hi, 9));
    }
    out
}

/// Inverse 8x8 transform of dequantised coefficients (raster order) into a residual block.
/// Normative: this exact arithmetic (columns, then rows, with these roundings) defines the
/// reconstruction.
pub fn inverse(coef: &[i32; 64]) -> [i32; 64] {
    let mut tmp = [0i32; 64];
    // Columns first. Sparse blocks are the norm, so skip all-zero columns.
    for x in 0..8 {
        let col: [i32; 8] = std::array::from_fn(|k| coef[k * 8 + x]);
        if col == [0; 8] {
            continue;
        }
        for (n, v) in inverse8(col).into_iter().enumerate() {
            tmp[n * 8 + x] = ((v + 64) >> 7).clamp(-32768, 32767);
        }
    }
    let mut out = [0i32; 64];
    for y in 0..8 {
        let row: [i32; 8] = tmp[y * 8..y * 8 + 8].try_into().expect("8 values");
        for (n, v) in inverse8(row).into_iter().enumerate() {
            out[y * 8 + n] = (v + 2048) >> 12;
        }
    }
    out
}

/// The residual of a block whose only nonzero level is the DC `level`: every sample gets this
/// value, exactly as [`inverse`] of the dequantised block would give.
pub fn dc_residual(level: i32, qp: u8) -> i32 {
    let c = level
        .saturating_mul(dequant_scale(qp))
        .clamp(-(1 << 20), 1 << 20);
    let t = ((64 * c + 64) >> 7).clamp(-32768, 32767);
    (64 * t + 2048) >> 12
}

/// Quantise transform coefficients into zigzag-ordered levels. `dead_zone` is the rounding offset
/// in 1/64 of a step (32 = round to nearest; smaller values favour zeros, which cost fewer bits).
pub fn quantize(coef: &[i32; 64], qp: u8, dead_zone: i32) -> [i32; 64] {
    // Float reciprocal in raster order so the loop vectorises: this is the encoder's choice,
    // not normative, and may be one level off in rare rounding cases.
    let inv = 1.0 / dequant_scale(qp) as f32;
    let offset = dead_zone as f32 / 64.0;
    let mut raster = [0i32; 64];
    for (q, &c) in raster.iter_mut().zip(coef.iter()) {
        let x = ((c as f32).abs() * inv + offset).min(32768.0);
        // SAFETY: x is finite and within [0, 32768] (a finite product, clamped above), so the
        // conversion is exact truncation; the checked `as` cast would stop vectorisation.
        let m: i32 = unsafe { x.to_int_unchecked() };
        *q = if c < 0 { -m } else { m };
    }
    let mut levels = [0i32; 64];
    for (l, &r) in levels.iter_mut().zip(ZIGZAG.iter()) {
        *l = raster[r as usize];
    }
    levels
}

/// Dequantise zigzag-ordered levels back to raster-ordered coefficients. Normative.
pub fn dequantize(levels: &[i32; 64], qp: u8) -> [i32; 64] {
    let step = dequant_scale(qp);
    let mut coef = [0i32; 64];
    for (pos, &raster) in ZIGZAG.iter().enumerate() {
        coef[raster as usize] = levels[pos].saturating_mul(step).clamp(-(1 << 20), 1 << 20);
    }
    coef
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zigzag_is_a_permutation() {
        let mut seen = [false; 64];
        for &z in &ZIGZAG {
            assert!(!seen[z as usize]);
            seen[z as usize] = true;
        }
    }

    #[test]
    fn transform_round_trip_is_near_exact() {
        let mut block = [0i32; 64];
        for (i, v) in block.iter_mut().enumerate() {
            *v = ((i * 37 + 11) % 511) as i32 - 255;
        }
        let back = inverse(&forward(&block));
        for i in 0..64 {
            assert!(
                (back[i] - block[i]).abs() <= 1,
                "{i}: {} vs {}",
                back[i],
                block[i]
            );
        }
    }

    #[test]
    fn butterflies_equal_the_matrix_product() {
        for seed in 0..50i32 {
            let x: [i32; 8] =
                std::array::from_fn(|i| (seed * 7919 + i as i32 * 104729) % 4001 - 2000);
            let fwd: [i32; 8] = std::array::from_fn(|k| (0..8).map(|n| T[k][n] * x[n]).sum());
            let inv: [i32; 8] = std::array::from_fn(|n| (0..8).map(|k| T[k][n] * x[k]).sum());
            assert_eq!(forward8(x), fwd);
            assert_eq!(inverse8(x), inv);
        }
    }

    #[test]
    fn dc_residual_matches_the_inverse_transform() {
        for qp in [0u8, 7, 20, 33, 51] {
            for level in [-300, -17, -1, 0, 1, 5, 99, 2000] {
                let mut levels = [0i32; 64];
                levels[0] = level;
                let full = inverse(&dequantize(&levels, qp));
                assert!(
                    full.iter().all(|&r| r == dc_residual(level, qp)),
                    "qp {qp} level {level}"
                );
            }
        }
    }

    #[test]
    fn forward_matches_the_scalar_reference() {
        for seed in 0..200usize {
            let block: [i32; 64] = std::array::from_fn(|i| {
                let v = (i * 7919 + seed * 104729) % 511;
                if seed % 5 == 0 {
                    255 - 510 * ((i + seed) % 2) as i32
                } else {
                    v as i32 - 255
                }
            });
            assert_eq!(forward(&block), forward_scalar(&block), "seed {seed}");
        }
        assert_eq!(forward(&[255; 64]), forward_scalar(&[255; 64]));
        assert_eq!(forward(&[-255; 64]), forward_scalar(&[-255; 64]));
    }

    #[test]
    fn flat_block_has_only_dc() {
        let block = [10i32; 64];
        let c = forward(&block);
        // 16x the orthonormal DC of a flat block of 10: 16 * 8 * 10.
        assert!((c[0] - 1280).abs() <= 2, "{}", c[0]);
        assert!(c[1..].iter().all(|&v| v.abs() <= 1));
    }

    #[test]
    fn quantize_dequantize_error_is_within_a_step() {
        let mut block = [0i32; 64];
        for (i, v) in block.iter_mut().enumerate() {
            *v = ((i * 53) % 200) as i32 - 100;
        }
        let coef = forward(&block);
        for qp in [0u8, 12, 24, 36, 51] {
            let back = dequantize(&quantize(&coef, qp, 32), qp);
            let step = dequant_scale(qp);
            for i in 0..64 {
                assert!((back[i] - coef[i]).abs() <= step / 2 + 1);
            }
        }
    }
}
