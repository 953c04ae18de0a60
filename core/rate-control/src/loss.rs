// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! The loss-based send-rate controller, fed with receiver reports (parsed in [`crate::rtcp`]).
//!
//! The controller follows the loss-based part of Google Congestion Control (as webrtcsink's
//! loss controller does): above 10 % loss the target drops, between 2 and 10 % it holds, below
//! 2 % it grows. Refinements settle it under a bottleneck instead of around it, and keep random
//! loss from passing for congestion:
//! - loss is judged over at least [`LOSS_WINDOW_PACKETS`] packets (the report blocks' sequence
//!   numbers tell how many each covers), so that one lost packet of a small stream is not 10 %;
//! - the path's background loss (what is still lost right after a cut, so not caused by the
//!   rate) is taken off before judging, up to 15 %;
//! - a cut goes to just under what got through (sent x (1 - loss) x 0.95) when that is lower
//!   than GCC's sent x (1 - loss/2), and that delivered rate is remembered as the path's
//!   capacity;
//! - loss of 2 % or more right after growth is the ceiling: the target goes back to 0.85 of
//!   what got through (plain GCC would hold there, up to 10 % above the bottleneck);
//! - growth is [`PROBE_NEAR_CAPACITY`] a second within 30 % of that capacity and
//!   [`PROBE_PER_SECOND`] beyond (where the old capacity no longer holds).
//!
//! Growth never takes the target beyond [`MAX_AHEAD_OF_SENT`] times what the encoder sent (as
//! GCC bounds its estimate by the acknowledged rate): a still picture, or an encoder still
//! catching up, does not earn a target far above what the path has ever carried, which the
//! encoder would jump to all at once.

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
/// Growth stops at this multiple of what the encoder sent.
pub const MAX_AHEAD_OF_SENT: f64 = 1.5;
/// Weight of each loss window in the background loss average.
const BACKGROUND_WEIGHT: f64 = 0.3;
/// Weight of the window right after a cut: what a cut did not remove is mostly background.
const AFTER_CUT_WEIGHT: f64 = 0.7;
/// Above this, loss is not taken as the path's background: the target comes down regardless.
const MAX_BACKGROUND_LOSS: f64 = 0.15;
/// Share of what got through that the target goes back to when growth meets loss.
const CEILING_BACK_OFF: f64 = 0.85;
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
    /// Packets the report's loss fraction is over (0 if unknown: the report counts alone).
    pub packets: u32,
}

#[derive(Clone, Debug)]
pub struct LossController {
    min_kbps: f64,
    max_kbps: f64,
    target_kbps: f64,
    last: Option<f64>,
    /// What got through at the last cut, in kbit/s.
    capacity_kbps: Option<f64>,
    /// Packets and lost packets of the reports not yet acted on.
    window: (f64, f64),
    /// The last decision: growth met by loss is a ceiling, a cut after a cut sees old loss.
    last_action: Action,
    /// The path's own loss, which no rate change removes: what is still lost right after a
    /// cut, falling with any window that loses less.
    background_loss: f64,
}

/// Packets a loss estimate is made over: one lost packet of twenty is not 5 % loss.
pub const LOSS_WINDOW_PACKETS: f64 = 40.0;
/// Longest a loss window stays open, in seconds, however few packets it holds.
const LOSS_WINDOW_SECONDS: f64 = 2.0;

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
            window: (0.0, 0.0),
            last_action: Action::Hold,
            background_loss: 0.0,
        }
    }

    pub fn target_kbps(&self) -> f64 {
        self.target_kbps
    }

    /// The target's limits, (min, max) in kbit/s.
    pub fn limits(&self) -> (f64, f64) {
        (self.min_kbps, self.max_kbps)
    }

    /// New limits, applied to the target at once (not only at the next decision).
    pub fn set_limits(&mut self, min_kbps: f64, max_kbps: f64) {
        self.min_kbps = min_kbps;
        self.max_kbps = max_kbps.max(min_kbps);
        self.target_kbps = self.target_kbps.clamp(self.min_kbps, self.max_kbps);
    }

    /// Lowers the target to `kbps` if it is above (another signal's target it should go on
    /// from).
    pub fn cap_target(&mut self, kbps: f64) {
        self.target_kbps = self
            .target_kbps
            .min(kbps)
            .clamp(self.min_kbps, self.max_kbps);
    }

    /// Two standard deviations of the background loss measured over `packets`.
    fn noise(&self, packets: f64) -> f64 {
        let p = self.background_loss.min(MAX_BACKGROUND_LOSS);
        2.0 * (p * (1.0 - p) / packets.max(1.0)).sqrt()
    }

    /// Update the target from a report.
    pub fn on_feedback(&mut self, f: &Feedback) -> Action {
        let weight = if f.packets > 0 {
            f.packets as f64
        } else {
            LOSS_WINDOW_PACKETS
        };
        self.window.0 += weight;
        self.window.1 += weight * f.loss;
        let since = self.last.map_or(f64::INFINITY, |t| f.at - t);
        // While growing, loss above the background is acted on at once: stepping back from a
        // probe costs little, overshooting a bottleneck for a whole window costs frames.
        let probe_hit = self.last_action == Action::Increase
            && self.window.1 / self.window.0
                >= self.background_loss + PROBE_LOSS + self.noise(self.window.0);
        if self.window.0 < LOSS_WINDOW_PACKETS && since < LOSS_WINDOW_SECONDS && !probe_hit {
            return Action::Hold;
        }
        let measured = self.window.1 / self.window.0;
        // Loss within the window's sampling noise of the background is the background.
        let probe_loss = PROBE_LOSS + self.noise(self.window.0);
        self.window = (0.0, 0.0);
        // What the rate causes: loss above the path's background.
        let loss = (measured - self.background_loss.min(MAX_BACKGROUND_LOSS)).max(0.0);
        if self.last_action == Action::Decrease {
            self.background_loss += AFTER_CUT_WEIGHT * (measured - self.background_loss);
        } else if measured < self.background_loss {
            self.background_loss += BACKGROUND_WEIGHT * (measured - self.background_loss);
        }
        let dt = self
            .last
            .map_or(0.0, |t| (f.at - t).clamp(0.0, MAX_PROBE_STEP));
        self.last = Some(f.at);
        let sent = if f.sent_kbps > 0.0 {
            f.sent_kbps
        } else {
            self.target_kbps
        };
        // Cut from what actually went out: a target the encoder never reached says nothing
        // about the path.
        let base = self.target_kbps.min(sent);
        let delivered = base * (1.0 - loss);
        // A cut right after a cut still sees loss the rate before it caused: what got through
        // then understates the path, and a capacity remembered too low would be outgrown fast,
        // straight into the real bottleneck. Keep the larger.
        let capacity = if self.last_action == Action::Decrease {
            self.capacity_kbps.map_or(delivered, |c| c.max(delivered))
        } else {
            delivered
        };
        let action = if loss > BACK_OFF_LOSS {
            self.target_kbps = (base * (1.0 - 0.5 * loss)).min(0.95 * delivered);
            self.capacity_kbps = Some(capacity);
            Action::Decrease
        } else if loss >= probe_loss && self.last_action == Action::Increase {
            // Loss that came with growth is the ceiling, not the path's background loss.
            self.target_kbps = self.target_kbps.min(CEILING_BACK_OFF * delivered);
            self.capacity_kbps = Some(capacity);
            Action::Decrease
        } else if loss >= probe_loss
            || f.jitter_ms > HOLD_JITTER_MS
            || self.target_kbps >= MAX_AHEAD_OF_SENT * sent
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
            self.target_kbps = (self.target_kbps * rate.powf(dt)).min(MAX_AHEAD_OF_SENT * sent);
            Action::Increase
        };
        let before = self.target_kbps;
        self.target_kbps = self.target_kbps.clamp(self.min_kbps, self.max_kbps);
        // Sitting at the cap is not a probe: loss there is no ceiling.
        let action = if action == Action::Increase && self.target_kbps < before {
            Action::Hold
        } else {
            action
        };
        self.last_action = action;
        action
    }
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
            packets: 0,
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
        assert!((c.target_kbps() - 325.0).abs() < 1e-9);
        // Catching up: growth stops at 1.5 x what was sent (1.3 x 325 would be 422.5).
        assert_eq!(c.on_feedback(&report(3.0, 0.0, 250.0)), Action::Increase);
        assert!(
            (c.target_kbps() - 375.0).abs() < 1e-9,
            "{}",
            c.target_kbps()
        );
        for i in 4..30 {
            c.on_feedback(&report(i as f64, 0.0, c.target_kbps()));
        }
        assert_eq!(c.target_kbps(), 1000.0);
    }

    #[test]
    fn new_limits_apply_to_the_target_at_once() {
        let mut c = LossController::new(100.0, 2000.0, 2000.0);
        c.set_limits(100.0, 500.0);
        assert_eq!(c.target_kbps(), 500.0);
        c.set_limits(800.0, 300.0);
        assert_eq!(c.target_kbps(), 800.0, "the minimum wins when they cross");
    }

    #[test]
    fn a_stalled_report_stream_does_not_jump() {
        let mut c = LossController::new(50.0, 10_000.0, 100.0);
        c.on_feedback(&report(0.0, 0.0, 100.0));
        // Sent well above the target, so that only the gap's cap limits the growth.
        c.on_feedback(&report(60.0, 0.0, 1000.0));
        assert!((c.target_kbps() - 100.0 * 1.3f64.powi(2)).abs() < 1e-9);
    }
}
