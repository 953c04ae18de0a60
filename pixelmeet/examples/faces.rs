// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! A people counter: runs a video through `faceroi` and prints its messages as JSON lines,
//! one per change of the number of faces (or per frame with `--every-frame`):
//!
//! ```json
//! {"time":1.067,"count":2,"faces":[{"id":1,"x":300,"y":130,"width":150,"height":150,"confidence":18.2}]}
//! ```
//!
//! `time` is the stream time in seconds, boxes are in pixels of the picture (the face itself:
//! `margin=0`), `id` stays with a person while they are tracked. Without a file it plays a
//! drawn room where a visitor joins the host for a while. Ends at the end of the video;
//! exit code 0, 1 when the video cannot be read, 2 for a bad command line.
//!
//! ```sh
//! cargo run --release --example faces -- meeting-room.mp4 | jq .count
//! ```

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use gst::prelude::*;
use pixelmeet_testkit::scene::{scene_source, Scene, Visit};
use serde_json::json;

type Error = Box<dyn std::error::Error>;

#[derive(Parser, Debug)]
#[command(about = "Prints faceroi's face counts and boxes as JSON lines")]
struct Options {
    /// A video file (anything GStreamer decodes); without it, a drawn room.
    video: Option<PathBuf>,
    /// A line for every frame, not only when the count changes.
    #[arg(long)]
    every_frame: bool,
    /// Length of the drawn room in seconds (the visitor is there from 1/4 to 3/4 of it).
    #[arg(long, default_value_t = 4.0)]
    seconds: f64,
}

/// The source part of the pipeline, ending in raw video faceroi takes.
fn source(pipeline: &gst::Pipeline, opts: &Options) -> Result<gst::Element, Error> {
    let convert = gst::ElementFactory::make("videoconvert").build()?;
    match &opts.video {
        Some(path) => {
            let path = path
                .canonicalize()
                .map_err(|e| format!("{}: {e}", path.display()))?;
            let decode = gst::ElementFactory::make("uridecodebin")
                .property("uri", gst::glib::filename_to_uri(&path, None)?.as_str())
                .build()?;
            pipeline.add_many([&decode, &convert])?;
            // The decoder's video pad appears once it knows the stream.
            let sink = convert.static_pad("sink").expect("videoconvert sink pad");
            decode.connect_pad_added(move |_, pad| {
                let is_video = pad
                    .current_caps()
                    .and_then(|c| c.structure(0).map(|s| s.name().starts_with("video/")))
                    .unwrap_or(false);
                if is_video && !sink.is_linked() {
                    let _ = pad.link(&sink);
                }
            });
        }
        None => {
            const FPS: u32 = 15;
            let scene = Scene::new(640, 480).with_visit(Visit {
                enters: opts.seconds / 4.0,
                leaves: opts.seconds * 3.0 / 4.0,
            });
            let frames = (opts.seconds * FPS as f64).round() as u64;
            let src = scene_source(scene, FPS, Some(frames), false);
            pipeline.add_many([&src, &convert])?;
            src.link(&convert)?;
        }
    }
    Ok(convert)
}

/// The JSON line of a `faceroi` message.
fn json_line(s: &gst::StructureRef) -> Option<serde_json::Value> {
    let time = s
        .get::<u64>("stream-time")
        .ok()
        .filter(|&t| t != u64::MAX)?;
    let faces = s.get::<gst::List>("faces").ok()?;
    let boxes: Vec<_> = faces
        .iter()
        .filter_map(|f| f.get::<gst::Structure>().ok())
        .map(|f| {
            json!({
                "id": f.get::<u32>("id").unwrap_or(0),
                "x": f.get::<u32>("x").unwrap_or(0),
                "y": f.get::<u32>("y").unwrap_or(0),
                "width": f.get::<u32>("width").unwrap_or(0),
                "height": f.get::<u32>("height").unwrap_or(0),
                "confidence": (f.get::<f64>("confidence").unwrap_or(0.0) * 10.0).round() / 10.0,
            })
        })
        .collect();
    Some(json!({
        "time": (time as f64 / 1e6).round() / 1e3,
        "count": boxes.len(),
        "faces": boxes,
    }))
}

fn run(opts: &Options) -> Result<(), Error> {
    pixelmeet::init()?;
    let pipeline = gst::Pipeline::new();
    let raw = source(&pipeline, opts)?;
    let faces = gst::ElementFactory::make("faceroi")
        .property("margin", 0u32)
        .property_from_str(
            "updates",
            if opts.every_frame {
                "every-frame"
            } else {
                "on-change"
            },
        )
        .build()?;
    // As fast as the detector goes: no clock.
    let sink = gst::ElementFactory::make("fakesink")
        .property("sync", false)
        .build()?;
    pipeline.add_many([&faces, &sink])?;
    gst::Element::link_many([&raw, &faces, &sink])?;

    pipeline.set_state(gst::State::Playing)?;
    let bus = pipeline.bus().expect("a pipeline has a bus");
    let mut out = std::io::stdout().lock();
    let result = loop {
        let Some(msg) = bus.timed_pop(gst::ClockTime::NONE) else {
            break Ok(());
        };
        match msg.view() {
            gst::MessageView::Eos(_) => break Ok(()),
            gst::MessageView::Error(e) => {
                break Err(format!(
                    "{}: {}",
                    e.src().map(|s| s.name()).unwrap_or_default(),
                    e.error()
                ));
            }
            gst::MessageView::Element(e) => {
                if let Some(line) = e
                    .structure()
                    .filter(|s| s.name() == "faceroi")
                    .and_then(json_line)
                {
                    // A closed pipe (| head) ends the count quietly.
                    if writeln!(out, "{line}").and_then(|_| out.flush()).is_err() {
                        break Ok(());
                    }
                }
            }
            _ => {}
        }
    };
    pipeline.set_state(gst::State::Null)?;
    result.map_err(Into::into)
}

fn main() -> ExitCode {
    let opts = Options::parse();
    match run(&opts) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("faces: {e}");
            ExitCode::FAILURE
        }
    }
}
