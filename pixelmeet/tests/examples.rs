// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! The examples, run as a user runs them for a few seconds on their built-in test source, with
//! their output checked: the meeting's stats, snapshots and plot, Ctrl+C and exit codes; the
//! faces counter's JSON lines against the drawn room's script; the bandwidth table's order;
//! the app round trip.

use pixelmeet_testkit as common;

use common::rss_mib_of;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

/// An example built beside this test (cargo builds the examples of the package with its
/// tests, in `<target>/<profile>/examples`).
fn example(name: &str) -> Command {
    let exe = std::env::current_exe().expect("the test's own path");
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("tests live in <target>/<profile>/deps")
        .join("examples");
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} is not built (cargo test builds the examples)",
        path.display()
    );
    let mut command = Command::new(path);
    // No window or camera even where the test runs on a desktop.
    command.env_remove("DISPLAY").env_remove("WAYLAND_DISPLAY");
    command
}

fn run(command: &mut Command) -> Output {
    let out = command.output().expect("the example starts");
    eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    out
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn scratch(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("pixelmeet-examples-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A line of the meeting's `--csv`.
struct CsvRow {
    seconds: f64,
    sent_kbps: f64,
    faces: String,
    received_fps: f64,
    packets_lost: u64,
}

/// The CSV rows of one participant.
fn csv_rows(csv: &str, who: &str) -> Vec<CsvRow> {
    csv.lines()
        .skip(1)
        .map(|l| l.split(',').collect::<Vec<_>>())
        .filter(|f| f[1] == who)
        .map(|f| CsvRow {
            seconds: f[0].parse().unwrap(),
            sent_kbps: f[2].parse().unwrap(),
            faces: f[5].to_string(),
            received_fps: f[6].parse().unwrap(),
            packets_lost: f[7].parse().unwrap(),
        })
        .collect()
}

#[test]
fn meeting_runs_both_ways_with_stats_snapshots_and_plot() {
    let dir = scratch("meeting");
    let out = run(example("meeting")
        .args(["--seconds", "5", "--port", "28000", "--snapshot-every", "2"])
        .arg("--snapshot-dir")
        .arg(dir.join("snapshots"))
        .arg("--csv")
        .arg(dir.join("stats.csv"))
        .arg("--plot")
        .arg(dir.join("bandwidth.svg")));
    let text = stdout(&out);
    assert!(out.status.success(), "exit {:?}: {text}", out.status);
    assert!(
        text.contains("alice sends") && text.contains("bob   sends"),
        "{text}"
    );

    let csv = std::fs::read_to_string(dir.join("stats.csv")).unwrap();
    for who in ["alice", "bob"] {
        let rows = csv_rows(&csv, who);
        assert!(rows.len() >= 3, "{who}: {csv}");
        // Past the first second each sends far below raw (110592 kbit/s), sees one face and
        // receives the other's picture.
        for row in &rows[1..] {
            let (kbps, fps) = (row.sent_kbps, row.received_fps);
            assert!(kbps > 50.0 && kbps < 11_000.0, "{who} sends {kbps}: {csv}");
            assert_eq!(row.faces, "1", "{who}: {csv}");
            assert!(fps >= 5.0, "{who} receives {fps} fps: {csv}");
        }
    }

    // The drawn face is 120 px wide with its middle swaying 25 px around x = 352 (alice) or,
    // mirrored, x = 288 (bob), at y = 200.
    for (file, face_x) in [("alice-sees-bob.png", 288), ("bob-sees-alice.png", 352)] {
        let picture = image::open(dir.join("snapshots").join(file))
            .unwrap_or_else(|e| panic!("{file}: {e}"))
            .to_luma8();
        assert_eq!(picture.dimensions(), (640, 480), "{file}");
        // A person on a flat backdrop: the face (skin drawn at luma 170, eyes and mouth darker)
        // differs from the backdrop (bgreplace's default colour, luma about 76) by about 95.
        // Medians of boxes, so that an eye under one sampled pixel, or the sway of the head
        // (the box stays inside the 120-pixel face), does not decide it.
        let median = |x0: u32, y0: u32| {
            let mut v: Vec<i32> = (y0..y0 + 40)
                .flat_map(|y| (x0..x0 + 40).map(move |x| (x, y)))
                .map(|(x, y)| picture.get_pixel(x, y)[0] as i32)
                .collect();
            v.sort_unstable();
            v[v.len() / 2]
        };
        let corner = median(0, 0);
        let face = median(face_x - 20, 190);
        assert!(
            (face - corner).abs() > 40,
            "{file}: face {face}, backdrop {corner}"
        );
    }
    let svg = std::fs::read_to_string(dir.join("bandwidth.svg")).unwrap();
    assert!(svg.contains("<svg") && svg.contains("alice sends") && svg.contains("bob sends"));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn meeting_ends_cleanly_on_ctrl_c() {
    let child = example("meeting")
        .args(["--port", "28020", "--snapshot-every", "0", "--no-audio"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(3));
    // SAFETY: kill(2) on our own child's pid, which has not been waited for yet.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGINT) }, 0);
    let started = std::time::Instant::now();
    let out = child.wait_with_output().unwrap();
    let text = stdout(&out);
    assert!(started.elapsed() < Duration::from_secs(5), "slow to stop");
    assert!(out.status.success(), "exit {:?}: {text}", out.status);
    assert!(text.contains("stopping (Ctrl+C)"), "{text}");
    assert!(text.contains("alice sends"), "ran before stopping: {text}");
}

#[test]
fn meeting_exit_codes_tell_what_went_wrong() {
    // A port held by someone else: a clear error and exit code 1.
    let _holder = std::net::UdpSocket::bind("0.0.0.0:28040").unwrap();
    let out = run(example("meeting").args(["--port", "28040", "--seconds", "3"]));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("Address already in use") && err.contains("--port"),
        "{err}"
    );
    // A camera that fails (as v4l2src fails when it is unplugged: an error from the source):
    // what happened, and exit code 3. /dev/null is a device node but no camera.
    let out = run(example("meeting").args(["--device", "/dev/null", "--port", "28140"]));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(
        err.contains("the camera /dev/null stopped or cannot be used (unplugged?)"),
        "{err}"
    );
    // A bad command line: exit code 2 and what was wrong.
    let out = run(example("meeting").args(["--fps", "0"]));
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--fps"));
}

#[test]
fn faces_counts_the_visitor_in_and_out() {
    let out = run(example("faces").args(["--seconds", "4"]));
    let text = stdout(&out);
    assert!(out.status.success(), "{text}");
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect();
    let counts: Vec<u64> = lines.iter().map(|l| l["count"].as_u64().unwrap()).collect();
    // The host alone, the visitor joins at 1 s, leaves at 3 s (the tracker holds a lost face
    // for under a second).
    assert_eq!(counts, [1, 2, 1], "{text}");
    let times: Vec<f64> = lines.iter().map(|l| l["time"].as_f64().unwrap()).collect();
    assert!(times[0] < 0.2, "{text}");
    assert!((1.0..1.5).contains(&times[1]), "{text}");
    assert!((3.0..4.0).contains(&times[2]), "{text}");
    for line in &lines {
        let faces = line["faces"].as_array().unwrap();
        assert_eq!(faces.len() as u64, line["count"].as_u64().unwrap());
        for f in faces {
            let (x, y) = (f["x"].as_u64().unwrap(), f["y"].as_u64().unwrap());
            let (w, h) = (f["width"].as_u64().unwrap(), f["height"].as_u64().unwrap());
            assert!(x + w <= 640 && y + h <= 480 && w >= 60, "{f}");
            // BlazeFace's probability, at or above faceroi's default min-confidence.
            let confidence = f["confidence"].as_f64().unwrap();
            assert!((0.5..=1.0).contains(&confidence), "{f}");
        }
    }
    // The host keeps one id throughout.
    let host_ids: Vec<_> = lines.iter().map(|l| l["faces"][0]["id"].clone()).collect();
    assert!(host_ids.windows(2).all(|w| w[0] == w[1]), "{text}");
}

#[test]
fn faces_reports_an_unreadable_video() {
    let out = run(example("faces").arg("/nonexistent/video.mp4"));
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/video.mp4"));
}

#[test]
fn bandwidth_table_shows_each_stage_saving() {
    let out = run(example("bandwidth").args(["--seconds", "2", "--markdown"]));
    let text = stdout(&out);
    assert!(out.status.success(), "{text}");
    let kbps = |stage: &str| -> f64 {
        let row = text
            .lines()
            .find(|l| l.starts_with(&format!("| {stage} |")))
            .unwrap_or_else(|| panic!("no row {stage}: {text}"));
        row.split('|').nth(2).unwrap().trim().parse().unwrap()
    };
    let raw = kbps("raw I420");
    let coded = kbps("pixeldiffenc");
    let replaced = kbps("faceroi ! bgreplace ! pixeldiffenc");
    assert_eq!(raw, 640.0 * 480.0 * 1.5 * 8.0 * 30.0 / 1000.0);
    assert!(coded < raw / 5.0, "{text}");
    assert!(
        replaced < coded / 2.0,
        "the background costs nothing: {text}"
    );
    assert!(kbps("faceroi ! pixeldiffenc roi-mode=prioritize") > 0.0);
}

#[test]
fn appsrc_appsink_round_trip_is_bit_exact_when_lossless() {
    let out = run(example("appsrc-appsink").args(["--frames", "20", "--lossless"]));
    let text = stdout(&out);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("decoded 20 frames: 20 bit-exact"), "{text}");

    let out = run(example("appsrc-appsink").args(["--frames", "20", "--quality", "60"]));
    let text = stdout(&out);
    assert!(out.status.success(), "{text}");
    let psnr: f64 = text
        .split("Y-PSNR of the others ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("{text}"));
    assert!(psnr > 35.0, "{text}");
}

/// The meeting for `seconds` with 2 % loss both ways: memory sampled every second must not
/// grow once warm, no second may pass without frames received, the stats must add up.
fn soak(seconds: u64, port: u16) {
    let dir = scratch(&format!("soak-{seconds}"));
    let mut child = example("meeting")
        .args([
            "--seconds",
            &seconds.to_string(),
            "--port",
            &port.to_string(),
        ])
        .args(["--loss", "2", "--headless", "--csv"])
        .arg(dir.join("stats.csv"))
        .arg("--snapshot-dir")
        .arg(dir.join("snapshots"))
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("stderr.txt")).unwrap())
        .spawn()
        .expect("the meeting starts");
    let start = std::time::Instant::now();
    let mut rss = Vec::new();
    while child.try_wait().unwrap().is_none() {
        if let Some(mib) = rss_mib_of(child.id()) {
            rss.push((start.elapsed().as_secs_f64(), mib));
        }
        assert!(
            start.elapsed() < Duration::from_secs(seconds + 30),
            "the meeting did not end"
        );
        std::thread::sleep(Duration::from_secs(1));
    }
    let status = child.wait().unwrap();
    assert!(
        status.success(),
        "the meeting ended with {status}: {}",
        std::fs::read_to_string(dir.join("stderr.txt")).unwrap_or_default()
    );

    // Warm after a quarter of the run (at least 5 s): the adaptation has settled and every
    // buffer pool is full.
    let warm_at = (seconds as f64 / 4.0).max(5.0);
    let warm = rss
        .iter()
        .find(|(t, _)| *t >= warm_at)
        .map(|&(_, m)| m)
        .expect("RSS sampled");
    let peak_after = rss
        .iter()
        .filter(|(t, _)| *t >= warm_at)
        .map(|&(_, m)| m)
        .fold(0.0, f64::max);
    eprintln!(
        "{seconds} s meeting: RSS {warm:.1} MiB at {warm_at:.0} s, peak after {peak_after:.1} MiB"
    );
    // The trend, a sample per tenth of the run.
    let step = (rss.len() / 10).max(1);
    let trend: Vec<String> = rss
        .iter()
        .step_by(step)
        .map(|(t, m)| format!("{t:.0} s {m:.1}"))
        .collect();
    eprintln!("RSS (MiB): {}", trend.join(", "));
    assert!(
        peak_after - warm < 16.0,
        "RSS grew from {warm:.1} to {peak_after:.1} MiB: {rss:?}"
    );

    let csv = std::fs::read_to_string(dir.join("stats.csv")).unwrap();
    for who in ["alice", "bob"] {
        let rows = csv_rows(&csv, who);
        // A line a second of stream time, from when the pipelines play (the face models take
        // a few seconds to load).
        assert!(
            rows.len() as f64 >= 0.6 * seconds as f64,
            "{who}: {} stats lines in {seconds} s",
            rows.len()
        );
        let mut lost_before = 0u64;
        for row in rows.iter().skip(3) {
            let (t, kbps, fps, lost) = (
                row.seconds,
                row.sent_kbps,
                row.received_fps,
                row.packets_lost,
            );
            assert!(fps >= 5.0, "{who} received {fps} fps at {t} s: a stall");
            assert!(kbps > 0.0, "{who} sent nothing at {t} s");
            assert!(
                lost >= lost_before,
                "{who}: packets lost went down at {t} s"
            );
            lost_before = lost;
        }
        assert!(
            lost_before > 0,
            "{who}: 2 % loss and no packet counted lost"
        );
    }
}

#[test]
fn meeting_soak_20_seconds_with_loss() {
    soak(20, 28060);
}

/// The ten-minute soak: `cargo test --release --test examples -- --ignored`.
#[test]
#[ignore]
fn meeting_soak_ten_minutes_with_loss() {
    soak(600, 28080);
}
