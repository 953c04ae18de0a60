// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! Loss-based send-rate controller and the RTCP report-block parser it feeds on. No GStreamer
//! types: the element around it only moves bytes and properties.
//!
//! The controller follows the loss-based part of Google Congestion Control (as webrtcsink's
//! loss controller does): above 10 % loss the target drops, between 2 and 10 % it holds, below
//! 2 % it grows. Two refinements settle it under a bottleneck instead of around it:
//! - a cut goes to just under what got through (sent x (1 - loss) x 0.95) when that is lower
//!   than GCC's sent x (1 - loss/2), and that delivered rate is remembered as the path's
//!   capacity;
//! - growth is [`PROBE_NEAR_CAPACITY`] a second within 30 % of that capacity and
//!   [`PROBE_PER_SECOND`] beyond (where the old capacity no longer holds).
//!
//! Growth stops while the encoder does not use its budget (application-limited), so that a
//! still picture does not earn a target far above what the path has ever carried.

/// Loss fraction above which the target is cut.
pub const BACK_OFF_LOSS: f64 = 0.10;
/// Loss fraction below which the target may grow.
pub const PROBE_LOSS: f64 = 0.02;
/// Growth per second of clean reports away from a known capacity: 30 % a second, so that
/// quality is back within seconds when a bottleneck goes away.
pub const PROBE_PER_SECOND: f64 = 1.3;
/// Growth per second of clean reports near the last capacity seen.
pub const PROBE_NEAR_CAPACITY: f64 = 1.08;
/// Above this multiple of the remembered capacity, it is forgotten.
const CAPACITY_STALE: f64 = 1.3;
/// Interarrival jitter (ms) above which queues are building: hold instead of probing.
pub const HOLD_JITTER_MS: f64 = 40.0;
/// Growth is allowed only while the encoder sends at least this share of the target.
const APP_LIMITED_SHARE: f64 = 0.5;
/// Longest gap between reports credited to probing, in seconds (reports may stall).
const MAX_PROBE_STEP: f64 = 2.0;

/// What the controller did with a report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Decrease,
    Hold,
    Increase,
}

impl Action {
    pub fn name(self) -> &'static str {
        match self {
            Action::Decrease => "decrease",
            Action::Hold => "hold",
            Action::Increase => "increase",
        }
    }
}

/// One receiver report about our stream, as the controller sees it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Feedback {
    /// Seconds on a monotonic clock when the report arrived.
    pub at: f64,
    /// Fraction of packets lost since the previous report, 0 to 1.
    pub loss: f64,
    /// Interarrival jitter in milliseconds.
    pub jitter_ms: f64,
    /// What the encoder sent over its last stats interval, in kbit/s (0 if unknown).
    pub sent_kbps: f64,
}

#[derive(Clone, Debug)]
pub struct LossController {
    pub min_kbps: f64,
    pub max_kbps: f64,
    target_kbps: f64,
    last: Option<f64>,
    /// What got through at the last cut, in kbit/s.
    capacity_kbps: Option<f64>,
}

impl LossController {
    /// A controller starting at `start_kbps` (clamped to `min_kbps..=max_kbps`).
    pub fn new(min_kbps: f64, max_kbps: f64, start_kbps: f64) -> Self {
        let max_kbps = max_kbps.max(min_kbps);
        LossController {
            min_kbps,
            max_kbps,
            target_kbps: start_kbps.clamp(min_kbps, max_kbps),
            last: None,
            capacity_kbps: None,
        }
    }

    pub fn target_kbps(&self) -> f64 {
        self.target_kbps
    }

    /// Update the target from a report.
    pub fn on_feedback(&mut self, f: &Feedback) -> Action {
        let dt = self
            .last
            .map_or(0.0, |t| (f.at - t).clamp(0.0, MAX_PROBE_STEP));
        self.last = Some(f.at);
        let sent = if f.sent_kbps > 0.0 {
            f.sent_kbps
        } else {
            self.target_kbps
        };
        let action = if f.loss > BACK_OFF_LOSS {
            // Cut from what actually went out: a target the encoder never reached says nothing
            // about the path.
            let base = self.target_kbps.min(sent);
            let delivered = base * (1.0 - f.loss);
            self.target_kbps = (base * (1.0 - 0.5 * f.loss)).min(0.95 * delivered);
            self.capacity_kbps = Some(delivered);
            Action::Decrease
        } else if f.loss >= PROBE_LOSS
            || f.jitter_ms > HOLD_JITTER_MS
            || sent < APP_LIMITED_SHARE * self.target_kbps
        {
            Action::Hold
        } else {
            let near = self
                .capacity_kbps
                .filter(|&c| self.target_kbps < CAPACITY_STALE * c);
            if near.is_none() {
                self.capacity_kbps = None;
            }
            let rate = if near.is_some() {
                PROBE_NEAR_CAPACITY
            } else {
                PROBE_PER_SECOND
            };
            self.target_kbps *= rate.powf(dt);
            Action::Increase
        };
        self.target_kbps = self.target_kbps.clamp(self.min_kbps, self.max_kbps);
        action
    }
}

/// A report block of an RTCP SR or RR packet (RFC 3550 section 6.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReportBlock {
    /// The reporter.
    pub sender_ssrc: u32,
    /// The source reported on.
    pub ssrc: u32,
    /// Fraction lost since the last report, in 1/256.
    pub fraction_lost: u8,
    /// Interarrival jitter in RTP timestamp units.
    pub jitter: u32,
}

/// The report blocks of a compound RTCP packet; whatever does not parse ends the walk (the
/// GStreamer Rust bindings do not cover GstRTCPBuffer, and this needs only 30 lines).
pub fn report_blocks(mut data: &[u8]) -> Vec<ReportBlock> {
    const SR: u8 = 200;
    const RR: u8 = 201;
    let mut out = Vec::new();
    while data.len() >= 8 {
        let version = data[0] >> 6;
        let count = (data[0] & 0x1f) as usize;
        let pt = data[1];
        let len = (u16::from_be_bytes([data[2], data[3]]) as usize + 1) * 4;
        if version != 2 || len > data.len() {
            break;
        }
        let packet = &data[..len];
        data = &data[len..];
        let blocks_at = match pt {
            SR => 28,
            RR => 8,
            _ => continue,
        };
        if packet.len() < 8 {
            continue;
        }
        let sender_ssrc = u32::from_be_bytes([packet[4], packet[5], packet[6], packet[7]]);
        for i in 0..count {
            let at = blocks_at + 24 * i;
            let Some(b) = packet.get(at..at + 24) else {
                break;
            };
            out.push(ReportBlock {
                sender_ssrc,
                ssrc: u32::from_be_bytes([b[0], b[1], b[2], b[3]]),
                fraction_lost: b[4],
                jitter: u32::from_be_bytes([b[12], b[13], b[14], b[15]]),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(at: f64, loss: f64, sent: f64) -> Feedback {
        Feedback {
            at,
            loss,
            jitter_ms: 5.0,
            sent_kbps: sent,
        }
    }

    #[test]
    fn backs_off_from_what_was_sent_above_ten_percent_loss() {
        let mut c = LossController::new(50.0, 3000.0, 3000.0);
        // 20 % lost of 800: GCC says 720, but only 640 got through: just under that.
        assert_eq!(c.on_feedback(&report(0.0, 0.2, 800.0)), Action::Decrease);
        assert!(
            (c.target_kbps() - 608.0).abs() < 1e-6,
            "{}",
            c.target_kbps()
        );
        // 11 % lost of the 500 sent (GCC: 472.5; delivered 445 x 0.95 = 422.75).
        assert_eq!(c.on_feedback(&report(1.0, 0.11, 500.0)), Action::Decrease);
        assert!(
            (c.target_kbps() - 422.75).abs() < 1e-6,
            "{}",
            c.target_kbps()
        );
        for i in 0..50 {
            c.on_feedback(&report(2.0 + i as f64, 0.9, 1000.0));
        }
        assert_eq!(c.target_kbps(), 50.0, "never below the floor");
    }

    #[test]
    fn holds_between_two_and_ten_percent_and_when_jitter_builds() {
        let mut c = LossController::new(50.0, 3000.0, 400.0);
        assert_eq!(c.on_feedback(&report(0.0, 0.05, 400.0)), Action::Hold);
        assert_eq!(c.on_feedback(&report(1.0, 0.02, 400.0)), Action::Hold);
        let mut jittery = report(2.0, 0.0, 400.0);
        jittery.jitter_ms = 80.0;
        assert_eq!(c.on_feedback(&jittery), Action::Hold);
        assert_eq!(c.target_kbps(), 400.0);
    }

    #[test]
    fn probes_slowly_near_the_last_capacity_and_faster_beyond() {
        let mut c = LossController::new(50.0, 5000.0, 1000.0);
        c.on_feedback(&report(0.0, 0.5, 1000.0)); // 500 got through
        assert!((c.target_kbps() - 475.0).abs() < 1e-6);
        c.on_feedback(&report(1.0, 0.0, 475.0));
        assert!(
            (c.target_kbps() - 475.0 * 1.08).abs() < 1e-6,
            "{}",
            c.target_kbps()
        );
        // Past 1.3 x 500 the old capacity is forgotten and growth speeds up.
        let mut t = 2.0;
        while c.target_kbps() < 650.0 {
            c.on_feedback(&report(t, 0.0, c.target_kbps()));
            t += 1.0;
        }
        assert!(t <= 7.0, "near capacity for {t} s");
        let before = c.target_kbps();
        c.on_feedback(&report(t, 0.0, before));
        assert!((c.target_kbps() - before * 1.3).abs() < 1e-6);
    }

    #[test]
    fn probes_while_the_budget_is_used_and_stops_at_the_cap() {
        let mut c = LossController::new(50.0, 1000.0, 250.0);
        c.on_feedback(&report(0.0, 0.0, 250.0));
        assert_eq!(c.on_feedback(&report(1.0, 0.0, 250.0)), Action::Increase);
        assert!((c.target_kbps() - 325.0).abs() < 1e-9);
        // Application-limited: the encoder sends a fifth of its budget.
        assert_eq!(c.on_feedback(&report(2.0, 0.0, 50.0)), Action::Hold);
        for i in 3..30 {
            c.on_feedback(&report(i as f64, 0.0, c.target_kbps()));
        }
        assert_eq!(c.target_kbps(), 1000.0);
    }

    #[test]
    fn a_stalled_report_stream_does_not_jump() {
        let mut c = LossController::new(50.0, 10_000.0, 100.0);
        c.on_feedback(&report(0.0, 0.0, 100.0));
        c.on_feedback(&report(60.0, 0.0, 100.0));
        assert!((c.target_kbps() - 100.0 * 1.3f64.powi(2)).abs() < 1e-9);
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
                    jitter: 900
                },
                ReportBlock {
                    sender_ssrc: 9,
                    ssrc: 42,
                    fraction_lost: 128,
                    jitter: 90
                },
                ReportBlock {
                    sender_ssrc: 9,
                    ssrc: 43,
                    fraction_lost: 0,
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
