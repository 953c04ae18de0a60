// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! What each stage of `faceroi ! bgreplace ! pixeldiffenc` saves on a video: one pass through
//! a pipeline that codes the same frames three ways and counts the bytes:
//!
//! | stage | what it adds |
//! |---|---|
//! | raw I420 | every pixel of every frame |
//! | `pixeldiffenc` | only the blocks that changed (conditional replenishment) |
//! | `faceroi ! pixeldiffenc roi-mode=prioritize` | faces coded first and finer |
//! | `faceroi ! bgreplace ! pixeldiffenc` | a still background that is never sent again |
//!
//! Without a file it plays a drawn person in a room with camera noise. Exit code 0, 1 when
//! the video cannot be read, 2 for a bad command line.
//!
//! ```sh
//! cargo run --release --example bandwidth -- clip.y4m --quality 60
//! ```

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use gst::prelude::*;
use pixelmeet_bench::table::Table;
use pixelmeet_testkit::scene::{scene_source, Scene};

use pixelmeet_bench::rd::{launch, run_to_eos};

type Error = Box<dyn std::error::Error>;

#[derive(Parser, Debug)]
#[command(about = "Prints how many kbit/s each pixelmeet stage saves on a video")]
struct Options {
    /// A video file (anything GStreamer decodes); without it, a drawn person in a room.
    video: Option<PathBuf>,
    /// Lossy quality of pixeldiffenc, 0-100.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u32).range(0..=100))]
    quality: u32,
    /// Code bit-exactly instead.
    #[arg(long)]
    lossless: bool,
    /// Length of the drawn room, in seconds.
    #[arg(long, default_value_t = 5.0)]
    seconds: f64,
    /// Print the table in Markdown.
    #[arg(long)]
    markdown: bool,
}

/// The stages after the raw picture: a label and the gst-launch branch from the shared raw
/// tee `raw` (or the faces tee `faces`) to an encoder named `enc<i>`.
fn stages(enc: &str) -> [(&'static str, String); 3] {
    [
        (
            "pixeldiffenc",
            format!("raw. ! queue ! {enc} name=enc0 ! fakesink sync=false"),
        ),
        (
            "faceroi ! pixeldiffenc roi-mode=prioritize",
            format!("faces. ! queue ! {enc} roi-mode=prioritize name=enc1 ! fakesink sync=false"),
        ),
        (
            "faceroi ! bgreplace ! pixeldiffenc",
            format!("faces. ! queue ! bgreplace ! {enc} name=enc2 ! fakesink sync=false"),
        ),
    ]
}

/// Counts the bytes leaving `pad`.
fn count_bytes(pad: &gst::Pad) -> Arc<AtomicU64> {
    let bytes = Arc::new(AtomicU64::new(0));
    let counter = bytes.clone();
    pad.add_probe(gst::PadProbeType::BUFFER, move |_, info| {
        if let Some(b) = info.buffer() {
            counter.fetch_add(b.size() as u64, Ordering::Relaxed);
        }
        gst::PadProbeReturn::Ok
    });
    bytes
}

fn run(opts: &Options) -> Result<(), Error> {
    pixelmeet::init()?;
    let enc = format!(
        "pixeldiffenc quality={} lossless={}",
        opts.quality, opts.lossless
    );
    let source = match &opts.video {
        Some(path) => {
            let path = path
                .canonicalize()
                .map_err(|e| format!("{}: {e}", path.display()))?;
            let uri = gst::glib::filename_to_uri(&path, None)?;
            format!("uridecodebin uri=\"{uri}\" ! videoconvert ! video/x-raw,format=I420")
        }
        None => "identity name=drawn-room".to_string(),
    };
    let branches: Vec<String> = stages(&enc).into_iter().map(|(_, b)| b).collect();
    let description = format!(
        "{source} ! tee name=raw raw. ! queue ! faceroi ! tee name=faces {}",
        branches.join(" ")
    );
    let pipeline = launch(&description).map_err(|e| e as Error)?;
    if opts.video.is_none() {
        // The drawn room plays in front of the placeholder.
        let fps = 30;
        let frames = (opts.seconds * fps as f64).round() as u64;
        let src = scene_source(Scene::new(640, 480), fps, Some(frames), false);
        pipeline.add(&src)?;
        src.link(&pipeline.by_name("drawn-room").expect("the placeholder"))?;
    }
    let tee = pipeline.by_name("raw").expect("the raw tee");
    let raw_pad = tee.static_pad("sink").expect("tee sink pad");
    let raw_bytes = count_bytes(&raw_pad);
    let coded: Vec<_> = (0..3)
        .map(|i| {
            let enc = pipeline.by_name(&format!("enc{i}")).expect("an encoder");
            count_bytes(&enc.static_pad("src").expect("encoder src pad"))
        })
        .collect();
    // The stream's length, from the timestamps of the raw frames.
    let last_end = Arc::new(AtomicU64::new(0));
    let end = last_end.clone();
    raw_pad.add_probe(gst::PadProbeType::BUFFER, move |_, info| {
        if let Some(b) = info.buffer() {
            let t = b
                .pts()
                .zip(b.duration())
                .map_or(0, |(p, d)| (p + d).nseconds());
            end.fetch_max(t, Ordering::Relaxed);
        }
        gst::PadProbeReturn::Ok
    });

    // A day: in effect no limit, a long clip takes as long as it takes.
    run_to_eos(&pipeline, Duration::from_secs(24 * 3600)).map_err(|e| e as Error)?;

    let seconds = last_end.load(Ordering::Relaxed) as f64 / 1e9;
    if seconds <= 0.0 {
        return Err("the video has no timestamped frames".into());
    }
    let kbps = |bytes: &AtomicU64| bytes.load(Ordering::Relaxed) as f64 * 8.0 / seconds / 1000.0;
    let raw = kbps(&raw_bytes);
    let mut table = Table {
        markdown: opts.markdown,
        header: ["stage", "kbit/s", "x under raw", "saved"]
            .map(String::from)
            .to_vec(),
        rows: vec![["raw I420", &format!("{raw:.0}"), "1", "-"]
            .map(String::from)
            .to_vec()],
        first_numeric: 1,
    };
    let mut previous = raw;
    for ((label, _), bytes) in stages(&enc).iter().zip(&coded) {
        let k = kbps(bytes);
        table.rows.push(vec![
            (*label).into(),
            format!("{k:.1}"),
            format!("{:.0}", raw / k.max(f64::MIN_POSITIVE)),
            format!(
                "{:.1} % vs {}",
                100.0 * (previous - k) / previous,
                if previous == raw {
                    "raw"
                } else {
                    "pixeldiffenc"
                }
            ),
        ]);
        // The ROI stage is an option beside the chain, not a step of it: bgreplace is
        // compared with pixeldiffenc alone.
        if *label == "pixeldiffenc" {
            previous = k;
        }
    }
    println!(
        "{seconds:.1} s of {}, pixeldiffenc {}",
        opts.video
            .as_ref()
            .map_or("a drawn person in a room".into(), |p| p
                .display()
                .to_string()),
        if opts.lossless {
            "lossless".to_string()
        } else {
            format!("quality {}", opts.quality)
        }
    );
    print!("{}", table.render());
    Ok(())
}

fn main() -> ExitCode {
    let opts = Options::parse();
    match run(&opts) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bandwidth: {e}");
            ExitCode::FAILURE
        }
    }
}
