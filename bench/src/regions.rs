// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! Hand-marked regions of the shared real clips (`bench/regions/*.json`) and the mask scores
//! measured on them: *kept* (person regions the mask keeps), *replaced* (background regions
//! the mask lets go) and *flicker* (mask pixels that flip between frames away from the edge).
//!
//! A region file names its clip, its size and, for frames spread over the clip, shapes drawn
//! well inside the people and well inside the background:
//! `{"clip": "...", "width": W, "height": H, "frames": [{"frame": 0, "person": [{"rect":
//! [x, y, w, h]} | {"polygon": [[x, y], ...]}], "background": [...]}]}`.

use crate::composite::Mask;
use std::path::{Path, PathBuf};

/// One drawn shape, in clip pixels.
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    Rect { x: i64, y: i64, w: i64, h: i64 },
    Polygon(Vec<(f64, f64)>),
}

impl Shape {
    fn contains(&self, px: f64, py: f64) -> bool {
        match self {
            Shape::Rect { x, y, w, h } => {
                px >= *x as f64 && px < (x + w) as f64 && py >= *y as f64 && py < (y + h) as f64
            }
            Shape::Polygon(points) => {
                // Even-odd rule on the pixel centre.
                let mut inside = false;
                let n = points.len();
                for i in 0..n {
                    let (x0, y0) = points[i];
                    let (x1, y1) = points[(i + n - 1) % n];
                    if (y0 > py) != (y1 > py) && px < (x1 - x0) * (py - y0) / (y1 - y0) + x0 {
                        inside = !inside;
                    }
                }
                inside
            }
        }
    }

    /// The pixel indices of a `width` x `height` picture whose centres lie inside.
    fn pixels(&self, width: usize, height: usize) -> Vec<usize> {
        let mut out = Vec::new();
        for y in 0..height {
            for x in 0..width {
                if self.contains(x as f64 + 0.5, y as f64 + 0.5) {
                    out.push(y * width + x);
                }
            }
        }
        out
    }
}

/// The marked shapes of one frame.
#[derive(Debug, Clone, PartialEq)]
pub struct MarkedFrame {
    pub frame: usize,
    pub person: Vec<Shape>,
    pub background: Vec<Shape>,
}

/// A clip's region file.
#[derive(Debug, Clone, PartialEq)]
pub struct ClipRegions {
    pub clip: String,
    pub width: usize,
    pub height: usize,
    pub frames: Vec<MarkedFrame>,
}

use crate::rd::Error;

fn shapes(value: &serde_json::Value, what: &str) -> Result<Vec<Shape>, Error> {
    let Some(list) = value.as_array() else {
        return Ok(Vec::new());
    };
    list.iter()
        .map(|s| {
            if let Some(r) = s.get("rect").and_then(|r| r.as_array()) {
                let n: Vec<i64> = r.iter().filter_map(|v| v.as_i64()).collect();
                if n.len() != 4 || n[2] <= 0 || n[3] <= 0 {
                    return Err(format!("{what}: bad rect {s}").into());
                }
                return Ok(Shape::Rect {
                    x: n[0],
                    y: n[1],
                    w: n[2],
                    h: n[3],
                });
            }
            let points = s
                .get("polygon")
                .and_then(|p| p.as_array())
                .ok_or_else(|| format!("{what}: neither rect nor polygon: {s}"))?
                .iter()
                .map(|p| {
                    let xy = p.as_array().filter(|a| a.len() == 2);
                    let n = |i: usize| xy.and_then(|a| a[i].as_f64());
                    n(0).zip(n(1))
                        .ok_or_else(|| Error::from(format!("{what}: bad point {p}")))
                })
                .collect::<Result<Vec<_>, _>>()?;
            if points.len() < 3 {
                return Err(format!("{what}: a polygon needs three points: {s}").into());
            }
            Ok(Shape::Polygon(points))
        })
        .collect()
}

impl ClipRegions {
    pub fn parse(json: &str) -> Result<Self, Error> {
        let v: serde_json::Value = serde_json::from_str(json)?;
        let clip = v["clip"].as_str().ok_or("no clip name")?.to_owned();
        let dim = |k: &str| {
            v[k].as_u64()
                .filter(|&n| n > 0)
                .map(|n| n as usize)
                .ok_or_else(|| format!("{clip}: no {k}"))
        };
        let (width, height) = (dim("width")?, dim("height")?);
        let frames = v["frames"]
            .as_array()
            .ok_or_else(|| format!("{clip}: no frames"))?
            .iter()
            .map(|f| {
                let frame = f["frame"]
                    .as_u64()
                    .ok_or_else(|| format!("{clip}: frame without number"))?
                    as usize;
                let what = format!("{clip} frame {frame}");
                Ok(MarkedFrame {
                    frame,
                    person: shapes(&f["person"], &what)?,
                    background: shapes(&f["background"], &what)?,
                })
            })
            .collect::<Result<Vec<_>, Error>>()?;
        Ok(ClipRegions {
            clip,
            width,
            height,
            frames,
        })
    }

    pub fn read(path: &Path) -> Result<Self, Error> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        Self::parse(&text).map_err(|e| format!("{}: {e}", path.display()).into())
    }

    /// The marked frame numbered `frame`, if any.
    pub fn marked(&self, frame: usize) -> Option<&MarkedFrame> {
        self.frames.iter().find(|f| f.frame == frame)
    }
}

/// Every region file of `dir` (`*.json`), by name.
pub fn read_dir(dir: &Path) -> Result<Vec<ClipRegions>, Error> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    paths.iter().map(|p| ClipRegions::read(p)).collect()
}

/// Where the committed region files are: `bench/regions` of this repository.
pub fn default_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("regions")
}

/// Kept and replaced shares of one marked frame: `None` where it marks no such shape.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FrameScore {
    pub frame: usize,
    pub kept: Option<f64>,
    pub replaced: Option<f64>,
}

fn share(mask: &Mask, shapes: &[Shape], person: bool) -> Option<f64> {
    let mut pixels: Vec<usize> = shapes
        .iter()
        .flat_map(|s| s.pixels(mask.width, mask.height))
        .collect();
    pixels.sort_unstable();
    pixels.dedup();
    if pixels.is_empty() {
        return None;
    }
    let right = pixels
        .iter()
        .filter(|&&i| (mask.data[i] >= 128) == person)
        .count();
    Some(right as f64 / pixels.len() as f64)
}

/// How `mask` (255 = person) does on the shapes of `marked`.
pub fn score(mask: &Mask, marked: &MarkedFrame) -> FrameScore {
    FrameScore {
        frame: marked.frame,
        kept: share(mask, &marked.person, true),
        replaced: share(mask, &marked.background, false),
    }
}

/// Pixels within `band` pixels (Chebyshev) of a change of `mask`'s binary value.
fn edge_band(mask: &Mask, band: usize) -> Vec<bool> {
    let (w, h) = (mask.width, mask.height);
    let stride = w + 1;
    let mut table = vec![0u32; stride * (h + 1)];
    for y in 0..h {
        let mut row = 0;
        for x in 0..w {
            row += (mask.data[y * w + x] >= 128) as u32;
            table[(y + 1) * stride + x + 1] = table[y * stride + x + 1] + row;
        }
    }
    let mut out = vec![false; w * h];
    for y in 0..h {
        let (y0, y1) = (y.saturating_sub(band), (y + band + 1).min(h));
        for x in 0..w {
            let (x0, x1) = (x.saturating_sub(band), (x + band + 1).min(w));
            let n = table[y1 * stride + x1] + table[y0 * stride + x0]
                - table[y0 * stride + x1]
                - table[y1 * stride + x0];
            let area = ((y1 - y0) * (x1 - x0)) as u32;
            out[y * w + x] = n > 0 && n < area;
        }
    }
    out
}

/// The band around a mask's edge that [`flicker`] leaves out, in pixels.
pub const FLICKER_BAND: usize = 4;

/// Share of the pixels whose person/background value differs between `previous` and `current`,
/// leaving out those within [`FLICKER_BAND`] of an edge in both: an edge that moves by less
/// than the band is motion, a speck that comes or goes anywhere is flicker.
pub fn flicker(previous: &Mask, current: &Mask) -> f64 {
    let a = edge_band(previous, FLICKER_BAND);
    let b = edge_band(current, FLICKER_BAND);
    let (mut flips, mut counted) = (0usize, 0usize);
    for i in 0..current.data.len().min(previous.data.len()) {
        if a[i] && b[i] {
            continue;
        }
        counted += 1;
        flips += ((previous.data[i] >= 128) != (current.data[i] >= 128)) as usize;
    }
    if counted == 0 {
        0.0
    } else {
        flips as f64 / counted as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const JSON: &str = r#"{"clip": "c", "width": 8, "height": 6, "frames": [
        {"frame": 0, "person": [{"rect": [0, 0, 4, 6]}],
         "background": [{"polygon": [[5, 0], [8, 0], [8, 6], [5, 6]]}]},
        {"frame": 3, "person": [], "background": [{"rect": [6, 0, 2, 2]}]}]}"#;

    fn left_half_person() -> Mask {
        let mut m = Mask::new(8, 6);
        for y in 0..6 {
            for x in 0..4 {
                m.data[y * 8 + x] = 255;
            }
        }
        m
    }

    #[test]
    fn parses_rects_and_polygons_and_refuses_bad_files() {
        let r = ClipRegions::parse(JSON).unwrap();
        assert_eq!(
            (r.clip.as_str(), r.width, r.height, r.frames.len()),
            ("c", 8, 6, 2)
        );
        assert_eq!(
            r.frames[0].person[0],
            Shape::Rect {
                x: 0,
                y: 0,
                w: 4,
                h: 6
            }
        );
        assert!(matches!(r.frames[0].background[0], Shape::Polygon(ref p) if p.len() == 4));
        assert!(r.marked(3).is_some() && r.marked(1).is_none());
        for bad in [
            r#"{"width": 8}"#,
            r#"{"clip": "c", "width": 8, "height": 6, "frames": [{"frame": 0, "person": [{"rect": [0, 0, 0, 6]}]}]}"#,
            r#"{"clip": "c", "width": 8, "height": 6, "frames": [{"frame": 0, "person": [{"polygon": [[0, 0], [1, 1]]}]}]}"#,
            "not json",
        ] {
            assert!(ClipRegions::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn kept_and_replaced_count_the_right_side_of_each_shape() {
        let r = ClipRegions::parse(JSON).unwrap();
        let exact = score(&left_half_person(), &r.frames[0]);
        assert_eq!((exact.kept, exact.replaced), (Some(1.0), Some(1.0)));
        let everyone = Mask {
            data: vec![255; 48],
            ..Mask::new(8, 6)
        };
        let all = score(&everyone, &r.frames[0]);
        assert_eq!((all.kept, all.replaced), (Some(1.0), Some(0.0)));
        let nobody = score(&Mask::new(8, 6), &r.frames[0]);
        assert_eq!(nobody.kept, Some(0.0));
        assert_eq!(
            score(&Mask::new(8, 6), &r.frames[1]).kept,
            None,
            "no person marked"
        );
        // Half the person rect lost.
        let mut half = left_half_person();
        for y in 0..3 {
            for x in 0..4 {
                half.data[y * 8 + x] = 0;
            }
        }
        assert_eq!(score(&half, &r.frames[0]).kept, Some(0.5));
    }

    #[test]
    fn flicker_counts_flips_away_from_the_edge_only() {
        let mut a = Mask::new(40, 40);
        for y in 10..30 {
            for x in 10..30 {
                a.data[y * 40 + x] = 255;
            }
        }
        assert_eq!(flicker(&a, &a), 0.0);
        // The edge moving by 2 pixels stays inside the band.
        let mut moved = Mask::new(40, 40);
        for y in 10..30 {
            for x in 12..32 {
                moved.data[y * 40 + x] = 255;
            }
        }
        assert_eq!(flicker(&a, &moved), 0.0);
        // A speck far from the edge flips: 3x3 pixels of the 1600 - (edge band of both).
        let mut speck = a.clone();
        for y in 1..4 {
            for x in 34..37 {
                speck.data[y * 40 + x] = 255;
            }
        }
        let f = flicker(&a, &speck);
        assert!((9.0 / 1600.0..=9.0 / 900.0).contains(&f), "{f}");
        assert_eq!(flicker(&a, &speck), flicker(&speck, &a), "coming or going");
    }
}
