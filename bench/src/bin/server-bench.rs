// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! `server-bench`: a meeting of N participants on this machine, through a real rtpengine (plain
//! and end-to-end encrypted) and through `pixelmeet-relay`, in one run. Every participant sends
//! 320x240 at 30 fps (videotestsrc's ball, perception off, so the figures are the server's and
//! the receivers') and receives every other one. Per route: the frame rate each receiver shows
//! (frames over their timestamps' span), the latency from capture to render (an appsink that
//! syncs to the clock as a video sink does, so the jitter buffer's 50 ms are in; the frame
//! number is drawn into the picture, `pixelmeet_bench::stamp`; one clock for every pipeline of
//! the process), and the server's CPU per forwarded stream. Then SFrame's cost on a
//! sender's CPU. Prints Markdown tables for BENCHMARKS.md.

use gst::prelude::*;
use pixelmeet_bench::{bench_main, rd::Error, stamp, table::Table};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const USAGE: &str = "usage: server-bench [--participants N] [--seconds S]\n\
    A meeting of N participants (default 6) through rtpengine, rtpengine with end-to-end \
    encryption and pixelmeet-relay, measured over S seconds each (default 10) after 3 s to \
    settle; needs rtpengine (apt-get install rtpengine-daemon) and the release build of \
    pixelmeet-relay. Ports 21000-24999 on 127.0.0.1.";

const WIDTH: usize = 320;
const HEIGHT: usize = 240;
const FPS: u64 = 30;
const SETTLE: Duration = Duration::from_secs(3);

struct Options {
    participants: usize,
    seconds: u64,
}

fn parse(args: Vec<String>) -> Result<Option<Options>, Error> {
    let mut o = Options {
        participants: 6,
        seconds: 10,
    };
    let mut args = args.into_iter();
    while let Some(a) = args.next() {
        match a.as_str() {
            "--participants" => {
                o.participants = args
                    .next()
                    .ok_or("--participants needs a number")?
                    .parse()?
            }
            "--seconds" => o.seconds = args.next().ok_or("--seconds needs a number")?.parse()?,
            "-h" | "--help" => return Ok(None),
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    if !(2..=9).contains(&o.participants) {
        return Err("--participants takes 2 to 9".into());
    }
    Ok(Some(o))
}

/// When each participant's frame number was captured (clock time, ns).
type Captured = Arc<Mutex<HashMap<(usize, u16), u64>>>;

/// What one receiver saw in the measuring window.
#[derive(Default)]
struct Seen {
    frames: u64,
    first_pts: Option<u64>,
    last_pts: u64,
    latencies_ms: Vec<f64>,
    counted: bool,
}

/// How participants reach each other.
enum Route<'a> {
    Server {
        ng: &'a str,
        room: &'a str,
        key: Option<&'a str>,
    },
    Relay {
        port: u16,
    },
}

/// Participant `k`'s sender: the ball with its frame number drawn in, captured times noted.
fn sender(
    k: usize,
    route: &Route,
    listen: u16,
    captured: &Captured,
) -> Result<gst::Pipeline, Error> {
    let via = match route {
        Route::Server { ng, room, key } => format!(
            "server={ng} room={room} participant=p{k} {}",
            key.map(|k| format!("key-file={k}")).unwrap_or_default()
        ),
        Route::Relay { port } => format!("host=127.0.0.1 port={}", port + 10 * k as u16),
    };
    let p = pixelmeet_testkit::launch(&format!(
        "videotestsrc is-live=true pattern=ball ! video/x-raw,format=I420,width={WIDTH},height={HEIGHT},framerate={FPS}/1 \
         ! identity name=stamp ! pixelmeetsend name=tx {via} report-port={} find-faces=false replace-background=false",
        listen + 10 * k as u16 + 4
    ))?;
    let clock = gst::SystemClock::obtain();
    let captured = captured.clone();
    let number = std::sync::atomic::AtomicU16::new(0);
    let pad = p.by_name("stamp").unwrap().static_pad("src").unwrap();
    pad.add_probe(gst::PadProbeType::BUFFER, move |_, info| {
        if let Some(buffer) = info.buffer_mut() {
            if let Ok(mut map) = buffer.make_mut().map_writable() {
                let n = number.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                stamp::draw(&mut map, WIDTH, n);
                let now = clock.time().nseconds();
                captured.lock().unwrap().insert((k, n), now);
            }
        }
        gst::PadProbeReturn::Ok
    });
    playing(&p)?;
    Ok(p)
}

/// Participant `k`'s receiver of participant `j`.
fn receiver(
    k: usize,
    j: usize,
    route: &Route,
    listen: u16,
    captured: &Captured,
    seen: Arc<Mutex<Seen>>,
) -> Result<gst::Pipeline, Error> {
    let port = listen + 10 * j as u16;
    let via = match route {
        Route::Server { ng, room, key } => format!(
            "server={ng} room={room} participant=p{j} subscriber=p{k} {}",
            key.map(|k| format!("key-file={k}")).unwrap_or_default()
        ),
        Route::Relay { port: relay } => {
            format!(
                "report-host=127.0.0.1 report-port={}",
                relay + 10 * j as u16 + 4
            )
        }
    };
    let p = pixelmeet_testkit::launch(&format!(
        "pixelmeetrecv name=rx port={port} audio=false {via} rx.video_src ! \
         appsink name=sink sync=true emit-signals=false"
    ))?;
    let sink = p
        .by_name("sink")
        .and_downcast::<gst_app::AppSink>()
        .unwrap();
    let clock = gst::SystemClock::obtain();
    let captured = captured.clone();
    sink.set_callbacks(
        gst_app::AppSinkCallbacks::builder()
            .new_sample(move |sink| {
                let sample = sink.pull_sample().map_err(|_| gst::FlowError::Eos)?;
                let now = clock.time().nseconds();
                let mut seen = seen.lock().unwrap();
                if !seen.counted {
                    return Ok(gst::FlowSuccess::Ok);
                }
                let buffer = sample.buffer().ok_or(gst::FlowError::Error)?;
                let pts = buffer.pts().map_or(0, |t| t.nseconds());
                seen.frames += 1;
                seen.first_pts.get_or_insert(pts);
                seen.last_pts = pts;
                if let Ok(map) = buffer.map_readable() {
                    let number = stamp::read(&map, WIDTH);
                    if let Some(at) = captured.lock().unwrap().get(&(j, number)) {
                        seen.latencies_ms.push(now.saturating_sub(*at) as f64 / 1e6);
                    }
                }
                Ok(gst::FlowSuccess::Ok)
            })
            .build(),
    );
    playing(&p)?;
    Ok(p)
}

fn percentile(v: &mut [f64], q: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    v[((v.len() - 1) as f64 * q).round() as usize]
}

/// One meeting: (lowest fps any receiver showed, median fps, latency median, p95, server CPU %
/// of a core per forwarded stream).
fn meeting(o: &Options, route: &Route, base: u16, server_pid: u32) -> Result<Vec<String>, Error> {
    let n = o.participants;
    let captured: Captured = Arc::default();
    let mut pipelines = Vec::new();
    let mut seen = Vec::new();
    let listen = |k: usize| base + 100 * k as u16;
    for k in 0..n {
        pipelines.push(sender(k, route, listen(k), &captured)?);
    }
    for k in 0..n {
        for j in (0..n).filter(|&j| j != k) {
            let s = Arc::new(Mutex::new(Seen::default()));
            pipelines.push(receiver(k, j, route, listen(k), &captured, s.clone())?);
            seen.push(s);
        }
    }
    std::thread::sleep(SETTLE);
    let cpu_before = media_server::local::cpu_time_of(server_pid).ok_or("no server CPU time")?;
    let started = Instant::now();
    seen.iter().for_each(|s| s.lock().unwrap().counted = true);
    std::thread::sleep(Duration::from_secs(o.seconds));
    seen.iter().for_each(|s| s.lock().unwrap().counted = false);
    let wall = started.elapsed().as_secs_f64();
    let cpu =
        media_server::local::cpu_time_of(server_pid).ok_or("no server CPU time")? - cpu_before;
    for p in &pipelines {
        p.set_state(gst::State::Null)?;
    }
    let mut fps: Vec<f64> = seen
        .iter()
        .map(|s| {
            let s = s.lock().unwrap();
            let span = s.last_pts.saturating_sub(s.first_pts.unwrap_or(0)) as f64 / 1e9;
            if s.frames < 2 || span <= 0.0 {
                0.0
            } else {
                (s.frames - 1) as f64 / span
            }
        })
        .collect();
    let mut latency: Vec<f64> = seen
        .iter()
        .flat_map(|s| s.lock().unwrap().latencies_ms.clone())
        .collect();
    let streams = (n * (n - 1)) as f64;
    let lowest = fps.iter().copied().fold(f64::INFINITY, f64::min);
    Ok(vec![
        format!("{:.1}", lowest),
        format!("{:.1}", percentile(&mut fps, 0.5)),
        format!("{:.0}", percentile(&mut latency, 0.5)),
        format!("{:.0}", percentile(&mut latency, 0.95)),
        latency.len().to_string(),
        format!("{:.2}", cpu.as_secs_f64() / wall * 100.0 / streams),
        format!("{:.1}", cpu.as_secs_f64() / wall * 100.0),
    ])
}

/// CPU seconds of this process while one non-live sender codes `frames` frames through the
/// server, with or without end-to-end encryption, and the video packets it sent.
fn sender_cpu(ng: &str, key: Option<&str>, frames: u32) -> Result<(f64, u64), Error> {
    let p = pixelmeet_testkit::launch(&format!(
        "videotestsrc num-buffers={frames} pattern=ball ! video/x-raw,format=I420,width={WIDTH},height={HEIGHT},framerate={FPS}/1 \
         ! pixelmeetsend name=tx server={ng} room=cost participant=p{} report-port=0 find-faces=false replace-background=false {}",
        glib_random(),
        key.map(|k| format!("key-file={k}")).unwrap_or_default()
    ))?;
    let packets = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let payloader = p
        .by_name("tx")
        .and_then(|tx| tx.dynamic_cast::<gst::ChildProxy>().ok())
        .and_then(|tx| tx.child_by_name("rtppixeldiffpay"))
        .and_downcast::<gst::Element>()
        .ok_or("no payloader in the sender")?;
    let counted = packets.clone();
    payloader.static_pad("src").unwrap().add_probe(
        gst::PadProbeType::BUFFER | gst::PadProbeType::BUFFER_LIST,
        move |_, info| {
            let n = match &info.data {
                Some(gst::PadProbeData::BufferList(l)) => l.len() as u64,
                _ => 1,
            };
            counted.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
            gst::PadProbeReturn::Ok
        },
    );
    let before = pixelmeet_testkit::process_cpu_time()?;
    p.set_state(gst::State::Playing)?;
    let bus = p.bus().unwrap();
    bus.timed_pop_filtered(
        gst::ClockTime::from_seconds(120),
        &[gst::MessageType::Eos, gst::MessageType::Error],
    )
    .ok_or("the sender never ended")?;
    let cpu = pixelmeet_testkit::process_cpu_time()? - before;
    p.set_state(gst::State::Null)?;
    Ok((
        cpu.as_secs_f64(),
        packets.load(std::sync::atomic::Ordering::Relaxed),
    ))
}

/// Seconds SFrame takes to seal one payload of `len` bytes (the mean of many).
fn seal_seconds(len: usize) -> Result<f64, Error> {
    let meeting = session_keys::MeetingKey::from_bytes(pixelmeet_testkit::meeting::test_key());
    let now = session_keys::now_ms();
    let mut sealer = session_keys::e2e::Sealer::new(&meeting, now)?;
    let payload = vec![0x5a; len];
    let n = 100_000;
    let before = pixelmeet_testkit::process_cpu_time()?;
    for _ in 0..n {
        std::hint::black_box(sealer.seal(&payload, now)?);
    }
    Ok((pixelmeet_testkit::process_cpu_time()? - before).as_secs_f64() / n as f64)
}

/// Sets `p` playing; a failure says why, from the bus.
fn playing(p: &gst::Pipeline) -> Result<(), Error> {
    if p.set_state(gst::State::Playing).is_ok() {
        return Ok(());
    }
    let why = p
        .bus()
        .and_then(|b| b.pop_filtered(&[gst::MessageType::Error]))
        .map(|m| match m.view() {
            gst::MessageView::Error(e) => e.error().to_string(),
            _ => String::new(),
        })
        .unwrap_or_default();
    Err(format!("a pipeline did not start: {why}").into())
}

/// The relay process, ended however the bench ends.
struct Relay(std::process::Child);

impl Drop for Relay {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn glib_random() -> u32 {
    gst::glib::random_int()
}

fn run(o: &Options) -> Result<(), Error> {
    pixelmeet::init().map_err(|e| e.to_string())?;
    let server = media_server::local::LocalServer::start(
        2000,
        std::env::temp_dir().join("server-bench-rtpengine.log"),
    )?;
    let key = pixelmeet_testkit::meeting::key_file("server-bench", 0o600);
    let key = key.to_str().unwrap();
    let relay_port = 23000;
    let relay_bin = pixelmeet_testkit::repository().join("target/release/pixelmeet-relay");
    if !relay_bin.is_file() {
        return Err("build pixelmeet-relay first: cargo build --release -p pixelmeet-relay".into());
    }
    let relay_listen: u16 = 24000;
    let participants: Vec<String> = (0..o.participants)
        .map(|k| format!("127.0.0.1:{}", relay_listen + 100 * k as u16))
        .collect();
    let relay = Relay(
        std::process::Command::new(&relay_bin)
            .args([
                "--participants",
                &participants.join(","),
                "--port",
                &relay_port.to_string(),
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()?,
    );
    let mut table = Table {
        markdown: true,
        header: [
            "route",
            "lowest fps shown",
            "median fps shown",
            "latency ms (median)",
            "latency ms (p95)",
            "frames timed",
            "server CPU % of a core per stream",
            "server CPU % of a core",
        ]
        .map(String::from)
        .to_vec(),
        rows: Vec::new(),
        first_numeric: 1,
    };
    let n = o.participants;
    let label = |what: &str| format!("{what}, {n} participants, {} streams", n * (n - 1));
    let routes = [
        (
            label("rtpengine"),
            Route::Server {
                ng: &server.ng,
                room: "plain",
                key: None,
            },
            21000,
            server.pid(),
        ),
        (
            label("rtpengine, end-to-end encrypted"),
            Route::Server {
                ng: &server.ng,
                room: "sealed",
                key: Some(key),
            },
            22000,
            server.pid(),
        ),
        (
            label("pixelmeet-relay"),
            Route::Relay { port: relay_port },
            relay_listen,
            relay.0.id(),
        ),
    ];
    for (name, route, base, pid) in &routes {
        eprintln!("server-bench: {name}");
        let mut row = vec![name.clone()];
        row.extend(meeting(o, route, *base, *pid)?);
        table.rows.push(row);
    }
    drop(relay);
    println!("{}", table.render());

    // SFrame's cost on a sender: CPU of the same 900 frames, plain and sealed, alternately
    // (the difference is within the noise), and sealing alone for the packets they made.
    let (mut plain, mut sealed, mut packets) = (Vec::new(), Vec::new(), 0);
    for _ in 0..3 {
        let (cpu, n) = sender_cpu(&server.ng, None, 900)?;
        plain.push(cpu);
        packets = n;
        sealed.push(sender_cpu(&server.ng, Some(key), 900)?.0);
    }
    let (p, s) = (percentile(&mut plain, 0.5), percentile(&mut sealed, 0.5));
    let seal = seal_seconds(1200)?;
    let cost = Table {
        markdown: true,
        header: [
            "sender, 900 frames of 320x240 through rtpengine",
            "CPU s (median of 3)",
            "vs plain",
        ]
        .map(String::from)
        .to_vec(),
        rows: vec![
            vec!["plain".into(), format!("{p:.3}"), "-".into()],
            vec![
                "end-to-end encrypted (SFrame, AES-128-GCM)".into(),
                format!("{s:.3}"),
                format!("{:+.1} %", (s / p - 1.0) * 100.0),
            ],
            vec![
                format!(
                    "sealing alone: {packets} packets x {:.2} us (1200-byte payload)",
                    seal * 1e6
                ),
                format!("{:.3}", packets as f64 * seal),
                format!("{:+.1} %", packets as f64 * seal / p * 100.0),
            ],
        ],
        first_numeric: 1,
    };
    println!("{}", cost.render());
    Ok(())
}

fn main() -> std::process::ExitCode {
    bench_main("server-bench", USAGE, parse, run)
}
