// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! Quality and rate-distortion metrics: Y-PSNR, Bjontegaard delta rate, and rate ratios at equal
//! quality.
//!
//! Conventions follow `shared/tools/rd.py`, the project's cross-check script, so that the two
//! agree to rounding: identical frames score 100 dB, a clip's PSNR is the mean of its frames'
//! PSNR, and BD-rate fits a cubic to ln(rate) against PSNR over the overlapping PSNR range.

/// PSNR given to a frame identical to its reference (its true PSNR is infinite, which would make
/// any mean infinite). 100 dB is the value rd.py and most RD tools use.
pub const IDENTICAL_PSNR: f64 = 100.0;

/// Mean squared error between two 8-bit planes of `width` x `height` samples, each with its own
/// row stride in bytes.
///
/// # Panics
/// If a plane is shorter than its stride and size imply (a caller bug, not bad input).
pub fn mse_plane(
    a: &[u8],
    a_stride: usize,
    b: &[u8],
    b_stride: usize,
    width: usize,
    height: usize,
) -> f64 {
    if width == 0 || height == 0 {
        return 0.0;
    }
    // u64 cannot overflow: 65025 per sample times any frame size that fits in memory.
    let mut sum: u64 = 0;
    for row in 0..height {
        let ra = &a[row * a_stride..row * a_stride + width];
        let rb = &b[row * b_stride..row * b_stride + width];
        sum += ra
            .iter()
            .zip(rb)
            .map(|(&x, &y)| {
                let d = i32::from(x) - i32::from(y);
                (d * d) as u64
            })
            .sum::<u64>();
    }
    sum as f64 / (width * height) as f64
}

/// PSNR in dB of an 8-bit signal with the given mean squared error; [`IDENTICAL_PSNR`] for 0.
pub fn psnr_from_mse(mse: f64) -> f64 {
    if mse == 0.0 {
        IDENTICAL_PSNR
    } else {
        10.0 * (255.0 * 255.0 / mse).log10()
    }
}

/// Y-PSNR in dB between two tightly packed frames (I420 or any layout starting with the Y plane).
///
/// # Panics
/// If a frame is shorter than `width * height`.
pub fn psnr_y(reference: &[u8], decoded: &[u8], width: usize, height: usize) -> f64 {
    psnr_from_mse(mse_plane(reference, width, decoded, width, width, height))
}

/// Arithmetic mean, `None` for no values.
pub fn mean(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

/// A polynomial from [`polyfit`], kept in a centred and scaled variable `u = (x - center) / scale`.
///
/// PSNR values of 30-50 dB raised to the third power make the plain Vandermonde matrix badly
/// conditioned; in `u`, which lies in [-1, 1] over the data, the fit is well conditioned. The
/// polynomial is the same function of `x` either way.
#[derive(Debug, Clone, PartialEq)]
pub struct Poly {
    center: f64,
    scale: f64,
    /// Coefficients in ascending powers of `u`.
    coef: Vec<f64>,
}

impl Poly {
    /// The value at `x`.
    pub fn eval(&self, x: f64) -> f64 {
        let u = (x - self.center) / self.scale;
        self.coef.iter().rev().fold(0.0, |acc, &c| acc * u + c)
    }

    /// The definite integral from `lo` to `hi` (in `x`).
    pub fn integral(&self, lo: f64, hi: f64) -> f64 {
        let anti = |x: f64| {
            let u = (x - self.center) / self.scale;
            // Antiderivative in u, Horner form: sum c_k u^(k+1) / (k+1).
            let inner = self
                .coef
                .iter()
                .enumerate()
                .rev()
                .fold(0.0, |acc, (k, &c)| acc * u + c / (k + 1) as f64);
            inner * u
        };
        // dx = scale * du.
        self.scale * (anti(hi) - anti(lo))
    }

    /// Coefficients in ascending powers of `x` (numpy's `polyfit` order reversed), for
    /// comparison with other tools.
    pub fn monomial_coefficients(&self) -> Vec<f64> {
        // p(x) = sum_k c_k ((x - m) / s)^k; expand each power binomially.
        let n = self.coef.len();
        let mut out = vec![0.0; n];
        for (k, &c) in self.coef.iter().enumerate() {
            let ck = c / self.scale.powi(k as i32);
            let mut binom = 1.0;
            for (j, o) in out.iter_mut().enumerate().take(k + 1) {
                // Term of x^j in (x - m)^k: C(k, j) * (-m)^(k - j).
                *o += ck * binom * (-self.center).powi((k - j) as i32);
                binom = binom * (k - j) as f64 / (j + 1) as f64;
            }
        }
        out
    }
}

/// Why [`polyfit`] could not fit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FitError {
    LengthMismatch,
    /// Fewer points than coefficients.
    TooFewPoints,
    NotFinite,
    /// Too few distinct x values for the degree.
    RankDeficient,
}

impl std::fmt::Display for FitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            FitError::LengthMismatch => "x and y have different lengths",
            FitError::TooFewPoints => "fewer points than polynomial coefficients",
            FitError::NotFinite => "a value is NaN or infinite",
            FitError::RankDeficient => "too few distinct x values for the degree",
        })
    }
}

impl std::error::Error for FitError {}

/// Least-squares polynomial fit of degree `deg` (as `numpy.polyfit`), by Householder QR of the
/// Vandermonde matrix in a centred and scaled variable (see [`Poly`]).
pub fn polyfit(x: &[f64], y: &[f64], deg: usize) -> Result<Poly, FitError> {
    let n = x.len();
    let m = deg + 1;
    if y.len() != n {
        return Err(FitError::LengthMismatch);
    }
    if n < m {
        return Err(FitError::TooFewPoints);
    }
    if x.iter().chain(y).any(|v| !v.is_finite()) {
        return Err(FitError::NotFinite);
    }
    let center = x.iter().sum::<f64>() / n as f64;
    let spread = x.iter().map(|v| (v - center).abs()).fold(0.0, f64::max);
    let scale = if spread > 0.0 { spread } else { 1.0 };

    // Row-major n x m Vandermonde matrix in u, and the right-hand side, both reduced in place.
    let mut a: Vec<f64> = x
        .iter()
        .flat_map(|&xi| {
            let u = (xi - center) / scale;
            (0..m).scan(1.0, move |p, _| {
                let v = *p;
                *p *= u;
                Some(v)
            })
        })
        .collect();
    let mut b = y.to_vec();
    let at = |r: usize, c: usize| r * m + c;

    for j in 0..m {
        let norm = (j..n).map(|r| a[at(r, j)].powi(2)).sum::<f64>().sqrt();
        // Columns of u^k over [-1, 1] have norms of order sqrt(n); a pivot this small means the
        // column is a combination of the previous ones (repeated x values).
        if norm <= 1e-10 * (n as f64).sqrt() {
            return Err(FitError::RankDeficient);
        }
        // Reflect column j onto -sign(a_jj) * norm * e_j (the sign avoids cancellation).
        let alpha = if a[at(j, j)] > 0.0 { -norm } else { norm };
        let mut v: Vec<f64> = (j..n).map(|r| a[at(r, j)]).collect();
        v[0] -= alpha;
        let vnorm2: f64 = v.iter().map(|t| t * t).sum();
        if vnorm2 == 0.0 {
            continue;
        }
        for c in j..m {
            let dot: f64 = (j..n).map(|r| v[r - j] * a[at(r, c)]).sum();
            let f = 2.0 * dot / vnorm2;
            for r in j..n {
                a[at(r, c)] -= f * v[r - j];
            }
        }
        let dot: f64 = (j..n).map(|r| v[r - j] * b[r]).sum();
        let f = 2.0 * dot / vnorm2;
        for r in j..n {
            b[r] -= f * v[r - j];
        }
    }

    // Back-substitute R c = (Q^T y)[..m].
    let mut coef = vec![0.0; m];
    for j in (0..m).rev() {
        let s: f64 = (j + 1..m).map(|c| a[at(j, c)] * coef[c]).sum();
        coef[j] = (b[j] - s) / a[at(j, j)];
    }
    Ok(Poly {
        center,
        scale,
        coef,
    })
}

/// Bjontegaard delta rate in percent of `test` against `anchor`, points being `(kbps, psnr_db)`:
/// the mean difference of ln(rate) between two polynomial fits (cubic, or of lower degree when a
/// curve has fewer than four points) over the PSNR range both curves cover.
///
/// Negative means `test` needs fewer bits for the same PSNR. `None` when the curves do not
/// overlap in PSNR, a curve is empty, or a rate is not positive (rd.py returns NaN or fails).
pub fn bd_rate(anchor: &[(f64, f64)], test: &[(f64, f64)]) -> Option<f64> {
    let fit = |pts: &[(f64, f64)]| -> Option<Poly> {
        if pts.is_empty() || pts.iter().any(|&(r, _)| r.is_nan() || r <= 0.0) {
            return None;
        }
        let psnr: Vec<f64> = pts.iter().map(|p| p.1).collect();
        let ln_rate: Vec<f64> = pts.iter().map(|p| p.0.ln()).collect();
        polyfit(&psnr, &ln_rate, 3.min(pts.len() - 1)).ok()
    };
    let pa = fit(anchor)?;
    let pt = fit(test)?;
    let range = |pts: &[(f64, f64)]| {
        pts.iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| {
                (lo.min(p.1), hi.max(p.1))
            })
    };
    let (alo, ahi) = range(anchor);
    let (tlo, thi) = range(test);
    let (lo, hi) = (alo.max(tlo), ahi.min(thi));
    if hi.is_nan() || lo.is_nan() || hi <= lo {
        return None;
    }
    let avg = (pt.integral(lo, hi) - pa.integral(lo, hi)) / (hi - lo);
    Some((avg.exp() - 1.0) * 100.0)
}

/// The rate a curve of `(kbps, psnr_db)` points needs for `psnr`, interpolating ln(rate)
/// linearly in PSNR between the neighbouring points. `None` outside the curve's PSNR range.
///
/// Piecewise-linear rather than a fitted cubic because this is evaluated near single points of
/// short curves (four JPEG qualities), where a cubic can wiggle.
pub fn rate_at_psnr(curve: &[(f64, f64)], psnr: f64) -> Option<f64> {
    let mut pts: Vec<(f64, f64)> = curve
        .iter()
        .copied()
        .filter(|&(r, p)| r > 0.0 && r.is_finite() && p.is_finite())
        .collect();
    pts.sort_by(|a, b| a.1.total_cmp(&b.1));
    if pts.len() == 1 && pts[0].1 == psnr {
        return Some(pts[0].0);
    }
    pts.windows(2).find_map(|w| {
        let ((r0, p0), (r1, p1)) = (w[0], w[1]);
        if !(p0 <= psnr && psnr <= p1) {
            return None;
        }
        if p1 == p0 {
            return Some((r0 * r1).sqrt());
        }
        let t = (psnr - p0) / (p1 - p0);
        Some((r0.ln() + t * (r1.ln() - r0.ln())).exp())
    })
}

/// For each `test` point whose PSNR lies inside `reference`'s range, the ratio of its rate to the
/// reference's rate at that PSNR ([`rate_at_psnr`]). Returns the geometric mean of the ratios
/// (ratios average multiplicatively) and how many points took part; `None` if none did.
pub fn rate_ratio_at_equal_psnr(
    reference: &[(f64, f64)],
    test: &[(f64, f64)],
) -> Option<(f64, usize)> {
    let logs: Vec<f64> = test
        .iter()
        .filter(|&&(r, _)| r > 0.0)
        .filter_map(|&(r, p)| rate_at_psnr(reference, p).map(|rr| (r / rr).ln()))
        .collect();
    Some((mean(&logs)?.exp(), logs.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    // Reference numbers below were computed with rd.py's bd_rate, numpy.polyfit and numpy's PSNR
    // formula (numpy 2.4) on these same points, so the Rust port is checked against the
    // cross-check script rather than against itself.
    const ANCHOR: [(f64, f64); 5] = [
        (64.0, 30.1),
        (128.0, 33.4),
        (256.0, 36.2),
        (512.0, 39.0),
        (1024.0, 41.7),
    ];
    const TEST: [(f64, f64); 6] = [
        (50.0, 29.0),
        (100.0, 32.5),
        (200.0, 35.9),
        (400.0, 38.8),
        (800.0, 41.2),
        (1600.0, 43.0),
    ];
    const JPEG: [(f64, f64); 3] = [(300.0, 31.5), (520.0, 34.0), (900.0, 37.2)];

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol * b.abs().max(1.0)
    }

    #[test]
    fn psnr_matches_numpy() {
        let x: Vec<u8> = (0..64).collect();
        let mut y = x.clone();
        y[0] += 3;
        y[5 * 8 + 5] -= 1;
        let p = psnr_y(&x, &y, 8, 8);
        assert!(close(p, 56.19260334851798, 1e-12), "{p}");
        assert_eq!(psnr_y(&x, &x, 8, 8), IDENTICAL_PSNR);
    }

    #[test]
    fn mse_honours_strides() {
        // 2x2 plane stored with stride 3 (padding bytes differ) vs tightly packed.
        let a = [10u8, 20, 99, 30, 40, 99];
        let b = [10u8, 22, 30, 40];
        assert_eq!(mse_plane(&a, 3, &b, 2, 2, 2), 1.0);
    }

    #[test]
    fn polyfit_matches_numpy() {
        let x: Vec<f64> = ANCHOR.iter().map(|p| p.1).collect();
        let y: Vec<f64> = ANCHOR.iter().map(|p| p.0.ln()).collect();
        let c = polyfit(&x, &y, 3).unwrap().monomial_coefficients();
        // numpy.polyfit returns the highest power first.
        let np = [
            12.897211401260467,
            -1.0292317720752293,
            0.0331038609607289,
            -0.0002842670775469168,
        ];
        for (got, want) in c.iter().zip(np) {
            assert!(close(*got, want, 1e-8), "{c:?} vs {np:?}");
        }
        let x: Vec<f64> = TEST.iter().map(|p| p.1).collect();
        let y: Vec<f64> = TEST.iter().map(|p| p.0.ln()).collect();
        let c = polyfit(&x, &y, 3).unwrap().monomial_coefficients();
        let np = [
            -24.262231019848464,
            2.274158767784016,
            -0.0638566834610235,
            0.0006529438999724769,
        ];
        for (got, want) in c.iter().zip(np) {
            assert!(close(*got, want, 1e-8), "{c:?} vs {np:?}");
        }
    }

    #[test]
    fn polyfit_exact_and_degenerate() {
        // Three points, degree 2: interpolation, so the fit passes through them.
        let p = polyfit(&[1.0, 2.0, 4.0], &[1.0, 4.0, 16.0], 2).unwrap();
        for x in [1.0, 2.0, 3.0, 4.0] {
            assert!(close(p.eval(x), x * x, 1e-12));
        }
        assert!(close(p.integral(0.0, 3.0), 9.0, 1e-12));
        assert_eq!(
            polyfit(&[1.0, 1.0, 1.0], &[1.0, 2.0, 3.0], 1),
            Err(FitError::RankDeficient)
        );
        assert_eq!(polyfit(&[1.0], &[1.0], 1), Err(FitError::TooFewPoints));
        // Degree 0 with one point is the constant (rd.py's min(3, n - 1) allows it).
        assert!(close(
            polyfit(&[5.0], &[2.0], 0).unwrap().eval(7.0),
            2.0,
            0.0
        ));
    }

    #[test]
    fn bd_rate_matches_rd_py() {
        type Curve<'a> = &'a [(f64, f64)];
        let cases: [(Curve, Curve, f64); 4] = [
            (&ANCHOR, &TEST, -11.636041338297353),
            (&ANCHOR, &JPEG, 234.43924392947628),
            (&JPEG, &ANCHOR, -70.09920282528591),
            (&ANCHOR, &[(90.0, 31.0), (300.0, 37.5)], 3.073203442342609),
        ];
        for (a, t, want) in cases {
            let got = bd_rate(a, t).unwrap();
            assert!(close(got, want, 1e-9), "{got} vs {want}");
        }
        // No PSNR overlap: rd.py gives NaN.
        assert_eq!(bd_rate(&ANCHOR, &[(10.0, 10.0), (20.0, 12.0)]), None);
        assert_eq!(bd_rate(&ANCHOR, &[]), None);
        assert_eq!(bd_rate(&ANCHOR, &[(0.0, 35.0), (10.0, 40.0)]), None);
        // A curve against itself costs nothing.
        assert!(bd_rate(&ANCHOR, &ANCHOR).unwrap().abs() < 1e-9);
    }

    #[test]
    fn rate_interpolation_in_log_domain() {
        // Halfway in PSNR between 300 and 520 kbps is their geometric mean.
        let r = rate_at_psnr(&JPEG, 32.75).unwrap();
        assert!(close(r, (300.0f64 * 520.0).sqrt(), 1e-12));
        assert!(close(rate_at_psnr(&JPEG, 31.5).unwrap(), 300.0, 1e-12));
        assert_eq!(rate_at_psnr(&JPEG, 30.0), None);
        assert_eq!(rate_at_psnr(&JPEG, 38.0), None);
        // Points outside JPEG's range are ignored; the two inside are at 1/2 and 1/4 the rate.
        let test = [(150.0, 31.5), (130.0, 34.0), (10.0, 50.0)];
        let (ratio, n) = rate_ratio_at_equal_psnr(&JPEG, &test).unwrap();
        assert_eq!(n, 2);
        assert!(close(ratio, (0.5f64 * 0.25).sqrt(), 1e-12));
        assert_eq!(rate_ratio_at_equal_psnr(&JPEG, &[(1.0, 60.0)]), None);
    }
}
