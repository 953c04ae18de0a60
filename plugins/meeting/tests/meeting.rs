// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! `pixelmeetsend` and `pixelmeetrecv` as gst-launch builds them, over UDP on 127.0.0.1: a
//! lossless picture arrives bit for bit, a restarted sender (new random SSRC) is shown again,
//! SRTP needs the key both ways (media and reports), key files others may read are refused, and
//! the children are set through the bins.

use common::meeting::{
    key_file, receiver, record, replay, sender, shows, ssrc_flood, threads, Recording,
};
use gst::prelude::*;
use pixelmeet_testkit as common;
use std::time::{Duration, Instant};

fn ssrc_of(sender: &gst::Pipeline) -> u32 {
    sender.by_name("tx").expect("tx").property("ssrc")
}

fn stop(p: &gst::Pipeline) {
    p.set_state(gst::State::Null).expect("stops");
}

#[test]
fn a_gst_launch_receiver_shows_a_restarted_sender_again() {
    restarted_sender_shown_again(24500, "");
}

/// With a key the restarted sender is a new session: its key is taken once it answers the
/// receiver's challenge, and the receiver's reports are rekeyed to answer the sender's.
#[test]
fn a_restarted_keyed_sender_is_shown_again() {
    let key = key_file("restart", 0o600);
    restarted_sender_shown_again(24600, &format!("key-file={}", key.display()));
    std::fs::remove_file(&key).unwrap();
}

fn restarted_sender_shown_again(port: u16, extra: &str) {
    let (rx, sink) = receiver(port, extra);
    let first = sender("red", port, extra);
    assert!(
        shows(&sink, "red", Duration::from_secs(10)),
        "the first sender's picture arrives bit for bit"
    );
    let first_ssrc = ssrc_of(&first);
    stop(&first);

    let second = sender("blue", port, extra);
    assert_ne!(
        ssrc_of(&second),
        first_ssrc,
        "each session picks its own random SSRC"
    );
    assert!(
        shows(&sink, "blue", Duration::from_secs(10)),
        "the restarted sender is shown again"
    );
    stop(&second);
    let depayloader = rx
        .by_name("rx")
        .and_dynamic_cast::<gst::ChildProxy>()
        .ok()
        .and_then(|bin| bin.child_by_name("rtppixeldiffdepay"))
        .expect("the bin's depayloader");
    assert_eq!(
        depayloader.property::<u64>("source-changes"),
        1,
        "the depayloader followed the new sender once"
    );
    stop(&rx);
}

#[test]
fn stats_come_from_the_bin_by_its_name() {
    let (rx, sink) = receiver(24510, "");
    let tx = sender("green", 24510, "");
    assert!(shows(&sink, "green", Duration::from_secs(10)));
    // The receiver's reports reach the sender's pixeldiffadapt, whose stats name the bin.
    let bus = tx.bus().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut from = None;
    while from.is_none() && Instant::now() < deadline {
        if let Some(m) = bus.timed_pop_filtered(
            gst::ClockTime::from_mseconds(200),
            &[gst::MessageType::Element],
        ) {
            if m.structure()
                .is_some_and(|s| s.name() == "pixeldiffadapt-stats")
            {
                from = m.src().map(|s| s.name().to_string());
            }
        }
    }
    assert_eq!(
        from.as_deref(),
        Some("tx"),
        "reports adapt the sender, posted as tx"
    );
    stop(&tx);
    stop(&rx);
}

#[test]
fn srtp_media_and_reports_need_the_key() {
    let key = key_file("srtp", 0o600);
    let with_key = format!("key-file={}", key.display());

    // Right key both ways: the picture arrives and the reports (SRTCP) adapt the sender.
    let (rx, sink) = receiver(24520, &with_key);
    let tx = sender("red", 24520, &with_key);
    assert!(
        shows(&sink, "red", Duration::from_secs(10)),
        "keyed media arrive"
    );
    // The keyframe made when the receiver answered did not lift the limit on requested ones.
    let encoder = tx
        .by_name("tx")
        .and_dynamic_cast::<gst::ChildProxy>()
        .unwrap()
        .child_by_name("pixeldiffenc")
        .unwrap();
    assert_eq!(
        encoder.property::<u64>("min-force-key-unit-interval"),
        500_000_000
    );
    let bus = tx.bus().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while common::element_messages(&bus, "pixeldiffadapt-stats").is_empty() {
        assert!(
            Instant::now() < deadline,
            "the receiver's protected reports reach pixeldiffadapt"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    stop(&rx);

    // A receiver without the key decodes nothing of the protected stream.
    let (plain, plain_sink) = receiver(24520, "");
    assert!(
        !shows(&plain_sink, "red", Duration::from_secs(3)),
        "without the key nothing is shown"
    );
    stop(&plain);
    stop(&tx);
    std::fs::remove_file(&key).unwrap();
}

#[test]
fn a_key_file_others_may_read_is_refused_with_the_reason() {
    common::init();
    let key = key_file("open", 0o644);
    for factory in ["pixelmeetsend", "pixelmeetrecv"] {
        let bin = gst::ElementFactory::make(factory)
            .property("key-file", key.to_str().unwrap())
            .build()
            .unwrap();
        let error = refused_at_ready(bin);
        assert!(error.contains("chmod 600"), "{factory}: {error}");
    }
    std::fs::remove_file(&key).unwrap();
}

#[test]
fn children_are_set_through_the_bin() {
    common::init();
    let tx = gst::parse::launch(
        "pixelmeetsend name=tx pixeldiffenc::quality=40 pixeldiffadapt::max-bitrate=1500 \
         bgreplace::background=blur ssrc=1234",
    )
    .expect("parses");
    let proxy = tx.dynamic_cast_ref::<gst::ChildProxy>().unwrap();
    let child = |name: &str| proxy.child_by_name(name).unwrap();
    assert_eq!(child("pixeldiffenc").property::<u32>("quality"), 40);
    assert_eq!(child("pixeldiffadapt").property::<u32>("max-bitrate"), 1500);
    assert_eq!(child("faceroi").property::<u32>("margin"), 60);
    assert_eq!(tx.property::<u32>("ssrc"), 1234);
    // Unset, the SSRC is random per session: two fresh senders differ once started.
    let ssrcs: Vec<u32> = (0..2)
        .map(|_| {
            let p = gst::Pipeline::new();
            let tx = gst::ElementFactory::make("pixelmeetsend")
                .property("report-port", 0u32)
                .build()
                .unwrap();
            p.add(&tx).unwrap();
            p.set_state(gst::State::Ready).unwrap();
            let ssrc = tx.property::<u32>("ssrc");
            p.set_state(gst::State::Null).unwrap();
            ssrc
        })
        .collect();
    assert_ne!(ssrcs[0], 0);
    assert_ne!(ssrcs[0], ssrcs[1]);
}

/// `element`, alone in a pipeline, refuses to go to READY; the error message it posts.
fn refused_at_ready(element: gst::Element) -> String {
    let pipeline = gst::Pipeline::new();
    pipeline.add(&element).unwrap();
    assert!(pipeline.set_state(gst::State::Ready).is_err(), "it started");
    let error = pipeline
        .bus()
        .unwrap()
        .pop_filtered(&[gst::MessageType::Error])
        .expect("an error message");
    pipeline.set_state(gst::State::Null).unwrap();
    let gst::MessageView::Error(e) = error.view() else {
        unreachable!()
    };
    e.error().message().to_string()
}

/// A compound RTCP packet a stranger sends to the sender's report port: a receiver report
/// claiming all is lost, and a picture-loss request, both about the sender's video SSRC.
fn forged_feedback(video_ssrc: u32, seq: u32) -> Vec<u8> {
    let stranger = 0x0bad_0bad_u32;
    let mut p = vec![0x81, 201, 0, 7];
    p.extend(stranger.to_be_bytes());
    p.extend(video_ssrc.to_be_bytes());
    p.extend([255, 0, 0, 0]);
    p.extend(seq.to_be_bytes());
    p.extend([0u8; 12]);
    p.extend([0x81, 206, 0, 2]);
    p.extend(stranger.to_be_bytes());
    p.extend(video_ssrc.to_be_bytes());
    p
}

/// A stranger who knows the sender's SSRC floods its report port with forged reports (loss
/// 255/256) and picture-loss requests for a second, while the real receiver reports no loss.
/// Returns the target before and after, and the keyframes the flood made.
fn flood_the_report_port(port: u16, extra: &str) -> (u32, u32, u64) {
    let (rx, sink) = receiver(port, extra);
    let tx = sender("red", port, extra);
    assert!(shows(&sink, "red", Duration::from_secs(10)));
    let bin = tx.by_name("tx").unwrap();
    let proxy = bin.dynamic_cast_ref::<gst::ChildProxy>().unwrap();
    let (adapt, encoder) = (
        proxy.child_by_name("pixeldiffadapt").unwrap(),
        proxy.child_by_name("pixeldiffenc").unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while adapt.property::<u64>("reports") == 0 {
        assert!(
            Instant::now() < deadline,
            "the real receiver's reports arrive"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let target = adapt.property::<u32>("target-bitrate");
    let keyframes = encoder.property::<u64>("keyframes");
    let stranger = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let ssrc = ssrc_of(&tx);
    for i in 0..20u32 {
        let packet = forged_feedback(ssrc, 0x0001_0000 + 977 * i);
        stranger.send_to(&packet, ("127.0.0.1", port + 4)).unwrap();
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_secs(1));
    let after = adapt.property::<u32>("target-bitrate");
    let made = encoder.property::<u64>("keyframes") - keyframes;
    stop(&tx);
    stop(&rx);
    (target, after, made)
}

#[test]
fn forged_feedback_moves_neither_the_bitrate_nor_many_keyframes() {
    // Plain RTCP: the reports are ignored (a new reporter, sequence numbers never sent); the
    // picture-loss requests reach the encoder but make a keyframe at most every 500 ms.
    let (before, after, keyframes) = flood_the_report_port(24530, "");
    assert!(after >= before, "the target went from {before} to {after}");
    assert!(
        keyframes <= 3,
        "{keyframes} keyframes from 20 forged requests in 1 s"
    );

    // SRTCP: nothing the stranger sends passes srtpdec.
    let key = key_file("flood", 0o600);
    let with_key = format!("key-file={}", key.display());
    let (before, after, keyframes) = flood_the_report_port(24540, &with_key);
    assert!(
        after >= before,
        "keyed: the target went from {before} to {after}"
    );
    assert_eq!(keyframes, 0, "keyed: forged requests made keyframes");
    std::fs::remove_file(&key).unwrap();
}

#[test]
fn a_bad_network_simulation_is_an_error_not_a_panic() {
    common::init();
    for bad in [
        "drop-probability=abc",
        "no-such-property=1",
        "drop-probability",
    ] {
        let tx = gst::ElementFactory::make("pixelmeetsend")
            .property("network-simulation", bad)
            .property("report-port", 0u32)
            .build()
            .unwrap();
        let error = refused_at_ready(tx);
        assert!(error.contains("network-simulation"), "{bad}: {error}");
    }
}

/// A sender recorded for `seconds`: everything it sends to its video RTP port (the
/// announcements and SRTP) and to its RTCP port (SRTCP), with nobody answering.
fn record_a_session(port: u16, extra: &str, seconds: u64) -> (Recording, Recording, u32) {
    let stop_flag = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let rtp = record(port, None, stop_flag.clone());
    let rtcp = record(port + 1, None, stop_flag.clone());
    let tx = sender("red", port, extra);
    std::thread::sleep(Duration::from_secs(seconds));
    let ssrc = ssrc_of(&tx);
    stop(&tx);
    stop_flag.store(true, std::sync::atomic::Ordering::Relaxed);
    (rtp.join().unwrap(), rtcp.join().unwrap(), ssrc)
}

/// An SSRC and a packet index under it.
type SrtpIndex = (u32, u32);

/// SRTP (SSRC, sequence number) and SRTCP (SSRC, E flag and index) of captured datagrams;
/// the runs are short, so the rollover counter is 0 and the sequence number is the index.
fn srtp_indices(rtp: &Recording, rtcp: &Recording) -> (Vec<SrtpIndex>, Vec<SrtpIndex>) {
    let word = |d: &[u8], at: usize| u32::from_be_bytes(d[at..at + 4].try_into().unwrap());
    let is_rtp = |d: &[u8]| d.len() >= 12 && d[0] >> 6 == 2;
    let media = rtp
        .iter()
        .map(|(_, d)| d)
        .filter(|d| is_rtp(d))
        .map(|d| (word(d, 8), u32::from(u16::from_be_bytes([d[2], d[3]]))))
        .collect();
    // SRTCP ends with the 4-byte index and the 10-byte HMAC-SHA1-80 tag.
    let reports = rtcp
        .iter()
        .map(|(_, d)| d)
        .filter(|d| is_rtp(d) && d.len() >= 8 + 14)
        .map(|d| (word(d, 4), word(d, d.len() - 14)))
        .collect();
    (media, reports)
}

/// A `pixelmeet-key` message: its verdict, the reason of a refusal, the SSRCs taken.
#[derive(Debug)]
struct KeyVerdict {
    verdict: String,
    reason: Option<String>,
    ssrcs: Vec<u32>,
}

/// The `pixelmeet-key` messages posted so far.
fn key_verdicts(pipeline: &gst::Pipeline) -> Vec<KeyVerdict> {
    common::element_messages(&pipeline.bus().unwrap(), "pixelmeet-key")
        .iter()
        .map(|s| KeyVerdict {
            verdict: s.get("verdict").unwrap(),
            reason: s.get("reason").ok(),
            ssrcs: s.get::<gst::Array>("ssrcs").map_or(Vec::new(), |a| {
                a.iter().map(|v| v.get::<u32>().unwrap()).collect()
            }),
        })
        .collect()
}

fn accepted(verdicts: &[KeyVerdict], ssrc: u32) -> bool {
    verdicts
        .iter()
        .any(|v| v.verdict == "accepted" && v.ssrcs.contains(&ssrc))
}

fn refused_for(verdicts: &[KeyVerdict], reason: &str) -> bool {
    verdicts
        .iter()
        .any(|v| v.verdict == "refused" && v.reason.as_deref() == Some(reason))
}

#[test]
fn two_sessions_with_one_key_file_repeat_no_srtp_index() {
    let key = key_file("sessions", 0o600);
    let with_key = format!("key-file={}", key.display());
    let (rtp1, rtcp1, ssrc1) = record_a_session(24550, &with_key, 2);
    let (rtp2, rtcp2, ssrc2) = record_a_session(24550, &with_key, 2);
    let (media1, reports1) = srtp_indices(&rtp1, &rtcp1);
    let (media2, reports2) = srtp_indices(&rtp2, &rtcp2);
    assert!(media1.len() > 20 && media2.len() > 20, "SRTP was sent");
    assert!(
        !reports1.is_empty() && !reports2.is_empty(),
        "SRTCP was sent"
    );
    assert!(
        reports1.iter().all(|(_, index)| index >> 31 == 1),
        "SRTCP is encrypted (E flag)"
    );
    assert!(media1.iter().all(|(s, _)| [ssrc1, ssrc1 + 2].contains(s)));
    assert!(media2.iter().all(|(s, _)| [ssrc2, ssrc2 + 2].contains(s)));
    let seen: std::collections::HashSet<_> = media1.iter().chain(&reports1).collect();
    let repeats = media2
        .iter()
        .chain(&reports2)
        .filter(|i| seen.contains(i))
        .count();
    assert_eq!(repeats, 0, "an (SSRC, index) pair of session 1 came again");
    // Each session announced its own session under the meeting key.
    let sessions = |rtp: &Recording| -> std::collections::HashSet<Vec<u8>> {
        rtp.iter()
            .filter(|(_, d)| d.starts_with(b"PXMK"))
            .map(|(_, d)| d[16..32].to_vec())
            .collect()
    };
    let (s1, s2) = (sessions(&rtp1), sessions(&rtp2));
    assert_eq!((s1.len(), s2.len()), (1, 1), "one session each, announced");
    assert!(s1.is_disjoint(&s2), "the second run is a new session");
    // The key itself is in no announcement.
    let key_bytes = common::meeting::test_key();
    assert!(rtp1
        .iter()
        .chain(&rtcp1)
        .all(|(_, d)| !d.windows(8).any(|w| key_bytes.windows(8).any(|k| k == w))));
    std::fs::remove_file(&key).unwrap();
}

#[test]
fn a_recording_of_an_earlier_session_is_not_shown_point_to_point() {
    let key = key_file("replay", 0o600);
    let with_key = format!("key-file={}", key.display());
    // Session 1 through a tap that records what the sender sends to the receiver.
    let (rx, sink) = receiver(24560, &with_key);
    let stop_tap = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let tap = record(24570, Some(24560), stop_tap.clone());
    let tx = sender("red", 24570, &format!("{with_key} report-port=24564"));
    assert!(
        shows(&sink, "red", Duration::from_secs(10)),
        "session 1 is shown"
    );
    let first_ssrc = ssrc_of(&tx);
    let verdicts = key_verdicts(&rx);
    assert!(
        accepted(&verdicts, first_ssrc),
        "session 1's key was taken for its SSRC {first_ssrc}: {verdicts:?}"
    );
    stop(&tx);
    stop_tap.store(true, std::sync::atomic::Ordering::Relaxed);
    let recording = tap.join().unwrap();
    stop(&rx);

    // Session 2, same key file: the recording replayed at once shows nothing.
    let (rx, sink) = receiver(24560, &with_key);
    replay(&recording, 24560);
    assert!(
        !shows(&sink, "red", Duration::from_secs(1)),
        "the recording of session 1 was shown"
    );
    let verdicts = key_verdicts(&rx);
    assert!(!accepted(&verdicts, first_ssrc), "{verdicts:?}");
    assert!(
        refused_for(&verdicts, "unanswered"),
        "refused for not answering this session's challenge: {verdicts:?}"
    );
    // A live sender of session 2 is shown by the same receiver.
    let tx = sender("blue", 24560, &with_key);
    assert!(
        shows(&sink, "blue", Duration::from_secs(10)),
        "a live keyed sender is shown"
    );
    assert!(accepted(&key_verdicts(&rx), ssrc_of(&tx)));
    stop(&tx);
    stop(&rx);
    std::fs::remove_file(&key).unwrap();
}

#[test]
fn in_a_group_a_recording_older_than_the_key_window_is_refused() {
    let key = key_file("window", 0o600);
    // A window wide enough for a busy machine to start the receiver inside it.
    let group = format!(
        "key-file={} key-freshness=window key-window=5",
        key.display()
    );
    let (recording, _, ssrc) = record_a_session(24580, &group, 1);
    // Inside the window a replay is taken: the documented limit of groups.
    let (rx, sink) = receiver(24590, &group);
    replay(&recording, 24590);
    assert!(
        shows(&sink, "red", Duration::from_secs(2)),
        "a replay inside the window: {:?}",
        key_verdicts(&rx)
    );
    assert!(accepted(&key_verdicts(&rx), ssrc));
    stop(&rx);
    // Once the newest announcement in it is older than the window, it is refused.
    std::thread::sleep(Duration::from_secs(6));
    let (rx, sink) = receiver(24590, &group);
    replay(&recording, 24590);
    assert!(!shows(&sink, "red", Duration::from_secs(1)));
    let verdicts = key_verdicts(&rx);
    assert!(!accepted(&verdicts, ssrc), "{verdicts:?}");
    assert!(refused_for(&verdicts, "stale"), "{verdicts:?}");
    stop(&rx);
    std::fs::remove_file(&key).unwrap();
}

/// A stranger sends three packets from each of 300 SSRCs to a receiver without a key while
/// the real sender is shown: rtpbin would give each SSRC a jitter buffer and a thread.
#[test]
fn a_flood_of_ssrcs_makes_no_threads_and_the_sender_stays_shown() {
    let (rx, sink) = receiver(24610, "");
    let tx = sender("red", 24610, "");
    assert!(shows(&sink, "red", Duration::from_secs(10)));
    std::thread::sleep(Duration::from_millis(500));
    let before = threads();
    ssrc_flood(24610, 300, 3);
    std::thread::sleep(Duration::from_secs(1));
    let after = threads();
    assert!(
        after <= before + 8,
        "threads went from {before} to {after} under 300 SSRCs"
    );
    assert!(
        shows(&sink, "red", Duration::from_secs(5)),
        "the real sender is still shown"
    );
    stop(&tx);
    stop(&rx);
}
