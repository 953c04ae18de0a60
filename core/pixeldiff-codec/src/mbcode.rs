// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! Macroblock syntax and reconstruction, shared by the encoder and the decoder
//! (docs/pixeldiff-format.md, "Macroblock layer").
//!
//! Every syntax function is generic over [`BinCoder`]: the encoder passes the real values and the
//! decoder gets them back, so the two sides cannot drift apart. Reconstruction is likewise one
//! function: the encoder derives its reference from exactly what a decoder computes.

use crate::format::Layout;
use crate::rangecoder::{BinCoder, Ctx};
use crate::transform;

/// Most samples one macroblock can hold: 16x16 in three full-resolution planes.
pub const MAX_MB_SAMPLES: usize = 768;
/// Side of an averaged cell in `Average` mode, in samples of its plane.
pub const CELL: usize = 4;
/// Longest unary prefix a decoder follows: bounds work on garbage input.
const MAX_PREFIX: u32 = 24;
/// Largest coefficient level magnitude, coded or rebuilt from the DC prediction.
const MAX_LEVEL: i32 = 1 << 16;
/// Largest motion vector component, in half samples of the first plane (512 samples): a decoder
/// clamps what it rebuilds to this, so no forged difference can take a vector further.
pub const MAX_MV: i32 = 1024;

/// How a macroblock is coded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Residual against the previous picture, displaced by the macroblock's motion vector.
    Inter = 0,
    /// Coded without the reference picture: keyframes and refresh.
    Intra = 1,
    /// Low resolution: one value per 4x4 cell, as a difference to the reference's cell mean.
    Average = 2,
    /// The samples themselves, 8 bits each.
    Raw = 3,
}

/// Where each coded plane lies inside a macroblock's sample array.
#[derive(Clone, Copy, Debug)]
pub struct MbGeom {
    pub planes: usize,
    pub side: [usize; 3],
    pub offset: [usize; 3],
    pub total: usize,
}

impl MbGeom {
    pub fn new(layout: &Layout) -> Self {
        let mut g = MbGeom {
            planes: layout.format.coded_planes(),
            side: [0; 3],
            offset: [0; 3],
            total: 0,
        };
        for p in 0..g.planes {
            let side = layout.plane(p).mb;
            g.side[p] = side;
            g.offset[p] = g.total;
            g.total += side * side;
        }
        g
    }

    /// Context set for plane `p`: 0 luma (or the first plane), 1 the others.
    fn plane_type(p: usize) -> usize {
        (p > 0) as usize
    }
}

/// The samples of one macroblock, planes back to back, each row-major at its own side.
#[derive(Clone)]
pub struct MbPixels(pub [u8; MAX_MB_SAMPLES]);

impl Default for MbPixels {
    fn default() -> Self {
        MbPixels([0; MAX_MB_SAMPLES])
    }
}

/// A displacement into the previous picture in half samples of the first plane:
/// the prediction of the sample at (x, y) is the previous picture at (x + x/2, y + y/2).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct MotionVector {
    pub x: i32,
    pub y: i32,
}

impl MotionVector {
    pub const ZERO: MotionVector = MotionVector { x: 0, y: 0 };

    pub fn new(x: i32, y: i32) -> Self {
        MotionVector { x, y }
    }

    /// The vector in half samples of a plane subsampled by `shift` (0 or 1): halved, rounding
    /// half away from zero, so that a vector and its mirror image predict alike.
    pub fn in_plane(self, shift: u32) -> MotionVector {
        let scale = |v: i32| {
            if shift == 0 {
                v
            } else {
                v.signum() * ((v.abs() + 1) >> 1)
            }
        };
        MotionVector::new(scale(self.x), scale(self.y))
    }
}

/// Everything the syntax carries for one macroblock.
#[derive(Clone)]
pub struct MbData {
    pub index: u32,
    pub mode: Mode,
    pub qp: u8,
    /// Inter only: where the prediction comes from.
    pub mv: MotionVector,
    /// Lossy Inter/Intra: zigzag levels, 64 per 8x8 block in plane order. Lossless Inter/Intra:
    /// prediction residuals per sample. Average: one value per cell. Raw: the samples.
    pub vals: [i32; MAX_MB_SAMPLES],
}

impl MbData {
    pub fn new(index: u32, mode: Mode, qp: u8) -> Self {
        MbData {
            index,
            mode,
            qp,
            mv: MotionVector::ZERO,
            vals: [0; MAX_MB_SAMPLES],
        }
    }
}

#[derive(Clone, Copy)]
struct CoefCtx {
    cbf: Ctx,
    last: [Ctx; 64],
    sig: [Ctx; 13],
    gt1: [Ctx; 5],
    gtn: [Ctx; 5],
}

#[derive(Clone, Copy)]
struct ResidCtx {
    zero: [Ctx; 8],
    mag: [[Ctx; 8]; 8],
}

/// All adaptive contexts of a chunk; they start from their defaults in every chunk.
#[derive(Clone)]
pub struct Contexts {
    skip: [Ctx; 12],
    mode: [Ctx; 3],
    dqp: [Ctx; 8],
    /// Motion vector differences, horizontal then vertical.
    mvd: [[Ctx; 10]; 2],
    /// Indexed by plane type * 2 + (1 for inter).
    coef: [CoefCtx; 4],
    /// Lossless residuals and averaged cells, by plane type.
    resid: [ResidCtx; 2],
}

impl Default for Contexts {
    fn default() -> Self {
        let c = Ctx::default();
        Contexts {
            skip: [c; 12],
            mode: [c; 3],
            dqp: [c; 8],
            mvd: [[c; 10]; 2],
            coef: [CoefCtx {
                cbf: c,
                last: [c; 64],
                sig: [c; 13],
                gt1: [c; 5],
                gtn: [c; 5],
            }; 4],
            resid: [ResidCtx {
                zero: [c; 8],
                mag: [[c; 8]; 8],
            }; 2],
        }
    }
}

/// Per-chunk coding state: contexts, the previous macroblock index, intra DC predictors and the
/// motion vector predictor (the previous Inter macroblock's vector in the chunk).
#[derive(Clone)]
pub struct ChunkState {
    pub ctx: Contexts,
    prev: i64,
    dc: [i32; 3],
    mv: MotionVector,
}

impl ChunkState {
    pub fn new(first_mb: u32) -> Self {
        ChunkState {
            ctx: Contexts::default(),
            prev: first_mb as i64 - 1,
            dc: [0; 3],
            mv: MotionVector::ZERO,
        }
    }
}

/// Unary code of `value` capped at `max`, one context per position up to the last.
fn code_unary<C: BinCoder>(c: &mut C, ctxs: &mut [Ctx], value: u32, max: u32) -> u32 {
    let mut n = 0;
    while n < max {
        let ctx = &mut ctxs[(n as usize).min(ctxs.len() - 1)];
        if c.bit(ctx, (value > n) as u32) == 0 {
            break;
        }
        n += 1;
    }
    n
}

/// Exp-Golomb code of `value` with an adaptive unary prefix.
fn code_ueg<C: BinCoder>(c: &mut C, ctxs: &mut [Ctx], value: u32) -> u32 {
    let v1 = value.saturating_add(1);
    let n = 31 - v1.leading_zeros();
    let n = code_unary(c, ctxs, n, MAX_PREFIX);
    let suffix = c.bypass_bits(v1.wrapping_sub(1 << n), n);
    ((1u32 << n) + suffix) - 1
}

/// Exp-Golomb code of `value` with equiprobable bits only.
fn code_eg_bypass<C: BinCoder>(c: &mut C, value: u32) -> u32 {
    let v1 = value.saturating_add(1);
    let target = 31 - v1.leading_zeros();
    let mut n = 0;
    while n < MAX_PREFIX && c.bypass((target > n) as u32) == 1 {
        n += 1;
    }
    let suffix = c.bypass_bits(v1.wrapping_sub(1 << n), n);
    ((1u32 << n) + suffix) - 1
}

/// Signed value through the zigzag map 0, -1, 1, -2, 2 ...
fn code_se<C: BinCoder>(c: &mut C, ctxs: &mut [Ctx], value: i32) -> i32 {
    let mapped = if value < 0 {
        (-2 * value - 1) as u32
    } else {
        2 * value as u32
    };
    let m = code_ueg(c, ctxs, mapped);
    if m & 1 == 1 {
        -(((m >> 1) + 1) as i32)
    } else {
        (m >> 1) as i32
    }
}

/// Scan position class for significance contexts.
const SIG_CLASS: [u8; 64] = {
    let mut t = [12u8; 64];
    let mut i = 0;
    while i < 64 {
        t[i] = match i {
            0..=5 => i as u8,
            6..=7 => 6,
            8..=9 => 7,
            10..=14 => 8,
            15..=20 => 9,
            21..=27 => 10,
            28..=35 => 11,
            _ => 12,
        };
        i += 1;
    }
    t
};

/// Levels of one 8x8 block in zigzag order.
fn code_coeffs<C: BinCoder>(c: &mut C, cc: &mut CoefCtx, levels: &mut [i32]) {
    let enc = c.encoding();
    let last = if enc {
        levels
            .iter()
            .rposition(|&l| l != 0)
            .map_or(-1, |p| p as i32)
    } else {
        -1
    };
    if c.bit(&mut cc.cbf, (last >= 0) as u32) == 0 {
        levels.fill(0);
        return;
    }
    let mut node = 1usize;
    for i in (0..6).rev() {
        node = node * 2 + c.bit(&mut cc.last[node], ((last >> i) & 1) as u32) as usize;
    }
    let last = node - 64;
    for i in 0..last {
        let s = c.bit(&mut cc.sig[SIG_CLASS[i] as usize], (levels[i] != 0) as u32);
        if !enc {
            levels[i] = s as i32;
        }
    }
    if !enc {
        levels[last] = 1;
        levels[last + 1..].fill(0);
    }
    let (mut n_gt1, mut n_eq1) = (0usize, 0usize);
    for i in (0..=last).rev() {
        if levels[i] == 0 {
            continue;
        }
        let a = levels[i].unsigned_abs();
        let ctx = if n_gt1 > 0 { 0 } else { (1 + n_eq1).min(4) };
        let mut mag = 1;
        if c.bit(&mut cc.gt1[ctx], (a > 1) as u32) == 1 {
            let r = code_unary(
                c,
                &mut cc.gtn[n_gt1.min(4)..n_gt1.min(4) + 1],
                a.wrapping_sub(2),
                14,
            );
            mag = 2 + r;
            if r == 14 {
                mag += code_eg_bypass(c, a.wrapping_sub(16));
            }
            n_gt1 += 1;
        } else {
            n_eq1 += 1;
        }
        let negative = c.bypass((levels[i] < 0) as u32) == 1;
        let mag = mag.min(MAX_LEVEL as u32) as i32;
        levels[i] = if negative { -mag } else { mag };
    }
}

/// Residual-magnitude bucket of the left + upper neighbours' absolute residuals.
fn resid_bucket(s: u32) -> usize {
    match s {
        0 => 0,
        1 => 1,
        2 => 2,
        3..=4 => 3,
        5..=7 => 4,
        8..=12 => 5,
        13..=20 => 6,
        _ => 7,
    }
}

/// A `w`-wide row-major array of small signed values (prediction residuals or cell deltas), each
/// coded in the context of its left and upper neighbours' magnitudes.
fn code_residuals<C: BinCoder>(c: &mut C, rc: &mut ResidCtx, vals: &mut [i32], w: usize) {
    for i in 0..vals.len() {
        let (x, y) = (i % w, i / w);
        let left = if x > 0 { vals[i - 1].unsigned_abs() } else { 0 };
        let up = if y > 0 { vals[i - w].unsigned_abs() } else { 0 };
        let b = resid_bucket(left.saturating_add(up));
        let a = vals[i].unsigned_abs();
        if c.bit(&mut rc.zero[b], (a != 0) as u32) == 0 {
            vals[i] = 0;
            continue;
        }
        let mut mag = 1 + code_unary(c, &mut rc.mag[b], a.wrapping_sub(1), 14);
        if mag == 15 {
            mag += code_eg_bypass(c, a.wrapping_sub(15));
        }
        let negative = c.bypass((vals[i] < 0) as u32) == 1;
        let mag = mag.min(MAX_LEVEL as u32) as i32;
        vals[i] = if negative { -mag } else { mag };
    }
}

/// Code one macroblock: position, mode, quantiser and payload. The decoder passes a zeroed `mb`
/// and gets it filled; index bounds are the caller's to check.
pub fn code_mb<C: BinCoder>(
    c: &mut C,
    st: &mut ChunkState,
    geom: &MbGeom,
    lossless: bool,
    chunk_qp: u8,
    mb: &mut MbData,
) {
    let delta = (mb.index as i64 - st.prev - 1).max(0) as u32;
    let delta = code_ueg(c, &mut st.ctx.skip, delta);
    st.prev += 1 + delta as i64;
    mb.index = st.prev.min(u32::MAX as i64) as u32;

    let m = mb.mode as u32;
    let mode = if c.bit(&mut st.ctx.mode[0], (m != 0) as u32) == 0 {
        Mode::Inter
    } else if c.bit(&mut st.ctx.mode[1], (m != 1) as u32) == 0 {
        Mode::Intra
    } else if c.bit(&mut st.ctx.mode[2], (m != 2) as u32) == 0 {
        Mode::Average
    } else {
        Mode::Raw
    };
    mb.mode = mode;

    if !lossless && mode != Mode::Raw {
        let d = code_se(c, &mut st.ctx.dqp, mb.qp as i32 - chunk_qp as i32);
        mb.qp = (chunk_qp as i32 + d).clamp(0, transform::QP_MAX as i32) as u8;
    } else {
        mb.qp = chunk_qp;
    }

    if mode == Mode::Inter {
        let [cx, cy] = &mut st.ctx.mvd;
        let dx = code_se(c, cx, mb.mv.x.wrapping_sub(st.mv.x));
        let dy = code_se(c, cy, mb.mv.y.wrapping_sub(st.mv.y));
        let rebuild = |pred: i32, d: i32| pred.saturating_add(d).clamp(-MAX_MV, MAX_MV);
        mb.mv = MotionVector::new(rebuild(st.mv.x, dx), rebuild(st.mv.y, dy));
        st.mv = mb.mv;
    }

    let vals = &mut mb.vals[..geom.total];
    match mode {
        Mode::Raw => {
            for v in vals.iter_mut() {
                *v = c.bypass_bits(*v as u32, 8) as i32;
            }
        }
        Mode::Average => {
            for p in 0..geom.planes {
                let cells = geom.side[p] / CELL;
                let rc = &mut st.ctx.resid[MbGeom::plane_type(p)];
                let start = geom.offset[p] / (CELL * CELL);
                code_residuals(c, rc, &mut vals[start..start + cells * cells], cells);
            }
        }
        Mode::Inter | Mode::Intra if lossless => {
            for p in 0..geom.planes {
                let side = geom.side[p];
                let rc = &mut st.ctx.resid[MbGeom::plane_type(p)];
                let plane = &mut vals[geom.offset[p]..geom.offset[p] + side * side];
                code_residuals(c, rc, plane, side);
            }
        }
        Mode::Inter | Mode::Intra => {
            let inter = (mode == Mode::Inter) as usize;
            for p in 0..geom.planes {
                let kind = MbGeom::plane_type(p) * 2 + inter;
                let blocks = geom.side[p] * geom.side[p] / 64;
                for b in 0..blocks {
                    let start = geom.offset[p] + b * 64;
                    let levels = &mut vals[start..start + 64];
                    if inter == 1 {
                        code_coeffs(c, &mut st.ctx.coef[kind], levels);
                    } else {
                        // Intra DC is coded as a difference to the previous intra block of the
                        // plane in this chunk, as in JPEG.
                        // Saturated, so a forged chunk of many large differences cannot overflow
                        // it; no valid stream comes near the bound.
                        levels[0] = levels[0].saturating_sub(st.dc[p]);
                        code_coeffs(c, &mut st.ctx.coef[kind], levels);
                        levels[0] = levels[0]
                            .saturating_add(st.dc[p])
                            .clamp(-MAX_LEVEL, MAX_LEVEL);
                        st.dc[p] = levels[0];
                    }
                }
            }
        }
    }
}

/// Quantiser step of averaged cells.
pub fn average_step(lossless: bool, qp: u8) -> i32 {
    if lossless {
        1
    } else {
        (transform::dequant_scale(qp) / 64).max(1)
    }
}

/// Mean of each 4x4 cell of a macroblock, in cell order (planes back to back).
pub fn cell_means(geom: &MbGeom, px: &MbPixels) -> [i32; MAX_MB_SAMPLES / 16] {
    let mut means = [0; MAX_MB_SAMPLES / 16];
    let mut k = 0;
    for p in 0..geom.planes {
        let side = geom.side[p];
        let plane = &px.0[geom.offset[p]..];
        for cy in 0..side / CELL {
            for cx in 0..side / CELL {
                let mut s = 0;
                for y in 0..CELL {
                    let row = &plane[(cy * CELL + y) * side + cx * CELL..];
                    s += row[..CELL].iter().map(|&v| v as i32).sum::<i32>();
                }
                means[k] = (s + 8) >> 4;
                k += 1;
            }
        }
    }
    means
}

/// Median edge detector (LOCO-I) prediction inside a block: `a` left, `b` up, `c` up-left.
#[inline]
fn med(a: i32, b: i32, c: i32) -> i32 {
    if c >= a.max(b) {
        a.min(b)
    } else if c <= a.min(b) {
        a.max(b)
    } else {
        a + b - c
    }
}

/// Lossless prediction over one plane block. Intra predicts each sample from its reconstructed
/// neighbours; Inter predicts the temporal difference (sample - reference) from the neighbours'
/// differences. With `encode`, residuals are computed from `px` into `vals`; otherwise `px` is
/// rebuilt from `vals`. One loop for both, so the predictor exists once.
pub fn lossless_pass(
    inter: bool,
    side: usize,
    reference: &[u8],
    px: &mut [u8],
    vals: &mut [i32],
    encode: bool,
) {
    let value = |px: &[u8], i: usize| -> i32 {
        if inter {
            px[i] as i32 - reference[i] as i32
        } else {
            px[i] as i32
        }
    };
    let origin = if inter { 0 } else { 128 };
    for i in 0..side * side {
        let (x, y) = (i % side, i / side);
        let pred = match (x, y) {
            (0, 0) => origin,
            (_, 0) => value(px, i - 1),
            (0, _) => value(px, i - side),
            _ => med(
                value(px, i - 1),
                value(px, i - side),
                value(px, i - side - 1),
            ),
        };
        let base = pred + if inter { reference[i] as i32 } else { 0 };
        if encode {
            // Residuals are taken modulo 256 into [-128, 127].
            vals[i] = ((px[i] as i32 - base + 128).rem_euclid(256)) - 128;
        } else {
            px[i] = (base + vals[i]).rem_euclid(256) as u8;
        }
    }
}

/// Reconstruct a macroblock from its coded data and the reference picture's macroblock.
/// Lossless Inter/Intra are rebuilt by [`lossless_pass`] instead (the encoder already has them).
pub fn reconstruct(
    geom: &MbGeom,
    lossless: bool,
    mb: &MbData,
    reference: &MbPixels,
    out: &mut MbPixels,
) {
    let n = geom.total;
    match mb.mode {
        Mode::Raw => {
            for (o, &v) in out.0[..n].iter_mut().zip(&mb.vals[..n]) {
                *o = v.clamp(0, 255) as u8;
            }
        }
        Mode::Average => {
            let step = average_step(lossless, mb.qp);
            let means = cell_means(geom, reference);
            let mut k = 0;
            for p in 0..geom.planes {
                let side = geom.side[p];
                for cy in 0..side / CELL {
                    for cx in 0..side / CELL {
                        let v = (means[k] + mb.vals[k] * step).clamp(0, 255) as u8;
                        for y in 0..CELL {
                            let start = geom.offset[p] + (cy * CELL + y) * side + cx * CELL;
                            out.0[start..start + CELL].fill(v);
                        }
                        k += 1;
                    }
                }
            }
        }
        Mode::Inter | Mode::Intra if lossless => {
            let inter = mb.mode == Mode::Inter;
            let mut vals = mb.vals;
            for p in 0..geom.planes {
                let side = geom.side[p];
                let r = geom.offset[p]..geom.offset[p] + side * side;
                lossless_pass(
                    inter,
                    side,
                    &reference.0[r.clone()],
                    &mut out.0[r.clone()],
                    &mut vals[r],
                    false,
                );
            }
        }
        Mode::Inter | Mode::Intra => {
            let inter = mb.mode == Mode::Inter;
            for p in 0..geom.planes {
                let side = geom.side[p];
                let per_row = side / 8;
                for b in 0..per_row * per_row {
                    let levels: &[i32; 64] = mb.vals[geom.offset[p] + b * 64..][..64]
                        .try_into()
                        .expect("64 levels");
                    let (bx, by) = ((b % per_row) * 8, (b / per_row) * 8);
                    // Most blocks are empty or DC-only: their residual is flat, and
                    // transform::dc_residual gives it exactly without the full transform.
                    let flat = levels[1..]
                        .iter()
                        .all(|&l| l == 0)
                        .then(|| transform::dc_residual(levels[0], mb.qp));
                    let residual = match flat {
                        Some(_) => [0; 64],
                        None => transform::inverse(&transform::dequantize(levels, mb.qp)),
                    };
                    for y in 0..8 {
                        let row = geom.offset[p] + (by + y) * side + bx;
                        let pred: [u8; 8] = if inter {
                            reference.0[row..row + 8].try_into().expect("8 samples")
                        } else {
                            [128; 8]
                        };
                        let dst: &mut [u8; 8] =
                            (&mut out.0[row..row + 8]).try_into().expect("8 samples");
                        match flat {
                            Some(0) => *dst = pred,
                            Some(r) => {
                                for x in 0..8 {
                                    dst[x] = (pred[x] as i32 + r).clamp(0, 255) as u8;
                                }
                            }
                            None => {
                                for x in 0..8 {
                                    dst[x] =
                                        (pred[x] as i32 + residual[y * 8 + x]).clamp(0, 255) as u8;
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rangecoder::{RangeDecoder, RangeEncoder};

    #[test]
    fn coefficient_syntax_round_trip() {
        let mut levels = [0i32; 64];
        levels[0] = 40;
        levels[1] = -3;
        levels[5] = 1;
        levels[20] = -17;
        levels[63] = 2;
        let mut enc = RangeEncoder::new(Vec::new());
        let mut cc = Contexts::default().coef[0];
        code_coeffs(&mut enc, &mut cc, &mut levels.clone());
        let data = enc.finish(0);
        let mut dec = RangeDecoder::new(&data);
        let mut cc = Contexts::default().coef[0];
        let mut got = [7i32; 64];
        code_coeffs(&mut dec, &mut cc, &mut got);
        assert_eq!(got, levels);
    }

    /// A forged chunk whose every Intra DC difference is as large as a level can be: the
    /// prediction saturates instead of overflowing (the test profile checks overflow).
    #[test]
    fn intra_dc_prediction_saturates_on_forged_differences() {
        let layout = Layout::new(crate::PixelFormat::Gray8, 16, 16).unwrap();
        let geom = MbGeom::new(&layout);
        let blocks_per_mb = geom.total / 64;
        let mbs = 40_000 / blocks_per_mb as u32;
        let mut enc = RangeEncoder::new(Vec::new());
        let mut st = ChunkState::new(0);
        for i in 0..mbs {
            let mut mb = MbData::new(i, Mode::Intra, 0);
            for b in 0..blocks_per_mb {
                mb.vals[b * 64] = 1 << 20;
            }
            code_mb(&mut enc, &mut st, &geom, false, 0, &mut mb);
        }
        let data = enc.finish(0);
        let mut dec = RangeDecoder::new(&data);
        let mut st = ChunkState::new(0);
        for _ in 0..mbs {
            let mut mb = MbData::new(0, Mode::Inter, 0);
            code_mb(&mut dec, &mut st, &geom, false, 0, &mut mb);
            assert_eq!(mb.mode, Mode::Intra);
            assert!(mb.vals[..geom.total].iter().all(|v| v.abs() <= MAX_LEVEL));
        }
    }

    #[test]
    fn lossless_pass_inverts() {
        let side = 16;
        let reference: Vec<u8> = (0..256).map(|i| (i * 7 % 256) as u8).collect();
        for inter in [false, true] {
            let mut src: Vec<u8> = (0..256).map(|i| (i * 13 % 251) as u8).collect();
            let mut vals = vec![0i32; 256];
            lossless_pass(inter, side, &reference, &mut src, &mut vals, true);
            let mut out = vec![0u8; 256];
            lossless_pass(inter, side, &reference, &mut out, &mut vals, false);
            assert_eq!(out, src);
        }
    }
}
