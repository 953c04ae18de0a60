// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! The annotated face photos of the shared media (`faces/annotations.csv`) and a face detector
//! element run on one of them, for `faceroi-bench` and the faceroi tests.

use crate::rd::{launch, set_source, Error};
use face_tracking::Rect;
use gst::prelude::*;
use std::path::Path;

/// One annotated photo: its path under `faces/` and its face boxes (none for a photo without
/// people).
pub struct Photo {
    pub file: String,
    pub faces: Vec<Rect>,
}

/// Reads `faces/annotations.csv` (`file,img_width,img_height,x,y,w,h,label,source`, one row per
/// box; photos without people have one row labelled `no_face`).
pub fn read_annotations(media: &Path) -> Result<Vec<Photo>, Error> {
    let path = media.join("faces/annotations.csv");
    let csv = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut photos: Vec<Photo> = Vec::new();
    for line in csv.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        if f.len() < 8 {
            return Err(format!("{}: short row `{line}`", path.display()).into());
        }
        if photos.last().is_none_or(|p| p.file != f[0]) {
            photos.push(Photo {
                file: f[0].to_owned(),
                faces: Vec::new(),
            });
        }
        if f[7] == "face" {
            let n = |i: usize| {
                f[i].parse::<f32>()
                    .map_err(|e| format!("{}: `{}` in `{line}`: {e}", path.display(), f[i]))
            };
            let face = Rect::new(n(3)?, n(4)?, n(5)?, n(6)?);
            photos.last_mut().expect("pushed above").faces.push(face);
        }
    }
    Ok(photos)
}

/// Faces that `element` (taking raw `format`) reports in the last `message` it posts for a
/// photo: faceroi's `faceroi` and facedetect's `facedetect` share the `faces` list shape.
pub fn detect_photo(
    element: &str,
    format: &str,
    message: &str,
    photo: &Path,
) -> Result<Vec<Rect>, Error> {
    let pipeline = launch(&format!(
        "filesrc name=src ! jpegdec ! videoconvert ! video/x-raw,format={format} ! {element} ! \
         fakesink"
    ))?;
    set_source(&pipeline, photo)?;
    let bus = pipeline.bus().ok_or("no bus")?;
    pipeline
        .set_state(gst::State::Playing)
        .map_err(|_| "pipeline refused to start")?;
    let mut faces = Vec::new();
    let mut result = Err(format!("{}: no end of stream", photo.display()).into());
    for msg in bus.iter_timed(gst::ClockTime::from_seconds(60)) {
        match msg.view() {
            gst::MessageView::Element(e) => {
                let Some(s) = e.structure().filter(|s| s.name() == message) else {
                    continue;
                };
                faces = s
                    .get::<gst::List>("faces")
                    .map_err(|e| format!("{message}: {e}"))?
                    .iter()
                    .filter_map(|v| v.get::<gst::Structure>().ok())
                    .map(|f| {
                        let n = |k: &str| f.get::<u32>(k).unwrap_or(0) as f32;
                        Rect::new(n("x"), n("y"), n("width"), n("height"))
                    })
                    .collect();
            }
            gst::MessageView::Eos(_) => {
                result = Ok(());
                break;
            }
            gst::MessageView::Error(e) => {
                result = Err(format!("{}: {}", photo.display(), e.error()).into());
                break;
            }
            _ => {}
        }
    }
    let _ = pipeline.set_state(gst::State::Null);
    result.map(|()| faces)
}

/// True faces found, one detection each: every face takes the best unused detection that
/// overlaps it by at least `iou`.
pub fn matched(truth: &[Rect], found: &[Rect], iou: f32) -> usize {
    let mut used = vec![false; found.len()];
    let mut n = 0;
    for t in truth {
        let best = found
            .iter()
            .enumerate()
            .filter(|(i, f)| !used[*i] && f.iou(t) >= iou)
            .max_by(|a, b| a.1.iou(t).total_cmp(&b.1.iou(t)));
        if let Some((i, _)) = best {
            used[i] = true;
            n += 1;
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_detection_counts_for_one_face_only() {
        let a = Rect::new(0.0, 0.0, 10.0, 10.0);
        let b = Rect::new(2.0, 0.0, 10.0, 10.0);
        assert_eq!(matched(&[a, b], &[a], 0.5), 1);
        assert_eq!(matched(&[a, b], &[b, a], 0.5), 2);
        assert_eq!(matched(&[a], &[Rect::new(8.0, 0.0, 10.0, 10.0)], 0.5), 0);
    }
}
