// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! rtppixeldiffpay / rtppixeldiffdepay: one chunk per packet, marker and timestamps, caps, loss
//! counting, partial frames passed on, lossless round trip through RTP.

use pixelmeet_testkit as common;

use common::*;
use gst::prelude::*;
use pixeldiff_codec::ChunkHeader;

/// RTP packets for `frames`, from `pixeldiffenc PROPS ! rtppixeldiffpay`, and the payloader's
/// output caps.
fn packets(caps: &gst::Caps, frames: &[gst::Buffer], props: &str) -> (Vec<gst::Buffer>, gst::Caps) {
    let mut h = gst_check::Harness::new_parse(&format!("pixeldiffenc {props} ! rtppixeldiffpay"));
    h.set_src_caps(caps.clone());
    for f in frames {
        h.push(f.clone()).expect("pushed");
    }
    h.push_event(gst::event::Eos::new());
    let out: Vec<_> = std::iter::from_fn(|| h.try_pull()).collect();
    let caps = h.sinkpad().unwrap().current_caps().expect("negotiated");
    (out, caps)
}

struct Packet {
    seq: u16,
    rtptime: u32,
    marker: bool,
    pt: u8,
    header: ChunkHeader,
}

fn parse(buffer: &gst::Buffer) -> Packet {
    let rtp = gst_rtp::RTPBuffer::from_buffer_readable(buffer).expect("an RTP packet");
    let payload = rtp.payload().expect("payload");
    let header = ChunkHeader::parse(payload).expect("the payload is one whole, valid chunk");
    assert_eq!(
        header.size as usize,
        payload.len(),
        "exactly one chunk per packet"
    );
    Packet {
        seq: rtp.seq(),
        rtptime: rtp.timestamp(),
        marker: rtp.is_marker(),
        pt: rtp.payload_type(),
        header,
    }
}

#[test]
fn one_chunk_per_packet_marker_on_last_90khz_timestamps() {
    init();
    let caps = raw_caps("I420", 320, 240);
    let frames = test_frames("smpte", &caps, 3);
    let (out, rtp_caps) = packets(&caps, &frames, "mtu=900");
    let s = rtp_caps.structure(0).unwrap();
    assert_eq!(s.get::<&str>("encoding-name").unwrap(), "X-PIXELDIFF");
    assert_eq!(s.get::<&str>("media").unwrap(), "video");
    assert_eq!(s.get::<i32>("clock-rate").unwrap(), 90000);
    assert_eq!(s.get::<&str>("width").unwrap(), "320");
    assert_eq!(s.get::<&str>("height").unwrap(), "240");
    assert_eq!(s.get::<&str>("format").unwrap(), "I420");
    assert_eq!(s.get::<&str>("a-framerate").unwrap(), "30");

    let packets: Vec<Packet> = out.iter().map(parse).collect();
    assert!(packets.len() > 3, "the keyframe needs several packets");
    for pair in packets.windows(2) {
        assert_eq!(
            pair[1].seq,
            pair[0].seq.wrapping_add(1),
            "consecutive sequence numbers"
        );
    }
    let first_ts = packets[0].rtptime;
    for p in &packets {
        assert!((96..=127).contains(&p.pt), "dynamic payload type");
        assert!(out[0].size() <= 1400, "fits the payloader's MTU");
        // Frame n is at n/30 s: 3000 ticks of 90 kHz apart (less the nanoseconds that
        // videotestsrc's integer timestamps drop).
        let ticks = p.rtptime.wrapping_sub(first_ts) as i64;
        assert!(
            (ticks - 3000 * p.header.frame as i64).abs() <= 1,
            "90 kHz timestamp of frame {}",
            p.header.frame
        );
        let last = p.header.chunk_index + 1 == p.header.chunk_count;
        assert_eq!(
            p.marker, last,
            "marker exactly on the last chunk of a frame"
        );
    }
    assert_eq!(
        packets.iter().filter(|p| p.marker).count(),
        3,
        "one marker per frame"
    );
}

#[test]
fn lossless_round_trip_through_rtp_is_bit_exact() {
    init();
    for (format, w, h) in [("I420", 176, 144), ("RGB", 33, 17)] {
        let caps = raw_caps(format, w, h);
        let frames = test_frames("ball", &caps, 8);
        let mut h = gst_check::Harness::new_parse(
            "pixeldiffenc lossless=true mtu=900 ! rtppixeldiffpay ! rtppixeldiffdepay ! pixeldiffdec",
        );
        h.set_src_caps(caps.clone());
        for (i, f) in frames.iter().enumerate() {
            let out = h
                .push_and_pull(f.clone())
                .expect("a decoded frame per input frame");
            assert!(same_pixels(&caps, f, &out), "{format} frame {i} differs");
            assert_eq!(out.pts(), f.pts(), "timestamps survive RTP");
        }
    }
}

/// Feed RTP packets to a depayloader, dropping those whose index `drop` selects; returns the
/// pushed buffers and the depayloader's bus.
fn depayload(
    rtp_caps: &gst::Caps,
    packets: &[gst::Buffer],
    drop: impl Fn(usize) -> bool,
) -> (Vec<gst::Buffer>, gst::Element) {
    let mut h = gst_check::Harness::new("rtppixeldiffdepay");
    h.set_src_caps(rtp_caps.clone());
    for (i, p) in packets.iter().enumerate() {
        if !drop(i) {
            h.push(p.clone()).expect("pushed");
        }
    }
    h.push_event(gst::event::Eos::new());
    let out = std::iter::from_fn(|| h.try_pull()).collect();
    (out, h.element().unwrap())
}

#[test]
fn depayloader_passes_every_chunk_that_arrives_and_counts_the_lost() {
    init();
    let caps = raw_caps("I420", 320, 240);
    let frames = test_frames("smpte", &caps, 4);
    let (pkts, rtp_caps) = packets(&caps, &frames, "mtu=900");
    let per_frame: Vec<u16> = pkts.iter().map(|p| parse(p).header.frame).collect();
    // Drop the second packet, and the marker packet of frame 1 (so frame 1 ends only when
    // frame 2 starts).
    let marker_of_1 = per_frame.iter().rposition(|&f| f == 1).unwrap();
    let dropped = [1, marker_of_1];
    let (out, depay) = depayload(&rtp_caps, &pkts, |i| dropped.contains(&i));

    assert_eq!(
        out.len(),
        frames.len(),
        "one buffer per frame, damaged or not"
    );
    for (n, buf) in out.iter().enumerate() {
        let map = buf.map_readable().unwrap();
        let chunks: Vec<ChunkHeader> = pixeldiff_codec::split_chunks(&map)
            .map(|c| ChunkHeader::parse(c.unwrap()).unwrap())
            .collect();
        let sent = per_frame.iter().filter(|&&f| f == n as u16).count();
        let lost = dropped
            .iter()
            .filter(|&&i| per_frame[i] == n as u16)
            .count();
        assert_eq!(
            chunks.len(),
            sent - lost,
            "frame {n}: every surviving chunk passed on"
        );
        assert!(
            chunks.iter().all(|c| c.frame == n as u16),
            "frame {n} holds only its own chunks"
        );
        assert_eq!(buf.pts(), frames[n].pts(), "frame {n} keeps its timestamp");
    }
    assert_eq!(depay.property::<u64>("packets"), (pkts.len() - 2) as u64);
    assert_eq!(depay.property::<u64>("packets-lost"), 2);
    assert_eq!(depay.property::<u64>("packets-late"), 0);
    assert_eq!(depay.property::<u64>("frames"), frames.len() as u64);
}

#[test]
fn depayloader_stats_messages_field_by_field() {
    init();
    let caps = raw_caps("I420", 160, 120);
    let frames = test_frames("ball", &caps, 60);
    let (pkts, rtp_caps) = packets(&caps, &frames, "");
    let mut h = gst_check::Harness::new("rtppixeldiffdepay");
    let bus = attach_bus(&h.element().unwrap());
    h.set_src_caps(rtp_caps);
    // Every tenth packet lost.
    let mut payload_bytes = 0u64;
    let mut frames_with_a_chunk = std::collections::BTreeSet::new();
    for (i, p) in pkts.iter().enumerate() {
        if i % 10 != 5 {
            frames_with_a_chunk.insert(parse(p).header.frame);
            payload_bytes += gst_rtp::RTPBuffer::from_buffer_readable(p)
                .unwrap()
                .payload_size() as u64;
            h.push(p.clone()).unwrap();
        }
    }
    let msgs = element_messages(&bus, "rtppixeldiffdepay-stats");
    assert_eq!(
        msgs.len(),
        2,
        "one message per second of stream time (60 frames at 30 fps)"
    );
    let last = &msgs[1];
    assert_eq!(
        last.get::<Option<gst::ClockTime>>("timestamp").unwrap(),
        frames[59].pts()
    );
    let lost = (0..pkts.len()).filter(|i| i % 10 == 5).count() as u64;
    assert_eq!(
        last.get::<u64>("packets").unwrap(),
        pkts.len() as u64 - lost
    );
    assert_eq!(last.get::<u64>("packets-lost").unwrap(), lost);
    assert_eq!(last.get::<u64>("packets-late").unwrap(), 0);
    assert_eq!(last.get::<u64>("bytes").unwrap(), payload_bytes);
    // A frame whose only packet was lost is never pushed; the last frame is pushed at its
    // marker, before the stats of its interval are due.
    assert_eq!(
        last.get::<u64>("frames").unwrap(),
        frames_with_a_chunk.len() as u64
    );
    let loss = last.get::<f64>("loss-percent").unwrap();
    assert!((5.0..=15.0).contains(&loss), "about 10 % lost, got {loss}");
    assert!(last.get::<f64>("kbps").unwrap() > 0.0);
}

#[test]
fn depayloader_rejects_other_payloads_at_negotiation() {
    init();
    let depay = gst::ElementFactory::make("rtppixeldiffdepay")
        .build()
        .unwrap();
    let sink = depay.static_pad("sink").unwrap();
    let ours = gst::Caps::builder("application/x-rtp")
        .field("media", "video")
        .field("clock-rate", 90000)
        .field("encoding-name", "X-PIXELDIFF")
        .field("payload", 96)
        .build();
    assert!(sink.query_accept_caps(&ours));
    let caps = gst::Caps::builder("application/x-rtp")
        .field("media", "video")
        .field("clock-rate", 90000)
        .field("encoding-name", "H264")
        .build();
    assert!(!sink.query_accept_caps(&caps));
}

#[test]
fn hostile_packets_never_crash_the_receiver() {
    init();
    let caps = raw_caps("I420", 160, 120);
    let frames = test_frames("ball", &caps, 10);
    let (pkts, rtp_caps) = packets(&caps, &frames, "");
    let mut h = gst_check::Harness::new_parse("rtppixeldiffdepay ! pixeldiffdec");
    let bus = attach_bus(&h.find_element("pixeldiffdec").unwrap());
    h.set_src_caps(rtp_caps);
    let mut seed = 0x2545_f491_u32;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        seed
    };
    // Frames of which some packet arrives intact: they must be shown. (A frame of which nothing
    // applies is not: the picture did not change.)
    let mut intact_frames = std::collections::BTreeSet::new();
    for (i, p) in pkts.iter().enumerate() {
        if i % 3 != 1 {
            intact_frames.insert(parse(p).rtptime);
        }
        let mut p = p.copy_deep().unwrap();
        if i % 3 == 1 {
            // Flip payload bytes (headers included) or cut the packet short.
            let mut map = p.get_mut().unwrap().map_writable().unwrap();
            let len = map.len();
            for _ in 0..4 {
                let at = 12 + next() as usize % (len - 12);
                map[at] ^= 1 << (next() % 8);
            }
            drop(map);
            if i % 2 == 0 {
                p.get_mut()
                    .unwrap()
                    .set_size(12 + next() as usize % (len - 12));
            }
        }
        h.push(p).expect("damaged packets are no flow error");
    }
    let shown: Vec<_> = std::iter::from_fn(|| h.try_pull()).collect();
    assert!(
        shown.len() >= intact_frames.len() && intact_frames.len() >= 7,
        "frames keep coming, {} shown of {} with an intact packet",
        shown.len(),
        intact_frames.len()
    );
    assert!(!warnings(&bus).is_empty(), "the damage is reported");
}

/// An RTP packet of `ssrc` with a one-byte payload, a frame of its own, at `pts`.
fn tiny_packet(ssrc: u32, seq: u16, pts_ms: u64) -> gst::Buffer {
    use gst_rtp::rtp_buffer::RTPBufferExt as _;
    let mut buffer = gst::Buffer::new_rtp_with_sizes(1, 0, 0).unwrap();
    {
        let b = buffer.get_mut().unwrap();
        b.set_pts(gst::ClockTime::from_mseconds(pts_ms));
        let mut rtp = gst_rtp::RTPBuffer::from_buffer_writable(b).unwrap();
        rtp.set_ssrc(ssrc);
        rtp.set_seq(seq);
        rtp.set_timestamp(90 * pts_ms as u32);
        rtp.set_marker(true);
        rtp.set_payload_type(96);
    }
    buffer
}

/// A depayloader following sender A while sender B floods `flood` packets; then A falls silent
/// for `silence` and B is followed. Returns the frames pushed when B was taken, and the
/// depayloader.
fn switch_after_a_flood(
    flood: u16,
    silence: std::time::Duration,
) -> (Vec<gst::Buffer>, gst::Element) {
    init();
    let mut h = gst_check::Harness::new("rtppixeldiffdepay");
    h.set_src_caps(pixeldiff_rtp_caps().parse().unwrap());
    h.push(tiny_packet(0xa, 1, 0)).unwrap();
    assert!(h.try_pull().is_some(), "A is followed");
    for i in 0..flood {
        h.push(tiny_packet(0xb, i, 1 + u64::from(i))).unwrap();
    }
    assert!(h.try_pull().is_none(), "B is not shown while A is alive");
    std::thread::sleep(silence);
    h.push(tiny_packet(0xb, flood, 1 + u64::from(flood)))
        .unwrap();
    let out = std::iter::from_fn(|| h.try_pull()).collect();
    (out, h.element().unwrap())
}

#[test]
fn a_flood_from_a_second_sender_is_kept_within_a_packet_budget() {
    let (out, depay) = switch_after_a_flood(20_000, std::time::Duration::from_millis(600));
    assert_eq!(depay.property::<u64>("packets-foreign"), 20_000);
    assert_eq!(depay.property::<u64>("source-changes"), 1);
    // At most 8192 waited and the packet that switched; the newest were kept, in order.
    assert!((2..=8193).contains(&out.len()), "{} frames", out.len());
    let pts: Vec<u64> = out.iter().map(|b| b.pts().unwrap().mseconds()).collect();
    assert!(
        pts.windows(2).all(|w| w[1] == w[0] + 1),
        "the newest, in order"
    );
    assert_eq!(*pts.last().unwrap(), 20_001);
}

#[test]
fn what_a_second_sender_sent_over_a_second_ago_is_not_replayed() {
    let (out, _) = switch_after_a_flood(100, std::time::Duration::from_millis(1200));
    let pts: Vec<u64> = out.iter().map(|b| b.pts().unwrap().mseconds()).collect();
    assert_eq!(pts, [101], "only the packet that came after the silence");
}

/// The faces attached to frame `n` of the faces tests: `n % 3` faces (none every third frame),
/// ten faces on frame 5 (more than a block lists).
fn faces_of(n: usize) -> Vec<video_glue::roi::wire::Face> {
    let count = if n == 5 { 10 } else { n % 3 };
    (0..count)
        .map(|i| video_glue::roi::wire::Face {
            id: (100 * n + i) as u16,
            x: (10 + 40 * i) as u16,
            y: (20 + n) as u16,
            width: 30,
            height: 36,
        })
        .collect()
}

/// Frames of noise (so each takes several packets) with the faces of [`faces_of`] as faceroi
/// attaches them, through `pixeldiffenc mtu=900 ! rtppixeldiffpay faces=true`.
fn packets_with_faces(frames: usize) -> (Vec<gst::Buffer>, gst::Caps) {
    init();
    let caps = raw_caps("I420", 320, 240);
    let mut h = gst_check::Harness::new_parse("pixeldiffenc mtu=900 ! rtppixeldiffpay faces=true");
    h.set_src_caps(caps.clone());
    for (n, mut f) in test_frames("snow", &caps, frames as u32)
        .into_iter()
        .enumerate()
    {
        for face in faces_of(n) {
            let shown = picture::PixelRect {
                x: u32::from(face.x).saturating_sub(5),
                y: u32::from(face.y).saturating_sub(5),
                width: u32::from(face.width) + 10,
                height: u32::from(face.height) + 10,
            };
            let tight = picture::Rect::new(
                face.x.into(),
                face.y.into(),
                face.width.into(),
                face.height.into(),
            );
            video_glue::roi::add_face(f.make_mut(), face.id.into(), shown, tight, 9.0);
        }
        h.push(f).expect("pushed");
    }
    h.push_event(gst::event::Eos::new());
    let out: Vec<_> = std::iter::from_fn(|| h.try_pull()).collect();
    let caps = h.sinkpad().unwrap().current_caps().expect("negotiated");
    (out, caps)
}

#[test]
fn faces_survive_the_loss_of_any_one_packet_of_a_frame() {
    let frames = 6;
    let (pkts, rtp_caps) = packets_with_faces(frames);
    let frame_of: Vec<u16> = pkts
        .iter()
        .map(|p| {
            let rtp = gst_rtp::RTPBuffer::from_buffer_readable(p).unwrap();
            ChunkHeader::parse(rtp.payload().unwrap()).unwrap().frame
        })
        .collect();
    assert!(
        (0..frames).all(|n| frame_of.iter().filter(|&&f| f == n as u16).count() >= 3),
        "every frame takes three packets or more"
    );
    // Drop each packet in turn: every frame still carries its faces.
    for dropped in 0..pkts.len() {
        let (out, _) = depayload(&rtp_caps, &pkts, |i| i == dropped);
        assert_eq!(out.len(), frames);
        for (n, buf) in out.iter().enumerate() {
            let expected = video_glue::roi::wire::Faces::new(&faces_of(n));
            let got = video_glue::roi::wire_faces(buf);
            assert_eq!(got, expected.listed, "frame {n} with packet {dropped} lost");
        }
    }
    // A frame whose first and last packets are both lost has no faces.
    let first = frame_of.iter().position(|&f| f == 1).unwrap();
    let last = frame_of.iter().rposition(|&f| f == 1).unwrap();
    let (out, _) = depayload(&rtp_caps, &pkts, |i| i == first || i == last);
    assert!(video_glue::roi::wire_faces(&out[1]).is_empty());
}

#[test]
fn faces_reach_the_decoded_picture_and_a_message_when_their_count_changes() {
    let (pkts, rtp_caps) = packets_with_faces(6);
    let mut h = gst_check::Harness::new_parse("rtppixeldiffdepay ! pixeldiffdec");
    let bus = attach_bus(&h.element().unwrap());
    h.set_src_caps(rtp_caps);
    for p in &pkts {
        h.push(p.clone()).expect("pushed");
    }
    h.push_event(gst::event::Eos::new());
    let shown: Vec<_> = std::iter::from_fn(|| h.try_pull()).collect();
    assert_eq!(shown.len(), 6);
    for (n, picture) in shown.iter().enumerate() {
        let faces = video_glue::roi::faces(picture, video_glue::roi::FACE);
        let sent = video_glue::roi::wire::Faces::new(&faces_of(n)).listed;
        assert_eq!(faces.len(), sent.len(), "picture {n}");
        for (got, sent) in faces.iter().zip(&sent) {
            assert_eq!(
                (got.x, got.y, got.width, got.height),
                (
                    sent.x.into(),
                    sent.y.into(),
                    sent.width.into(),
                    sent.height.into()
                ),
                "picture {n}: the face itself, without the sender's margin"
            );
        }
    }
    // Counts 0 1 2 0 1 10: a message at each change, with the count of all faces.
    let messages = element_messages(&bus, "faceroi");
    let counts: Vec<u32> = messages.iter().map(|s| s.get("count").unwrap()).collect();
    assert_eq!(counts, [0, 1, 2, 0, 1, 10]);
    let listed = messages[5].get::<gst::List>("faces").unwrap();
    assert_eq!(listed.len(), video_glue::roi::wire::MAX_LISTED);
    let first = listed.first().unwrap().get::<gst::Structure>().unwrap();
    assert_eq!(first.get::<u32>("id").unwrap(), 500);
    assert_eq!(first.get::<u32>("width").unwrap(), 30);
}

#[test]
fn a_faces_block_round_trips_and_junk_is_refused() {
    use video_glue::roi::wire::{Face, Faces, MAX_LEN, MAX_LISTED};
    let many: Vec<Face> = (0..12)
        .map(|i| Face {
            id: i,
            x: i * 3,
            y: 7,
            width: 65535,
            height: 1,
        })
        .collect();
    let block = Faces::new(&many);
    assert_eq!(block.count, 12);
    assert_eq!(block.listed.len(), MAX_LISTED);
    let bytes = block.to_bytes();
    assert_eq!(bytes.len(), MAX_LEN);
    assert_eq!(Faces::parse(&bytes), Some(block));
    assert_eq!(
        Faces::parse(&Faces::new(&[]).to_bytes()),
        Some(Faces::default())
    );
    for junk in [
        &b""[..],
        b"F",
        b"F\x01\x02",
        b"G\x00\x00",
        &bytes[..bytes.len() - 1],
    ] {
        assert_eq!(Faces::parse(junk), None, "{junk:?}");
    }
    let mut too_many = bytes.clone();
    too_many[2] = 9;
    assert_eq!(Faces::parse(&too_many), None);
}
