// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! `adapt-bench`: the rate controller (`rate-control`, as `pixeldiffadapt` runs it) on the
//! modelled path (`rate_control::path`: a drop-tail queue, a policer, random loss; an encoder at
//! 30 fps that follows its target; a report every 500 ms; transport-wide feedback every
//! 100 ms), in stream time, so the numbers do not depend on this machine. Each path twice: with
//! loss from receiver reports only (`pixeldiffadapt` before transport-wide feedback), and with
//! the delay-based estimate. Seeds 1, 2, 3; mean (worst). Prints a Markdown table for
//! BENCHMARKS.md.

use pixelmeet_bench::{bench_main, rd::Error, table::Table};
use rate_control::path::{simulate, Call, Path, Trace};

const USAGE: &str = "usage: adapt-bench [--seeds N]\n\
    The rate controller on modelled paths, with and without transport-wide feedback, seeds \
    1..=N (default 3). Runs in stream time: a few tenths of a second.";

/// What a row measures, and over which seconds.
enum Measure {
    /// Mean target over seconds 20-60, % of max-bitrate.
    TargetShare,
    /// Mean queueing delay from 5 s on (ms) and mean rate from 5 s on (% of the capacity).
    Queue { capacity: f64 },
    /// Mean rate from 10 s on, kbit/s, against the policer.
    Policed,
    /// Seconds until the queue delay is under 100 ms after the capacity halves at 20 s.
    Halved,
    /// Seconds until the target reaches 85 % of the doubled capacity after 20 s.
    Doubled { capacity: f64 },
}

fn scenarios() -> Vec<(&'static str, Path, usize, Measure)> {
    let queue = |capacity_kbps: f64, changes: Vec<(f64, f64)>| Path {
        capacity_kbps,
        buffer_ms: 1000.0,
        changes,
        ..Path::default()
    };
    let random = |loss: f64| Path {
        random_loss: loss,
        ..Path::default()
    };
    vec![
        ("2 % random loss", random(0.02), 60, Measure::TargetShare),
        ("5 % random loss", random(0.05), 60, Measure::TargetShare),
        (
            "500 kbit/s bottleneck, 1 s buffer",
            queue(500.0, vec![]),
            40,
            Measure::Queue { capacity: 500.0 },
        ),
        (
            "300 kbit/s policer",
            Path {
                policer_kbps: Some(300.0),
                ..Path::default()
            },
            40,
            Measure::Policed,
        ),
        (
            "1000 -> 500 kbit/s at 20 s, 1 s buffer",
            queue(1000.0, vec![(20.0, 500.0)]),
            40,
            Measure::Halved,
        ),
        (
            "500 -> 1000 kbit/s at 20 s, 1 s buffer",
            queue(500.0, vec![(20.0, 1000.0)]),
            40,
            Measure::Doubled { capacity: 1000.0 },
        ),
    ]
}

/// The figure for one call, and how it reads.
fn measure(m: &Measure, t: &Trace, max_kbps: f64) -> f64 {
    match m {
        Measure::TargetShare => 100.0 * t.mean_target(20.0, 60.0) / max_kbps,
        Measure::Queue { .. } => Trace::mean(&t.queue_ms, 5, t.queue_ms.len()),
        Measure::Policed => Trace::mean(&t.sent_kbps, 10, t.sent_kbps.len()),
        Measure::Halved => t.queue_ms[20..]
            .iter()
            .position(|&q| q < 100.0)
            .map_or(f64::INFINITY, |s| s as f64),
        Measure::Doubled { capacity } => t
            .targets
            .iter()
            .find(|&&(at, kbps)| at >= 20.0 && kbps >= 0.85 * capacity)
            .map_or(f64::INFINITY, |&(at, _)| at - 20.0),
    }
}

fn second_figure(m: &Measure, t: &Trace) -> Option<f64> {
    match m {
        Measure::Queue { capacity } => {
            Some(100.0 * Trace::mean(&t.sent_kbps, 5, t.sent_kbps.len()) / capacity)
        }
        _ => None,
    }
}

fn label(m: &Measure) -> &'static str {
    match m {
        Measure::TargetShare => "mean target 20-60 s, % of max (goal >= 80)",
        Measure::Queue { .. } => "queue delay from 5 s, ms (<= 100); rate, % of capacity (>= 85)",
        Measure::Policed => "mean rate from 10 s, kbit/s (under 300)",
        Measure::Halved => "s until queue delay < 100 ms (<= 2)",
        Measure::Doubled { .. } => "s until target >= 85 % of new capacity (<= 5)",
    }
}

fn summarise(values: &[f64], worst_is_high: bool) -> String {
    let mean = values.iter().sum::<f64>() / values.len() as f64;
    let worst = values.iter().copied().fold(
        if worst_is_high { f64::MIN } else { f64::MAX },
        if worst_is_high { f64::max } else { f64::min },
    );
    if mean.is_finite() {
        format!("{mean:.0} ({worst:.0})")
    } else {
        "never".into()
    }
}

fn run(seeds: &u64) -> Result<(), Error> {
    let mut rows = Vec::new();
    for (name, path, seconds, m) in scenarios() {
        let mut cells = vec![name.to_string(), label(&m).to_string()];
        for feedback in [false, true] {
            let traces: Vec<Trace> = (1..=*seeds)
                .map(|seed| {
                    let mut call = Call::new(path.clone(), seconds, seed);
                    call.transport_feedback = feedback;
                    simulate(&call)
                })
                .collect();
            let max = Call::new(path.clone(), seconds, 1).max_kbps;
            // Worst: lowest share or rate, highest delay or time.
            let worst_is_high = !matches!(m, Measure::TargetShare);
            let first: Vec<f64> = traces.iter().map(|t| measure(&m, t, max)).collect();
            let mut cell = summarise(&first, worst_is_high);
            let second: Vec<f64> = traces.iter().filter_map(|t| second_figure(&m, t)).collect();
            if !second.is_empty() {
                cell += &format!("; {}", summarise(&second, false));
            }
            cells.push(cell);
        }
        rows.push(cells);
    }
    let table = Table {
        markdown: true,
        header: vec![
            "path".into(),
            "figure".into(),
            "loss only (reports)".into(),
            "loss + delay (transport-wide feedback)".into(),
        ],
        rows,
        first_numeric: 2,
    };
    print!("{}", table.render());
    Ok(())
}

fn main() -> std::process::ExitCode {
    bench_main(
        "adapt-bench",
        USAGE,
        |args| {
            let mut seeds = 3u64;
            let mut it = args.into_iter();
            while let Some(a) = it.next() {
                match a.as_str() {
                    "--seeds" => {
                        seeds = it
                            .next()
                            .and_then(|v| v.parse().ok())
                            .filter(|&n| n >= 1)
                            .ok_or("--seeds takes a number >= 1")?
                    }
                    "-h" | "--help" => return Ok(None),
                    other => return Err(format!("unknown argument {other}").into()),
                }
            }
            Ok(Some(seeds))
        },
        run,
    )
}
