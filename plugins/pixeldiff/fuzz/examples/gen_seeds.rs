// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! Writes the seed corpus of both targets. Run from the fuzz directory:
//!
//!     cargo +nightly run --example gen_seeds
//!
//! `corpus/rtp_receive/seed-*`: real RTP packets from the real sender,
//! `videotestsrc num-buffers=N pattern=P ! video/x-raw,format=F,width=64,height=48,framerate=30/1
//! ! pixeldiffenc mtu=900 PROPS ! rtppixeldiffpay ssrc=… seqnum-offset=… timestamp-offset=… !
//! appsink`, in the target's length-prefixed datagram format, for several encoder settings
//! (lossless, lossy, rate-controlled, keyframes, averaged blocks, all five formats, one odd
//! size), plus copies of one noise stream with a packet lost, a marker packet lost, two packets
//! swapped and one duplicated, as a network delivers them. Each stream is checked to decode to at
//! least one frame through the fuzz target's own harness. The encoder's smallest MTU is 900
//! bytes, so packets are up to 912 bytes; most 64x48 frames fit one packet, the noise, RGB and
//! BGRx frames take two to six.
//!
//! `corpus/rtcp_report_blocks/seed-*`: controller settings (`RtcpInput`) followed by compound
//! RTCP packets built by hand as RFC 3550 lays them out: SR and RR with report blocks, SDES,
//! BYE and APP packets, several receivers, clean, lossy and jittery report sequences.
//!
//! The output is deterministic: the payloader's SSRC, sequence and timestamp offsets are fixed
//! (they are random by default) and the encoder's rate control depends only on timestamps.

#[path = "../fuzz_targets/common.rs"]
mod common;

use gst::prelude::*;
use std::path::Path;

struct RtpSeed {
    name: &'static str,
    format: &'static str,
    pattern: &'static str,
    frames: u32,
    props: &'static str,
    width: u32,
    height: u32,
}

/// RTP packets (whole datagrams) the sender makes for a seed.
fn rtp_packets(s: &RtpSeed) -> Vec<Vec<u8>> {
    let launch = format!(
        "videotestsrc num-buffers={} pattern={} ! video/x-raw,format={},width={},height={},framerate=30/1 ! \
         pixeldiffenc mtu=900 {} ! rtppixeldiffpay ssrc=1437226410 seqnum-offset=1000 timestamp-offset=90000 ! appsink name=sink sync=false",
        s.frames, s.pattern, s.format, s.width, s.height, s.props
    );
    let pipeline = gst::parse::launch(&launch)
        .expect("seed pipeline")
        .downcast::<gst::Pipeline>()
        .expect("a pipeline");
    let sink = pipeline
        .by_name("sink")
        .expect("appsink")
        .downcast::<gst_app::AppSink>()
        .expect("an appsink");
    pipeline.set_state(gst::State::Playing).expect("plays");
    let mut out = Vec::new();
    while let Ok(sample) = sink.pull_sample() {
        let buffer = sample.buffer().expect("sample has a buffer");
        out.push(buffer.map_readable().expect("readable").to_vec());
    }
    let bus = pipeline.bus().expect("pipeline bus");
    while let Some(m) = bus.pop() {
        if let gst::MessageView::Error(e) = m.view() {
            panic!("{}: {}", s.name, e.error());
        }
    }
    pipeline.set_state(gst::State::Null).expect("stops");
    assert!(!out.is_empty(), "{}: no packets", s.name);
    out
}

fn write(dir: &str, name: &str, data: &[u8]) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(Path::new(dir).join(format!("seed-{name}")), data).unwrap();
    println!("{dir}/seed-{name}: {} bytes", data.len());
}

/// An RTCP packet: version 2, `count` in the first byte, length in 32-bit words minus one.
fn rtcp_packet(pt: u8, count: u8, body: &[u8]) -> Vec<u8> {
    assert!(body.len().is_multiple_of(4));
    let mut p = vec![0x80 | count, pt];
    p.extend_from_slice(&((body.len() / 4) as u16).to_be_bytes());
    p.extend_from_slice(body);
    p
}

/// A 24-byte report block about `ssrc`.
fn report_block(ssrc: u32, fraction_lost: u8, highest_seq: u32, jitter: u32) -> Vec<u8> {
    let mut b = ssrc.to_be_bytes().to_vec();
    b.push(fraction_lost);
    b.extend_from_slice(&[0, 0, 7]); // cumulative lost
    b.extend_from_slice(&highest_seq.to_be_bytes());
    b.extend_from_slice(&jitter.to_be_bytes());
    b.extend_from_slice(&0x1234_5678u32.to_be_bytes()); // LSR
    b.extend_from_slice(&0x0000_8000u32.to_be_bytes()); // DLSR
    b
}

/// A receiver report from `reporter` with `blocks`.
fn rr(reporter: u32, blocks: &[Vec<u8>]) -> Vec<u8> {
    let mut body = reporter.to_be_bytes().to_vec();
    for b in blocks {
        body.extend_from_slice(b);
    }
    rtcp_packet(201, blocks.len() as u8, &body)
}

/// A sender report from `sender` (sender info filled in) with `blocks`.
fn sr(sender: u32, blocks: &[Vec<u8>]) -> Vec<u8> {
    let mut body = sender.to_be_bytes().to_vec();
    body.extend_from_slice(&0xE8A0_0000_0000_0000u64.to_be_bytes()); // NTP time
    body.extend_from_slice(&90_000u32.to_be_bytes()); // RTP time
    body.extend_from_slice(&1200u32.to_be_bytes()); // packets
    body.extend_from_slice(&900_000u32.to_be_bytes()); // octets
    for b in blocks {
        body.extend_from_slice(b);
    }
    rtcp_packet(200, blocks.len() as u8, &body)
}

fn sdes(ssrc: u32, cname: &str) -> Vec<u8> {
    let mut body = ssrc.to_be_bytes().to_vec();
    body.push(1); // CNAME
    body.push(cname.len() as u8);
    body.extend_from_slice(cname.as_bytes());
    body.push(0);
    while !body.len().is_multiple_of(4) {
        body.push(0);
    }
    rtcp_packet(202, 1, &body)
}

fn bye(ssrc: u32) -> Vec<u8> {
    rtcp_packet(203, 1, &ssrc.to_be_bytes())
}

fn app(ssrc: u32) -> Vec<u8> {
    let mut body = ssrc.to_be_bytes().to_vec();
    body.extend_from_slice(b"PXDF");
    body.extend_from_slice(&[1, 2, 3, 4]);
    rtcp_packet(204, 0, &body)
}

/// `n` receiver reports from `reporter` about `ssrc`, `step` packets apart, with the loss
/// fraction and jitter `f(i)` gives.
fn report_series(
    reporter: u32,
    ssrc: u32,
    n: u32,
    step: u32,
    f: impl Fn(u32) -> (u8, u32),
) -> Vec<u8> {
    (0..n)
        .flat_map(|i| {
            let (fraction, jitter) = f(i);
            rr(
                reporter,
                &[report_block(ssrc, fraction, 1000 + i * step, jitter)],
            )
        })
        .collect()
}

fn main() {
    common::init();

    let rtp_seeds = [
        RtpSeed {
            name: "i420-lossless-smpte",
            format: "I420",
            pattern: "smpte",
            frames: 3,
            props: "lossless=true",
            width: 64,
            height: 48,
        },
        RtpSeed {
            name: "i420-lossy-q50-ball",
            format: "I420",
            pattern: "ball",
            frames: 4,
            props: "quality=50",
            width: 64,
            height: 48,
        },
        RtpSeed {
            name: "i420-lossless-snow",
            format: "I420",
            pattern: "snow",
            frames: 2,
            props: "lossless=true",
            width: 64,
            height: 48,
        },
        RtpSeed {
            name: "i420-lossy-q10-snow",
            format: "I420",
            pattern: "snow",
            frames: 2,
            props: "quality=10",
            width: 64,
            height: 48,
        },
        RtpSeed {
            name: "i420-keyframes-every-2",
            format: "I420",
            pattern: "ball",
            frames: 5,
            props: "lossless=true key-int-max=2",
            width: 64,
            height: 48,
        },
        RtpSeed {
            name: "i420-averaged-motion",
            format: "I420",
            pattern: "ball",
            frames: 4,
            props: "quality=60 motion-threshold=0",
            width: 64,
            height: 48,
        },
        RtpSeed {
            name: "i420-rate-50kbps",
            format: "I420",
            pattern: "ball",
            frames: 5,
            props: "target-bitrate=50",
            width: 64,
            height: 48,
        },
        RtpSeed {
            name: "gray8-lossless-refresh",
            format: "GRAY8",
            pattern: "ball",
            frames: 4,
            props: "lossless=true refresh-blocks=4",
            width: 64,
            height: 48,
        },
        RtpSeed {
            name: "nv12-lossy-q70",
            format: "NV12",
            pattern: "gradient",
            frames: 3,
            props: "quality=70",
            width: 64,
            height: 48,
        },
        RtpSeed {
            name: "rgb-lossy-q80",
            format: "RGB",
            pattern: "smpte",
            frames: 3,
            props: "quality=80",
            width: 64,
            height: 48,
        },
        RtpSeed {
            name: "bgrx-lossless",
            format: "BGRx",
            pattern: "ball",
            frames: 3,
            props: "lossless=true",
            width: 64,
            height: 48,
        },
        RtpSeed {
            name: "i420-lossless-odd-33x17",
            format: "I420",
            pattern: "smpte",
            frames: 3,
            props: "lossless=true",
            width: 33,
            height: 17,
        },
    ];
    let dir = "corpus/rtp_receive";
    let mut total = 0;
    let mut count = 0;
    let mut emit = |name: &str, packets: &[Vec<u8>]| {
        let data = common::frame_datagrams(packets.iter().map(|p| p.as_slice()));
        // A seed must decode, or the fuzzer starts from noise.
        let mut h = common::receiver();
        let r = common::replay(&mut h, &data);
        assert_eq!(r.datagrams, packets.len());
        assert!(r.frames > 0, "{name}: nothing decoded ({r:?})");
        write(dir, name, &data);
        total += data.len();
        count += 1;
    };
    for s in &rtp_seeds {
        let packets = rtp_packets(s);
        emit(s.name, &packets);
        if s.name == "i420-lossless-snow" {
            // As the network delivers it: a packet lost, the marker packet of the first frame
            // lost (the frame ends only when the next one starts), two packets swapped, one
            // duplicated.
            let marker = packets
                .iter()
                .position(|p| p[1] & 0x80 != 0)
                .expect("a marker packet");
            assert!(marker >= 2, "the first frame takes several packets");
            let mut lost = packets.clone();
            lost.remove(1);
            emit("i420-lossless-snow-lost", &lost);
            let mut no_marker = packets.clone();
            no_marker.remove(marker);
            emit("i420-lossless-snow-marker-lost", &no_marker);
            let mut swapped = packets.clone();
            swapped.swap(1, 2);
            emit("i420-lossless-snow-reordered", &swapped);
            let mut dup = packets.clone();
            dup.insert(2, packets[1].clone());
            emit("i420-lossless-snow-duplicated", &dup);
        }
    }
    println!("rtp_receive: {count} seeds, {total} bytes");

    let dir = "corpus/rtcp_report_blocks";
    let video = 0x1111_2222;
    let rtcp_seeds: Vec<(&str, Vec<u8>, Vec<u8>)> = vec![
        (
            "sr-sdes-rr-compound",
            common::RtcpInput::config(100, 2000, 800, None, 500),
            [
                sr(0xAAAA_0001, &[report_block(video, 26, 1000, 900)]),
                sdes(0xAAAA_0001, "receiver@example"),
                rr(
                    0xAAAA_0002,
                    &[
                        report_block(video, 128, 1040, 90),
                        report_block(0x3333, 0, 20, 0),
                    ],
                ),
            ]
            .concat(),
        ),
        (
            "clean-reports-probe",
            common::RtcpInput::config(100, 2000, 0, Some(128), 500),
            report_series(0xBBBB_0001, video, 12, 45, |_| (0, 45)),
        ),
        (
            "congestion-then-clean",
            common::RtcpInput::config(50, 3000, 0, Some(120), 500),
            report_series(0xBBBB_0002, video, 14, 60, |i| {
                if (3..7).contains(&i) {
                    (51, 900)
                } else {
                    (0, 90)
                }
            }),
        ),
        (
            "background-loss-5pct",
            common::RtcpInput::config(100, 1500, 1000, None, 1000),
            report_series(0xBBBB_0003, video, 10, 50, |i| (13 + (i % 3) as u8, 200)),
        ),
        (
            "jitter-builds",
            common::RtcpInput::config(100, 2000, 900, None, 250),
            report_series(0xBBBB_0004, video, 8, 30, |i| (0, 900 * i * i)),
        ),
        (
            "three-receivers",
            common::RtcpInput::config(200, 5000, 2500, None, 500),
            (0..4)
                .flat_map(|i| {
                    rr(
                        0xCCCC_0000 + i,
                        &[
                            report_block(video, (i * 20) as u8, 2000 + 40 * i, 100 * i),
                            report_block(video + 1, 0, 3000 + 40 * i, 0),
                        ],
                    )
                })
                .collect(),
        ),
        (
            "bye-app-and-sequence-restart",
            common::RtcpInput::config(100, 2000, 700, None, 2000),
            [
                rr(0xDDDD_0001, &[report_block(video, 0, 70_000, 10)]),
                app(0xDDDD_0001),
                rr(0xDDDD_0001, &[report_block(video, 64, 12, 10)]),
                bye(0xDDDD_0001),
                sr(0xDDDD_0002, &[]),
            ]
            .concat(),
        ),
        (
            "heavy-loss-to-floor",
            common::RtcpInput::config(1, 1_000_000, 0, None, 100),
            report_series(0xEEEE_0001, video, 10, 40, |_| (230, 5000)),
        ),
    ];
    let mut total = 0;
    for (name, config, rtcp) in &rtcp_seeds {
        let data = [config.as_slice(), rtcp].concat();
        let input = common::RtcpInput::parse(&data);
        assert_eq!(input.rtcp, rtcp.as_slice());
        write(dir, name, &data);
        total += data.len();
    }
    println!(
        "rtcp_report_blocks: {} seeds, {total} bytes",
        rtcp_seeds.len()
    );
}
