// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! Raw 8-bit pictures as GStreamer lays them out (planar, semi-planar, packed, subsampled),
//! described component by component, and the rectangles drawn on them; no GStreamer types.
//! `face-tracking` reads frames through it and `background-model` blends them.

mod geometry;
mod planes;

pub use geometry::{PixelRect, Rect};
pub use planes::{
    ycbcr_to_rgb, Channel, Component, Gray, LayoutError, PictureLayout, WorkingFrame,
};

/// Largest picture file read (a PNG or JPEG background or photo).
pub const MAX_PICTURE_FILE_BYTES: u64 = 64 << 20;

/// The bytes of the picture file at `path`: a regular file of at most
/// [`MAX_PICTURE_FILE_BYTES`], so that a FIFO or `/dev/zero` handed over as a picture is refused
/// instead of blocking or filling memory. The error says what is wrong with the file.
pub fn read_picture_file(path: &std::path::Path) -> Result<Vec<u8>, String> {
    use std::io::Read as _;
    let file = std::fs::File::open(path).map_err(|e| format!("cannot open it: {e}"))?;
    let meta = file
        .metadata()
        .map_err(|e| format!("cannot read it: {e}"))?;
    if !meta.is_file() {
        return Err("it is not a regular file".into());
    }
    if meta.len() > MAX_PICTURE_FILE_BYTES {
        return Err(format!(
            "it is larger than {} MiB",
            MAX_PICTURE_FILE_BYTES >> 20
        ));
    }
    let mut data = Vec::with_capacity(meta.len() as usize);
    file.take(MAX_PICTURE_FILE_BYTES + 1)
        .read_to_end(&mut data)
        .map_err(|e| format!("cannot read it: {e}"))?;
    if data.len() as u64 > MAX_PICTURE_FILE_BYTES {
        return Err(format!("it grew past {} MiB", MAX_PICTURE_FILE_BYTES >> 20));
    }
    Ok(data)
}

#[cfg(test)]
mod file_tests {
    use super::*;

    #[test]
    fn only_regular_files_of_a_bounded_size_are_read() {
        assert!(read_picture_file(std::path::Path::new("/dev/zero"))
            .unwrap_err()
            .contains("not a regular file"));
        assert!(read_picture_file(std::path::Path::new("/nonexistent.png"))
            .unwrap_err()
            .contains("cannot open"));
        let path = std::env::temp_dir().join(format!("picture-file-{}", std::process::id()));
        std::fs::write(&path, b"PNG?").unwrap();
        assert_eq!(read_picture_file(&path).unwrap(), b"PNG?");
        std::fs::remove_file(&path).unwrap();
    }
}
