// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! Transport-wide congestion control (draft-holmer-rmcat-transport-wide-cc-extensions-01) as
//! the sender sees it: the sequence number each outgoing RTP packet carries in a header
//! extension (GStreamer's `rtphdrexttwcc` writes it), what was sent under each number, and the
//! receivers' RTCP feedback (RTPFB, format 15) turned into each packet's arrival time; and as
//! the receiver makes it ([`FeedbackBuilder`]).
//!
//! The feedback is decoded here rather than with the `rtcp` crate: that crate stops at the
//! status chunks and deltas as separate lists, so pairing them with sequence numbers and
//! arrival times would be ours to write anyway, and this decoder is bounded by construction
//! (any input, truncated or forged, decodes to what parsed before the error, never a panic).

use crate::delay::PacketResult;
use crate::rtcp::rtcp_packets;

/// The header extension's URI, as `extmap-N` caps fields name it.
pub const URI: &str = "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01";

/// The transport-wide sequence number in an RTP packet's one-byte header extension `id`
/// (RFC 8285; GStreamer's payloaders write one-byte headers).
pub fn sequence_number(rtp: &[u8], id: u8) -> Option<u16> {
    if rtp.len() < 12 || rtp[0] >> 6 != 2 || rtp[0] & 0x10 == 0 {
        return None;
    }
    let at = 12 + 4 * (rtp[0] & 0x0f) as usize;
    let header = rtp.get(at..at + 4)?;
    if header[..2] != [0xbe, 0xde] {
        return None;
    }
    let words = u16::from_be_bytes([header[2], header[3]]) as usize;
    let mut ext = rtp.get(at + 4..at + 4 + 4 * words)?;
    while let Some((&first, rest)) = ext.split_first() {
        if first == 0 {
            ext = rest; // padding
            continue;
        }
        let (element, len) = (first >> 4, (first & 0x0f) as usize + 1);
        if element == 15 {
            return None;
        }
        let data = rest.get(..len)?;
        if element == id && len == 2 {
            return Some(u16::from_be_bytes([data[0], data[1]]));
        }
        ext = &rest[len..];
    }
    None
}

/// One feedback message: who sent it, about which media, and each packet's fate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Feedback {
    pub sender_ssrc: u32,
    pub media_ssrc: u32,
    /// Its feedback packet count (the receiver counts its messages).
    pub count: u8,
    /// (sequence number, arrival in µs on the receiver's clock or `None`: not received).
    pub packets: Vec<(u16, Option<i64>)>,
}

/// The transport-wide feedback messages of a compound RTCP packet.
pub fn feedback(data: &[u8]) -> Vec<Feedback> {
    const RTPFB: u8 = 205;
    const FORMAT: usize = 15;
    rtcp_packets(data)
        .filter(|&(pt, format, _)| pt == RTPFB && format == FORMAT)
        .filter_map(|(_, _, packet)| decode(packet))
        .collect()
}

fn decode(packet: &[u8]) -> Option<Feedback> {
    let u16_at = |at: usize| {
        packet
            .get(at..at + 2)
            .map(|b| u16::from_be_bytes([b[0], b[1]]))
    };
    let u32_at = |at: usize| {
        packet
            .get(at..at + 4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    };
    let sender_ssrc = u32_at(4)?;
    let media_ssrc = u32_at(8)?;
    let base = u16_at(12)?;
    let status_count = u16_at(14)? as usize;
    let reference = u32_at(16)?;
    let (reference_64ms, count) = (reference >> 8, reference as u8);

    // Status symbols: 0 not received, 1 small delta, 2 large delta.
    let mut symbols = Vec::with_capacity(status_count);
    let mut at = 20;
    while symbols.len() < status_count {
        let chunk = u16_at(at)?;
        at += 2;
        let left = status_count - symbols.len();
        if chunk & 0x8000 == 0 {
            let (symbol, run) = ((chunk >> 13) as u8 & 3, (chunk & 0x1fff) as usize);
            symbols.extend(std::iter::repeat_n(symbol, run.min(left)));
        } else if chunk & 0x4000 == 0 {
            symbols.extend((0..14).rev().map(|bit| (chunk >> bit) as u8 & 1).take(left));
        } else {
            symbols.extend(
                (0..7)
                    .rev()
                    .map(|i| (chunk >> (2 * i)) as u8 & 3)
                    .take(left),
            );
        }
    }
    let mut arrival = reference_64ms as i64 * 64_000;
    let mut packets = Vec::with_capacity(status_count);
    for (i, &symbol) in symbols.iter().enumerate() {
        let seq = base.wrapping_add(i as u16);
        let delta = match symbol {
            0 => {
                packets.push((seq, None));
                continue;
            }
            1 => {
                let d = *packet.get(at)? as i64;
                at += 1;
                d
            }
            2 => {
                let d = u16_at(at)? as i16 as i64;
                at += 2;
                d
            }
            _ => return None, // reserved
        };
        arrival += delta * 250;
        packets.push((seq, Some(arrival)));
    }
    Some(Feedback {
        sender_ssrc,
        media_ssrc,
        count,
        packets,
    })
}

/// A receiver's record of arrivals, turned into a feedback message at the pace it chooses.
///
/// (GStreamer 1.22's rtpsession can make the feedback itself, but only one message per frame,
/// in reduced-size RTCP, and its receiver reports then lose their report blocks: the loss
/// signal and the sender's trust in the receiver depend on those.)
#[derive(Clone, Debug, Default)]
pub struct FeedbackBuilder {
    /// Arrival (µs) of each number not yet reported, by extended (unwrapped) number.
    arrived: std::collections::BTreeMap<u64, i64>,
    /// The first number the next message starts from, and the newest seen.
    next: Option<u64>,
    newest: Option<u64>,
    count: u8,
}

/// Numbers one message covers at most: a jump beyond (a sender restart, a forged number) starts
/// the next message near the newest.
pub const MAX_STATUS: u64 = 1024;

impl FeedbackBuilder {
    /// Packet `seq` arrived at `at_us` (µs on the receiver's clock).
    pub fn arrived(&mut self, seq: u16, at_us: i64) {
        let extended = match self.newest {
            None => (1 << 16) + seq as u64,
            Some(newest) => {
                let step = seq.wrapping_sub(newest as u16) as i16 as i64;
                match newest.checked_add_signed(step) {
                    Some(e) => e,
                    None => return,
                }
            }
        };
        if self.next.is_some_and(|next| extended < next) {
            return; // already reported as lost: too late
        }
        self.newest = Some(self.newest.map_or(extended, |n| n.max(extended)));
        self.next.get_or_insert(extended);
        self.arrived.insert(extended, at_us);
    }

    /// The message about every number from the last message's end to the newest arrival, as an
    /// RTCP RTPFB packet; `None` when nothing arrived since.
    pub fn build(&mut self, sender_ssrc: u32, media_ssrc: u32) -> Option<Vec<u8>> {
        let newest = self.newest?;
        let mut base = self.next?;
        if self.arrived.is_empty() {
            return None;
        }
        if newest - base >= MAX_STATUS {
            base = newest + 1 - MAX_STATUS;
            self.arrived = self.arrived.split_off(&base);
        }
        let first_arrival = *self.arrived.values().next()?;
        let reference = first_arrival.div_euclid(64_000);
        let mut previous = reference * 64_000;
        let (mut symbols, mut deltas) = (Vec::new(), Vec::new());
        for n in base..=newest {
            let Some(&at) = self.arrived.get(&n) else {
                symbols.push(0u16);
                continue;
            };
            let delta = ((at - previous) as f64 / 250.0).round() as i64;
            let written = if (0..=255).contains(&delta) {
                symbols.push(1);
                deltas.push(delta as u8);
                delta
            } else {
                let large = delta.clamp(i16::MIN as i64, i16::MAX as i64) as i16;
                symbols.push(2);
                deltas.extend(large.to_be_bytes());
                large as i64
            };
            // From the time the sender will reconstruct, so rounding does not add up.
            previous += written * 250;
        }
        let mut body = Vec::with_capacity(16 + symbols.len() / 7 * 2 + deltas.len());
        body.extend(sender_ssrc.to_be_bytes());
        body.extend(media_ssrc.to_be_bytes());
        body.extend((base as u16).to_be_bytes());
        body.extend((symbols.len() as u16).to_be_bytes());
        body.extend((((reference as u32 & 0xff_ffff) << 8) | self.count as u32).to_be_bytes());
        // Two-bit status vectors, seven symbols each.
        for chunk in symbols.chunks(7) {
            let bits = (0..7).fold(0xc000u16, |bits, i| {
                bits | chunk.get(i).copied().unwrap_or(0) << (2 * (6 - i))
            });
            body.extend(bits.to_be_bytes());
        }
        body.extend(deltas);
        while !(body.len() + 4).is_multiple_of(4) {
            body.push(0);
        }
        let mut packet = vec![0x80 | 15, 205];
        packet.extend((((body.len() + 4) / 4 - 1) as u16).to_be_bytes());
        packet.extend(body);
        self.count = self.count.wrapping_add(1);
        self.next = Some(newest + 1);
        self.arrived.clear();
        Some(packet)
    }
}

/// `feedback` in a compound RTCP packet of its own: an empty receiver report from
/// `sender_ssrc` first, as RFC 3550 wants (and SRTCP keys by).
pub fn compound(sender_ssrc: u32, feedback: &[u8]) -> Vec<u8> {
    let mut packet = vec![0x80, 201, 0, 1];
    packet.extend(sender_ssrc.to_be_bytes());
    packet.extend(feedback);
    packet
}

/// What was sent under each transport-wide sequence number, for the last [`HISTORY`] numbers.
#[derive(Clone, Debug)]
pub struct SendHistory {
    slots: Vec<Option<(u16, f64, u32)>>,
}

/// Sequence numbers remembered: seconds of video at a meeting's rates.
pub const HISTORY: usize = 8192;

impl Default for SendHistory {
    fn default() -> Self {
        SendHistory {
            slots: vec![None; HISTORY],
        }
    }
}

impl SendHistory {
    /// Packet `seq` of `size` bytes left at `sent_at` (seconds).
    pub fn sent(&mut self, seq: u16, sent_at: f64, size: u32) {
        self.slots[seq as usize % HISTORY] = Some((seq, sent_at, size));
    }

    /// The feedback's packets that we sent, in sending order, with arrival times in seconds on
    /// the receiver's clock. Numbers never sent (or long forgotten) are left out.
    pub fn results(&self, feedback: &Feedback) -> Vec<PacketResult> {
        let mut out: Vec<PacketResult> = feedback
            .packets
            .iter()
            .filter_map(|&(seq, arrival)| {
                let (stored, sent_at, size) = self.slots[seq as usize % HISTORY]?;
                (stored == seq).then_some(PacketResult {
                    sent_at,
                    arrived_at: arrival.map(|us| us as f64 / 1e6),
                    size,
                })
            })
            .collect();
        out.sort_by(|a, b| a.sent_at.total_cmp(&b.sent_at));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A feedback message as the draft lays it out, from (status chunks, deltas).
    fn message(base: u16, count: u16, reference: u32, chunks: &[u16], deltas: &[u8]) -> Vec<u8> {
        let mut body = 7u32.to_be_bytes().to_vec();
        body.extend(42u32.to_be_bytes());
        body.extend(base.to_be_bytes());
        body.extend(count.to_be_bytes());
        body.extend(((reference << 8) | 3).to_be_bytes());
        for c in chunks {
            body.extend(c.to_be_bytes());
        }
        body.extend(deltas);
        while !body.len().is_multiple_of(4) {
            body.push(0);
        }
        let mut p = vec![0x80 | 15, 205];
        p.extend(((body.len() / 4) as u16).to_be_bytes());
        p.extend(body);
        p
    }

    #[test]
    fn decodes_run_length_and_both_vector_chunks() {
        // 3 received with small deltas (run length), then a one-bit vector of 14 (received,
        // lost, received, then lost), then a two-bit vector: large delta, lost, small.
        let run = (1 << 13) | 3;
        let one_bit = 0x8000 | 0b10_1000_0000_0000;
        let two_bit = 0xc000 | (2 << 12) | (1 << 8);
        let mut deltas = vec![4, 8, 4, 40, 4];
        deltas.extend((-20i16).to_be_bytes());
        deltas.push(1);
        let data = message(65534, 3 + 14 + 3, 10, &[run, one_bit, two_bit], &deltas);
        let fb = feedback(&data);
        assert_eq!(fb.len(), 1);
        let f = &fb[0];
        assert_eq!((f.sender_ssrc, f.media_ssrc, f.count), (7, 42, 3));
        let start = 10 * 64_000;
        let mut expected = vec![
            (65534, Some(start + 1000)),
            (65535, Some(start + 3000)),
            (0, Some(start + 4000)),
            (1, Some(start + 14_000)),
            (2, None),
            (3, Some(start + 15_000)),
        ];
        expected.extend((4..=14).map(|s| (s, None)));
        expected.extend([
            (15, Some(start + 10_000)),
            (16, None),
            (17, Some(start + 10_250)),
        ]);
        assert_eq!(f.packets, expected);
    }

    #[test]
    fn truncated_or_garbage_feedback_never_panics() {
        let data = message(1, 20, 5, &[(1 << 13) | 20], &[4; 20]);
        for cut in 0..data.len() {
            for f in feedback(&data[..cut]) {
                assert!(f.packets.len() <= 20);
            }
        }
        // A forged status count with no chunks behind it, and reserved symbols.
        assert!(feedback(&message(1, 65535, 5, &[], &[])).is_empty());
        assert!(feedback(&message(1, 2, 5, &[(3 << 13) | 2], &[])).is_empty());
        let mut noise = 0x1234_5678u32;
        for _ in 0..2000 {
            let bytes: Vec<u8> = (0..64)
                .map(|_| {
                    noise ^= noise << 13;
                    noise ^= noise >> 17;
                    noise ^= noise << 5;
                    noise as u8
                })
                .collect();
            let mut p = message(0, 10, 0, &[], &[]);
            p.truncate(12);
            p.extend(&bytes);
            let words = (p.len() / 4 - 1) as u16;
            p[2..4].copy_from_slice(&words.to_be_bytes());
            let _ = feedback(&p);
        }
    }

    #[test]
    fn built_feedback_decodes_to_what_arrived() {
        let mut b = FeedbackBuilder::default();
        assert!(b.build(1, 2).is_none(), "nothing arrived");
        // Across the wrap: 65534 and 65535, 0 lost, 1 late by 100 ms, 3 before 2 (reordered).
        let t0 = 5_000_000_123;
        b.arrived(65534, t0);
        b.arrived(65535, t0 + 1_000);
        b.arrived(1, t0 + 101_000);
        b.arrived(3, t0 + 101_500);
        b.arrived(2, t0 + 101_250);
        let packet = b.build(7, 42).expect("a message");
        let f = feedback(&compound(7, &packet));
        assert_eq!(f.len(), 1);
        assert_eq!((f[0].sender_ssrc, f[0].media_ssrc, f[0].count), (7, 42, 0));
        let seqs: Vec<u16> = f[0].packets.iter().map(|p| p.0).collect();
        assert_eq!(seqs, vec![65534, 65535, 0, 1, 2, 3]);
        let reference = f[0].packets[0].1.unwrap() - t0;
        assert!(
            reference.abs() <= 125,
            "within a quarter millisecond: {reference}"
        );
        let arrivals: Vec<Option<i64>> = f[0]
            .packets
            .iter()
            .map(|p| p.1.map(|us| us - f[0].packets[0].1.unwrap()))
            .collect();
        assert_eq!(
            arrivals,
            vec![
                Some(0),
                Some(1_000),
                None,
                Some(101_000),
                Some(101_250),
                Some(101_500)
            ]
        );
        // The next message starts after 3; a late 0 is not reported again.
        b.arrived(0, t0 + 200_000);
        assert!(b.build(7, 42).is_none());
        b.arrived(4, t0 + 300_000);
        let f = feedback(&b.build(7, 42).unwrap());
        assert_eq!(f[0].packets, vec![(4, f[0].packets[0].1)]);
        assert_eq!(f[0].count, 1);
    }

    #[test]
    fn a_jump_in_numbers_is_reported_from_near_the_newest() {
        let mut b = FeedbackBuilder::default();
        b.arrived(10, 0);
        b.arrived(30_000, 1_000);
        let f = feedback(&b.build(1, 2).unwrap());
        assert_eq!(f[0].packets.len() as u64, MAX_STATUS);
        assert_eq!(f[0].packets.last().unwrap().0, 30_000);
    }

    #[test]
    fn reads_the_sequence_number_from_a_one_byte_extension() {
        let mut rtp = vec![0x90, 96, 0, 1, 0, 0, 0, 1, 0, 0, 0, 9];
        rtp.extend([0xbe, 0xde, 0, 2]);
        rtp.extend([0x10, 0xaa, 0, 0x51, 0x12, 0x34, 0, 0]); // id 1 (1 byte), pad, id 5 (2 bytes)
        rtp.extend([1, 2, 3]);
        assert_eq!(sequence_number(&rtp, 5), Some(0x1234));
        assert_eq!(sequence_number(&rtp, 3), None);
        assert_eq!(sequence_number(&rtp[..18], 5), None);
        rtp[0] = 0x80; // no extension
        assert_eq!(sequence_number(&rtp, 5), None);
    }

    #[test]
    fn feedback_about_numbers_never_sent_is_left_out() {
        let mut history = SendHistory::default();
        history.sent(100, 1.0, 1200);
        history.sent(101, 1.01, 800);
        let f = Feedback {
            sender_ssrc: 1,
            media_ssrc: 2,
            count: 0,
            packets: vec![(101, Some(2_000_000)), (100, None), (102, Some(3_000_000))],
        };
        assert_eq!(
            history.results(&f),
            vec![
                PacketResult {
                    sent_at: 1.0,
                    arrived_at: None,
                    size: 1200
                },
                PacketResult {
                    sent_at: 1.01,
                    arrived_at: Some(2.0),
                    size: 800
                },
            ]
        );
        // A number one history length later overwrites its slot.
        history.sent(100u16.wrapping_add(HISTORY as u16), 5.0, 10);
        assert_eq!(history.results(&f).len(), 1);
    }
}
