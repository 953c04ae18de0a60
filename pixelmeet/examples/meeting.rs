// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! A two-way meeting on one machine, built with the GStreamer API: two participants, alice and
//! bob, each a pipeline that sends its picture and sound to the other over RTP/UDP on
//! 127.0.0.1 and shows what it receives.
//!
//! Each is `source ! pixelmeetsend` and `pixelmeetrecv ! sink`: the bins own the graph
//! (`faceroi ! bgreplace ! pixeldiffenc ! rtppixeldiffpay`, Opus, `rtpbin`, RTCP both ways,
//! `pixeldiffadapt` steering the encoder's bitrate from the receiver's reports), the same graph
//! the launchers in `pipelines/` run from gst-launch. Alice uses the camera when there is one (`/dev/video0` or
//! `--device`); otherwise both are drawn people from `pixelmeet_testkit::scene`, whom faceroi finds.
//!
//! Once a second it prints what each participant sends and receives, read from the elements'
//! stats messages. Without a display it saves a PNG of each received picture every few
//! seconds (`--snapshot-every`), so a person can look at what arrived. `--plot` draws the
//! bandwidth over time and `--csv` keeps the numbers.
//!
//! Ctrl+C ends the call. Exit codes: 0 after `--seconds` or Ctrl+C, 1 when a pipeline fails
//! (a busy port), 2 for a bad command line, 3 when the camera fails or is unplugged.
//!
//! ```sh
//! cargo run --release --example meeting -- --seconds 20 --plot meeting.svg
//! ```

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clap::Parser;
use gst::prelude::*;
use pixelmeet_testkit::scene::{i420_caps, scene_source, Scene};

type Error = Box<dyn std::error::Error>;

/// Name of the camera source, by which its errors are told from the others.
const CAMERA: &str = "camera";
/// Exit code when the camera fails or is unplugged.
const EXIT_CAMERA: u8 = 3;

/// The camera failed (unplugged, taken by another program, not a camera).
#[derive(Debug)]
struct CameraFailed(String);

impl std::fmt::Display for CameraFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CameraFailed {}

#[derive(Parser, Debug)]
#[command(about = "A two-way pixelmeet call between two pipelines on 127.0.0.1")]
struct Options {
    /// Stop after this many seconds (0: run until Ctrl+C).
    #[arg(long, default_value_t = 0)]
    seconds: u64,
    /// Alice listens on PORT..PORT+5 (video RTP, RTCP, audio RTP, RTCP, and the reports about
    /// what she sends, video and audio), bob on PORT+10..+15.
    #[arg(long, default_value_t = 5000)]
    port: u16,
    /// Picture size, WIDTHxHEIGHT.
    #[arg(long, default_value = "640x480", value_parser = parse_size)]
    size: (u32, u32),
    /// Frames per second.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=60))]
    fps: u32,
    /// Lossy quality, 0-100.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u32).range(0..=100))]
    quality: u32,
    /// Send bit-exact video (quality is then ignored).
    #[arg(long)]
    lossless: bool,
    /// Background replacement: color, blur, freeze or none.
    #[arg(long, default_value = "color", value_parser = ["color", "blur", "freeze", "none"])]
    background: String,
    /// Highest video bitrate in kbit/s; receiver reports lower it on a poor network.
    #[arg(long, default_value_t = 2000)]
    bitrate: u32,
    /// Drop this percentage of the video packets on the way (a poor network, 0-100).
    #[arg(long, default_value_t = 0.0)]
    loss: f64,
    /// Video only.
    #[arg(long)]
    no_audio: bool,
    /// Camera device for alice; a drawn person when it does not exist.
    #[arg(long, default_value = "/dev/video0")]
    device: PathBuf,
    /// No windows even when there is a display.
    #[arg(long)]
    headless: bool,
    /// Save each received picture as PNG this often, in seconds (0: never). Default: 5 when
    /// headless, else 0.
    #[arg(long)]
    snapshot_every: Option<u64>,
    /// Where the snapshots go (DIR/alice-sees-bob.png, DIR/bob-sees-alice.png).
    #[arg(long, default_value = "snapshots")]
    snapshot_dir: PathBuf,
    /// Write the per-second stats as CSV to this file.
    #[arg(long)]
    csv: Option<PathBuf>,
    /// Meet through the media server rtpengine, its ng control socket at HOST:PORT
    /// (pipelines/media-server starts one): alice and bob publish and subscribe in --room.
    #[arg(long)]
    server: Option<String>,
    /// The room on the media server.
    #[arg(long, default_value = "pixelmeet")]
    room: String,
    /// Draw the bandwidth over time as SVG to this file.
    #[arg(long)]
    plot: Option<PathBuf>,
}

fn parse_size(s: &str) -> Result<(u32, u32), String> {
    let (w, h) = s.split_once('x').ok_or("WIDTHxHEIGHT, e.g. 640x480")?;
    let parse = |v: &str| match v.parse::<u32>() {
        Ok(n) if (16..=4096).contains(&n) && n % 2 == 0 => Ok(n),
        _ => Err(format!("{v:?} is not an even size from 16 to 4096")),
    };
    Ok((parse(w)?, parse(h)?))
}

/// Where a participant's picture comes from.
enum Source {
    Camera(PathBuf),
    /// A drawn person; the second participant's sways the other way.
    Scene,
}

/// One participant: its pipeline and what the stats messages told so far.
struct Participant {
    name: &'static str,
    peer: &'static str,
    pipeline: gst::Pipeline,
    /// The last decoded picture from the peer, for snapshots.
    received: Arc<Mutex<Option<gst::Sample>>>,
}

fn make(factory: &str) -> Result<gst::Element, Error> {
    gst::ElementFactory::make(factory).build().map_err(|_| {
        format!("GStreamer element {factory} is missing (run scripts/setup.sh)").into()
    })
}

/// Adds `elements` to `pipeline` and links them in a row.
fn chain(pipeline: &gst::Pipeline, elements: &[&gst::Element]) -> Result<(), Error> {
    pipeline.add_many(elements.iter().copied())?;
    gst::Element::link_many(elements.iter().copied())?;
    Ok(())
}

/// The raw picture, I420 at the meeting's size and rate, ending in the returned element.
fn video_source(
    pipeline: &gst::Pipeline,
    source: &Source,
    opts: &Options,
    mirror: bool,
) -> Result<gst::Element, Error> {
    let (w, h) = opts.size;
    let caps = i420_caps(w, h, opts.fps)?;
    let filter = make("capsfilter")?;
    filter.set_property("caps", &caps);
    match source {
        Source::Camera(device) => {
            let camera = make("v4l2src")?;
            camera.set_property("name", CAMERA);
            camera.set_property("device", device.to_string_lossy().as_ref());
            let (convert, scale, rate) = (
                make("videoconvert")?,
                make("videoscale")?,
                make("videorate")?,
            );
            chain(pipeline, &[&camera, &convert, &scale, &rate, &filter])?;
        }
        Source::Scene => {
            let scene = scene_source(Scene::new(w as usize, h as usize), opts.fps, None, true);
            // The scene is drawn on demand: clocksync plays it at the frame rate.
            let pace = make("clocksync")?;
            let flip = make("videoflip")?;
            flip.set_property_from_str("method", if mirror { "horizontal-flip" } else { "none" });
            chain(pipeline, &[&scene, &pace, &flip, &filter])?;
        }
    }
    Ok(filter)
}

/// Where a participant's sender takes the reports about its stream, above its receiver's ports.
const REPORT_OFFSET: u16 = 4;

/// Builds one participant from the two bins that own the graph: `pixelmeetsend` sends to
/// `peer_port`.. and takes reports on `listen_port + 4`; `pixelmeetrecv` listens on
/// `listen_port`.. and reports to the peer's sender.
fn participant(
    name: &'static str,
    peer: &'static str,
    source: Source,
    listen_port: u16,
    peer_port: u16,
    opts: &Options,
) -> Result<Participant, Error> {
    let pipeline = gst::Pipeline::with_name(name);
    let send = make("pixelmeetsend")?;
    send.set_property("port", u32::from(peer_port));
    send.set_property("report-port", u32::from(listen_port + REPORT_OFFSET));
    send.set_property("replace-background", opts.background != "none");
    if opts.loss > 0.0 {
        send.set_property(
            "network-simulation",
            format!("drop-probability={}", opts.loss / 100.0),
        );
    }
    // The bin's children keep their factory names.
    let child = |name: &str| {
        send.dynamic_cast_ref::<gst::ChildProxy>()
            .and_then(|c| c.child_by_name(name))
            .ok_or_else(|| format!("pixelmeetsend has no {name}"))
    };
    let encoder = child("pixeldiffenc")?;
    encoder.set_property("quality", opts.quality);
    encoder.set_property("lossless", opts.lossless);
    child("pixeldiffadapt")?.set_property("max-bitrate", opts.bitrate);
    if opts.background != "none" {
        child("bgreplace")?.set_property_from_str("background", &opts.background);
    }
    if let Some(server) = &opts.server {
        send.set_property("server", server);
        send.set_property("room", &opts.room);
        send.set_property("participant", name);
    }
    let raw = video_source(&pipeline, &source, opts, name == "bob")?;
    pipeline.add(&send)?;
    raw.link(&send)?;

    let recv = make("pixelmeetrecv")?;
    recv.set_property("port", u32::from(listen_port));
    recv.set_property("report-port", u32::from(peer_port + REPORT_OFFSET));
    recv.set_property("audio", !opts.no_audio);
    // The picture names whom it shows and how many faces are in view, faces boxed.
    recv.set_property("label", peer);
    recv.set_property("draw-faces", true);
    if let Some(server) = &opts.server {
        recv.set_property("server", server);
        recv.set_property("room", &opts.room);
        recv.set_property("participant", peer);
        recv.set_property("subscriber", name);
    }
    let convert = make("videoconvert")?;
    let show = video_sink(opts.headless)?;
    pipeline.add(&recv)?;
    chain(&pipeline, &[&convert, &show])?;
    recv.link_pads(Some("video_src"), &convert, None)?;
    let received = Arc::new(Mutex::new(None));
    keep_last_sample(
        &recv.static_pad("video_src").expect("video_src"),
        received.clone(),
    );

    if !opts.no_audio {
        let tone = make("audiotestsrc")?;
        tone.set_property("is-live", true);
        tone.set_property_from_str("wave", "ticks");
        tone.set_property("volume", 0.3f64);
        tone.set_property("freq", if name == "alice" { 440.0f64 } else { 660.0 });
        pipeline.add(&tone)?;
        tone.link_pads(None, &send, Some("audio_sink"))?;
        // The level messages tell that the sound gets through; nobody listens.
        let sink = make("fakesink")?;
        sink.set_property("sync", false);
        sink.set_property("async", false);
        pipeline.add(&sink)?;
        recv.link_pads(Some("audio_src"), &sink, None)?;
    }
    Ok(Participant {
        name,
        peer,
        pipeline,
        received,
    })
}

fn has_display() -> bool {
    std::env::var_os("DISPLAY").is_some() || std::env::var_os("WAYLAND_DISPLAY").is_some()
}

fn video_sink(headless: bool) -> Result<gst::Element, Error> {
    let sink = if headless || !has_display() {
        make("fakesink")?
    } else {
        make("autovideosink")?
    };
    sink.set_property("sync", false);
    if sink.has_property("async") {
        sink.set_property("async", false);
    }
    Ok(sink)
}

/// Keeps the newest decoded picture (a reference, not a copy) for snapshots.
fn keep_last_sample(pad: &gst::Pad, last: Arc<Mutex<Option<gst::Sample>>>) {
    pad.add_probe(gst::PadProbeType::BUFFER, move |pad, info| {
        if let (Some(buffer), Some(caps)) = (info.buffer(), pad.current_caps()) {
            let sample = gst::Sample::builder().buffer(buffer).caps(&caps).build();
            *last.lock().unwrap() = Some(sample);
        }
        gst::PadProbeReturn::Ok
    });
}

/// Writes `sample` as PNG to `path` (through a new file, so a viewer never sees half a
/// picture).
fn save_png(sample: &gst::Sample, path: &Path) -> Result<(), Error> {
    let png = gst_video::convert_sample(
        sample,
        &gst::Caps::new_empty_simple("image/png"),
        Some(gst::ClockTime::from_seconds(2)),
    )?;
    let buffer = png.buffer().ok_or("no picture")?;
    let map = buffer.map_readable()?;
    let partial = path.with_extension("png.part");
    std::fs::write(&partial, map.as_slice())?;
    std::fs::rename(&partial, path)?;
    Ok(())
}

/// What a participant's messages said during the current second.
#[derive(Default, Clone)]
struct Second {
    sent_kbps: f64,
    changed_percent: f64,
    target_kbps: Option<u32>,
    faces: Option<u32>,
    received_frames: u64,
    received_fps: f64,
    packets_lost: u64,
    audio_db: Option<f64>,
}

/// Per participant: the running second and the history for the CSV and plot.
#[derive(Default)]
struct Stats {
    now: BTreeMap<&'static str, Second>,
    history: Vec<(f64, &'static str, Second)>,
    warned: std::collections::HashSet<String>,
}

fn raw_kbps(opts: &Options) -> f64 {
    let (w, h) = opts.size;
    (w * h) as f64 * 1.5 * 8.0 * opts.fps as f64 / 1000.0
}

/// Reads one bus message of `who`'s pipeline into the stats; prints the line of the second
/// when the encoder's message closes it. Returns the error for an ERROR message.
fn on_message(
    who: &'static str,
    msg: &gst::Message,
    stats: &mut Stats,
    raw_kbps: f64,
) -> Option<Error> {
    match msg.view() {
        gst::MessageView::Error(e) => {
            if let Some(camera) = e.src().filter(|s| s.name() == CAMERA) {
                let device = camera
                    .property::<Option<String>>("device")
                    .unwrap_or_default();
                return Some(Box::new(CameraFailed(format!(
                    "{who}: the camera {device} stopped or cannot be used (unplugged?): {}",
                    e.error()
                ))));
            }
            let source = e.src().map(|s| s.path_string()).unwrap_or_default();
            let mut text = format!("{who}: error from {source}: {}", e.error());
            if let Some(debug) = e.debug() {
                text.push_str(&format!(" ({debug})"));
            }
            if e.src().is_some_and(|s| s.type_().name() == "GstUDPSrc") {
                text.push_str("\n  (is another meeting using these ports? try --port)");
            }
            return Some(text.into());
        }
        // Loss repeats the same warning every few frames; the stats count it.
        gst::MessageView::Warning(w) if stats.warned.insert(format!("{who}: {}", w.error())) => {
            eprintln!("{who}: warning: {} (shown once)", w.error());
        }
        gst::MessageView::Element(e) => {
            let s = e.structure()?;
            let second = stats.now.entry(who).or_default();
            match s.name().as_str() {
                "pixeldiffenc-stats" => {
                    second.sent_kbps = s.get("kbps").unwrap_or(0.0);
                    second.changed_percent = s.get("changed-blocks-percent").unwrap_or(0.0);
                    let t = s
                        .get::<Option<gst::ClockTime>>("timestamp")
                        .ok()
                        .flatten()
                        .map_or(0.0, |t| t.seconds_f64());
                    let line = second.clone();
                    print_second(t, who, &line, raw_kbps);
                    stats.history.push((t, who, line));
                }
                "pixeldiffdec-stats" => {
                    let frames: u64 = s.get("frames").unwrap_or(0);
                    second.received_fps = frames.saturating_sub(second.received_frames) as f64;
                    second.received_frames = frames;
                }
                "rtppixeldiffdepay-stats" => {
                    second.packets_lost = s.get("packets-lost").unwrap_or(0)
                }
                "pixeldiffadapt-stats" => second.target_kbps = s.get("target-kbps").ok(),
                "faceroi" => {
                    second.faces = s.get::<gst::List>("faces").ok().map(|l| l.len() as u32)
                }
                "faceroi-presence" => second.faces = s.get("faces").ok(),
                "level" => {
                    // rms per channel in dB (a GValueArray); the loudest channel.
                    second.audio_db = s.get::<gst::glib::ValueArray>("rms").ok().and_then(|l| {
                        l.iter()
                            .filter_map(|v| v.get::<f64>().ok())
                            .reduce(f64::max)
                    });
                }
                _ => {}
            }
        }
        _ => {}
    }
    None
}

fn print_second(t: f64, who: &str, s: &Second, raw: f64) {
    let faces = s.faces.map_or("-".to_string(), |n| n.to_string());
    let target = s.target_kbps.map_or("-".to_string(), |k| k.to_string());
    let audio = s
        .audio_db
        .map_or("-".to_string(), |db| format!("{db:.0} dB"));
    println!(
        "{t:6.1}s {who:5} sends {:7.1} kbit/s ({:5.0}x under raw), changed {:4.1}%, faces {faces}, target {target} kbit/s | receives {:4.1} fps, {} packets lost, audio {audio}",
        s.sent_kbps,
        if s.sent_kbps > 0.0 { raw / s.sent_kbps } else { 0.0 },
        s.changed_percent,
        s.received_fps,
        s.packets_lost,
    );
    let _ = std::io::stdout().flush();
}

fn write_csv(path: &Path, history: &[(f64, &str, Second)]) -> Result<(), Error> {
    let mut out = String::from(
        "seconds,participant,sent_kbps,changed_percent,target_kbps,faces,received_fps,packets_lost\n",
    );
    for (t, who, s) in history {
        out.push_str(&format!(
            "{t:.3},{who},{:.2},{:.2},{},{},{:.1},{}\n",
            s.sent_kbps,
            s.changed_percent,
            s.target_kbps.map_or(String::new(), |k| k.to_string()),
            s.faces.map_or(String::new(), |n| n.to_string()),
            s.received_fps,
            s.packets_lost
        ));
    }
    std::fs::write(path, out)?;
    Ok(())
}

fn write_plot(path: &Path, history: &[(f64, &str, Second)], opts: &Options) -> Result<(), Error> {
    // What each sent, and the target pixeldiffadapt set from the other's reports.
    let line =
        |who: &str, label: &str, value: fn(&Second) -> Option<f64>| pixelmeet_bench::plot::Series {
            label: format!("{who} {label}"),
            points: history
                .iter()
                .filter(|(_, w, _)| *w == who)
                .filter_map(|(t, _, s)| value(s).map(|v| (*t, v)))
                .collect(),
        };
    let series = ["alice", "bob"]
        .iter()
        .flat_map(|who| {
            [
                line(who, "sends", |s| Some(s.sent_kbps)),
                line(who, "target", |s| s.target_kbps.map(f64::from)),
            ]
        })
        .filter(|s| !s.points.is_empty())
        .collect::<Vec<_>>();
    let (w, h) = opts.size;
    let title = format!(
        "pixelmeet meeting, {w}x{h} at {} fps, background {}{}",
        opts.fps,
        opts.background,
        if opts.loss > 0.0 {
            format!(", {}% loss", opts.loss)
        } else {
            String::new()
        }
    );
    pixelmeet_bench::plot::line_chart(
        path,
        &title,
        "time (s)",
        "video sent (kbit/s)",
        &series,
        false,
    )
    .map_err(|e| e.to_string().into())
}

fn run(opts: Options) -> Result<(), Error> {
    pixelmeet::init()?;
    let headless = opts.headless || !has_display();
    let snapshot_every = opts.snapshot_every.unwrap_or(if headless { 5 } else { 0 });
    let alice_source = if opts.device.exists() {
        println!("alice uses the camera {}", opts.device.display());
        Source::Camera(opts.device.clone())
    } else {
        println!(
            "no camera at {}: alice and bob are drawn people",
            opts.device.display()
        );
        Source::Scene
    };
    let (a, b) = (
        opts.port,
        opts.port.checked_add(10).ok_or("--port too high")?,
    );
    let participants = [
        participant("alice", "bob", alice_source, a, b, &opts)?,
        participant("bob", "alice", Source::Scene, b, a, &opts)?,
    ];
    println!(
        "raw picture: {:.0} kbit/s; {}",
        raw_kbps(&opts),
        if headless {
            "headless"
        } else {
            "a window per participant"
        }
    );

    let main_loop = gst::glib::MainLoop::new(None, false);
    let stats = Rc::new(RefCell::new(Stats::default()));
    let failure: Rc<RefCell<Option<Error>>> = Rc::default();
    let mut watches = Vec::new();
    for p in &participants {
        let bus = p.pipeline.bus().expect("a pipeline has a bus");
        let (who, stats, failure, main_loop) =
            (p.name, stats.clone(), failure.clone(), main_loop.clone());
        let raw = raw_kbps(&opts);
        watches.push(bus.add_watch_local(move |_, msg| {
            if let Some(error) = on_message(who, msg, &mut stats.borrow_mut(), raw) {
                failure.borrow_mut().get_or_insert(error);
                main_loop.quit();
            }
            gst::glib::ControlFlow::Continue
        })?);
    }
    {
        let main_loop = main_loop.clone();
        // The handler runs on its own thread; quitting a main loop is thread-safe.
        ctrlc::set_handler(move || {
            println!("stopping (Ctrl+C)");
            main_loop.quit();
        })?;
    }
    if opts.seconds > 0 {
        let main_loop = main_loop.clone();
        gst::glib::timeout_add_local_once(Duration::from_secs(opts.seconds), move || {
            main_loop.quit()
        });
    }
    if snapshot_every > 0 {
        std::fs::create_dir_all(&opts.snapshot_dir)
            .map_err(|e| format!("{}: {e}", opts.snapshot_dir.display()))?;
        let shots: Vec<_> = participants
            .iter()
            .map(|p| {
                let file = opts
                    .snapshot_dir
                    .join(format!("{}-sees-{}.png", p.name, p.peer));
                (p.received.clone(), file)
            })
            .collect();
        gst::glib::timeout_add_seconds_local(snapshot_every as u32, move || {
            for (received, file) in &shots {
                let sample = received.lock().unwrap().clone();
                match sample.map(|s| save_png(&s, file)) {
                    Some(Ok(())) => println!("snapshot: {}", file.display()),
                    Some(Err(e)) => eprintln!("snapshot {}: {e}", file.display()),
                    None => println!("snapshot: nothing received yet for {}", file.display()),
                }
            }
            gst::glib::ControlFlow::Continue
        });
    }

    // A pipeline that cannot start (a busy port, no camera) has posted why on its bus.
    if participants
        .iter()
        .all(|p| p.pipeline.set_state(gst::State::Playing).is_ok())
    {
        main_loop.run();
    }
    for p in &participants {
        let _ = p.pipeline.set_state(gst::State::Null);
    }
    // Errors posted while starting are on the bus before the loop ran them.
    for p in &participants {
        let bus = p.pipeline.bus().expect("a pipeline has a bus");
        while let Some(msg) = bus.pop_filtered(&[gst::MessageType::Error]) {
            if let Some(e) = on_message(p.name, &msg, &mut stats.borrow_mut(), 0.0) {
                failure.borrow_mut().get_or_insert(e);
            }
        }
    }
    drop(watches);
    if let Some(error) = failure.take() {
        return Err(error);
    }
    let history = &stats.borrow().history;
    if let Some(path) = &opts.csv {
        write_csv(path, history)?;
        println!("stats: {}", path.display());
    }
    if let Some(path) = &opts.plot {
        write_plot(path, history, &opts)?;
        println!("plot: {}", path.display());
    }
    Ok(())
}

fn main() -> ExitCode {
    let opts = Options::parse();
    match run(opts) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("meeting: {e}");
            if e.is::<CameraFailed>() {
                ExitCode::from(EXIT_CAMERA)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}
