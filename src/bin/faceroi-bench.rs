// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! faceroi against GStreamer's facedetect (OpenCV Haar, gstreamer1.0-opencv), same photos and
//! clip, one run: precision and recall at IoU >= 0.5 and >= 0.3 on the annotated photos of the
//! shared media (photos without people count their detections as false positives), and CPU
//! and wall milliseconds per 640x480 frame on a clip.
//!
//! ```text
//! cargo run --release --bin faceroi-bench -- [--media DIR] [--clip CLIP.y4m] [--markdown]
//! ```

use pixelmeet::faces::{detect_photo, matched, media_dir, read_annotations};
use pixelmeet::rd::{run_timed, Error};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// One detector configuration: the element as written in a pipeline and the format it takes.
struct Config {
    label: &'static str,
    element: &'static str,
    format: &'static str,
    message: &'static str,
}

const FACEROI_DEFAULT: Config = Config {
    label: "faceroi (defaults: blazeface, interval 5, working width 320, min face 24)",
    element: "faceroi",
    format: "I420",
    message: "faceroi",
};
const FACEROI_SEETAFACE: Config = Config {
    label: "faceroi detector=seetaface (the defaults before blazeface)",
    element: "faceroi detector=seetaface",
    format: "I420",
    message: "faceroi",
};
const FACEROI_BGREPLACE: Config = Config {
    label: "faceroi ! bgreplace (defaults: blazeface, neural)",
    element: "faceroi ! bgreplace",
    format: "I420",
    message: "faceroi",
};
const FACEROI_BGREPLACE_SKIPPING: Config = Config {
    label: "faceroi ! bgreplace skip-threshold=1",
    element: "faceroi ! bgreplace skip-threshold=1",
    format: "I420",
    message: "faceroi",
};
const FACEROI_BGREPLACE_CLASSICAL: Config = Config {
    label: "faceroi detector=seetaface ! bgreplace method=model (the classical chain)",
    element: "faceroi detector=seetaface ! bgreplace method=model",
    format: "I420",
    message: "faceroi",
};
const FACEROI_EVERY_FRAME: Config = Config {
    label: "faceroi detection-interval=1",
    element: "faceroi detection-interval=1",
    format: "I420",
    message: "faceroi",
};
// facedetect's own minimum face is 30x30 and it scans the full image; this is faceroi set to
// the same reach.
const FACEROI_PHOTO: Config = Config {
    label: "faceroi detection-interval=1 min-face-size=30 working-width=0",
    element: "faceroi detection-interval=1 min-face-size=30 working-width=0",
    format: "I420",
    message: "faceroi",
};
const FACEDETECT: Config = Config {
    label: "facedetect (defaults)",
    element: "facedetect",
    format: "RGB",
    message: "facedetect",
};

struct Scores {
    truths: usize,
    detections: usize,
    hits_05: usize,
    hits_03: usize,
    in_negatives: usize,
}

fn score_photos(config: &Config, media: &Path) -> Result<Scores, Error> {
    let mut s = Scores {
        truths: 0,
        detections: 0,
        hits_05: 0,
        hits_03: 0,
        in_negatives: 0,
    };
    for photo in read_annotations(media)? {
        let path = media.join("faces").join(&photo.file);
        let found = detect_photo(config.element, config.format, config.message, &path)?;
        s.truths += photo.faces.len();
        s.detections += found.len();
        s.hits_05 += matched(&photo.faces, &found, 0.5);
        s.hits_03 += matched(&photo.faces, &found, 0.3);
        if photo.faces.is_empty() {
            s.in_negatives += found.len();
        }
    }
    Ok(s)
}

/// CPU and wall seconds of the clip pipeline with `element` in it.
fn run_clip(clip: &Path, format: &str, element: &str, frames: u32) -> Result<(f64, f64), Error> {
    run_timed(
        &format!(
            "filesrc name=src ! decodebin ! videoscale ! videoconvert ! \
             video/x-raw,format={format},width=640,height=480 ! identity eos-after={frames} ! \
             {element} ! fakesink"
        ),
        clip,
        Duration::from_secs(600),
    )
}

/// Milliseconds per frame the element adds: the clip pipeline with it, minus the same
/// pipeline with `identity` in its place (decoding, scaling and conversion cancel out).
fn clip_cost(config: &Config, clip: &Path, frames: u32) -> Result<(f64, f64), Error> {
    let (base_cpu, base_wall) = run_clip(clip, config.format, "identity", frames)?;
    let (cpu, wall) = run_clip(clip, config.format, config.element, frames)?;
    let per_frame = |with: f64, without: f64| (with - without).max(0.0) * 1000.0 / frames as f64;
    Ok((per_frame(cpu, base_cpu), per_frame(wall, base_wall)))
}

fn main() -> Result<(), Error> {
    let mut media = media_dir();
    let mut clip = PathBuf::from("/tmp/pixeldiff-media/LivePortrait_d9_512x480.y4m");
    let mut frames = 300u32;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--media" => media = args.next().ok_or("--media needs a directory")?.into(),
            "--clip" => clip = args.next().ok_or("--clip needs a file")?.into(),
            "--frames" => frames = args.next().ok_or("--frames needs a number")?.parse()?,
            "--markdown" => {}
            "-h" | "--help" => {
                println!(
                    "usage: faceroi-bench [--media DIR] [--clip CLIP.y4m] [--frames N]\n\
                     Photos from DIR/faces (default $PIXELMEET_MEDIA or ../shared/media), CPU on the first N frames \
                     (default 300) of CLIP scaled to 640x480. Needs gstreamer1.0-opencv for \
                     facedetect."
                );
                return Ok(());
            }
            other => return Err(format!("unknown argument {other} (try --help)").into()),
        }
    }
    pixelmeet::init().map_err(|e| e.to_string())?;
    if gst::ElementFactory::find("facedetect").is_none() {
        return Err(
            "facedetect is missing: apt-get install gstreamer1.0-opencv opencv-data".into(),
        );
    }

    println!(
        "## Photos: {} (annotations.csv)\n",
        media.join("faces").display()
    );
    println!("| detector | faces | detections | P @0.5 | R @0.5 | P @0.3 | R @0.3 | in photos without people |");
    println!("|---|---|---|---|---|---|---|---|");
    for config in [
        &FACEROI_DEFAULT,
        &FACEROI_SEETAFACE,
        &FACEROI_PHOTO,
        &FACEDETECT,
    ] {
        eprintln!("photos: {}", config.label);
        let s = score_photos(config, &media)?;
        let p = |h: usize| h as f64 / s.detections.max(1) as f64;
        let r = |h: usize| h as f64 / s.truths.max(1) as f64;
        println!(
            "| {} | {} | {} | {:.2} | {:.2} | {:.2} | {:.2} | {} |",
            config.label,
            s.truths,
            s.detections,
            p(s.hits_05),
            r(s.hits_05),
            p(s.hits_03),
            r(s.hits_03),
            s.in_negatives
        );
    }

    println!(
        "\n## CPU: {} frames of {} scaled to 640x480\n",
        frames,
        clip.file_name()
            .map_or("clip".into(), |n| n.to_string_lossy())
    );
    println!("| detector | input | CPU ms/frame | wall ms/frame | CPU vs facedetect |");
    println!("|---|---|---|---|---|");
    let mut rows = Vec::new();
    for config in [
        &FACEROI_DEFAULT,
        &FACEROI_EVERY_FRAME,
        &FACEROI_SEETAFACE,
        &FACEROI_BGREPLACE,
        &FACEROI_BGREPLACE_SKIPPING,
        &FACEROI_BGREPLACE_CLASSICAL,
        &FACEDETECT,
    ] {
        eprintln!("clip: {}", config.label);
        rows.push((config, clip_cost(config, &clip, frames)?));
    }
    let reference = rows.last().map_or(1.0, |r| r.1 .0.max(1e-9));
    for (config, (cpu, wall)) in rows {
        println!(
            "| {} | {} | {:.2} | {:.2} | {:.3}x |",
            config.label,
            config.format,
            cpu,
            wall,
            cpu / reference
        );
    }
    Ok(())
}
