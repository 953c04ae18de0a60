// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! Which RTP streams (SSRCs) a receiver without a key lets into rtpbin. rtpbin gives every new
//! SSRC a jitter buffer and a thread, so a stranger sending a few packets from each of hundreds
//! of SSRCs would make hundreds of threads. A new SSRC is let in at once when it has no rival
//! (nobody else on probation, every stream let in established: a call starting, a sender
//! restarting); otherwise once it has sent [`PROBATION_PACKETS`] within a second (as rtpbin's
//! own probation, but before rtpbin). Always at a bounded rate, the most persistent newcomer
//! first, and at most [`MAX_STREAMS`] at once; a stream that has sent
//! [`ESTABLISHED_PACKETS`] is never pushed out by new ones while it is alive. (With a key, srtpdec already drops every SSRC whose session
//! was not announced.) No GStreamer types.

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// New SSRCs let in per second, and at once after a quiet time.
pub const NEW_PER_SECOND: f64 = 4.0;
const BURST: f64 = 4.0;
pub const MAX_STREAMS: usize = 16;
/// Packets after which a stream is a real sender's, kept while it is alive.
pub const ESTABLISHED_PACKETS: u32 = 30;
/// A stream silent this long is forgotten (rtpbin times its source out too).
pub const IDLE: Duration = Duration::from_secs(5);
/// Packets a new SSRC sends within [`PROBATION_TIME`] before it is let in; the ones before
/// are dropped.
pub const PROBATION_PACKETS: u32 = 4;
const PROBATION_TIME: Duration = Duration::from_secs(1);
/// New SSRCs on probation at once; the one that came first makes room.
const MAX_ON_PROBATION: usize = 256;

struct Stream {
    last_seen: Instant,
    packets: u32,
}

pub struct SsrcGate {
    streams: HashMap<u32, Stream>,
    /// New SSRCs: when each was first seen and its packets since.
    probation: HashMap<u32, (Instant, u32)>,
    tokens: f64,
    refilled: Instant,
    /// Packets of SSRCs not let in.
    pub refused: u64,
}

impl SsrcGate {
    pub fn new(now: Instant) -> Self {
        Self {
            streams: HashMap::new(),
            probation: HashMap::new(),
            tokens: BURST,
            refilled: now,
            refused: 0,
        }
    }

    /// Whether a packet of `ssrc` arriving `now` goes on to rtpbin.
    pub fn admit(&mut self, ssrc: u32, now: Instant) -> bool {
        if let Some(s) = self.streams.get_mut(&ssrc) {
            s.last_seen = now;
            s.packets = s.packets.saturating_add(1);
            return true;
        }
        let elapsed = now.duration_since(self.refilled).as_secs_f64();
        self.tokens = (self.tokens + elapsed * NEW_PER_SECOND).min(BURST);
        self.refilled = now;
        self.streams
            .retain(|_, s| now.duration_since(s.last_seen) < IDLE);
        if !self.probation.contains_key(&ssrc) && self.probation.len() >= MAX_ON_PROBATION {
            self.probation
                .retain(|_, (first, _)| now.duration_since(*first) < PROBATION_TIME);
            if let Some(first) = self
                .probation
                .iter()
                .min_by_key(|(_, p)| p.0)
                .map(|(s, _)| *s)
            {
                self.probation.remove(&first);
            }
        }
        // Dropping a first packet costs a keyframe request and half a second of picture: only
        // rivals are made to wait.
        let unrivalled = self.probation.keys().all(|s| *s == ssrc)
            && self
                .streams
                .values()
                .all(|s| s.packets >= ESTABLISHED_PACKETS);
        let (first, packets) = self.probation.entry(ssrc).or_insert((now, 0));
        if now.duration_since(*first) >= PROBATION_TIME {
            (*first, *packets) = (now, 0);
        }
        *packets += 1;
        let packets = *packets;
        // Places go to the most persistent newcomer: a real sender sends on, a flood of SSRCs
        // sends a few packets each.
        let most = self.probation.values().map(|p| p.1).max().unwrap_or(0);
        if !unrivalled && (packets < PROBATION_PACKETS || packets < most)
            || self.tokens < 1.0
            || !(self.streams.len() < MAX_STREAMS || self.push_out_newcomer())
        {
            self.refused += 1;
            return false;
        }
        self.tokens -= 1.0;
        self.probation.remove(&ssrc);
        self.streams.insert(
            ssrc,
            Stream {
                last_seen: now,
                packets: 1,
            },
        );
        true
    }

    /// Makes room by forgetting the stream not yet established that was seen longest ago.
    fn push_out_newcomer(&mut self) -> bool {
        let oldest = self
            .streams
            .iter()
            .filter(|(_, s)| s.packets < ESTABLISHED_PACKETS)
            .min_by_key(|(_, s)| s.last_seen)
            .map(|(ssrc, _)| *ssrc);
        oldest.is_some_and(|ssrc| self.streams.remove(&ssrc).is_some())
    }
}

/// The SSRC of an RTP packet; `None` for anything shorter than an RTP header.
pub fn rtp_ssrc(packet: &[u8]) -> Option<u32> {
    Some(u32::from_be_bytes(packet.get(8..12)?.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flood_of_ssrcs_lets_in_a_few_a_second() {
        let start = Instant::now();
        let mut gate = SsrcGate::new(start);
        // 300 SSRCs x 3 packets within 100 ms.
        let mut admitted = std::collections::HashSet::new();
        for i in 0..900u32 {
            let now = start + Duration::from_micros(u64::from(i) * 111);
            if gate.admit(1000 + i / 3, now) {
                admitted.insert(1000 + i / 3);
            }
        }
        assert!(admitted.len() <= 1, "{} SSRCs let in", admitted.len());
        assert!(gate.probation.len() <= MAX_ON_PROBATION);
        // Four packets each: a few a second.
        for i in 0..1200u32 {
            let now = start + Duration::from_millis(200) + Duration::from_micros(u64::from(i) * 83);
            if gate.admit(5000 + i / 4, now) {
                admitted.insert(5000 + i / 4);
            }
        }
        assert!(admitted.len() <= 5, "{} SSRCs let in", admitted.len());
        assert!(gate.streams.len() <= MAX_STREAMS);
    }

    #[test]
    fn a_real_sender_keeps_its_place_and_a_restarted_one_gets_in() {
        let start = Instant::now();
        let mut gate = SsrcGate::new(start);
        let at = |ms: u64| start + Duration::from_millis(ms);
        for ms in 0..100 {
            assert!(gate.admit(7, at(ms)), "the first sender has no rival");
        }
        // Strangers keep the table full for ten seconds, a new SSRC every 10 ms, each sending
        // enough to pass probation.
        let mut real_taken = false;
        for ms in (100..10_100).step_by(10) {
            for _ in 0..PROBATION_PACKETS {
                gate.admit(1_000_000 + ms as u32, at(ms));
            }
            assert!(
                gate.admit(7, at(ms + 1)),
                "the established sender is never pushed out"
            );
            // A restarted sender from 5 s on, 33 packets a second: it competes for the new
            // places with the strangers and gets one.
            if ms >= 5000 && ms % 30 == 0 {
                real_taken |= gate.admit(8, at(ms + 2));
            }
        }
        assert!(real_taken, "the restarted sender got in during the flood");
        assert!(gate.refused > 500);
    }

    #[test]
    fn idle_streams_are_forgotten() {
        let start = Instant::now();
        let mut gate = SsrcGate::new(start);
        let admit = |gate: &mut SsrcGate, ssrc, at| {
            (0..PROBATION_PACKETS)
                .map(|_| gate.admit(ssrc, at))
                .last()
                .unwrap()
        };
        assert!(gate.admit(0, start), "no rival: at once");
        assert!(!gate.admit(1, start), "a rival of a new stream waits");
        for ssrc in 1..4 {
            assert!(admit(&mut gate, ssrc, start));
        }
        assert!(!admit(&mut gate, 99, start), "the burst is spent");
        let later = start + IDLE + Duration::from_secs(1);
        assert!(gate.admit(99, later), "alone again: at once");
        assert_eq!(gate.streams.len(), 1);
        assert_eq!(rtp_ssrc(&[0x80, 96, 0, 1, 0, 0, 0, 0, 0, 0, 0, 9]), Some(9));
        assert_eq!(rtp_ssrc(&[0x80, 96]), None);
    }
}
