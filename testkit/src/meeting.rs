// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! Participants as the bins make them, over UDP on 127.0.0.1, for the bins' tests and
//! `meeting-bench`: a receiver into an appsink, a lossless still sender, a wait for a bit-exact
//! picture, a meeting key file, a tap that records (and passes on) what reaches a port, its
//! replay, and the process's thread count.

use gst::prelude::*;
use std::time::{Duration, Instant};

pub const CAPS: &str = "video/x-raw,format=I420,width=160,height=120,framerate=30/1";
/// What the receiver gives: the decoder does not carry the frame rate.
pub const RECEIVED: &str = "video/x-raw,format=I420,width=160,height=120";

pub fn caps() -> gst::Caps {
    CAPS.parse().expect("caps")
}

/// A receiver on `port` whose decoded video ends in an appsink.
pub fn receiver(port: u16, extra: &str) -> (gst::Pipeline, gst_app::AppSink) {
    crate::init();
    let p = crate::launch_playing(&format!(
        "pixelmeetrecv name=rx port={port} report-port={} audio=false {extra} \
         rx.video_src ! videoconvert ! {RECEIVED} ! appsink name=sink sync=false max-buffers=4 drop=true",
        port + 4
    ));
    let sink = p
        .by_name("sink")
        .and_downcast::<gst_app::AppSink>()
        .expect("appsink");
    (p, sink)
}

/// A lossless sender of a still `pattern` to `port`, faces and background left out.
pub fn sender(pattern: &str, port: u16, extra: &str) -> gst::Pipeline {
    crate::init();
    crate::launch_playing(&format!(
        "videotestsrc is-live=true pattern={pattern} ! {CAPS} ! pixelmeetsend name=tx port={port} \
         report-port={} find-faces=false replace-background=false pixeldiffenc::lossless=true {extra}",
        port + 4
    ))
}

/// Waits up to `within` for a received frame bit-exact to `pattern`'s.
pub fn shows(sink: &gst_app::AppSink, pattern: &str, within: Duration) -> bool {
    let expected = &crate::test_frames(pattern, &caps(), 1)[0];
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if let Some(sample) = sink.try_pull_sample(gst::ClockTime::from_mseconds(200)) {
            let frame = sample.buffer().expect("a buffer");
            if crate::same_pixels(&caps(), expected, frame) {
                return true;
            }
        }
    }
    false
}

/// Datagrams as they arrived at a UDP port, with when.
pub type Recording = Vec<(Instant, Vec<u8>)>;

/// Records what arrives at 127.0.0.1:`port` until `stop` is set, passing each datagram on to
/// `forward` if given (a tap between a sender and its receiver).
pub fn record(
    port: u16,
    forward: Option<u16>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> std::thread::JoinHandle<Recording> {
    let socket = std::net::UdpSocket::bind(("127.0.0.1", port)).expect("a free port");
    socket
        .set_read_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    std::thread::spawn(move || {
        let mut got = Vec::new();
        let mut buf = [0u8; 2048];
        while !stop.load(std::sync::atomic::Ordering::Relaxed) {
            if let Ok(n) = socket.recv(&mut buf) {
                got.push((Instant::now(), buf[..n].to_vec()));
                if let Some(to) = forward {
                    let _ = socket.send_to(&buf[..n], ("127.0.0.1", to));
                }
            }
        }
        got
    })
}

/// Sends `recording` to 127.0.0.1:`port` with its datagrams' spacing, as an attacker who
/// captured a call would.
pub fn replay(recording: &Recording, port: u16) {
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let Some((start, _)) = recording.first() else {
        return;
    };
    let replay_start = Instant::now();
    for (at, datagram) in recording {
        let due = replay_start + (*at - *start);
        std::thread::sleep(due.saturating_duration_since(Instant::now()));
        socket.send_to(datagram, ("127.0.0.1", port)).unwrap();
    }
}

/// The threads of this process.
pub fn threads() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("Threads:"))
        .and_then(|n| n.trim().parse().ok())
        .expect("a thread count")
}

/// A stranger's flood: `packets` RTP packets (payload type 96, 20 zero bytes) from each of
/// `ssrcs` SSRCs to 127.0.0.1:`port`, as fast as they go.
pub fn ssrc_flood(port: u16, ssrcs: u32, packets: u16) {
    let stranger = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    for i in 0..ssrcs {
        for seq in 0..packets {
            let mut packet = vec![0x80, 96];
            packet.extend(seq.to_be_bytes());
            packet.extend((90 * u32::from(seq)).to_be_bytes());
            packet.extend((0x5eed_0000 + i).to_be_bytes());
            packet.extend([0u8; 20]);
            stranger.send_to(&packet, ("127.0.0.1", port)).unwrap();
        }
    }
}

/// The meeting key [`key_file`] writes: fixed, so a test can look for its bytes on the wire.
pub fn test_key() -> [u8; 30] {
    std::array::from_fn(|i| ((i * 37 + 11) % 256) as u8)
}

/// A meeting key file (of [`test_key`]) named for `name` in the temp directory, with `mode`
/// (the bins take only 0600).
pub fn key_file(name: &str, mode: u32) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt as _;
    let path = std::env::temp_dir().join(format!("pixelmeet-{name}-{}.key", std::process::id()));
    let hex: String = test_key().iter().map(|b| format!("{b:02x}")).collect();
    std::fs::write(&path, format!("{hex}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    path
}

/// A meeting key file of other bytes than [`key_file`]'s: another meeting.
pub fn other_key_file(name: &str) -> std::path::PathBuf {
    let path = key_file(name, 0o600);
    let hex: String = test_key()
        .iter()
        .map(|b| format!("{:02x}", b ^ 0x5a))
        .collect();
    std::fs::write(&path, format!("{hex}\n")).unwrap();
    path
}
