// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! `gallery-sheet MEDIA OUT.png`: what a participant sees of a meeting of four real clips
//! through a local rtpengine, end to end encrypted (the 9 frames of the two people at a desk
//! loop): each clip is a participant whose sender runs
//! at its defaults (faceroi, bgreplace, pixeldiffenc), and the viewer shows them in a grid,
//! each tile labelled with its participant and face count by `pixelmeetrecv`, faces boxed. The
//! picture after SECONDS (default 8) is written as PNG.

use gst::prelude::*;
use pixelmeet_bench::{bench_main, rd::Error};
use std::path::PathBuf;
use std::time::Duration;

const USAGE: &str = "usage: gallery-sheet MEDIA_DIR OUT.png [--seconds S]\n\
    Four of the shared real clips (MEDIA_DIR/video) meet through a local rtpengine with a key \
    file; writes what a fifth participant sees after S seconds (default 8). Needs rtpengine.";

const TILE: (u32, u32) = (320, 240);

struct Options {
    media: PathBuf,
    out: PathBuf,
    seconds: u64,
}

fn parse(args: Vec<String>) -> Result<Option<Options>, Error> {
    let mut positional = Vec::new();
    let mut seconds = 8;
    let mut args = args.into_iter();
    while let Some(a) = args.next() {
        match a.as_str() {
            "--seconds" => seconds = args.next().ok_or("--seconds needs a number")?.parse()?,
            "-h" | "--help" => return Ok(None),
            _ => positional.push(a),
        }
    }
    let [media, out]: [String; 2] = positional
        .try_into()
        .map_err(|_| "give MEDIA_DIR and OUT.png")?;
    Ok(Some(Options {
        media: media.into(),
        out: out.into(),
        seconds,
    }))
}

/// The shared clips, each as a decoding description, with the participant's name.
fn clips(media: &std::path::Path) -> Vec<(&'static str, String)> {
    let v = |f: &str| media.join("video").join(f).display().to_string();
    vec![
        ("man", format!("filesrc location={} ! decodebin", v("LivePortrait_d9_512x480.mp4"))),
        (
            "two-at-a-desk",
            format!(
                "multifilesrc location={} loop=true ! rawvideoparse width=320 height=192 format=i420 framerate=12/1",
                v("CiscoVT2people_320x192_12fps.yuv")
            ),
        ),
        ("news", format!("filesrc location={} ! h264parse ! avdec_h264", v("akiyo_cif.264"))),
        ("woman", format!("filesrc location={} ! decodebin", v("LivePortrait_d6_512x512.mp4"))),
    ]
}

fn run(o: &Options) -> Result<(), Error> {
    pixelmeet::init().map_err(|e| e.to_string())?;
    let server = media_server::local::LocalServer::start(
        400,
        std::env::temp_dir().join("gallery-sheet-rtpengine.log"),
    )?;
    let key = pixelmeet_testkit::meeting::key_file("gallery-sheet", 0o600);
    let (w, h) = TILE;
    let mut pipelines = Vec::new();
    let clips = clips(&o.media);
    for (k, (name, decode)) in clips.iter().enumerate() {
        pipelines.push(pixelmeet_testkit::launch(&format!(
            "{decode} ! videoconvert ! videoscale ! video/x-raw,format=I420,width={w},height={h} ! \
             videorate ! video/x-raw,framerate=15/1 ! clocksync ! pixelmeetsend server={} room=gallery \
             participant={name} report-port={} key-file={}",
            server.ng,
            25004 + 10 * k,
            key.display()
        ))?);
    }
    let mut viewer = format!(
        "compositor name=grid background=black sink_1::xpos={w} sink_2::ypos={h} sink_3::xpos={w} \
         sink_3::ypos={h} ! videoconvert ! video/x-raw,format=RGB,width={},height={} ! \
         appsink name=out sync=false max-buffers=1 drop=true",
        2 * w,
        2 * h
    );
    for (k, (name, _)) in clips.iter().enumerate() {
        viewer.push_str(&format!(
            " pixelmeetrecv name=rx{k} server={} room=gallery participant={name} subscriber=viewer \
             port={} audio=false key-file={} label={name} draw-faces=true rx{k}.video_src ! \
             videoconvert ! videoscale ! video/x-raw,width={w},height={h} ! queue ! grid.sink_{k}",
            server.ng,
            25500 + 10 * k,
            key.display()
        ));
    }
    let viewer = pixelmeet_testkit::launch(&viewer)?;
    for p in pipelines.iter().chain([&viewer]) {
        p.set_state(gst::State::Playing)?;
    }
    std::thread::sleep(Duration::from_secs(o.seconds));
    let sink = viewer
        .by_name("out")
        .and_downcast::<gst_app::AppSink>()
        .ok_or("no appsink")?;
    let sample = sink
        .try_pull_sample(gst::ClockTime::from_seconds(5))
        .ok_or("the viewer shows nothing")?;
    let map = sample.buffer().ok_or("no buffer")?.map_readable()?;
    let picture = image::RgbImage::from_raw(2 * w, 2 * h, map.to_vec()).ok_or("a short picture")?;
    picture.save(&o.out)?;
    for p in pipelines.iter().chain([&viewer]) {
        p.set_state(gst::State::Null)?;
    }
    println!("gallery-sheet: wrote {}", o.out.display());
    Ok(())
}

fn main() -> std::process::ExitCode {
    bench_main("gallery-sheet", USAGE, parse, run)
}
