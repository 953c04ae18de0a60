// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! Transport-wide congestion control (draft-holmer-rmcat-transport-wide-cc-extensions-01) as
//! the sender sees it: the sequence number each outgoing RTP packet carries in a header
//! extension (GStreamer's `rtphdrexttwcc` writes it), what was sent under each number, and the
//! receivers' RTCP feedback (RTPFB, format 15) turned into each packet's arrival time.
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
