// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! Operations on 8-bit masks and single-channel images: closing, connected regions, box
//! blur and bilinear resampling.

use picture::Gray;

/// 3x3 dilation (`grow`) or erosion of a 0/255 mask, edges clamped.
fn morph(mask: &Gray, grow: bool) -> Gray {
    let (w, h) = (mask.width, mask.height);
    if w < 2 || h == 0 {
        return mask.clone();
    }
    let pick = |a: u8, b: u8| if grow { a.max(b) } else { a.min(b) };
    // Along rows, then along columns: two passes of three instead of one of nine.
    let mut rows = Gray::new(w, h);
    for (src, dst) in mask.data.chunks_exact(w).zip(rows.data.chunks_exact_mut(w)) {
        dst[0] = pick(src[0], src[1]);
        dst[w - 1] = pick(src[w - 2], src[w - 1]);
        for (d, win) in dst[1..w - 1].iter_mut().zip(src.windows(3)) {
            *d = pick(pick(win[0], win[1]), win[2]);
        }
    }
    let mut out = Gray::new(w, h);
    for y in 0..h {
        let above = &rows.data[y.saturating_sub(1) * w..][..w];
        let below = &rows.data[(y + 1).min(h - 1) * w..][..w];
        let here = &rows.data[y * w..][..w];
        let dst = &mut out.data[y * w..][..w];
        for x in 0..w {
            dst[x] = pick(pick(above[x], here[x]), below[x]);
        }
    }
    out
}

/// Morphological closing with a 3x3 square: joins parts split by a one-pixel gap and fills
/// pinholes without moving the outline.
pub fn close(mask: &Gray) -> Gray {
    morph(&morph(mask, true), false)
}

/// What is known of a 4-connected region of equal mask values.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Region {
    pub area: usize,
    pub touches_border: bool,
    /// Whether any of its runs was marked.
    pub marked: bool,
}

fn find(parent: &mut [u32], mut i: u32) -> u32 {
    while parent[i as usize] != i {
        parent[i as usize] = parent[parent[i as usize] as usize];
        i = parent[i as usize];
    }
    i
}

/// Finds every 4-connected region of pixels equal to `value` and sets it to `replacement`
/// where `flip` says so. `mark(row, x0, x1)` marks the region holding a run of the row.
///
/// Works on runs (union-find of horizontal runs that overlap the run above), not pixels:
/// a mask has a few thousand runs and hundreds of thousands of pixels.
pub fn flip_regions(
    mask: &mut Gray,
    value: u8,
    replacement: u8,
    mark: impl Fn(usize, usize, usize) -> bool,
    flip: impl Fn(&Region) -> bool,
) {
    let (w, h) = (mask.width, mask.height);
    let mut runs: Vec<(usize, usize, usize)> = Vec::new();
    let mut parent: Vec<u32> = Vec::new();
    let mut previous = 0..0;
    for y in 0..h {
        let row = &mask.data[y * w..][..w];
        let first = runs.len();
        let mut x = 0;
        while x < w {
            if row[x] != value {
                x += 1;
                continue;
            }
            let x0 = x;
            while x < w && row[x] == value {
                x += 1;
            }
            let id = runs.len() as u32;
            runs.push((y, x0, x));
            parent.push(id);
            for above in previous.clone() {
                let (_, a0, a1) = runs[above];
                if a0 < x && x0 < a1 {
                    let (ra, rb) = (find(&mut parent, above as u32), find(&mut parent, id));
                    parent[ra.max(rb) as usize] = ra.min(rb);
                }
            }
        }
        previous = first..runs.len();
    }
    let mut regions = vec![Region::default(); runs.len()];
    for (i, &(y, x0, x1)) in runs.iter().enumerate() {
        let root = find(&mut parent, i as u32) as usize;
        let r = &mut regions[root];
        r.area += x1 - x0;
        r.touches_border |= y == 0 || y + 1 == h || x0 == 0 || x1 == w;
        r.marked = r.marked || mark(y, x0, x1);
    }
    let flips: Vec<bool> = regions.iter().map(|r| r.area > 0 && flip(r)).collect();
    for (i, &(y, x0, x1)) in runs.iter().enumerate() {
        let root = find(&mut parent, i as u32) as usize;
        if flips[root] {
            mask.data[y * w + x0..y * w + x1].fill(replacement);
        }
    }
}

/// Rounded division of a sum of `n` bytes by `n`, as a multiplication: the filters below do
/// one per pixel, and a division costs several times more.
#[derive(Clone, Copy)]
struct Average {
    half: u32,
    reciprocal: u64,
}

impl Average {
    fn new(n: usize) -> Self {
        let n = n.max(1) as u64;
        Average {
            half: (n / 2) as u32,
            reciprocal: (1u64 << 32).div_ceil(n),
        }
    }

    fn of(self, sum: u32) -> u8 {
        (((sum + self.half) as u64 * self.reciprocal) >> 32) as u8
    }
}

/// One box-filter pass of radius `r` along each row, edges clamped.
fn box_rows(image: &mut Gray, r: usize) {
    let w = image.width;
    let average = Average::new(2 * r + 1);
    let mut padded = vec![0u8; w + 2 * r];
    for row in image.data.chunks_exact_mut(w) {
        padded[..r].fill(row[0]);
        padded[r..r + w].copy_from_slice(row);
        padded[r + w..].fill(row[w - 1]);
        let mut sum: u32 = padded[..2 * r + 1].iter().map(|&v| v as u32).sum();
        for x in 0..w {
            row[x] = average.of(sum);
            if x + 1 < w {
                sum = sum + padded[x + 2 * r + 1] as u32 - padded[x] as u32;
            }
        }
    }
}

/// One box-filter pass of radius `r` down each column, edges clamped, a row at a time.
fn box_columns(image: &mut Gray, r: usize) {
    let (w, h) = (image.width, image.height);
    let average = Average::new(2 * r + 1);
    let src = image.data.clone();
    let row = |y: usize| &src[y.min(h - 1) * w..][..w];
    let mut sums = vec![0u32; w];
    for k in 0..=2 * r {
        for (s, &v) in sums.iter_mut().zip(row(k.saturating_sub(r))) {
            *s += v as u32;
        }
    }
    for y in 0..h {
        for (d, &s) in image.data[y * w..][..w].iter_mut().zip(&sums) {
            *d = average.of(s);
        }
        let (entering, leaving) = (row(y + r + 1), row(y.saturating_sub(r)));
        for ((s, &e), &l) in sums.iter_mut().zip(entering).zip(leaving) {
            *s = *s + e as u32 - l as u32;
        }
    }
}

/// Two passes of a `radius` box filter in each direction (a tent, close to a Gaussian of
/// sigma ~ 0.8 x radius), edges clamped. Radius 0 leaves the image alone.
pub fn blur(image: &Gray, radius: usize) -> Gray {
    let mut out = image.clone();
    if radius == 0 || image.width == 0 || image.height == 0 {
        return out;
    }
    for _ in 0..2 {
        box_rows(&mut out, radius);
        box_columns(&mut out, radius);
    }
    out
}

/// Area-average reduction by `fx` across and `fy` down (sizes rounded up, as GStreamer rounds
/// subsampled planes).
pub fn shrink(image: &Gray, fx: usize, fy: usize) -> Gray {
    let (fx, fy) = (fx.max(1), fy.max(1));
    let (w, h) = (image.width.div_ceil(fx), image.height.div_ceil(fy));
    if (fx, fy) == (2, 2) && image.width.is_multiple_of(2) && image.height.is_multiple_of(2) {
        // The chroma mask of every 4:2:0 frame: four samples a pixel, no counting.
        let src = &image.data;
        let mut data = Vec::with_capacity(w * h);
        for pair in src.chunks_exact(2 * image.width) {
            let (top, bottom) = pair.split_at(image.width);
            data.extend(
                top.chunks_exact(2)
                    .zip(bottom.chunks_exact(2))
                    .map(|(t, b)| {
                        ((t[0] as u32 + t[1] as u32 + b[0] as u32 + b[1] as u32 + 2) / 4) as u8
                    }),
            );
        }
        return Gray {
            width: w,
            height: h,
            data,
        };
    }
    let mut sums = vec![0u32; w * h];
    let mut counts = vec![0u32; w * h];
    for (y, row) in image.data.chunks_exact(image.width.max(1)).enumerate() {
        let out = (y / fy) * w;
        for (x, &v) in row.iter().enumerate() {
            sums[out + x / fx] += v as u32;
            counts[out + x / fx] += 1;
        }
    }
    Gray {
        width: w,
        height: h,
        data: sums
            .iter()
            .zip(&counts)
            .map(|(&s, &n)| ((s + n / 2) / n.max(1)) as u8)
            .collect(),
    }
}

/// Intersection over union of two masks of the same size (128 and above is person); 1 when
/// both are empty.
pub fn iou(a: &[u8], b: &[u8]) -> f64 {
    let (mut inter, mut union) = (0usize, 0usize);
    for (&x, &y) in a.iter().zip(b) {
        inter += (x >= 128 && y >= 128) as usize;
        union += (x >= 128 || y >= 128) as usize;
    }
    if union == 0 {
        1.0
    } else {
        inter as f64 / union as f64
    }
}

/// Bilinear resampling to `width` x `height` (pixel centres aligned), rows then columns.
pub fn resize(image: &Gray, width: usize, height: usize) -> Gray {
    let mut out = Gray::new(width, height);
    if image.width == 0 || image.height == 0 || width == 0 || height == 0 {
        return out;
    }
    // 8-bit fixed-point taps per output column and row.
    let taps = |n_out: usize, n_in: usize| -> Vec<(usize, usize, u32)> {
        (0..n_out)
            .map(|o| {
                let pos = ((o as f32 + 0.5) * n_in as f32 / n_out as f32 - 0.5).max(0.0);
                let i0 = (pos as usize).min(n_in - 1);
                let i1 = (i0 + 1).min(n_in - 1);
                (i0, i1, ((pos - i0 as f32) * 256.0) as u32)
            })
            .collect()
    };
    let xs = taps(width, image.width);
    let ys = taps(height, image.height);
    // Horizontal pass at 8 extra bits of precision.
    let mut across = vec![0u32; width * image.height];
    for (src, dst) in image
        .data
        .chunks_exact(image.width)
        .zip(across.chunks_exact_mut(width))
    {
        for (d, &(x0, x1, fx)) in dst.iter_mut().zip(&xs) {
            *d = src[x0] as u32 * (256 - fx) + src[x1] as u32 * fx;
        }
    }
    for (dst, &(y0, y1, fy)) in out.data.chunks_exact_mut(width).zip(&ys) {
        let (top, bottom) = (
            &across[y0 * width..][..width],
            &across[y1 * width..][..width],
        );
        for ((d, &t), &b) in dst.iter_mut().zip(top).zip(bottom) {
            *d = ((t * (256 - fy) + b * fy + 32768) >> 16) as u8;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mask(w: usize, h: usize, on: &[(usize, usize)]) -> Gray {
        let mut m = Gray::new(w, h);
        for &(x, y) in on {
            m.data[y * w + x] = 255;
        }
        m
    }

    #[test]
    fn closing_fills_a_pinhole_and_keeps_the_outline() {
        let on: Vec<_> = (2..8)
            .flat_map(|y| (2..8).map(move |x| (x, y)))
            .filter(|&p| p != (4, 4))
            .collect();
        let closed = close(&mask(10, 10, &on));
        assert_eq!(closed.data[4 * 10 + 4], 255, "pinhole filled");
        assert_eq!(closed.data[10 + 1], 0, "outside stays outside");
        assert_eq!(closed.data.iter().filter(|&&v| v == 255).count(), 36);
    }

    #[test]
    fn regions_are_found_with_their_size_and_border_contact() {
        let mut m = mask(6, 6, &[(0, 0), (1, 0), (3, 3), (3, 4), (4, 4)]);
        let found = std::cell::RefCell::new(Vec::new());
        flip_regions(
            &mut m,
            255,
            0,
            |y, x0, _| (y, x0) == (4, 3),
            |r| {
                found.borrow_mut().push(*r);
                r.area < 3
            },
        );
        let mut found = found.into_inner();
        found.sort_by_key(|r| r.area);
        let region = |area, touches_border, marked| Region {
            area,
            touches_border,
            marked,
        };
        assert_eq!(found, vec![region(2, true, false), region(3, false, true)]);
        assert_eq!(m.data[0], 0, "the small one is gone");
        assert_eq!(m.data[3 * 6 + 3], 255);
    }

    #[test]
    fn blur_keeps_flat_areas_and_softens_edges() {
        let on: Vec<_> = (0..8).flat_map(|y| (0..8).map(move |x| (x, y))).collect();
        let b = blur(&mask(16, 8, &on), 2);
        assert_eq!(b.data[..2], [255, 255]);
        assert_eq!(b.data[14..16], [0, 0]);
        assert!(b.data[7] > 128 && b.data[7] < 255 && b.data[8] < 128 && b.data[8] > 0);
        assert_eq!(b.data[..16], b.data[7 * 16..], "rows alike stay alike");
    }

    #[test]
    fn averages_by_multiplication_round_like_division() {
        for n in [1usize, 3, 5, 9, 25, 201] {
            let a = Average::new(n);
            for sum in (0..=255 * n as u32).step_by(7) {
                assert_eq!(
                    a.of(sum) as u32,
                    (sum + n as u32 / 2) / n as u32,
                    "{sum}/{n}"
                );
            }
        }
    }

    #[test]
    fn shrink_by_two_of_an_even_image_is_the_rounded_block_mean() {
        let (w, h) = (10, 6);
        let src = Gray {
            width: w,
            height: h,
            data: (0..w * h).map(|k| ((k * 97) % 256) as u8).collect(),
        };
        let out = shrink(&src, 2, 2);
        assert_eq!((out.width, out.height), (5, 3));
        for y in 0..3 {
            for x in 0..5 {
                let at = |xx: usize, yy: usize| src.data[yy * w + xx] as u32;
                let sum = at(2 * x, 2 * y)
                    + at(2 * x + 1, 2 * y)
                    + at(2 * x, 2 * y + 1)
                    + at(2 * x + 1, 2 * y + 1);
                assert_eq!(out.data[y * 5 + x] as u32, (sum + 2) / 4, "{x},{y}");
            }
        }
    }

    #[test]
    fn shrink_averages_blocks() {
        let src = Gray {
            width: 3,
            height: 2,
            data: vec![0, 100, 50, 200, 100, 50],
        };
        assert_eq!(shrink(&src, 2, 2).data, vec![100, 50]);
        assert_eq!(shrink(&src, 3, 1).data, vec![50, 117]);
        assert_eq!(
            (iou(&[255, 255, 0], &[255, 0, 0]), iou(&[0], &[0])),
            (0.5, 1.0)
        );
    }

    #[test]
    fn resize_doubles_and_keeps_constants() {
        let src = Gray {
            width: 2,
            height: 1,
            data: vec![0, 200],
        };
        let r = resize(&src, 4, 2);
        assert_eq!(r.data[..4], [0, 50, 150, 200]);
        assert_eq!(r.data[..4], r.data[4..]);
    }
}
