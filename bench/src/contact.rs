// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! Contact sheets: rows of pictures side by side (input | mask | output of a few frames), as
//! one PNG a reader can look at instead of reading numbers.

use image::{imageops, GrayImage, RgbImage};
use picture::ycbcr_to_rgb;
use std::path::Path;

/// An I420 frame (Y, then U, then V, tightly packed) as RGB.
pub fn rgb_of_i420(i420: &[u8], width: usize, height: usize) -> RgbImage {
    let (cw, ch) = (width.div_ceil(2), height.div_ceil(2));
    let (y, rest) = i420.split_at(width * height);
    let (u, v) = rest.split_at(cw * ch);
    RgbImage::from_fn(width as u32, height as u32, |x, yy| {
        let (x, yy) = (x as usize, yy as usize);
        let c = (yy / 2) * cw + x / 2;
        let rgb = ycbcr_to_rgb(y[yy * width + x] as f32, u[c] as f32, v[c] as f32);
        image::Rgb(rgb.map(|v| v.round() as u8))
    })
}

/// A mask (255 = person) as a white-on-black picture.
pub fn rgb_of_mask(mask: &[u8], width: usize, height: usize) -> RgbImage {
    let grey = GrayImage::from_raw(width as u32, height as u32, mask.to_vec())
        .unwrap_or_else(|| GrayImage::new(width as u32, height as u32));
    image::DynamicImage::ImageLuma8(grey).to_rgb8()
}

/// Rows of pictures, each scaled to `cell_width` (aspect kept), on a dark grey sheet with a
/// 4-pixel gutter, written as PNG.
pub fn write_sheet(rows: &[Vec<RgbImage>], cell_width: u32, path: &Path) -> Result<(), String> {
    const GUTTER: u32 = 4;
    let scaled: Vec<Vec<RgbImage>> = rows
        .iter()
        .map(|row| {
            row.iter()
                .map(|p| {
                    let h = (p.height() as f64 * cell_width as f64 / p.width().max(1) as f64)
                        .round()
                        .max(1.0) as u32;
                    imageops::resize(p, cell_width, h, imageops::FilterType::Triangle)
                })
                .collect()
        })
        .collect();
    let columns = scaled.iter().map(Vec::len).max().unwrap_or(0) as u32;
    let heights: Vec<u32> = scaled
        .iter()
        .map(|r| r.iter().map(|p| p.height()).max().unwrap_or(0))
        .collect();
    let width = GUTTER + columns * (cell_width + GUTTER);
    let height = GUTTER + heights.iter().map(|h| h + GUTTER).sum::<u32>();
    let mut sheet = RgbImage::from_pixel(width, height, image::Rgb([40, 40, 40]));
    let mut top = GUTTER;
    for (row, h) in scaled.iter().zip(&heights) {
        for (i, p) in row.iter().enumerate() {
            let left = GUTTER + i as u32 * (cell_width + GUTTER);
            imageops::replace(&mut sheet, p, left as i64, top as i64);
        }
        top += h + GUTTER;
    }
    sheet
        .save(path)
        .map_err(|e| format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sheet_lays_rows_of_cells_side_by_side() {
        let red = RgbImage::from_pixel(20, 10, image::Rgb([255, 0, 0]));
        let mask = rgb_of_mask(&[255; 200], 20, 10);
        let dir = std::env::temp_dir().join(format!("contact-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("sheet.png");
        write_sheet(&[vec![red.clone(), mask], vec![red]], 40, &path).unwrap();
        let sheet = image::open(&path).unwrap().to_rgb8();
        assert_eq!((sheet.width(), sheet.height()), (4 + 2 * 44, 4 + 2 * 24));
        assert_eq!(sheet.get_pixel(10, 10).0, [255, 0, 0], "first cell");
        assert_eq!(sheet.get_pixel(60, 10).0, [255, 255, 255], "the mask cell");
        assert_eq!(
            sheet.get_pixel(60, 40).0,
            [40, 40, 40],
            "no second cell in row two"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn i420_grey_and_red_convert() {
        let (w, h) = (4, 2);
        let mut grey = vec![126u8; w * h];
        grey.extend([128u8; 4]);
        let rgb = rgb_of_i420(&grey, w, h);
        let p = rgb.get_pixel(3, 1).0;
        assert!(p.iter().all(|&c| (c as i32 - 128).abs() <= 2), "{p:?}");
        let mut red = vec![82u8; w * h];
        red.extend([90, 90, 240, 240]);
        let p = rgb_of_i420(&red, w, h).get_pixel(0, 0).0;
        assert!(p[0] > 240 && p[1] < 15 && p[2] < 15, "{p:?}");
    }
}
