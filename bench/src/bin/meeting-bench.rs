// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! `meeting-bench`: what security costs a call between the bins on 127.0.0.1: the time from a
//! sender's start to its first bit-exact picture, the bytes on the wire and the share of key
//! announcements, plain and with a key file; and the threads a stranger's flood of SSRCs makes.
//! Prints Markdown tables for BENCHMARKS.md.

use gst::prelude::*;
use pixelmeet_bench::{bench_main, rd::Error, table::Table};
use pixelmeet_testkit::meeting::{key_file, receiver, record, sender, shows, ssrc_flood, threads};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const USAGE: &str = "usage: meeting-bench [--runs N]\n\
    Calls between pixelmeetsend and pixelmeetrecv on 127.0.0.1 (ports 26000-26100), N runs each \
    (default 5), plain and with a key file: time to the first bit-exact picture, wire rate over \
    3 s, announcements' share; then 300 SSRCs x 3 packets from a stranger.";

const PORT: u16 = 26000;

struct Options {
    runs: usize,
}

fn parse(args: Vec<String>) -> Result<Option<Options>, Error> {
    let mut o = Options { runs: 5 };
    let mut args = args.into_iter();
    while let Some(a) = args.next() {
        match a.as_str() {
            "--runs" => o.runs = args.next().ok_or("--runs needs a number")?.parse()?,
            "-h" | "--help" => return Ok(None),
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    Ok(Some(o))
}

/// One call through a tap: ms to the first picture, then over 3 s the wire kbit/s of what the
/// sender sent to the receiver's RTP port and the announcements' bytes per second.
fn one_call(run: usize, extra: &str) -> Result<(f64, f64, f64), Error> {
    let port = PORT + 20 * run as u16;
    let (rx, sink) = receiver(port, extra);
    let stop = Arc::new(AtomicBool::new(false));
    let tap = record(port + 10, Some(port), stop.clone());
    let started = Instant::now();
    let tx = sender(
        "smpte75",
        port + 10,
        &format!("{extra} report-port={}", port + 4),
    );
    if !shows(&sink, "smpte75", Duration::from_secs(10)) {
        return Err(format!("run {run} ({extra:?}): no picture in 10 s").into());
    }
    let first_ms = started.elapsed().as_secs_f64() * 1000.0;
    std::thread::sleep(Duration::from_secs(3));
    stop.store(true, Ordering::Relaxed);
    let recording = tap.join().map_err(|_| "the tap failed")?;
    for p in [&tx, &rx] {
        p.set_state(gst::State::Null)?;
    }
    let window = |at: &Instant| at.duration_since(started).as_secs_f64() * 1000.0 > first_ms;
    let (mut all, mut announced) = (0usize, 0usize);
    for (_, datagram) in recording.iter().filter(|(at, _)| window(at)) {
        all += datagram.len();
        if datagram.starts_with(b"PXMK") {
            announced += datagram.len();
        }
    }
    Ok((first_ms, all as f64 * 8.0 / 3000.0, announced as f64 / 3.0))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn run(o: &Options) -> Result<(), Error> {
    pixelmeet::init().map_err(|e| e.to_string())?;
    let key = key_file("meeting-bench", 0o600);
    let keyed = format!("key-file={}", key.display());
    let mut table = Table {
        markdown: true,
        header: [
            "call",
            "runs",
            "first picture ms (median)",
            "first picture ms (max)",
            "wire kbit/s",
            "announcements B/s",
        ]
        .map(String::from)
        .to_vec(),
        rows: Vec::new(),
        first_numeric: 1,
    };
    for (label, extra) in [
        ("plain", ""),
        ("SRTP, session keys (challenge)", keyed.as_str()),
    ] {
        let calls = (0..o.runs)
            .map(|r| one_call(r, extra))
            .collect::<Result<Vec<_>, _>>()?;
        let first: Vec<f64> = calls.iter().map(|c| c.0).collect();
        table.rows.push(vec![
            label.into(),
            o.runs.to_string(),
            format!("{:.0}", median(first.clone())),
            format!("{:.0}", first.iter().copied().fold(0.0, f64::max)),
            format!("{:.1}", median(calls.iter().map(|c| c.1).collect())),
            format!("{:.0}", median(calls.iter().map(|c| c.2).collect())),
        ]);
    }
    println!("{}", table.render());

    let mut flood = Table {
        markdown: true,
        header: [
            "receiver",
            "threads before",
            "threads after",
            "sender shown after",
        ]
        .map(String::from)
        .to_vec(),
        rows: Vec::new(),
        first_numeric: 1,
    };
    for (label, extra) in [("plain", ""), ("SRTP", keyed.as_str())] {
        let port = PORT + 100;
        let (rx, sink) = receiver(port, extra);
        let tx = sender("smpte75", port, extra);
        if !shows(&sink, "smpte75", Duration::from_secs(10)) {
            return Err(format!("flood ({label}): no picture before the flood").into());
        }
        std::thread::sleep(Duration::from_millis(500));
        let before = threads();
        ssrc_flood(port, 300, 3);
        std::thread::sleep(Duration::from_secs(1));
        let after = threads();
        let shown = shows(&sink, "smpte75", Duration::from_secs(5));
        flood.rows.push(vec![
            format!("{label}, 300 SSRCs x 3 packets"),
            before.to_string(),
            after.to_string(),
            if shown { "yes" } else { "no" }.into(),
        ]);
        for p in [&tx, &rx] {
            p.set_state(gst::State::Null)?;
        }
    }
    println!("{}", flood.render());
    std::fs::remove_file(&key)?;
    Ok(())
}

fn main() -> std::process::ExitCode {
    bench_main("meeting-bench", USAGE, parse, run)
}
