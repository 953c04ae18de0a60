// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! Send-rate control from what receivers feed back. No GStreamer types: `pixeldiffadapt` moves
//! bytes and properties around it, the tests and `adapt-bench` drive it on a modelled path.
//!
//! Two signals, as in Google Congestion Control:
//! - [`loss::LossController`] reads the loss fraction of RTCP receiver reports;
//! - [`delay::DelayEstimator`] reads transport-wide feedback (each packet's arrival time): a
//!   queue that fills is congestion before anything is lost.
//!
//! [`RateController`] keeps one delay estimate per receiver and sets the target to the lowest
//! of them and the loss-based one. Through a relay or media server every receiver reports the
//! same packets over its own path, and one encoding has to fit the slowest: the minimum. A
//! receiver that stops sending transport-wide feedback holds its estimate for [`STALE_S`]
//! seconds; after that it no longer counts, and the target goes on from where it was (the loss
//! controller is lowered to it) instead of jumping to the next receiver's.

pub mod delay;
pub mod loss;
pub mod path;
pub mod rtcp;
pub mod twcc;

use std::collections::HashMap;

use delay::{DelayEstimator, PacketResult, Usage};
use loss::{Action, Feedback, LossController};

/// Seconds without transport-wide feedback after which a receiver's delay estimate no longer
/// counts (it left, or its feedback is lost for good).
pub const STALE_S: f64 = 5.0;
/// Where the target starts, kbit/s, as WebRTC's does: a new path's capacity is unknown, and
/// growth finds it within seconds without first filling its queue.
pub const DEFAULT_START_KBPS: f64 = 300.0;
/// Receivers with a delay estimate, at most (more is a forged flood: the oldest is dropped).
const MAX_RECEIVERS: usize = 64;

/// Which signal sets the target, and what it did last.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    /// The loss-based target is the lower.
    Loss(Action),
    /// A receiver's delay estimate is the lower.
    Delay(Usage),
    /// The target sits at `min-bitrate` or `max-bitrate`.
    Limit,
}

impl Reason {
    /// "loss decrease", "delay overuse", "limit", ...: for stats lines.
    pub fn describe(self) -> String {
        match self {
            Reason::Loss(a) => format!("loss {}", a.name()),
            Reason::Delay(u) => format!("delay {}", u.name()),
            Reason::Limit => "limit".into(),
        }
    }
}

#[derive(Clone, Debug)]
struct Receiver {
    delay: DelayEstimator,
    heard_at: f64,
}

/// The target bitrate from loss and delay, over every receiver.
#[derive(Clone, Debug)]
pub struct RateController {
    loss: LossController,
    receivers: HashMap<u32, Receiver>,
    reason: Reason,
}

impl RateController {
    pub fn new(min_kbps: f64, max_kbps: f64, start_kbps: f64) -> Self {
        RateController {
            loss: LossController::new(min_kbps, max_kbps, start_kbps),
            receivers: HashMap::new(),
            reason: Reason::Limit,
        }
    }

    pub fn target_kbps(&self) -> f64 {
        let (min, max) = self.loss.limits();
        self.receivers
            .values()
            .map(|r| r.delay.estimate_kbps())
            .fold(self.loss.target_kbps(), f64::min)
            .clamp(min, max)
    }

    pub fn limits(&self) -> (f64, f64) {
        self.loss.limits()
    }

    pub fn set_limits(&mut self, min_kbps: f64, max_kbps: f64) {
        self.loss.set_limits(min_kbps, max_kbps);
        let (_, max) = self.loss.limits();
        for r in self.receivers.values_mut() {
            r.delay.limit(max);
        }
    }

    /// Why the target is what it is.
    pub fn reason(&self) -> Reason {
        self.reason
    }

    /// The receiver whose delay estimate sets the target, if one does: its estimator.
    pub fn binding_delay(&self) -> Option<&DelayEstimator> {
        self.receivers
            .values()
            .map(|r| &r.delay)
            .min_by(|a, b| a.estimate_kbps().total_cmp(&b.estimate_kbps()))
    }

    /// A receiver report (the worst of a compound packet).
    pub fn on_report(&mut self, f: &Feedback) -> Action {
        self.forget_stale(f.at);
        // Jitter is the loss controller's hint of a queue; with transport-wide feedback the
        // delay estimate sees the queue itself, and jitter from a busy receiver's scheduling
        // would only hold the target back.
        let f = Feedback {
            jitter_ms: if self.receivers.is_empty() {
                f.jitter_ms
            } else {
                0.0
            },
            ..*f
        };
        let action = self.loss.on_feedback(&f);
        self.update_reason(Some(action));
        action
    }

    /// One transport-wide feedback message from `receiver` (its SSRC), received at `now`
    /// (seconds on the clock `sent_at` is on).
    pub fn on_transport_feedback(
        &mut self,
        receiver: u32,
        now: f64,
        packets: &[PacketResult],
    ) -> Usage {
        self.forget_stale(now);
        let start = self.target_kbps();
        if self.receivers.len() >= MAX_RECEIVERS && !self.receivers.contains_key(&receiver) {
            let oldest = self
                .receivers
                .iter()
                .min_by(|a, b| a.1.heard_at.total_cmp(&b.1.heard_at))
                .map(|(&ssrc, _)| ssrc);
            oldest.map(|ssrc| self.receivers.remove(&ssrc));
        }
        let (_, max) = self.loss.limits();
        let r = self.receivers.entry(receiver).or_insert_with(|| Receiver {
            delay: DelayEstimator::new(start),
            heard_at: now,
        });
        r.heard_at = now;
        let usage = r.delay.on_feedback(now, packets);
        r.delay.limit(max);
        self.update_reason(None);
        usage
    }

    fn forget_stale(&mut self, now: f64) {
        let before = self.target_kbps();
        let stale = |r: &Receiver| now - r.heard_at > STALE_S;
        if self.receivers.values().any(stale) {
            self.receivers.retain(|_, r| !stale(r));
            // Go on from where the target was, not from whatever bound is left.
            let (min, _) = self.loss.limits();
            self.loss.cap_target(before.max(min));
        }
    }

    fn update_reason(&mut self, action: Option<Action>) {
        let target = self.target_kbps();
        let (min, max) = self.loss.limits();
        let delay = self.binding_delay();
        self.reason = if target <= min || target >= max {
            Reason::Limit
        } else if let Some(d) = delay.filter(|d| d.estimate_kbps() < self.loss.target_kbps()) {
            Reason::Delay(d.usage())
        } else {
            Reason::Loss(action.unwrap_or(match self.reason {
                Reason::Loss(a) => a,
                _ => Action::Hold,
            }))
        };
    }
}

#[cfg(test)]
mod calls {
    //! The numbers the controller is built for, on the modelled path (`path`), three seeds each;
    //! `adapt-bench` prints them as a table.
    use super::path::{simulate, Call, Path, Trace};

    fn calls(path: Path, seconds: usize, transport_feedback: bool) -> Vec<Trace> {
        calls_from(crate::DEFAULT_START_KBPS, path, seconds, transport_feedback)
    }

    fn calls_from(
        start_kbps: f64,
        path: Path,
        seconds: usize,
        transport_feedback: bool,
    ) -> Vec<Trace> {
        (1..=3)
            .map(|seed| {
                let mut call = Call::new(path.clone(), seconds, seed);
                call.transport_feedback = transport_feedback;
                call.start_kbps = start_kbps;
                simulate(&call)
            })
            .collect()
    }

    fn queue(capacity_kbps: f64, changes: Vec<(f64, f64)>) -> Path {
        Path {
            capacity_kbps,
            buffer_ms: 1000.0,
            changes,
            ..Path::default()
        }
    }

    #[test]
    fn random_loss_alone_keeps_the_target_near_the_maximum() {
        for loss in [0.02, 0.05] {
            for feedback in [true, false] {
                let path = Path {
                    random_loss: loss,
                    ..Path::default()
                };
                for t in calls(path, 60, feedback) {
                    let mean = t.mean_target(20.0, 60.0);
                    assert!(
                        mean >= 0.8 * 3000.0,
                        "{:.0} % loss, transport feedback {feedback}: mean target {mean:.0}: {:?}",
                        loss * 100.0,
                        t.targets
                    );
                }
            }
        }
    }

    #[test]
    fn behind_a_deep_buffer_the_queue_stays_short_and_the_link_full() {
        for t in calls(queue(500.0, vec![]), 40, true) {
            let delay = Trace::mean(&t.queue_ms, 5, 40);
            let rate = Trace::mean(&t.sent_kbps, 5, 40);
            assert!(delay <= 100.0, "queue {delay:.0} ms: {:?}", t.queue_ms);
            assert!(rate >= 0.85 * 500.0, "{rate:.0} kbit/s: {:?}", t.sent_kbps);
        }
        // Loss alone fills the buffer before it acts: the case for the delay signal.
        let loss_only = calls(queue(500.0, vec![]), 40, false);
        assert!(loss_only
            .iter()
            .any(|t| t.queue_ms.iter().any(|&q| q > 500.0)));
    }

    #[test]
    fn a_halved_capacity_drains_within_2_s_and_a_doubled_one_is_used_within_5_s() {
        for t in calls(queue(1000.0, vec![(20.0, 500.0)]), 30, true) {
            let after = &t.queue_ms[22..];
            assert!(
                after.iter().all(|&q| q < 100.0),
                "queue after halving: {:?}",
                t.queue_ms
            );
        }
        for t in calls(queue(500.0, vec![(20.0, 1000.0)]), 30, true) {
            let reached = t
                .targets
                .iter()
                .find(|&&(at, kbps)| at >= 20.0 && kbps >= 850.0)
                .map(|&(at, _)| at);
            assert!(
                reached.is_some_and(|at| at <= 25.0),
                "85 % of the doubled capacity at {reached:?}: {:?}",
                t.sent_kbps
            );
        }
    }

    #[test]
    fn settles_just_under_a_policer() {
        for feedback in [true, false] {
            for cap in [300.0, 800.0] {
                let path = Path {
                    policer_kbps: Some(cap),
                    ..Path::default()
                };
                let runs = calls(path, 40, feedback);
                let mean = runs
                    .iter()
                    .map(|t| Trace::mean(&t.sent_kbps, 10, 40))
                    .sum::<f64>()
                    / 3.0;
                assert!(
                    mean <= cap && mean >= 0.85 * cap,
                    "cap {cap}, transport feedback {feedback}: mean {mean:.0} kbit/s"
                );
            }
        }
    }

    /// What `tests/network.rs` checks on a real pipeline over UDP, here in stream time: from 1
    /// Mbit/s, under a
    /// 300 kbit/s policer within 5 s (each second from 5 to 10 at most 10 % over, their mean
    /// under it), and within 10 s of it lifting at 10 s a target no longer what limits the
    /// encoder.
    #[test]
    fn settles_under_a_policer_within_5_s_and_recovers_within_10_s_of_its_lifting() {
        let path = Path {
            policer_kbps: Some(300.0),
            changes: vec![(10.0, 1e9)],
            ..Path::default()
        };
        for t in calls_from(1000.0, path, 22, true) {
            let capped = &t.sent_kbps[5..10];
            assert!(capped.iter().all(|&k| k <= 330.0), "{capped:?}");
            assert!(Trace::mean(capped, 0, 5) <= 300.0, "{capped:?}");
            let recovered = t.targets.iter().find(|&&(at, target)| {
                let second = at as usize;
                at >= 10.0
                    && target >= 1.2 * t.sent_kbps[second - 1]
                    && t.sent_kbps[second - 1] > 500.0
            });
            assert!(
                recovered.is_some_and(|&(at, _)| at <= 20.0),
                "never recovered: {:?}",
                t.sent_kbps
            );
        }
    }
}

#[cfg(test)]
mod receivers {
    use super::*;

    /// `seconds` of 30 frames a second at `kbps` from `from`, one packet each, the queue
    /// growing `growth_ms` a frame; arrivals `offset` seconds after sending (the clocks'
    /// difference plus the path).
    fn frames(
        from: f64,
        seconds: f64,
        kbps: f64,
        growth_ms: f64,
        offset: f64,
    ) -> Vec<PacketResult> {
        let n = (seconds * 30.0) as usize;
        (0..n)
            .map(|i| {
                let sent_at = from + i as f64 / 30.0;
                PacketResult {
                    sent_at,
                    arrived_at: Some(sent_at + offset + growth_ms * sent_at * 30.0 / 1000.0),
                    size: (kbps * 1000.0 / 8.0 / 30.0) as u32,
                }
            })
            .collect()
    }

    /// Feeds each receiver a tenth of a second at a time; returns the targets.
    fn feed(c: &mut RateController, from: f64, seconds: f64, receivers: &[(u32, f64)]) -> Vec<f64> {
        let mut targets = Vec::new();
        for step in 0..(seconds * 10.0) as usize {
            let at = from + step as f64 / 10.0;
            for &(ssrc, growth_ms) in receivers {
                let kbps = c.target_kbps();
                c.on_transport_feedback(ssrc, at + 0.1, &frames(at, 0.1, kbps, growth_ms, 0.05));
            }
            targets.push(c.target_kbps());
        }
        targets
    }

    #[test]
    fn the_slowest_receiver_sets_the_target() {
        let mut c = RateController::new(10.0, 2000.0, 1000.0);
        feed(&mut c, 0.0, 2.0, &[(1, 0.0), (2, 4.0)]);
        let slow = c.receivers[&2].delay.estimate_kbps();
        let fast = c.receivers[&1].delay.estimate_kbps();
        assert!(
            slow < 1000.0 && fast > slow,
            "fast {fast:.0}, slow {slow:.0}"
        );
        assert_eq!(c.target_kbps(), slow);
        assert_eq!(c.reason(), Reason::Delay(Usage::Overuse));
    }

    #[test]
    fn a_receiver_that_falls_silent_holds_then_stops_counting_without_a_jump() {
        let mut c = RateController::new(100.0, 2000.0, 1000.0);
        feed(&mut c, 0.0, 4.0, &[(1, 0.0), (2, 4.0)]);
        let held = c.target_kbps();
        // Receiver 2 falls silent: its estimate holds the target for STALE_S seconds.
        let targets = feed(&mut c, 4.0, STALE_S - 0.5, &[(1, 0.0)]);
        assert!(targets.iter().all(|&t| t == held), "{targets:?}");
        // Then it no longer counts, and the target grows from where it was.
        let targets = feed(&mut c, 4.0 + STALE_S - 0.5, 3.0, &[(1, 0.0)]);
        assert!(!c.receivers.contains_key(&2));
        let mut before = held;
        for &t in &targets {
            assert!(t <= before * 1.1 && t >= before, "{held} then {targets:?}");
            before = t;
        }
    }

    #[test]
    fn impossible_arrival_times_and_a_long_silence_move_nothing() {
        let mut c = RateController::new(100.0, 2000.0, 1000.0);
        feed(&mut c, 0.0, 2.0, &[(1, 0.0)]);
        let before = c.target_kbps();
        // Arrivals a million seconds late, then back in the past: no queue, no cut.
        for offset in [1e6, -1e6, 0.05] {
            let usage = c.on_transport_feedback(1, 2.1, &frames(2.0, 0.1, before, 0.0, offset));
            assert_ne!(usage, Usage::Overuse);
        }
        assert!(c.target_kbps() >= before);
        // A minute without feedback, then a clean message: growth for half a second at most.
        let before = c.target_kbps();
        c.on_transport_feedback(1, 62.2, &frames(62.1, 0.1, before, 0.0, 0.05));
        assert!(c.target_kbps() <= before * delay::GROWTH_FAR.powf(0.5) + 1e-9);
    }
}
