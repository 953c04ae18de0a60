// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! The launchers in pipelines/, run as a user runs them, over 127.0.0.1, with a test source and
//! no display: clean round trip with audio, SRTP with the right and the wrong key, a relay with
//! three participants. They need the release build of the plugin (scripts/test.sh makes it).

use std::process::{Child, Command, Stdio};

fn launcher(name: &str, args: &[&str]) -> Child {
    let top = pixelmeet_testkit::repository();
    assert!(
        top.join("target/release/libgstpixelmeet.so").exists(),
        "build the plugins first: cargo build --release --workspace"
    );
    Command::new(top.join("pipelines").join(name))
        .args(args)
        .args(["--headless", "--size", "320x240"])
        .env("PIXELMEET_NO_BUILD", "1")
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .env("DEVICE", "/nonexistent")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("launcher starts")
}

/// Everything the launcher printed, after it ends on its own.
fn output(child: Child) -> String {
    let out = child.wait_with_output().expect("launcher ends");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "launcher failed:\n{text}");
    text
}

/// A stats line's number after `label` (e.g. "recv", "audio"), for lines with `tag`.
fn values(text: &str, tag: &str, label: &str) -> Vec<f64> {
    text.lines()
        .filter(|l| l.contains(&format!(" {tag}: ")))
        .filter_map(|l| {
            let rest = &l[l.find(label)? + label.len()..];
            rest.split_whitespace().next()?.parse().ok()
        })
        .collect()
}

/// Frames shown per second, from the receive lines of `tag`.
fn fps_shown(text: &str, tag: &str) -> Vec<f64> {
    text.lines()
        .filter(|l| l.contains(&format!(" {tag}: recv")))
        .filter_map(|l| {
            let before = &l[..l.find(" fps shown")?];
            before.split_whitespace().last()?.parse().ok()
        })
        .collect()
}

/// Frames of `tag` were shown, and nothing of it was lost.
fn assert_shown(text: &str, tag: &str) {
    assert!(
        fps_shown(text, tag).iter().any(|&f| f > 0.0),
        "{tag}: nothing shown:\n{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.contains(&format!(" {tag}: recv")) && l.contains("lost 0 of")),
        "{tag}: loss on a clean loopback:\n{text}"
    );
}

/// Frames were still shown in each of the last two seconds, and nothing was lost. Not a frame
/// rate: how fast a busy machine starts the launchers decides how many frames the last two
/// seconds hold (the benches measure rates in stream time).
fn assert_live(text: &str, tag: &str) {
    let fps = fps_shown(text, tag);
    assert!(fps.len() >= 3, "{tag}: too few stats lines:\n{text}");
    let last = &fps[fps.len() - 2..];
    assert!(
        last.iter().all(|&f| f > 0.0),
        "{tag}: {fps:?} fps shown:\n{text}"
    );
    assert_shown(text, tag);
}

#[test]
fn send_and_receive_video_and_opus_audio() {
    let rx = launcher("receive", &["--port", "21000", "--seconds", "7"]);
    std::thread::sleep(std::time::Duration::from_millis(700));
    let tx = launcher("send", &["--port", "21000", "--seconds", "5"]);
    let sent = output(tx);
    let received = output(rx);
    assert_live(&received, "rx0");
    let audio = values(&received, "rx0", "audio");
    assert!(audio.len() >= 3, "audio level lines:\n{received}");
    // audiotestsrc ticks at volume 0.3 come out near -30 dB RMS; silence would be -inf or < -80.
    assert!(
        audio.iter().filter(|&&db| db > -50.0).count() >= 2,
        "decoded audio is not silent: {audio:?}"
    );
    let kbps = values(&sent, "tx", "sent");
    assert!(kbps.len() >= 3 && kbps.iter().all(|&k| k > 0.0), "{sent}");
    // Receiver reports reached the sender's adaptation: the line shows the target it set
    // (only a report that counts posts one), within the launcher's 100..=2000 kbit/s.
    let targets = values(&sent, "tx", "target");
    assert!(
        !targets.is_empty() && targets.iter().all(|t| (100.0..=2000.0).contains(t)),
        "no report reached the sender:\n{sent}"
    );
}

#[test]
fn srtp_right_key_plays_wrong_key_shows_nothing_and_says_why() {
    let dir = std::env::temp_dir().join(format!("pixelmeet-keys-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (k1, k2) = (dir.join("k1"), dir.join("k2"));
    for k in [&k1, &k2] {
        output(launcher("send", &["--make-key", k.to_str().unwrap()]));
        let mode =
            std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(k).unwrap().permissions());
        assert_eq!(mode & 0o777, 0o600, "key files are private");
    }
    assert_ne!(std::fs::read(&k1).unwrap(), std::fs::read(&k2).unwrap());

    let key1 = k1.to_str().unwrap();
    let rx = launcher(
        "receive",
        &["--port", "21100", "--seconds", "7", "--key-file", key1],
    );
    let rx_wrong = launcher(
        "receive",
        &[
            "--port",
            "21200",
            "--seconds",
            "7",
            "--key-file",
            k2.to_str().unwrap(),
        ],
    );
    std::thread::sleep(std::time::Duration::from_millis(700));
    let tx = launcher(
        "send",
        &["--port", "21100", "--seconds", "5", "--key-file", key1],
    );
    let tx_to_wrong = launcher(
        "send",
        &["--port", "21200", "--seconds", "5", "--key-file", key1],
    );
    output(tx);
    output(tx_to_wrong);
    let right = output(rx);
    let wrong = output(rx_wrong);
    std::fs::remove_dir_all(&dir).unwrap();

    assert_live(&right, "rx0");
    assert!(
        fps_shown(&wrong, "rx0").is_empty(),
        "nothing decrypts:\n{wrong}"
    );
    assert!(
        wrong.contains(
            "key announcements fail authentication: the other side uses a different key file"
        ),
        "the receiver says why:\n{wrong}"
    );
    assert!(!right.contains("fail authentication"));
}

/// While a keyed call runs with `--verbose`, the key is in no process's command line (every
/// `/proc/*/cmdline`) and in nothing the launchers print, the gst-launch lines included.
#[test]
fn the_key_is_on_no_command_line_and_in_no_verbose_output() {
    let dir = std::env::temp_dir().join(format!("pixelmeet-argv-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let key = dir.join("meeting.key");
    let key_path = key.to_str().unwrap();
    output(launcher("send", &["--make-key", key_path]));
    let hex = std::fs::read_to_string(&key).unwrap().trim().to_lowercase();
    assert_eq!(hex.len(), 60);
    let keyed = |name, seconds| {
        launcher(
            name,
            &[
                "--port",
                "21900",
                "--seconds",
                seconds,
                "--key-file",
                key_path,
                "--verbose",
            ],
        )
    };
    let rx = keyed("receive", "7");
    std::thread::sleep(std::time::Duration::from_millis(700));
    let tx = keyed("send", "5");
    std::thread::sleep(std::time::Duration::from_secs(2));
    let mut lines = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        if let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) {
            lines.push(String::from_utf8_lossy(&cmdline).replace('\0', " "));
        }
    }
    let (sent, received) = (output(tx), output(rx));
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(
        lines
            .iter()
            .filter(|l| l.contains("gst-launch-1.0") && l.contains("key-file="))
            .count()
            >= 2,
        "both gst-launch processes were seen"
    );
    for line in &lines {
        assert!(
            !line.to_lowercase().contains(&hex),
            "the key on a command line: {line}"
        );
    }
    for text in [&sent, &received] {
        assert!(
            text.contains("pixelmeet"),
            "--verbose printed the pipeline:\n{text}"
        );
        assert!(
            !text.to_lowercase().contains(&hex),
            "the key in the output:\n{text}"
        );
    }
    assert_live(&received, "rx0");
}

#[test]
fn relay_forwards_three_participants_to_each_other() {
    through_a_relay(21300, 21600, None);
}

/// With a key the relay forwards only SRTP; each sender's session key is taken inside the
/// key window, since through a relay it cannot answer every receiver's challenge.
#[test]
fn a_keyed_call_through_a_relay() {
    let dir = std::env::temp_dir().join(format!("pixelmeet-relay-key-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let key = dir.join("meeting.key");
    output(launcher("send", &["--make-key", key.to_str().unwrap()]));
    through_a_relay(22300, 22600, Some(key.to_str().unwrap()));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Three participants listening on `first_listen` + 100k call through a relay on
/// `relay_port`: each shows the two others and not itself.
fn through_a_relay(first_listen: u16, relay_port: u16, key_file: Option<&str>) {
    let relay_port = relay_port.to_string();
    let participants: Vec<String> = (0..3)
        .map(|k| format!("127.0.0.1:{}", first_listen + 100 * k))
        .collect();
    let relay = launcher(
        "relay",
        &[
            "--participants",
            &participants.join(","),
            "--port",
            &relay_port,
            "--seconds",
            "9",
        ],
    );
    std::thread::sleep(std::time::Duration::from_millis(500));
    let relay_address = format!("127.0.0.1:{relay_port}");
    three_participants(
        first_listen,
        &["--relay", &relay_address],
        key_file,
        assert_live,
    );
    output(relay);
}

#[test]
fn three_participants_through_rtpengine_with_end_to_end_encryption() {
    if media_server::local::binary().is_none() {
        eprintln!("skipped: {}", media_server::local::INSTALL_HINT);
        return;
    }
    let dir = std::env::temp_dir().join(format!("pixelmeet-server-key-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let key = dir.join("meeting.key");
    output(launcher("send", &["--make-key", key.to_str().unwrap()]));
    let server = launcher(
        "media-server",
        &[
            "--ng-port",
            "23230",
            "--ports",
            "31000-31399",
            "--seconds",
            "12",
        ],
    );
    // The participants publish as they start: wait until the server answers.
    let room = media_server::Room::new("127.0.0.1:23230", "ready").unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while room.ping().is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "the media server never answered"
        );
    }
    // Shown, with nothing lost; the rate through rtpengine is server-bench's to measure, in
    // stream time.
    three_participants(
        23400,
        &["--server", "127.0.0.1:23230"],
        Some(key.to_str().unwrap()),
        assert_shown,
    );
    let said = output(server);
    assert!(said.contains("ng 127.0.0.1:23230"), "{said}");
}

/// Three participants listening on `first_listen` + 100k meet through `via` (a relay's or a
/// media server's options): each shows the two others as `check` (text, tag) says, and not
/// itself.
fn three_participants(
    first_listen: u16,
    via: &[&str],
    key_file: Option<&str>,
    check: fn(&str, &str),
) {
    let people: Vec<Child> = (0..3)
        .map(|k| {
            let listen = (first_listen + 100 * k).to_string();
            let slot = k.to_string();
            let mut args = via.to_vec();
            args.extend([
                "--slot",
                &slot,
                "--participants",
                "3",
                "--listen",
                &listen,
                "--seconds",
                "7",
            ]);
            if let Some(key) = key_file {
                args.extend(["--key-file", key]);
            }
            launcher("call", &args)
        })
        .collect();
    let texts: Vec<String> = people.into_iter().map(output).collect();
    for (k, text) in texts.iter().enumerate() {
        for other in (0..3).filter(|&o| o != k) {
            check(text, &format!("rx{other}"));
        }
        assert!(
            fps_shown(text, &format!("rx{k}")).is_empty(),
            "participant {k} does not receive itself"
        );
    }
}

/// `--file` sends a real clip instead of the camera (skipped without the shared media): the
/// receiver shows its frames and the sender says what it sends; a file that is not there is
/// refused before anything starts.
#[test]
fn a_video_file_is_sent_instead_of_the_camera() {
    let clip = pixelmeet_testkit::media_dir().join("video/LivePortrait_d12_512x512.mp4");
    let refused = launcher("send", &["--file", "/nonexistent/clip.mp4"])
        .wait_with_output()
        .expect("launcher ends");
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("cannot read the video file"));
    if !clip.is_file() {
        eprintln!("skipped: {} is missing", clip.display());
        return;
    }
    let rx = launcher("receive", &["--port", "21700", "--seconds", "7"]);
    std::thread::sleep(std::time::Duration::from_millis(700));
    let tx = launcher(
        "send",
        &[
            "--port",
            "21700",
            "--seconds",
            "5",
            "--file",
            clip.to_str().unwrap(),
        ],
    );
    let sent = output(tx);
    let received = output(rx);
    assert!(sent.contains("video file"), "{sent}");
    // Shown at all, however busy the machine: how fast is the other tests' business.
    assert!(
        fps_shown(&received, "rx0").iter().any(|&f| f > 0.0),
        "no frames of the file shown:\n{received}"
    );
}

/// A gst-launch receiver shows a sender that restarted (a new random SSRC): the receiver bin
/// follows it, where the first SSRC rtpbin offered used to win for good.
#[test]
fn a_restarted_sender_is_shown_again() {
    let rx = launcher(
        "receive",
        &["--port", "21800", "--seconds", "12", "--no-audio"],
    );
    std::thread::sleep(std::time::Duration::from_millis(700));
    for _ in 0..2 {
        output(launcher(
            "send",
            &["--port", "21800", "--seconds", "4", "--no-audio"],
        ));
    }
    let received = output(rx);
    // Stats lines start with the receiver's running time; the second sender starts after 4.7 s.
    let shown_late: Vec<f64> = received
        .lines()
        .filter(|l| l.contains(" rx0: recv"))
        .filter(|l| {
            l.split_whitespace()
                .next()
                .and_then(|t| t.trim_end_matches('s').parse::<f64>().ok())
                .is_some_and(|t| t > 6.5)
        })
        .filter_map(|l| fps_shown(l, "rx0").first().copied())
        .collect();
    assert!(
        shown_late.iter().any(|&fps| fps >= 10.0),
        "the restarted sender is not shown: {shown_late:?}\n{received}"
    );
}

/// Values that would reach shell arithmetic or the gst-launch description as more than a value
/// are refused with the option's name, before anything runs: nothing of them is executed.
#[test]
fn shell_and_pipeline_injection_in_any_option_is_refused() {
    let marker = std::env::temp_dir().join(format!("pixelmeet-injected-{}", std::process::id()));
    let m = marker.display().to_string();
    let touch = format!("$(touch {m})");
    let attempts: Vec<(&str, Vec<String>, &str)> = vec![
        (
            "send",
            vec![
                "--host".into(),
                format!("127.0.0.1 ! filesink location={m}"),
            ],
            "--host",
        ),
        (
            "send",
            vec!["--port".into(), format!("5000{touch}")],
            "--port",
        ),
        ("send", vec!["--listen".into(), "08".into()], "--listen"),
        (
            "send",
            vec!["--bitrate".into(), format!("a[{touch}]")],
            "--bitrate",
        ),
        (
            "send",
            vec![
                "--netsim".into(),
                format!("drop-probability=0 ! filesink location={m}"),
            ],
            "--netsim",
        ),
        (
            "send",
            vec!["--pattern".into(), format!("ball ! filesink location={m}")],
            "--pattern",
        ),
        (
            "send",
            vec!["--iface".into(), "lo ! fakesink".into()],
            "--iface",
        ),
        (
            "send",
            vec!["--file".into(), format!("x\" ! filesink location=\"{m}")],
            "--file",
        ),
        (
            "send",
            vec!["--relay".into(), format!("127.0.0.1:7000{touch}")],
            "--relay",
        ),
        (
            "send",
            vec![
                "--multicast".into(),
                format!("239.1.1.1 ! filesink location={m}"),
            ],
            "--multicast",
        ),
        (
            "call",
            vec!["--slot".into(), format!("a[{touch}]")],
            "--slot",
        ),
        (
            "receive",
            vec!["--latency".into(), format!("50{touch}")],
            "--latency",
        ),
        (
            "relay",
            vec![
                "--participants".into(),
                format!("127.0.0.1:a[{touch}],127.0.0.1:6000"),
            ],
            "--participants",
        ),
        (
            "relay",
            vec![
                "--participants".into(),
                "127.0.0.1:6000,127.0.0.1:6100".into(),
                "--port".into(),
                format!("7000{touch}"),
            ],
            "--port",
        ),
    ];
    for (name, args, option) in attempts {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let child = launcher(name, &args);
        let out = child.wait_with_output().expect("launcher ends");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name} {args:?}: {err}");
        assert!(
            err.contains(option),
            "{name} {args:?} does not name {option}: {err}"
        );
        assert!(
            !err.contains("Setting pipeline"),
            "{name} {args:?} ran a pipeline: {err}"
        );
        assert!(
            !marker.exists(),
            "{name} {args:?} executed what it was given"
        );
    }
}

/// A media server that does not answer stops the launcher with exit code 1 and an error that
/// names the server and the command; a malformed --server is refused before anything runs.
#[test]
fn an_unreachable_media_server_is_named_with_the_command() {
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let address = silent.local_addr().unwrap().to_string();
    let out = launcher(
        "call",
        &[
            "--server",
            &address,
            "--listen",
            "23800",
            "--seconds",
            "5",
            "--no-audio",
        ],
    )
    .wait_with_output()
    .expect("launcher ends");
    let text = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains(&format!("media server {address} did not answer 'publish'")),
        "{text}"
    );
    let refused = launcher("call", &["--server", "nohostport"])
        .wait_with_output()
        .expect("launcher ends");
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--server wants HOST:PORT"));
}
