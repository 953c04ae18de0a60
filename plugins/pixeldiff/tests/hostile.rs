// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! A receiver on a UDP port anyone can send to: random datagrams, RTP with garbage payloads,
//! other payload types, huge sequence jumps, duplicated and reordered packets (netsim) and a
//! second sender on the same port, all while a real sender streams a still picture losslessly.
//! Every frame shown must be that picture, bit for bit, and the receiver must keep showing it.

use pixelmeet_testkit as common;

use std::net::UdpSocket;
use std::time::{Duration, Instant};

use common::*;
use gst::prelude::*;

const LEGIT_SSRC: u32 = 0x1111_1111;

/// A small deterministic generator, so that a failure can be replayed.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u32 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) as u32
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

/// An RTP packet (RFC 3550 fixed header) around `payload`.
fn rtp(pt: u8, marker: bool, seq: u16, ts: u32, ssrc: u32, payload: &[u8]) -> Vec<u8> {
    let mut p = vec![0x80, pt | if marker { 0x80 } else { 0 }];
    p.extend(seq.to_be_bytes());
    p.extend(ts.to_be_bytes());
    p.extend(ssrc.to_be_bytes());
    p.extend(payload);
    p
}

/// One round of every kind of hostile datagram, the RTP-shaped ones as `ssrc`.
fn hostile_round(rng: &mut Lcg, round: u32, ssrc: u32) -> Vec<Vec<u8>> {
    let garbage = |rng: &mut Lcg| {
        let n = (rng.next() % 1400) as usize;
        rng.bytes(n)
    };
    vec![
        // Random datagrams, from empty to a full MTU.
        garbage(rng),
        rng.bytes((round % 13) as usize),
        // Valid RTP of our payload type and our sender's SSRC, garbage payload.
        {
            let payload = garbage(rng);
            rtp(
                96,
                rng.next().is_multiple_of(2),
                rng.next() as u16,
                rng.next(),
                ssrc,
                &payload,
            )
        },
        // Other payload types.
        {
            let payload = garbage(rng);
            rtp(
                (rng.next() % 128) as u8,
                true,
                round as u16,
                rng.next(),
                ssrc,
                &payload,
            )
        },
        // Huge sequence jumps with a payload that looks like a chunk header.
        {
            let mut payload = b"PXD".to_vec();
            payload.extend(garbage(rng));
            rtp(
                96,
                true,
                (round as u16).wrapping_mul(30011),
                rng.next(),
                ssrc,
                &payload,
            )
        },
        // Another SSRC with the same timestamp forever and no marker: a frame that never ends.
        {
            let payload = garbage(rng);
            rtp(96, false, round as u16, 7, 0xdead_beef, &payload)
        },
    ]
}

#[test]
fn a_hostile_network_never_shows_garbage_and_never_stops_the_picture() {
    init();
    let port = 23000;
    let picture = still_picture("smpte75");

    let receiver = StillReceiver::start(
        port,
        "netsim duplicate-probability=0.05 delay-probability=0.1 min-delay=5 max-delay=30 !",
        &[picture],
    );
    let legit = still_sender("smpte75", LEGIT_SSRC, port);

    let wait = |secs: f64| {
        let before = receiver.shown().exact;
        std::thread::sleep(Duration::from_secs_f64(secs));
        no_errors(&receiver.pipeline);
        receiver.shown().exact - before
    };

    let clean = wait(2.0);
    assert!(
        clean > 30,
        "{clean} exact frames in 2 s before the attack: {:?}",
        receiver.shown()
    );
    let rss_before = rss_mib();

    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let mut rng = Lcg(7);
    // Three seconds of hostile datagrams from `ssrc`; exact frames shown meanwhile.
    let mut attack = |ssrc: u32| {
        let start = Instant::now();
        let before = receiver.shown().exact;
        let (mut sent, mut round) = (0u64, 0);
        while start.elapsed() < Duration::from_secs(3) {
            for datagram in hostile_round(&mut rng, round, ssrc) {
                socket.send_to(&datagram, ("127.0.0.1", port)).unwrap();
                sent += 1;
            }
            round += 1;
            if round.is_multiple_of(20) {
                std::thread::sleep(Duration::from_millis(2));
            }
        }
        no_errors(&receiver.pipeline);
        (sent, receiver.shown().exact - before)
    };

    // Strangers: junk and RTP of other SSRCs, and a second sender on our port throughout.
    let intruder = still_sender("ball", 0x2222_2222, port);
    let (junk, during_junk) = attack(0x3333_3333);
    let rss_after = rss_mib();
    intruder.set_state(gst::State::Null).unwrap();
    let after_junk = wait(1.0);
    // A spoofer with our sender's SSRC: nothing authenticates plain RTP (SRTP would), so the
    // picture may stall while it lasts, but nothing it sends may show.
    let (spoofed, _) = attack(LEGIT_SSRC);
    let after_spoof = wait(2.0);

    let depay = receiver.pipeline.by_name("depay").unwrap();
    let foreign = depay.property::<u64>("packets-foreign");
    let s = receiver.shown();
    eprintln!(
        "{junk} + {spoofed} hostile datagrams; shown {s:?}; exact frames: {clean} before, \
         {during_junk} during junk, {after_junk} after, {after_spoof} after spoofing; \
         {foreign} foreign packets dropped; RSS {rss_before:.0} -> {rss_after:.0} MiB"
    );
    legit.set_state(gst::State::Null).unwrap();

    assert_eq!(s.garbage, 0, "frames that were not the picture sent: {s:?}");
    assert!(
        junk > 10_000 && spoofed > 10_000,
        "{junk} and {spoofed} datagrams sent"
    );
    assert!(
        during_junk > 60,
        "{during_junk} exact frames in the 3 s of junk"
    );
    assert!(
        after_junk > 15,
        "{after_junk} exact frames in 1 s after the junk"
    );
    assert!(
        after_spoof > 30,
        "{after_spoof} exact frames in 2 s after the spoofing"
    );
    assert!(
        foreign > 50,
        "the second sender's packets were dropped ({foreign})"
    );
    assert!(
        rss_after - rss_before < 100.0,
        "RSS grew from {rss_before:.0} to {rss_after:.0} MiB under attack"
    );
}

/// The forged-but-valid inputs of the fuzz corpus (`fuzz/forged_seeds.py`: layout flips to
/// 8192 x 8192, 65535-macroblock chunks with no payload, one frame of many chunks, an
/// empty-payload flood of a second SSRC), sent over UDP through `udpsrc ! rtpbin ! depay ! dec`
/// with nobody else sending: the receiver's CPU per KB received and its memory stay bounded, and
/// a real sender is shown afterwards.
#[test]
fn forged_but_valid_chunks_cost_bounded_cpu_and_memory() {
    init();
    let port = 23060;
    let picture = still_picture("smpte75");
    let receiver = StillReceiver::start(port, "", &[picture]);
    std::thread::sleep(Duration::from_millis(300));
    let decoder = receiver.pipeline.by_name("dec").unwrap();
    let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/rtp_receive");
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let (rss_before, cpu_before) = (rss_mib(), process_cpu_time().unwrap());
    let mut peak = rss_before;
    let mut bytes = 0usize;
    for seed in [
        "forged-layout-flips",
        "forged-empty-macroblock-runs",
        "forged-one-frame-many-chunks",
        "forged-empty-payload-flood",
    ] {
        let data = std::fs::read(corpus.join(seed)).expect("the forged seeds are committed");
        let mut rest = &data[..];
        while rest.len() >= 2 {
            let n = (u16::from_be_bytes([rest[0], rest[1]]) as usize).min(rest.len() - 2);
            socket
                .send_to(&rest[2..2 + n], ("127.0.0.1", port))
                .unwrap();
            bytes += n;
            rest = &rest[2 + n..];
            peak = peak.max(rss_mib());
        }
        // Each seed is its own sender: the depayloader takes it once the last fell silent.
        std::thread::sleep(Duration::from_millis(700));
        peak = peak.max(rss_mib());
    }
    std::thread::sleep(Duration::from_millis(500));
    let cpu = (process_cpu_time().unwrap() - cpu_before).as_secs_f64();
    let per_kb_ms = cpu * 1000.0 / (bytes as f64 / 1024.0);
    let grown = peak - rss_before;
    let corrupt = decoder.property::<u64>("chunks-corrupt");
    let chunks = decoder.property::<u64>("chunks");
    eprintln!(
        "{bytes} forged bytes: {cpu:.3} s CPU ({per_kb_ms:.1} ms per KB), peak RSS +{grown:.0} MiB, \
         {chunks} chunks applied, {corrupt} refused"
    );
    assert!(
        chunks + corrupt > 50,
        "the forged chunks reached the decoder"
    );
    no_errors(&receiver.pipeline);
    // Bounds with room for a busy machine: before the decoder's cost model these inputs cost
    // seconds of CPU and hundreds of MiB.
    assert!(
        per_kb_ms < 40.0,
        "{per_kb_ms:.1} ms of CPU per KB of forged input"
    );
    assert!(grown < 120.0, "RSS grew by {grown:.0} MiB");

    let sender = still_sender("smpte75", LEGIT_SSRC, port);
    let deadline = Instant::now() + Duration::from_secs(10);
    while receiver.shown().exact < 10 {
        assert!(
            Instant::now() < deadline,
            "no real frame shown after the forged input: {:?}",
            receiver.shown()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    sender.set_state(gst::State::Null).unwrap();
    assert_eq!(receiver.shown().garbage, 0);
}
