// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! bgreplace against GStreamer's `segmentation` (OpenCV MOG2, gstreamer1.0-opencv), one run:
//!
//! 1. Mask quality: mean IoU with the exact person mask on a composite of real footage (a man
//!    talking, cut out with a head-and-shoulders shape, over a harbour clip; see
//!    `pixelmeet_bench::composite` for the timeline), over all frames and per phase.
//! 2. Bandwidth: pixeldiffenc bytes on `carphone_qcif.y4m` with `faceroi ! bgreplace
//!    background=color` in front against without.
//! 3. CPU ms per 640x480 frame of bgreplace alone on the composite.
//!
//! ```text
//! cargo run --release --bin bgreplace-bench -- [--media DIR] [--markdown] [--cpu-runs N] [--keep]
//!     [--per-frame FILE.csv]
//! ```
//!
//! Results go to stdout, progress to stderr.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use gst_video::prelude::*;

use background_model::mask::iou;
use image::RgbImage;
use pixelmeet_bench::composite::{self, Mask, Phase, Scene};
use pixelmeet_bench::contact;
use pixelmeet_bench::rd::{self, Error};
use pixelmeet_bench::regions::{self, ClipRegions};
use pixelmeet_bench::table::Table;
use pixelmeet_bench::y4m::Y4mReader;

const USAGE: &str = "\
usage: bgreplace-bench [options]

Kept, replaced and flicker of bgreplace and OpenCV segmentation on the real clips from their
first frame (hand-marked regions), mask IoU on a 640x480 composite with an exact mask,
pixeldiffenc bandwidth with and without bgreplace on carphone_qcif, and bgreplace CPU per
frame. Build with --release.

options:
  --media DIR     decoded clips (default /tmp/pixeldiff-media; make them with
                  sh ../shared/media/prepare.sh DIR)
  --regions DIR   hand-marked person and background regions of the real clips
                  (default: bench/regions of this repository)
  --contact-sheets DIR
                  write DIR/<clip>.png: input | mask | output of a few frames from the
                  first, for bgreplace at its defaults
  --real-only     only the real clips (no composite, bandwidth or CPU)
  --markdown      print tables in Markdown
  --cpu-runs N    runs for the median CPU time (default: 3)
  --keep          keep the composite Y4M and print its path
  --per-frame CSV write each frame's IoU and person share per segmenter to CSV
  -h, --help      show this help";

/// The clips, in the media directory.
const BACKGROUND_CLIP: &str = "container_qcif.y4m";
const PERSON_CLIP: &str = "LivePortrait_d9_512x480.y4m";
const BANDWIDTH_CLIP: &str = "carphone_qcif.y4m";

/// Target of the task: bgreplace in front of pixeldiffenc saves at least this share of bytes.
const SAVING_TARGET_PERCENT: f64 = 40.0;
/// Target of the task: bgreplace CPU per 640x480 frame.
const CPU_TARGET_MS: f64 = 5.0;

/// A mask producer: a gst-launch fragment from RGBA to RGBA, and where its mask is in the
/// output.
struct Segmenter {
    label: &'static str,
    fragment: &'static str,
    /// Byte of the RGBA pixel holding the mask; >= 128 is person.
    channel: usize,
    /// Elements it needs beyond pixelmeet's, and how to get them.
    needs: &'static str,
    install: &'static str,
}

const BGREPLACE: Segmenter = Segmenter {
    label: "bgreplace (defaults: neural)",
    fragment: "faceroi ! bgreplace output-mask=true",
    channel: 3,
    needs: "bgreplace",
    install: "pixelmeet::init() does not register it: is plugins/bgreplace built in?",
};
const BGREPLACE_SKIPPING: Segmenter = Segmenter {
    label: "bgreplace skip-threshold=1",
    fragment: "faceroi ! bgreplace output-mask=true skip-threshold=1",
    channel: 3,
    needs: BGREPLACE.needs,
    install: BGREPLACE.install,
};
const BGREPLACE_MODEL: Segmenter = Segmenter {
    label: "bgreplace method=model (the defaults before)",
    fragment: "faceroi detector=seetaface ! bgreplace output-mask=true method=model",
    channel: 3,
    needs: BGREPLACE.needs,
    install: BGREPLACE.install,
};
// test-mode paints foreground white and background black into R, G and B.
const SEGMENTATION: Segmenter = Segmenter {
    label: "segmentation (MOG2)",
    fragment: "segmentation test-mode=true",
    channel: 0,
    needs: "segmentation",
    install: "apt-get install gstreamer1.0-opencv",
};
const BGREPLACE_ROI: Segmenter = Segmenter {
    label: "bgreplace method=roi",
    fragment: "faceroi ! bgreplace output-mask=true method=roi",
    channel: 3,
    needs: BGREPLACE.needs,
    install: BGREPLACE.install,
};

/// pixeldiffenc settings of the bandwidth table; each is run with and without bgreplace.
const ENCODER_SETTINGS: [(&str, &str); 2] = [
    ("defaults (lossy, quality 60)", ""),
    ("lossless=true", "lossless=true"),
];

const BGREPLACE_FOR_BANDWIDTH: &str = "faceroi ! bgreplace background=color";

const CPU_CONFIGS: [&str; 5] = [
    "bgreplace",
    "bgreplace background=blur",
    "bgreplace skip-threshold=1",
    "bgreplace segment-interval=2",
    "bgreplace method=model",
];

/// Targets of the task on the real clips, from their first frame.
const KEPT_TARGET: f64 = 0.97;
const REPLACED_TARGET: f64 = 0.97;
const WORST_FRAME_TARGET: f64 = 0.90;
const FLICKER_TARGET_PERCENT: f64 = 1.0;
/// Rows of a contact sheet and the width of each picture in it.
const SHEET_FRAMES: usize = 4;
const SHEET_CELL_WIDTH: u32 = 200;

struct Options {
    media: PathBuf,
    regions: PathBuf,
    contact_sheets: Option<PathBuf>,
    only_real: bool,
    markdown: bool,
    cpu_runs: usize,
    keep: bool,
    per_frame: Option<PathBuf>,
    timeout: Duration,
}

/// `Ok(None)` means help was asked for.
fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Option<Options>, Error> {
    let mut opts = Options {
        media: PathBuf::from("/tmp/pixeldiff-media"),
        regions: pixelmeet_bench::regions::default_dir(),
        contact_sheets: None,
        only_real: false,
        markdown: false,
        cpu_runs: 3,
        keep: false,
        per_frame: None,
        timeout: Duration::from_secs(600),
    };
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-h" | "--help" => return Ok(None),
            "--markdown" => opts.markdown = true,
            "--keep" => opts.keep = true,
            "--real-only" => opts.only_real = true,
            "--regions" => opts.regions = args.next().ok_or("--regions needs a directory")?.into(),
            "--contact-sheets" => {
                opts.contact_sheets = Some(
                    args.next()
                        .ok_or("--contact-sheets needs a directory")?
                        .into(),
                )
            }
            "--per-frame" => {
                opts.per_frame = Some(args.next().ok_or("--per-frame needs a file")?.into())
            }
            "--media" => opts.media = args.next().ok_or("--media needs a directory")?.into(),
            "--cpu-runs" => {
                let v = args.next().ok_or("--cpu-runs needs a number")?;
                match v.parse::<usize>() {
                    Ok(n) if n > 0 => opts.cpu_runs = n,
                    _ => return Err(format!("--cpu-runs: {v:?} is not a positive number").into()),
                }
            }
            other => return Err(format!("unknown argument {other} (try --help)").into()),
        }
    }
    Ok(Some(opts))
}

/// The composite on disk, removed when dropped unless kept.
struct TempClip {
    path: PathBuf,
    keep: bool,
}

impl Drop for TempClip {
    fn drop(&mut self) {
        if !self.keep {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// How one output frame's mask compares with the truth.
#[derive(Debug, Clone, Copy)]
struct FrameScore {
    iou: f64,
    /// Share of the frame marked person: where the truth is empty, IoU is 0 or 1 and this says
    /// how much of the empty room a segmenter gets wrong.
    person_share: f64,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic in the streaming thread poisons the lock; its data still serves the report.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Runs `segmenter` over `clip` (Y4M) and hands each output frame's number, mask and sample
/// to `on_frame`, in order; returns how many frames came out.
fn run_masks(
    segmenter: &Segmenter,
    clip: &Path,
    timeout: Duration,
    on_frame: impl FnMut(usize, Mask, &gst::Sample) -> Result<(), String> + Send + 'static,
) -> Result<usize, Error> {
    let pipeline = rd::launch(&format!(
        "filesrc name=src ! y4mdec ! videoconvert ! video/x-raw,format=RGBA ! {} ! \
         appsink name=sink sync=false caps=video/x-raw,format=RGBA",
        segmenter.fragment
    ))?;
    rd::set_source(&pipeline, clip)?;
    let frames = Arc::new(Mutex::new(0usize));
    let error = Arc::new(Mutex::new(None::<String>));
    let sink = rd::appsink(&pipeline, "sink")?;
    {
        let (frames, error) = (frames.clone(), error.clone());
        let channel = segmenter.channel;
        let on_frame = Mutex::new(on_frame);
        sink.set_callbacks(
            gst_app::AppSinkCallbacks::builder()
                .new_sample(move |sink| {
                    let sample = sink.pull_sample().map_err(|_| gst::FlowError::Eos)?;
                    let mut frames = lock(&frames);
                    let handled = predicted_mask(&sample, channel)
                        .and_then(|mask| (lock(&on_frame))(*frames, mask, &sample));
                    *frames += 1;
                    handled.map(|_| gst::FlowSuccess::Ok).map_err(|e| {
                        lock(&error).get_or_insert(e);
                        gst::FlowError::Error
                    })
                })
                .build(),
        );
    }
    let run = rd::run_to_eos(&pipeline, timeout);
    // Our own error says more than the flow error it causes upstream.
    if let Some(e) = lock(&error).take() {
        return Err(e.into());
    }
    run?;
    let n = *lock(&frames);
    Ok(n)
}

/// Scores `segmenter`'s mask against the truth, every frame of the composite in order.
fn score_masks(
    segmenter: &Segmenter,
    clip: &Path,
    scene: &Arc<Scene>,
    timeout: Duration,
) -> Result<Vec<FrameScore>, Error> {
    let scores = Arc::new(Mutex::new(Vec::with_capacity(scene.frames())));
    let (into, scene_in) = (scores.clone(), scene.clone());
    let frames = run_masks(segmenter, clip, timeout, move |frame, mask, _| {
        if frame >= scene_in.frames() {
            return Err(format!("more than the {frame} frames put in"));
        }
        lock(&into).push(FrameScore {
            iou: iou(&scene_in.truth(frame).data, &mask.data),
            person_share: composite::person_pixels(&mask) as f64 / mask.data.len().max(1) as f64,
        });
        Ok(())
    })?;
    if frames != scene.frames() {
        return Err(format!("{frames} frames out for {} in", scene.frames()).into());
    }
    let scores = std::mem::take(&mut *lock(&scores));
    Ok(scores)
}

/// A packed RGBA sample's first plane, its row stride and its size.
fn with_rgba<T>(
    sample: &gst::Sample,
    read: impl FnOnce(&[u8], usize, (usize, usize)) -> T,
) -> Result<T, String> {
    let caps = sample.caps().ok_or("sample without caps")?;
    let info = gst_video::VideoInfo::from_caps(caps).map_err(|e| format!("{e}: {caps}"))?;
    let buffer = sample.buffer().ok_or("sample without buffer")?;
    let frame = gst_video::VideoFrameRef::from_buffer_ref_readable(buffer, &info)
        .map_err(|_| "cannot map an output frame")?;
    let stride = usize::try_from(frame.plane_stride()[0]).map_err(|_| "negative stride")?;
    let data = frame.plane_data(0).map_err(|e| e.to_string())?;
    Ok(read(
        data,
        stride,
        (info.width() as usize, info.height() as usize),
    ))
}

/// The mask in byte `channel` of an RGBA sample.
fn predicted_mask(sample: &gst::Sample, channel: usize) -> Result<Mask, String> {
    with_rgba(sample, |data, stride, size| {
        composite::mask_from_channel(data, stride, size, 4, channel, 128)
    })
}

/// Plain-text or Markdown table; columns after the first align right.
fn table(markdown: bool, header: &[&str], rows: &[Vec<String>]) -> String {
    Table {
        markdown,
        header: header.iter().map(|h| h.to_string()).collect(),
        rows: rows.to_vec(),
        first_numeric: 1,
    }
    .render()
}

fn heading(markdown: bool, text: &str) -> String {
    if markdown {
        format!("\n## {text}\n\n")
    } else {
        format!("\n{text}\n{}\n", "=".repeat(text.chars().count()))
    }
}

/// Mean of `f` over the frames in `range`.
fn mean_over(scores: &[FrameScore], range: Range<usize>, f: fn(&FrameScore) -> f64) -> f64 {
    let values: Vec<f64> = scores[range].iter().map(f).collect();
    pixelmeet_testkit::quality::mean(&values).unwrap_or(f64::NAN)
}

/// One line per frame: its phase, then IoU and person share for each segmenter that ran.
fn write_per_frame(path: &Path, columns: &[(&str, Option<Vec<FrameScore>>)]) -> Result<(), Error> {
    let ran: Vec<_> = columns
        .iter()
        .filter_map(|(label, s)| s.as_ref().map(|s| (label, s)))
        .collect();
    let mut csv = String::from("frame,phase");
    for (label, _) in &ran {
        csv += &format!(",{label} IoU,{label} person share");
    }
    for frame in 0..composite::FRAMES {
        csv += &format!("\n{frame},{}", Phase::of(frame).label());
        for (_, scores) in &ran {
            let s = scores[frame];
            csv += &format!(",{:.4},{:.4}", s.iou, s.person_share);
        }
    }
    csv.push('\n');
    std::fs::write(path, csv).map_err(|e| format!("{}: {e}", path.display()).into())
}

fn mask_quality(
    opts: &Options,
    clip: &Path,
    scene: &Arc<Scene>,
    out: &mut String,
    notes: &mut Vec<String>,
) -> Result<(), Error> {
    let all = 0..composite::FRAMES;
    let mut columns = Vec::new();
    for segmenter in [&BGREPLACE, &BGREPLACE_MODEL, &SEGMENTATION, &BGREPLACE_ROI] {
        if gst::ElementFactory::find(segmenter.needs).is_none() {
            notes.push(format!(
                "{} skipped: {} is missing ({})",
                segmenter.label, segmenter.needs, segmenter.install
            ));
            columns.push((segmenter.label, None));
            continue;
        }
        eprintln!("mask quality: {} ...", segmenter.label);
        let t = Instant::now();
        let scores = score_masks(segmenter, clip, scene, opts.timeout)
            .map_err(|e| format!("{}: {e}", segmenter.label))?;
        eprintln!(
            "  mean IoU {:.3} ({:.1} s)",
            mean_over(&scores, all.clone(), |s| s.iou),
            t.elapsed().as_secs_f64()
        );
        columns.push((segmenter.label, Some(scores)));
    }

    if let Some(path) = &opts.per_frame {
        write_per_frame(path, &columns)?;
    }

    let mut spans = vec![("all frames".to_string(), all)];
    spans.extend(Phase::ALL.map(|p| (p.label().to_string(), p.frames())));
    spans.push((
        "person present".into(),
        composite::ENTER_START..composite::FRAMES,
    ));
    let row = |label: String, range: Range<usize>, value: fn(&FrameScore) -> f64| {
        let mut row = vec![label, format!("{}-{}", range.start, range.end - 1)];
        row.extend(columns.iter().map(|(_, scores)| match scores {
            Some(s) => format!("{:.3}", mean_over(s, range.clone(), value)),
            None => "n/a".into(),
        }));
        row
    };
    let mut rows: Vec<Vec<String>> = spans
        .into_iter()
        .map(|(label, range)| row(format!("IoU, {label}"), range, |s| s.iou))
        .collect();
    rows.push(row(
        "% of the empty room marked person".into(),
        Phase::Background.frames(),
        |s| 100.0 * s.person_share,
    ));
    let mut header = vec!["mean", "frames"];
    header.extend(columns.iter().map(|(label, _)| *label));
    *out += &heading(
        opts.markdown,
        &format!(
            "Mask quality on the {}x{} composite ({} frames, {} fps)",
            composite::WIDTH,
            composite::HEIGHT,
            composite::FRAMES,
            composite::FPS
        ),
    );
    *out += &table(opts.markdown, &header, &rows);
    Ok(())
}

fn bandwidth(opts: &Options, out: &mut String, notes: &mut Vec<String>) -> Result<(), Error> {
    let clip = opts.media.join(BANDWIDTH_CLIP);
    let mut reader = Y4mReader::open(&clip).map_err(|e| format!("{}: {e}", clip.display()))?;
    let mut frame = Vec::new();
    while reader
        .read_frame_into(&mut frame)
        .map_err(|e| format!("{}: {e}", clip.display()))?
    {}
    let frames = reader.frames_read();
    let mut rows = Vec::new();
    let measure = |enc: &str| {
        eprintln!("bandwidth: {enc} ...");
        rd::measure_rd(&clip, frames, enc, "pixeldiffdec", opts.timeout)
            .map_err(|e| format!("{enc}: {e}"))
    };
    for (label, settings) in ENCODER_SETTINGS {
        let encoder = format!("pixeldiffenc {settings}").trim_end().to_string();
        // videoconvert: the encoder sees I420 in both rows, whatever bgreplace outputs.
        let replaced = format!(
            "{BGREPLACE_FOR_BANDWIDTH} ! videoconvert ! video/x-raw,format=I420 ! {encoder}"
        );
        let without = measure(&encoder)?;
        let with = measure(&replaced)?;
        let saving = 100.0 * (1.0 - with.bytes as f64 / without.bytes.max(1) as f64);
        for (front, p, saving) in [
            ("-", &without, String::new()),
            (BGREPLACE_FOR_BANDWIDTH, &with, format!("{saving:.1} %")),
        ] {
            rows.push(vec![
                label.to_string(),
                front.to_string(),
                format!("{:.0}", p.bytes as f64 / frames as f64),
                format!("{:.1}", p.kbps),
                format!("{:.2}", p.psnr),
                saving,
            ]);
        }
    }
    *out += &heading(
        opts.markdown,
        &format!("Bandwidth: pixeldiffenc on {BANDWIDTH_CLIP} ({frames} frames)"),
    );
    *out += &table(
        opts.markdown,
        &[
            "pixeldiffenc",
            "in front",
            "bytes/frame",
            "kbps",
            "Y-PSNR vs clip (dB)",
            "saving",
        ],
        &rows,
    );
    notes.push(format!(
        "bandwidth: target saving >= {SAVING_TARGET_PERCENT:.0} %; Y-PSNR compares the decoded \
         stream with the original clip, so with bgreplace the replaced background counts as error"
    ));
    Ok(())
}

fn cpu(opts: &Options, clip: &Path, out: &mut String) -> Result<(), Error> {
    let mut rows = Vec::new();
    for element in CPU_CONFIGS {
        eprintln!("CPU: {element} x{} ...", opts.cpu_runs);
        let seconds =
            rd::element_cpu_seconds(clip, "faceroi", element, opts.cpu_runs, opts.timeout)?;
        let ms = seconds * 1000.0 / composite::FRAMES as f64;
        rows.push(vec![
            element.to_string(),
            format!("{ms:.2}"),
            if ms <= CPU_TARGET_MS { "yes" } else { "no" }.into(),
        ]);
    }
    *out += &heading(
        opts.markdown,
        &format!(
            "CPU: bgreplace alone per {}x{} I420 frame (median of {} runs, minus faceroi)",
            composite::WIDTH,
            composite::HEIGHT,
            opts.cpu_runs
        ),
    );
    *out += &table(
        opts.markdown,
        &["element", "CPU ms/frame", &format!("<= {CPU_TARGET_MS} ms")],
        &rows,
    );
    Ok(())
}

/// Pictures of the contact sheet, by frame: the mask and the output (the input is read from
/// the clip itself).
type SheetPictures = Arc<Mutex<Vec<(usize, Vec<RgbImage>)>>>;

/// What one segmenter did on one real clip.
struct RealScore {
    marked: Vec<regions::FrameScore>,
    /// Flicker of every frame after the first, in order.
    flicker: Vec<f64>,
    frames: usize,
}

impl RealScore {
    fn values(&self, f: fn(&regions::FrameScore) -> Option<f64>) -> Vec<f64> {
        self.marked.iter().filter_map(f).collect()
    }
}

/// Runs `segmenter` over `clip`, scoring the marked frames and the flicker of all; with
/// `sheet`, keeps the mask and output of those frames.
fn score_real(
    segmenter: &Segmenter,
    clip: &Path,
    marks: &Arc<ClipRegions>,
    sheet: Option<SheetPictures>,
    sheet_frames: Vec<usize>,
    timeout: Duration,
) -> Result<RealScore, Error> {
    struct Acc {
        marked: Vec<regions::FrameScore>,
        flicker: Vec<f64>,
        previous: Option<Mask>,
    }
    let acc = Arc::new(Mutex::new(Acc {
        marked: Vec::new(),
        flicker: Vec::new(),
        previous: None,
    }));
    let (into, marks_in) = (acc.clone(), marks.clone());
    let frames = run_masks(segmenter, clip, timeout, move |frame, mask, sample| {
        if (mask.width, mask.height) != (marks_in.width, marks_in.height) {
            return Err(format!(
                "{}x{} frames where the regions are {}x{}",
                mask.width, mask.height, marks_in.width, marks_in.height
            ));
        }
        let mut a = lock(&into);
        if let Some(m) = marks_in.marked(frame) {
            a.marked.push(regions::score(&mask, m));
        }
        if let Some(previous) = &a.previous {
            let f = regions::flicker(previous, &mask);
            a.flicker.push(f);
        }
        if let Some(sheet) = sheet.as_ref().filter(|_| sheet_frames.contains(&frame)) {
            let output = output_rgb(sample)?;
            let mask_picture = contact::rgb_of_mask(&mask.data, mask.width, mask.height);
            lock(sheet).push((frame, vec![mask_picture, output]));
        }
        a.previous = Some(mask);
        Ok(())
    })?;
    let a = std::mem::replace(
        &mut *lock(&acc),
        Acc {
            marked: Vec::new(),
            flicker: Vec::new(),
            previous: None,
        },
    );
    Ok(RealScore {
        marked: a.marked,
        flicker: a.flicker,
        frames,
    })
}

/// The RGB of an RGBA sample (the picture bgreplace made).
fn output_rgb(sample: &gst::Sample) -> Result<RgbImage, String> {
    with_rgba(sample, |data, stride, (w, h)| {
        RgbImage::from_fn(w as u32, h as u32, |x, y| {
            let i = y as usize * stride + 4 * x as usize;
            image::Rgb([data[i], data[i + 1], data[i + 2]])
        })
    })
}

/// The input pictures of `frames` of a Y4M clip.
fn input_pictures(clip: &Path, frames: &[usize]) -> Result<Vec<(usize, RgbImage)>, Error> {
    let mut reader = Y4mReader::open(clip).map_err(|e| format!("{}: {e}", clip.display()))?;
    let (w, h) = (reader.header().width, reader.header().height);
    let last = frames.iter().copied().max().unwrap_or(0);
    let mut out = Vec::new();
    let mut buf = Vec::new();
    for n in 0..=last {
        if !reader
            .read_frame_into(&mut buf)
            .map_err(|e| format!("{}: {e}", clip.display()))?
        {
            break;
        }
        if frames.contains(&n) {
            out.push((n, contact::rgb_of_i420(&buf, w, h)));
        }
    }
    Ok(out)
}

fn real_clips(opts: &Options, out: &mut String, notes: &mut Vec<String>) -> Result<(), Error> {
    let all = regions::read_dir(&opts.regions)?;
    let segmenters = [
        &BGREPLACE,
        &BGREPLACE_SKIPPING,
        &BGREPLACE_MODEL,
        &SEGMENTATION,
    ];
    let mut rows = Vec::new();
    for marks in all {
        let clip = opts.media.join(format!("{}.y4m", marks.clip));
        if !clip.is_file() {
            notes.push(format!(
                "{}: skipped, {} is missing",
                marks.clip,
                clip.display()
            ));
            continue;
        }
        let last = marks.frames.iter().map(|f| f.frame).max().unwrap_or(0);
        let sheet_frames: Vec<usize> = (0..SHEET_FRAMES)
            .map(|k| k * last / (SHEET_FRAMES - 1).max(1))
            .collect();
        let marks = Arc::new(marks);
        for (i, segmenter) in segmenters.iter().enumerate() {
            if gst::ElementFactory::find(segmenter.needs).is_none() {
                let note = format!(
                    "{} skipped: {} is missing ({})",
                    segmenter.label, segmenter.needs, segmenter.install
                );
                if !notes.contains(&note) {
                    notes.push(note);
                }
                continue;
            }
            eprintln!("real clips: {} on {} ...", segmenter.label, marks.clip);
            let sheet =
                (i == 0 && opts.contact_sheets.is_some()).then(|| Arc::new(Mutex::new(Vec::new())));
            let score = score_real(
                segmenter,
                &clip,
                &marks,
                sheet.clone(),
                sheet_frames.clone(),
                opts.timeout,
            )
            .map_err(|e| format!("{} on {}: {e}", segmenter.label, marks.clip))?;
            if let (Some(sheet), Some(dir)) = (sheet, &opts.contact_sheets) {
                let inputs = input_pictures(&clip, &sheet_frames)?;
                let mut outputs = std::mem::take(&mut *lock(&sheet));
                outputs.sort_by_key(|(n, _)| *n);
                let picture_rows: Vec<Vec<RgbImage>> = inputs
                    .into_iter()
                    .zip(outputs)
                    .map(|((_, input), (_, rest))| std::iter::once(input).chain(rest).collect())
                    .collect();
                std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
                let path = dir.join(format!("{}.png", marks.clip));
                contact::write_sheet(&picture_rows, SHEET_CELL_WIDTH, &path)?;
                eprintln!(
                    "  contact sheet {} (frames {sheet_frames:?})",
                    path.display()
                );
            }
            let kept = score.values(|f| f.kept);
            let replaced = score.values(|f| f.replaced);
            let stat = |v: &[f64], f: fn(&[f64]) -> f64| {
                if v.is_empty() {
                    "-".to_string()
                } else {
                    format!("{:.3}", f(v))
                }
            };
            let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
            let min = |v: &[f64]| v.iter().copied().fold(f64::INFINITY, f64::min);
            let first = score.marked.first().filter(|f| f.frame == 0);
            rows.push(vec![
                marks.clip.clone(),
                segmenter.label.to_string(),
                format!("{}/{}", score.marked.len(), score.frames),
                first
                    .and_then(|f| f.kept)
                    .map_or("-".into(), |v| format!("{v:.3}")),
                stat(&kept, mean),
                stat(&kept, min),
                stat(&replaced, mean),
                stat(&replaced, min),
                format!("{:.2}", 100.0 * mean(&score.flicker).max(0.0)),
            ]);
        }
    }
    *out += &heading(
        opts.markdown,
        "Real clips from their first frame: hand-marked person and background regions",
    );
    *out += &table(
        opts.markdown,
        &[
            "clip",
            "segmenter",
            "marked/frames",
            "kept, frame 0",
            "kept, mean",
            "kept, worst",
            "replaced, mean",
            "replaced, worst",
            "flicker %",
        ],
        &rows,
    );
    notes.push(format!(
        "real clips: kept = share of the person regions' pixels with mask >= 0.5, replaced = \
         share of the background regions' pixels with mask < 0.5, over the marked frames \
         (bench/regions); flicker = share of pixels that flip between consecutive frames, \
         leaving out those within {} px of an edge in both; targets on every clip: kept >= \
         {KEPT_TARGET}, replaced >= {REPLACED_TARGET}, no frame under {WORST_FRAME_TARGET}, \
         flicker <= {FLICKER_TARGET_PERCENT} %",
        regions::FLICKER_BAND
    ));
    Ok(())
}

fn run(opts: &Options) -> Result<String, Error> {
    let started = Instant::now();
    pixelmeet::init().map_err(|e| format!("cannot initialise GStreamer: {e}"))?;
    for (factory, hint) in [
        ("y4mdec", "apt-get install gstreamer1.0-plugins-bad"),
        ("pixeldiffenc", "pixelmeet::init() does not register it"),
    ] {
        if gst::ElementFactory::find(factory).is_none() {
            return Err(format!("{factory} is missing: {hint}").into());
        }
    }
    // Without bgreplace only the segmentation baseline can run; say so rather than stop.
    let have_bgreplace = gst::ElementFactory::find(BGREPLACE.needs).is_some();

    let mut out = String::new();
    let mut notes = Vec::new();
    real_clips(opts, &mut out, &mut notes)?;
    if opts.only_real {
        return Ok(finish(out, &notes));
    }

    let clip = TempClip {
        path: std::env::temp_dir().join(format!("bgreplace-bench-{}.y4m", std::process::id())),
        keep: opts.keep,
    };
    eprintln!("composite: {} ...", clip.path.display());
    let scene = Arc::new(composite::write_composite(
        &opts.media.join(BACKGROUND_CLIP),
        &opts.media.join(PERSON_CLIP),
        &composite::LIVEPORTRAIT_PERSON,
        &clip.path,
    )?);

    mask_quality(opts, &clip.path, &scene, &mut out, &mut notes)?;
    if have_bgreplace {
        bandwidth(opts, &mut out, &mut notes)?;
        cpu(opts, &clip.path, &mut out)?;
    } else {
        notes.push("bandwidth and CPU skipped: bgreplace is missing".into());
    }
    if opts.keep {
        eprintln!("composite kept: {}", clip.path.display());
    }
    eprintln!("bench took {:.0} s", started.elapsed().as_secs_f64());
    Ok(finish(out, &notes))
}

fn finish(mut out: String, notes: &[String]) -> String {
    if !notes.is_empty() {
        out += "\n";
        for n in notes {
            out += &format!("- {n}\n");
        }
    }
    out
}

fn main() -> ExitCode {
    pixelmeet_bench::bench_main("bgreplace-bench", USAGE, parse_args, |opts| {
        print!("{}", run(opts)?);
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    use pixelmeet_bench::words as args;

    #[test]
    fn parses_options() {
        let o = parse_args(args("--media /m --markdown --cpu-runs 5 --keep"))
            .unwrap()
            .unwrap();
        assert_eq!(o.media, PathBuf::from("/m"));
        assert!(o.markdown && o.keep);
        assert_eq!(o.cpu_runs, 5);
        assert!(parse_args(args("--help")).unwrap().is_none());
        assert!(parse_args(args("--cpu-runs 0")).is_err());
        assert!(parse_args(args("--media")).is_err());
        assert!(parse_args(args("--frobnicate")).is_err());
    }
}
