// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! The codec without a network: an application hands its own frames to `pixeldiffenc` through
//! `appsrc`, takes the encoded chunks out of an `appsink` (to store or send them its own way),
//! then feeds the chunks to `pixeldiffdec` and gets the frames back, and compares them with
//! what it sent: bit-exact with `--lossless`, else the PSNR.
//!
//! Exit code 0 when every frame came back (bit-exact when lossless), 1 otherwise, 2 for a bad
//! command line.
//!
//! ```sh
//! cargo run --release --example appsrc-appsink -- --frames 90 --lossless
//! ```

use std::process::ExitCode;

use clap::Parser;
use gst::prelude::*;
use gst_video::prelude::*;
use pixelmeet_testkit::quality::{mean, psnr_y};
use pixelmeet_testkit::scene::{i420_caps, Scene};

type Error = Box<dyn std::error::Error>;

#[derive(Parser, Debug)]
#[command(
    about = "Encode app frames with pixeldiffenc and decode them back, through appsrc and appsink"
)]
struct Options {
    /// Number of frames.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    frames: u64,
    /// Picture width (even).
    #[arg(long, default_value_t = 320)]
    width: u32,
    /// Picture height (even).
    #[arg(long, default_value_t = 240)]
    height: u32,
    /// Bit-exact coding.
    #[arg(long)]
    lossless: bool,
    /// Lossy quality, 0-100.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u32).range(0..=100))]
    quality: u32,
}

const FPS: u32 = 30;

/// `appsrc ! <middle> ! appsink` as a pipeline, with the two ends.
fn app_pipeline(
    middle: &str,
    caps: &gst::Caps,
) -> Result<(gst::Pipeline, gst_app::AppSrc, gst_app::AppSink), Error> {
    let src = gst_app::AppSrc::builder()
        .caps(caps)
        .format(gst::Format::Time)
        .build();
    // Everything is pulled after everything is pushed: the sink keeps all it gets.
    let sink = gst_app::AppSink::builder().sync(false).build();
    let middle = gst::parse::bin_from_description(middle, true)?;
    let pipeline = gst::Pipeline::new();
    let row: [&gst::Element; 3] = [src.upcast_ref(), middle.upcast_ref(), sink.upcast_ref()];
    pipeline.add_many(row)?;
    gst::Element::link_many(row)?;
    Ok((pipeline, src, sink))
}

/// Pushes `buffers` with `caps`, then pulls everything out of the sink until EOS.
fn push_and_pull(
    middle: &str,
    caps: &gst::Caps,
    buffers: impl IntoIterator<Item = gst::Buffer>,
) -> Result<Vec<gst::Sample>, Error> {
    let (pipeline, src, sink) = app_pipeline(middle, caps)?;
    pipeline.set_state(gst::State::Playing)?;
    for buffer in buffers {
        src.push_buffer(buffer)?;
    }
    src.end_of_stream()?;
    let mut samples = Vec::new();
    while let Ok(sample) = sink.pull_sample() {
        samples.push(sample);
    }
    // pull_sample ends at EOS or on an error; the bus tells which.
    let bus = pipeline.bus().expect("a pipeline has a bus");
    let error = bus.pop_filtered(&[gst::MessageType::Error]);
    pipeline.set_state(gst::State::Null)?;
    if let Some(msg) = error {
        if let gst::MessageView::Error(e) = msg.view() {
            return Err(format!("{middle}: {}", e.error()).into());
        }
    }
    Ok(samples)
}

fn run(opts: &Options) -> Result<bool, Error> {
    pixelmeet::init()?;
    let (w, h) = (opts.width as usize, opts.height as usize);
    if w < 16 || h < 16 || w % 2 == 1 || h % 2 == 1 {
        return Err("--width and --height must be even and at least 16".into());
    }
    let raw_caps = i420_caps(opts.width, opts.height, FPS)?;

    // The application's own frames: here a drawn person, at 30 frames a second.
    let mut scene = Scene::new(w, h);
    let frame_duration = gst::ClockTime::SECOND / FPS as u64;
    let frames: Vec<Vec<u8>> = (0..opts.frames)
        .map(|n| scene.frame((frame_duration * n).seconds_f64()))
        .collect();
    let buffers = frames.iter().enumerate().map(|(n, f)| {
        let mut b = gst::Buffer::from_slice(f.clone());
        let b_mut = b.get_mut().expect("a new buffer is writable");
        b_mut.set_pts(frame_duration * n as u64);
        b_mut.set_duration(frame_duration);
        b
    });

    // Encode: frames in, buffers out, one per frame with its timestamp, each holding whole
    // chunks of at most `mtu` bytes (docs/pixeldiff-format.md) that a payloader would put in
    // packets one by one.
    let enc = format!(
        "pixeldiffenc lossless={} quality={}",
        opts.lossless, opts.quality
    );
    let chunks = push_and_pull(&enc, &raw_caps, buffers)?;
    let coded_caps = chunks
        .first()
        .and_then(|s| s.caps_owned())
        .ok_or("the encoder gave nothing")?;
    let coded_bytes: usize = chunks
        .iter()
        .filter_map(|s| s.buffer())
        .map(|b| b.size())
        .sum();
    let raw_bytes: usize = frames.iter().map(Vec::len).sum();
    println!(
        "encoded {} frames of {w}x{h} ({}) into {} buffers, {coded_bytes} bytes: {:.1}x smaller than raw ({raw_bytes} bytes)",
        frames.len(),
        if opts.lossless { "lossless".to_string() } else { format!("quality {}", opts.quality) },
        chunks.len(),
        raw_bytes as f64 / coded_bytes.max(1) as f64
    );

    // Decode: the same chunks, in order, with the encoder's caps; frames out as I420.
    let decoded = push_and_pull(
        "pixeldiffdec ! videoconvert ! capsfilter caps=video/x-raw,format=I420",
        &coded_caps,
        chunks.iter().filter_map(|s| s.buffer_owned()),
    )?;
    let info = gst_video::VideoInfo::from_caps(&raw_caps)?;
    let mut exact = 0;
    let mut psnr = Vec::new();
    for (sample, original) in decoded.iter().zip(&frames) {
        let buffer = sample.buffer().ok_or("a sample without a buffer")?;
        let frame = gst_video::VideoFrameRef::from_buffer_ref_readable(buffer, &info)?;
        // Compare row by row: the decoder may pad its rows (stride) differently.
        let same = (0..3).all(|plane| {
            let (pw, ph) = if plane == 0 { (w, h) } else { (w / 2, h / 2) };
            let offset = if plane == 0 {
                0
            } else {
                w * h + (plane as usize - 1) * pw * ph
            };
            let stride = frame.plane_stride()[plane as usize] as usize;
            let data = frame.plane_data(plane).expect("I420 has three planes");
            (0..ph).all(|y| data[y * stride..][..pw] == original[offset + y * pw..][..pw])
        });
        if same {
            exact += 1;
            continue;
        }
        let stride = frame.plane_stride()[0] as usize;
        let luma: Vec<u8> = (0..h)
            .flat_map(|y| frame.plane_data(0).expect("luma")[y * stride..][..w].to_vec())
            .collect();
        psnr.push(psnr_y(&original[..w * h], &luma, w, h));
    }
    println!(
        "decoded {} frames: {exact} bit-exact, mean Y-PSNR of the others {}",
        decoded.len(),
        mean(&psnr).map_or("-".to_string(), |p| format!("{p:.2} dB"))
    );
    let complete = decoded.len() == frames.len();
    Ok(complete && (!opts.lossless || exact == frames.len()))
}

fn main() -> ExitCode {
    let opts = Options::parse();
    match run(&opts) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => {
            eprintln!("appsrc-appsink: frames did not all come back as sent");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("appsrc-appsink: {e}");
            ExitCode::FAILURE
        }
    }
}
