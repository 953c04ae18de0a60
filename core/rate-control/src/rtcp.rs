// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! RTCP as the sender reads it: report blocks, feedback messages, and which receivers to believe.

use std::collections::HashMap;

/// A report block of an RTCP SR or RR packet (RFC 3550 section 6.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReportBlock {
    /// The reporter.
    pub sender_ssrc: u32,
    /// The source reported on.
    pub ssrc: u32,
    /// Fraction lost since the last report, in 1/256.
    pub fraction_lost: u8,
    /// Extended highest sequence number received: its step between two reports is the number
    /// of packets the fraction is over.
    pub highest_seq: u32,
    /// Interarrival jitter in RTP timestamp units.
    pub jitter: u32,
}

/// The packets of a compound RTCP packet as (packet type, count field, whole packet); whatever
/// does not parse ends the walk (the GStreamer Rust bindings do not cover GstRTCPBuffer, and this
/// needs only a few lines).
pub(crate) fn rtcp_packets(mut data: &[u8]) -> impl Iterator<Item = (u8, usize, &[u8])> {
    std::iter::from_fn(move || {
        if data.len() < 8 {
            return None;
        }
        let version = data[0] >> 6;
        let count = (data[0] & 0x1f) as usize;
        let pt = data[1];
        let len = (u16::from_be_bytes([data[2], data[3]]) as usize + 1) * 4;
        if version != 2 || len > data.len() {
            return None;
        }
        let packet = &data[..len];
        data = &data[len..];
        Some((pt, count, packet))
    })
}

fn ssrc_at(packet: &[u8], at: usize) -> Option<u32> {
    packet
        .get(at..at + 4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

/// The report blocks of a compound RTCP packet.
pub fn report_blocks(data: &[u8]) -> Vec<ReportBlock> {
    const SR: u8 = 200;
    const RR: u8 = 201;
    let mut out = Vec::new();
    for (pt, count, packet) in rtcp_packets(data) {
        let blocks_at = match pt {
            SR => 28,
            RR => 8,
            _ => continue,
        };
        let Some(sender_ssrc) = ssrc_at(packet, 4) else {
            continue;
        };
        for i in 0..count {
            let at = blocks_at + 24 * i;
            let Some(b) = packet.get(at..at + 24) else {
                break;
            };
            out.push(ReportBlock {
                sender_ssrc,
                ssrc: u32::from_be_bytes([b[0], b[1], b[2], b[3]]),
                fraction_lost: b[4],
                highest_seq: u32::from_be_bytes([b[8], b[9], b[10], b[11]]),
                jitter: u32::from_be_bytes([b[12], b[13], b[14], b[15]]),
            });
        }
    }
    out
}

/// The feedback messages (RFC 4585: NACK, PLI, FIR, ...) of a compound RTCP packet, as (sender
/// SSRC, media source SSRC).
pub fn feedback_messages(data: &[u8]) -> Vec<(u32, u32)> {
    const RTPFB: u8 = 205;
    const PSFB: u8 = 206;
    rtcp_packets(data)
        .filter(|(pt, _, _)| matches!(*pt, RTPFB | PSFB))
        .filter_map(|(_, _, p)| Some((ssrc_at(p, 4)?, ssrc_at(p, 8)?)))
        .collect()
}

/// Receivers a sender has reason to believe: without SRTCP anyone may send reports, so a
/// reporter is believed once two of its reports in a row agree with what was sent.
///
/// A report is *plausible* when its highest sequence number is at most [`MAX_REPORT_LAG`]
/// behind the payloader's last one (where that is known): a stranger who does not see the
/// stream cannot tell the random sequence numbers. A reporter's first plausible report only
/// introduces it; the next is *consistent* when it advanced by no more than was sent meanwhile
/// (plus [`REPORT_SLACK`] for packets in flight). A consistent report makes the reporter trusted
/// and counts, over the packets it advanced; an inconsistent one starts the reporter over.
#[derive(Debug, Default, Clone)]
pub struct ReporterGate {
    reporters: HashMap<u32, Reporter>,
}

#[derive(Debug, Clone, Copy)]
struct Reporter {
    highest_seq: u32,
    sent_seq: Option<u32>,
    trusted: bool,
}

/// How far behind the payloader's sequence number a report may be: seconds of video at the
/// rates a meeting uses.
pub const MAX_REPORT_LAG: u32 = 8192;
/// Packets a report may be ahead of what was sent between two reports (in flight at the first).
pub const REPORT_SLACK: u32 = 256;
/// Reporters remembered (a meeting has a few; more is a forged flood, and the map starts over).
const MAX_REPORTERS: usize = 256;

/// What a report block is worth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// From a trusted reporter: its loss is over this many packets (0: none arrived since).
    Counts(u32),
    /// A new reporter's first, or one that started over: noted, not acted on.
    Introduces,
    /// About packets never sent: not noted.
    Implausible,
}

impl ReporterGate {
    /// Judges `block`; `sent_seq` is the payloader's last sequence number, when known.
    pub fn judge(&mut self, block: &ReportBlock, sent_seq: Option<u32>) -> Verdict {
        let lag = |sent: u32| sent.wrapping_sub(block.highest_seq) & 0xffff;
        if sent_seq.is_some_and(|sent| lag(sent) > MAX_REPORT_LAG) {
            return Verdict::Implausible;
        }
        if self.reporters.len() >= MAX_REPORTERS && !self.reporters.contains_key(&block.sender_ssrc)
        {
            self.reporters.clear();
        }
        let now = Reporter {
            highest_seq: block.highest_seq,
            sent_seq,
            trusted: false,
        };
        let Some(before) = self.reporters.insert(block.sender_ssrc, now) else {
            return Verdict::Introduces;
        };
        let advanced = block.highest_seq.wrapping_sub(before.highest_seq);
        let sent = sent_seq
            .zip(before.sent_seq)
            .map(|(now, then)| now.wrapping_sub(then) & 0xffff);
        let consistent = advanced < 1 << 16 && sent.is_none_or(|n| advanced <= n + REPORT_SLACK);
        if !consistent {
            return Verdict::Introduces;
        }
        if let Some(r) = self.reporters.get_mut(&block.sender_ssrc) {
            r.trusted = true;
        }
        Verdict::Counts(advanced)
    }

    /// Whether feedback (a NACK or picture-loss request) from `ssrc` is believed.
    pub fn trusts(&self, ssrc: u32) -> bool {
        self.reporters.get(&ssrc).is_some_and(|r| r.trusted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(sender_ssrc: u32, highest_seq: u32) -> ReportBlock {
        ReportBlock {
            sender_ssrc,
            ssrc: 42,
            fraction_lost: 255,
            highest_seq,
            jitter: 0,
        }
    }

    #[test]
    fn a_reporter_counts_from_its_second_consistent_report() {
        let mut gate = ReporterGate::default();
        assert_eq!(gate.judge(&block(1, 1000), Some(1010)), Verdict::Introduces);
        assert!(!gate.trusts(1));
        assert_eq!(gate.judge(&block(1, 1040), Some(1050)), Verdict::Counts(40));
        assert!(gate.trusts(1));
        // A report 1000 behind, then one that advanced 900 while 10 were sent: it starts over.
        assert_eq!(gate.judge(&block(1, 1050), Some(2050)), Verdict::Counts(10));
        assert_eq!(gate.judge(&block(1, 1950), Some(2060)), Verdict::Introduces);
        assert!(!gate.trusts(1));
    }

    #[test]
    fn reports_about_packets_never_sent_are_not_noted() {
        let mut gate = ReporterGate::default();
        let sent = 30_000;
        for seq in [sent + 1, sent - MAX_REPORT_LAG - 1, sent + 20_000] {
            assert_eq!(gate.judge(&block(7, seq), Some(sent)), Verdict::Implausible);
        }
        // A stranger scanning sequence numbers: each jump is more than was sent.
        let mut verdicts = Vec::new();
        for i in 0..20 {
            verdicts.push(gate.judge(&block(9, sent - 977 * (i % 8)), Some(sent + i)));
        }
        assert!(
            verdicts
                .iter()
                .all(|v| !matches!(v, Verdict::Counts(n) if *n > 0)),
            "{verdicts:?}"
        );
        // Without a payloader to compare with, plausibility is not judged, consistency is.
        assert_eq!(gate.judge(&block(3, 5), None), Verdict::Introduces);
        assert_eq!(gate.judge(&block(3, 45), None), Verdict::Counts(40));
    }

    #[test]
    fn feedback_messages_name_their_sender_and_media_source() {
        let mut rr = vec![0x80, 201, 0, 1];
        rr.extend(5u32.to_be_bytes());
        let mut pli = vec![0x81, 206, 0, 2];
        pli.extend(5u32.to_be_bytes());
        pli.extend(42u32.to_be_bytes());
        let mut nack = vec![0x81, 205, 0, 3];
        nack.extend(6u32.to_be_bytes());
        nack.extend(42u32.to_be_bytes());
        nack.extend([0, 1, 0, 0]);
        let compound = [rr, pli, nack].concat();
        assert_eq!(feedback_messages(&compound), vec![(5, 42), (6, 42)]);
        assert_eq!(feedback_messages(&compound[..20]), vec![(5, 42)]);
    }

    #[test]
    fn parses_sr_and_rr_report_blocks_and_skips_the_rest() {
        let block = |ssrc: u32, fraction: u8, jitter: u32| {
            let mut b = ssrc.to_be_bytes().to_vec();
            b.push(fraction);
            b.extend([0, 0, 3]); // cumulative lost
            b.extend(1000u32.to_be_bytes()); // highest sequence number
            b.extend(jitter.to_be_bytes());
            b.extend([0; 8]); // LSR, DLSR
            b
        };
        let packet = |pt: u8, count: u8, body: Vec<u8>| {
            let mut p = vec![0x80 | count, pt];
            p.extend((((body.len() + 4) / 4 - 1) as u16).to_be_bytes());
            p.extend(body);
            p
        };
        let mut sr = 7u32.to_be_bytes().to_vec();
        sr.extend([0; 20]); // sender info
        sr.extend(block(42, 26, 900));
        let mut rr = 9u32.to_be_bytes().to_vec();
        rr.extend(block(42, 128, 90));
        rr.extend(block(43, 0, 0));
        let sdes = packet(202, 1, vec![0, 0, 0, 9, 1, 1, b'x', 0]);
        let compound = [packet(200, 1, sr), sdes, packet(201, 2, rr)].concat();
        let blocks = report_blocks(&compound);
        assert_eq!(
            blocks,
            vec![
                ReportBlock {
                    sender_ssrc: 7,
                    ssrc: 42,
                    fraction_lost: 26,
                    highest_seq: 1000,
                    jitter: 900
                },
                ReportBlock {
                    sender_ssrc: 9,
                    ssrc: 42,
                    fraction_lost: 128,
                    highest_seq: 1000,
                    jitter: 90
                },
                ReportBlock {
                    sender_ssrc: 9,
                    ssrc: 43,
                    fraction_lost: 0,
                    highest_seq: 1000,
                    jitter: 0
                },
            ]
        );
        // Truncated or garbage input yields what parsed before it, never a panic.
        for cut in 0..compound.len() {
            assert!(report_blocks(&compound[..cut]).len() <= 3);
        }
        assert!(report_blocks(&[0xff; 64]).is_empty());
    }
}
