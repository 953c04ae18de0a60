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

use gst::prelude::*;
use pixelmeet::rd::{launch, process_cpu_time, run_to_eos, Error};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// One detector configuration: the element as written in a pipeline and the format it takes.
struct Config {
    label: &'static str,
    element: &'static str,
    format: &'static str,
    message: &'static str,
}

const FACEROI_DEFAULT: Config = Config {
    label: "faceroi (defaults: interval 5, working width 320, min face 48)",
    element: "faceroi",
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

#[derive(Clone, Copy, Debug)]
struct BoxF {
    x: f64,
    y: f64,
    w: f64,
    h: f64,
}

impl BoxF {
    fn iou(&self, o: &BoxF) -> f64 {
        let iw = (self.x + self.w).min(o.x + o.w) - self.x.max(o.x);
        let ih = (self.y + self.h).min(o.y + o.h) - self.y.max(o.y);
        if iw <= 0.0 || ih <= 0.0 {
            return 0.0;
        }
        let inter = iw * ih;
        inter / (self.w * self.h + o.w * o.h - inter)
    }
}

/// Faces in the last detector message of one photo.
fn detect_photo(config: &Config, photo: &Path) -> Result<Vec<BoxF>, Error> {
    let pipeline = launch(&format!(
        "filesrc location=\"{}\" ! jpegdec ! videoconvert ! video/x-raw,format={} ! {} ! fakesink",
        photo.display(),
        config.format,
        config.element
    ))?;
    let bus = pipeline.bus().ok_or("no bus")?;
    pipeline
        .set_state(gst::State::Playing)
        .map_err(|_| "pipeline refused to start")?;
    let mut faces = Vec::new();
    let mut result = Ok(());
    for msg in bus.iter_timed(gst::ClockTime::from_seconds(60)) {
        match msg.view() {
            gst::MessageView::Element(e) => {
                let Some(s) = e.structure().filter(|s| s.name() == config.message) else {
                    continue;
                };
                faces = s
                    .get::<gst::List>("faces")
                    .map_err(|e| format!("{}: {e}", config.message))?
                    .iter()
                    .filter_map(|v| v.get::<gst::Structure>().ok())
                    .map(|f| {
                        let n = |k: &str| f.get::<u32>(k).unwrap_or(0) as f64;
                        BoxF {
                            x: n("x"),
                            y: n("y"),
                            w: n("width"),
                            h: n("height"),
                        }
                    })
                    .collect();
            }
            gst::MessageView::Eos(_) => break,
            gst::MessageView::Error(e) => {
                result = Err(format!("{}: {}", photo.display(), e.error()));
                break;
            }
            _ => {}
        }
    }
    let _ = pipeline.set_state(gst::State::Null);
    result?;
    Ok(faces)
}

struct Scores {
    truths: usize,
    detections: usize,
    hits_05: usize,
    hits_03: usize,
    in_negatives: usize,
}

/// One-to-one matching: each true face takes the best unmatched detection at the threshold.
fn hits(truth: &[BoxF], found: &[BoxF], threshold: f64) -> usize {
    let mut used = vec![false; found.len()];
    let mut n = 0;
    for t in truth {
        let best = found
            .iter()
            .enumerate()
            .filter(|(i, f)| !used[*i] && f.iou(t) >= threshold)
            .max_by(|a, b| a.1.iou(t).total_cmp(&b.1.iou(t)));
        if let Some((i, _)) = best {
            used[i] = true;
            n += 1;
        }
    }
    n
}

fn score_photos(config: &Config, media: &Path) -> Result<Scores, Error> {
    let csv = std::fs::read_to_string(media.join("faces/annotations.csv"))
        .map_err(|e| format!("{}: {e}", media.join("faces/annotations.csv").display()))?;
    let mut photos: Vec<(String, Vec<BoxF>)> = Vec::new();
    for line in csv.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        if f.len() < 8 {
            continue;
        }
        if photos.last().is_none_or(|p| p.0 != f[0]) {
            photos.push((f[0].to_owned(), Vec::new()));
        }
        if f[7] == "face" {
            let n = |i: usize| f[i].parse::<f64>().unwrap_or(0.0);
            photos.last_mut().expect("pushed").1.push(BoxF {
                x: n(3),
                y: n(4),
                w: n(5),
                h: n(6),
            });
        }
    }
    let mut s = Scores {
        truths: 0,
        detections: 0,
        hits_05: 0,
        hits_03: 0,
        in_negatives: 0,
    };
    for (file, truth) in &photos {
        let found = detect_photo(config, &media.join("faces").join(file))?;
        s.truths += truth.len();
        s.detections += found.len();
        s.hits_05 += hits(truth, &found, 0.5);
        s.hits_03 += hits(truth, &found, 0.3);
        if truth.is_empty() {
            s.in_negatives += found.len();
        }
    }
    Ok(s)
}

/// CPU and wall time of a clip pipeline with `element` in it.
fn run_clip(
    clip: &Path,
    format: &str,
    element: &str,
    frames: u32,
) -> Result<(Duration, Duration), Error> {
    let pipeline = launch(&format!(
        "filesrc location=\"{}\" ! decodebin ! videoscale ! videoconvert ! \
         video/x-raw,format={format},width=640,height=480 ! identity eos-after={frames} ! \
         {element} ! fakesink",
        clip.display()
    ))?;
    let cpu = process_cpu_time()?;
    let wall = Instant::now();
    run_to_eos(&pipeline, Duration::from_secs(600))?;
    Ok((process_cpu_time()? - cpu, wall.elapsed()))
}

/// Milliseconds per frame the element adds: the clip pipeline with it, minus the same
/// pipeline with `identity` in its place (decoding, scaling and conversion cancel out).
fn clip_cost(config: &Config, clip: &Path, frames: u32) -> Result<(f64, f64), Error> {
    let (base_cpu, base_wall) = run_clip(clip, config.format, "identity", frames)?;
    let (cpu, wall) = run_clip(clip, config.format, config.element, frames)?;
    let per_frame = |with: Duration, without: Duration| {
        (with.as_secs_f64() - without.as_secs_f64()).max(0.0) * 1000.0 / frames as f64
    };
    Ok((per_frame(cpu, base_cpu), per_frame(wall, base_wall)))
}

fn main() -> Result<(), Error> {
    let mut media = PathBuf::from("../shared/media");
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
                     Photos from DIR/faces (default ../shared/media), CPU on the first N frames \
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
    for config in [&FACEROI_DEFAULT, &FACEROI_PHOTO, &FACEDETECT] {
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
    for config in [&FACEROI_DEFAULT, &FACEROI_EVERY_FRAME, &FACEDETECT] {
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
