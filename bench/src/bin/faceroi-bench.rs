// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! faceroi against GStreamer's facedetect (OpenCV Haar, gstreamer1.0-opencv), same photos and
//! clip, one run: precision and recall at IoU >= 0.5 and >= 0.3 on the annotated photos of the
//! shared media (photos without people count their detections as false positives), and CPU
//! and wall milliseconds per 640x480 frame on a clip. Then owner mode: the identity check's
//! false accepts and rejects over the shared clips' people and the photos' faces, and real
//! owner scenes (`pixelmeet_bench::owner_scene`): frames where the stranger's face or the owner's
//! left the element, and the CPU of owner mode against the default mode.
//!
//! ```text
//! cargo run --release --bin faceroi-bench -- [--media DIR] [--decoded DIR] [--clip CLIP.y4m]
//!     [--owner-only] [--contact-sheet PNG]
//! ```

use pixelmeet_bench::faces::{detect_photo, matched, read_annotations};
use pixelmeet_bench::identity::{rates, samples};
use pixelmeet_bench::owner_scene::{
    self, compose, decode_square, save_photo, OWNER_TILE, STRANGER_TILE,
};
use pixelmeet_bench::rd::{run_timed, Error};
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

/// One owner scene: who is the owner (enrolled as the largest face, or from a photo: their
/// clip's frame `photo_frame`, far from the 180 frames of the scene) and who the stranger.
struct OwnerCase {
    owner: &'static str,
    stranger: &'static str,
    photo_frame: Option<usize>,
}

const OWNER_CASES: [OwnerCase; 5] = [
    OwnerCase {
        owner: "LivePortrait_d6_512x512",
        stranger: "LivePortrait_d12_512x512",
        photo_frame: None,
    },
    // d6 pulls faces throughout; frame 400 is the calmest, as an owner's photo would be, and
    // frame 447 a grimace.
    OwnerCase {
        owner: "LivePortrait_d6_512x512",
        stranger: "LivePortrait_d9_512x480",
        photo_frame: Some(400),
    },
    OwnerCase {
        owner: "LivePortrait_d6_512x512",
        stranger: "LivePortrait_d9_512x480",
        photo_frame: Some(447),
    },
    OwnerCase {
        owner: "LivePortrait_d12_512x512",
        stranger: "LivePortrait_d9_512x480",
        photo_frame: Some(182),
    },
    OwnerCase {
        owner: "LivePortrait_d9_512x480",
        stranger: "LivePortrait_d12_512x512",
        photo_frame: Some(586),
    },
];

const IDENTITY_THRESHOLDS: [f32; 6] = [0.35, 0.4, 0.45, 0.5, 0.55, 0.6];
const OWNER_CPU_RUNS: usize = 3;

/// Element CPU ms per frame on the scene: median of runs, less the same run through
/// `identity`.
fn scene_cost(element: &str, scene: &[Vec<u8>]) -> Result<f64, Error> {
    let median = |element: &str| -> Result<f64, Error> {
        let mut cpu = (0..OWNER_CPU_RUNS)
            .map(|_| Ok(owner_scene::run(element, scene)?.cpu_seconds))
            .collect::<Result<Vec<f64>, Error>>()?;
        cpu.sort_by(f64::total_cmp);
        Ok(cpu[OWNER_CPU_RUNS / 2])
    };
    let base = median("identity")?;
    Ok((median(element)? - base).max(0.0) * 1000.0 / scene.len() as f64)
}

fn owner_mode(media: &Path, decoded: &Path, sheet: Option<&Path>) -> Result<(), Error> {
    eprintln!("identity: describing the clips' people and the photos' faces");
    let described = samples(decoded, media)?;
    println!(
        "\n## Identity: {} faces ({} clips at {} frames each, the photos' faces)\n",
        described.len(),
        pixelmeet_bench::identity::ONE_PERSON_CLIPS.len(),
        pixelmeet_bench::identity::FRAMES_PER_CLIP
    );
    println!("| threshold | same-person pairs | false rejects | FRR | other pairs | false accepts | FAR |");
    println!("|---|---|---|---|---|---|---|");
    for t in IDENTITY_THRESHOLDS {
        let r = rates(&described, t);
        println!(
            "| {t:.2} | {} | {} | {:.3} | {} | {} | {:.4} |",
            r.same_pairs,
            r.false_rejects,
            r.false_reject_rate(),
            r.other_pairs,
            r.false_accepts,
            r.false_accept_rate()
        );
    }

    println!(
        "\n## Owner scenes: two clips side by side, swapped at frame {}, the owner covered over \
         frames {:?}\n",
        owner_scene::SWAP_AT,
        owner_scene::COVERED
    );
    println!("| owner | stranger | enrolled | element | stranger shown | owner shown / found | CPU ms/frame | CPU vs |");
    println!("|---|---|---|---|---|---|---|---|");
    let video = media.join("video");
    let photo =
        std::env::temp_dir().join(format!("faceroi-bench-owner-{}.png", std::process::id()));
    for case in &OWNER_CASES {
        let frames = 180;
        let clip = |name: &str| video.join(format!("{name}.mp4"));
        let scene = compose(
            &decode_square(&clip(case.owner), OWNER_TILE, frames)?,
            &decode_square(&clip(case.stranger), STRANGER_TILE, frames)?,
        );
        let (enrolled, owner_element) = match case.photo_frame {
            None => ("largest face".to_owned(), "faceroi mode=owner".to_owned()),
            Some(index) => {
                let all = decode_square(&clip(case.owner), 512, index + 1)?;
                save_photo(all.last().ok_or("no frames")?, 512, &photo)?;
                (
                    format!("photo (frame {})", all.len() - 1),
                    format!("faceroi mode=owner owner-photo={}", photo.display()),
                )
            }
        };
        eprintln!("owner scene: {} / {}", case.owner, case.stranger);
        // Each element with the default-mode pipeline its CPU is compared with.
        let chain = format!("{owner_element} ! bgreplace keep=faces");
        let mut rows = vec![("faceroi", "faceroi"), (owner_element.as_str(), "faceroi")];
        if case.photo_frame.is_none() {
            rows.push(("faceroi ! bgreplace", "faceroi ! bgreplace"));
            rows.push((chain.as_str(), "faceroi ! bgreplace"));
        }
        let mut costs: Vec<(&str, f64)> = Vec::new();
        let mut pictures = vec![scene.clone()];
        for (element, reference) in rows {
            let run = owner_scene::run(element, &scene)?;
            let s = owner_scene::score(&scene, &run.outputs)?;
            let cost = scene_cost(element, &scene)?;
            costs.push((element, cost));
            let reference_cost = costs
                .iter()
                .find(|c| c.0 == reference)
                .map_or(cost, |c| c.1);
            let shown_element = element.replace(&photo.display().to_string(), "PHOTO");
            println!(
                "| {} | {} | {} | `{}` | {} of {} | {} / {} ({:.1} %) | {:.2} | {:.2}x `{}` |",
                case.owner,
                case.stranger,
                enrolled,
                shown_element,
                s.stranger_shown,
                s.frames,
                s.owner_shown,
                s.owner_found,
                100.0 * s.owner_shown_fraction(),
                cost,
                cost / reference_cost.max(1e-9),
                reference
            );
            if element == owner_element || element == chain {
                pictures.push(run.outputs);
            }
        }
        if let (Some(path), None) = (sheet, case.photo_frame) {
            owner_sheet(&pictures, path)?;
        }
    }
    let _ = std::fs::remove_file(&photo);
    Ok(())
}

/// The input above each output, at the frames that matter: enrolled, just after the swap,
/// covered, back.
fn owner_sheet(pictures: &[Vec<Vec<u8>>], path: &Path) -> Result<(), Error> {
    use pixelmeet_bench::contact::{rgb_of_i420, write_sheet};
    let at = [
        0,
        owner_scene::SWAP_AT + 1,
        owner_scene::COVERED.start + 15,
        owner_scene::COVERED.end + 10,
    ];
    let row = |frames: &[Vec<u8>]| {
        at.iter()
            .map(|&i| rgb_of_i420(&frames[i], owner_scene::WIDTH, owner_scene::HEIGHT))
            .collect::<Vec<_>>()
    };
    let rows: Vec<_> = pictures.iter().map(|p| row(p)).collect();
    write_sheet(&rows, 480, path)?;
    eprintln!("wrote {}", path.display());
    Ok(())
}

fn main() -> Result<(), Error> {
    let mut media = pixelmeet_testkit::media_dir();
    let mut decoded = PathBuf::from("/tmp/pixeldiff-media");
    let mut clip = PathBuf::from("/tmp/pixeldiff-media/LivePortrait_d9_512x480.y4m");
    let mut frames = 300u32;
    let mut owner_only = false;
    let mut sheet: Option<PathBuf> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--media" => media = args.next().ok_or("--media needs a directory")?.into(),
            "--clip" => clip = args.next().ok_or("--clip needs a file")?.into(),
            "--decoded" => decoded = args.next().ok_or("--decoded needs a directory")?.into(),
            "--owner-only" => owner_only = true,
            "--contact-sheet" => {
                sheet = Some(args.next().ok_or("--contact-sheet needs a file")?.into())
            }
            "--frames" => frames = args.next().ok_or("--frames needs a number")?.parse()?,
            "--markdown" => {}
            "-h" | "--help" => {
                println!(
                    "usage: faceroi-bench [--media DIR] [--decoded DIR] [--clip CLIP.y4m] \
                     [--frames N] [--owner-only] [--contact-sheet PNG]\n\
                     Photos from DIR/faces (default $PIXELMEET_MEDIA or ../shared/media), CPU on the first N frames \
                     (default 300) of CLIP scaled to 640x480; owner mode on DIR/video and the \
                     clips decoded by prepare.sh into --decoded (default /tmp/pixeldiff-media), \
                     its pictures into the contact sheet. --owner-only runs only owner mode. \
                     Needs gstreamer1.0-opencv for facedetect."
                );
                return Ok(());
            }
            other => return Err(format!("unknown argument {other} (try --help)").into()),
        }
    }
    pixelmeet::init().map_err(|e| e.to_string())?;
    if owner_only {
        return owner_mode(&media, &decoded, sheet.as_deref());
    }
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
    owner_mode(&media, &decoded, sheet.as_deref())
}
