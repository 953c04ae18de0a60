// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! The delay-based estimate: a queue that fills is congestion, loss without a growing queue is
//! not. It follows the delay-based half of Google Congestion Control
//! (draft-ietf-rmcat-gcc-02; libwebrtc's trendline variant), fed by transport-wide feedback:
//!
//! - packets sent within [`BURST_MS`] of each other form a group (a frame's packets leave
//!   together); between consecutive groups, the arrival spacing minus the send spacing is how
//!   much the queue grew;
//! - the accumulated growth, smoothed, over the last [`TREND_WINDOW`] groups gives a slope by
//!   least squares: the *trend*;
//! - the trend against an adaptive threshold tells overuse (the queue grows), underuse (it
//!   drains) or normal;
//! - the estimate reacts AIMD: overuse cuts it to [`BETA`] of what was delivered (less while a
//!   standing queue has to drain), underuse holds, normal grows (8 % a second near the
//!   capacity seen at the last cut, 25 % beyond it) but never beyond 1.5 x what was delivered.
//!
//! Besides the trend it keeps the *queue delay*: one-way delay (arrival on the receiver's clock
//! minus send time on ours) less the smallest seen in the last [`BASE_WINDOW_S`] seconds. The
//! clocks' offset cancels out.

use std::collections::VecDeque;

/// Packets sent within this many milliseconds of a group's first belong to it.
pub const BURST_MS: f64 = 5.0;
/// Groups the trend's slope is fitted over.
pub const TREND_WINDOW: usize = 20;
/// Weight of the past in the smoothed accumulated delay.
const SMOOTHING: f64 = 0.9;
/// The slope is scaled by this and by the groups seen (up to [`TREND_DELTAS_CAP`]).
const TREND_GAIN: f64 = 4.0;
const TREND_DELTAS_CAP: f64 = 60.0;
/// The overuse threshold starts here (ms of scaled trend) and adapts within the bounds.
const THRESHOLD_START: f64 = 12.5;
const THRESHOLD_MIN: f64 = 6.0;
const THRESHOLD_MAX: f64 = 600.0;
/// How fast the threshold follows the trend up and down (per ms).
const THRESHOLD_UP: f64 = 0.0087;
const THRESHOLD_DOWN: f64 = 0.039;
/// Overuse is declared after the trend stayed above the threshold this long (ms of send time).
const OVERUSE_MS: f64 = 10.0;
/// Share of the delivered rate an overuse cuts to.
pub const BETA: f64 = 0.85;
/// Shortest time between two cuts while overuse lasts (about a round trip), seconds.
const CUT_INTERVAL_S: f64 = 0.2;
/// Lowest share a cut goes to while a standing queue drains.
const BETA_DRAINING: f64 = 0.5;
/// Growth per second near the capacity seen at the last cut, and beyond it.
pub const GROWTH_NEAR: f64 = 1.08;
pub const GROWTH_FAR: f64 = 1.25;
/// Within this multiple of the capacity seen at the last cut, growth is [`GROWTH_NEAR`]; once
/// more than this gets delivered, the old capacity is forgotten.
const NEAR_CAPACITY: f64 = 1.1;
/// The estimate stays within this multiple of what was delivered (plus [`AHEAD_KBPS`]).
pub const MAX_AHEAD_OF_DELIVERED: f64 = 1.5;
const AHEAD_KBPS: f64 = 10.0;
/// What was delivered is measured over the last this many seconds of arrivals.
const DELIVERED_WINDOW_S: f64 = 0.5;
/// The base one-way delay is the smallest seen over this many seconds.
pub const BASE_WINDOW_S: f64 = 30.0;
/// Longest time credited to growth between two feedback messages (feedback may stall).
const MAX_GROWTH_STEP_S: f64 = 0.5;
/// Arrival spacing differing from send spacing by more than this is not a queue but a clock
/// jump or a forged time: the chain of groups starts over.
const IMPOSSIBLE_S: f64 = 3.0;

/// One packet as transport-wide feedback reports it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PacketResult {
    /// Seconds on the sender's clock when it left.
    pub sent_at: f64,
    /// Seconds on the receiver's clock when it arrived; `None`: reported lost.
    pub arrived_at: Option<f64>,
    /// Bytes on the wire.
    pub size: u32,
}

/// What the trend says about the queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Usage {
    Normal,
    /// The queue grows: the path carries less than is sent.
    Overuse,
    /// The queue drains.
    Underuse,
}

impl Usage {
    pub fn name(self) -> &'static str {
        match self {
            Usage::Normal => "normal",
            Usage::Overuse => "overuse",
            Usage::Underuse => "underuse",
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct Group {
    first_sent: f64,
    last_sent: f64,
    last_arrival: f64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Hold,
    Increase,
}

#[derive(Clone, Debug)]
pub struct DelayEstimator {
    estimate_kbps: f64,
    // Groups.
    group: Option<Group>,
    previous: Option<Group>,
    // Trend.
    accumulated_ms: f64,
    smoothed_ms: f64,
    history: VecDeque<(f64, f64)>,
    first_arrival: Option<f64>,
    deltas: f64,
    trend: f64,
    // Detector.
    threshold: f64,
    threshold_updated: Option<f64>,
    overusing_ms: Option<f64>,
    overuse_count: u32,
    previous_trend: f64,
    usage: Usage,
    // Rate.
    phase: Phase,
    capacity_kbps: Option<f64>,
    last_update: Option<f64>,
    last_cut: Option<f64>,
    /// (arrival, bytes) of the last [`DELIVERED_WINDOW_S`] of arrivals, their bits, the newest.
    delivered: VecDeque<(f64, u32)>,
    delivered_bits: f64,
    newest_arrival: f64,
    delivered_kbps: Option<f64>,
    // Queue delay: (arrival, one-way delay) minima, oldest first.
    one_way: VecDeque<(f64, f64)>,
    queue_delay_ms: f64,
}

impl DelayEstimator {
    pub fn new(start_kbps: f64) -> Self {
        DelayEstimator {
            estimate_kbps: start_kbps,
            group: None,
            previous: None,
            accumulated_ms: 0.0,
            smoothed_ms: 0.0,
            history: VecDeque::with_capacity(TREND_WINDOW + 1),
            first_arrival: None,
            deltas: 0.0,
            trend: 0.0,
            threshold: THRESHOLD_START,
            threshold_updated: None,
            overusing_ms: None,
            overuse_count: 0,
            previous_trend: 0.0,
            usage: Usage::Normal,
            phase: Phase::Increase,
            capacity_kbps: None,
            last_update: None,
            last_cut: None,
            delivered: VecDeque::new(),
            delivered_bits: 0.0,
            newest_arrival: f64::MIN,
            delivered_kbps: None,
            one_way: VecDeque::new(),
            queue_delay_ms: 0.0,
        }
    }

    pub fn estimate_kbps(&self) -> f64 {
        self.estimate_kbps
    }

    /// Caps the estimate (the limits, or another signal's lower target it should not grow
    /// from far above).
    pub fn limit(&mut self, max_kbps: f64) {
        self.estimate_kbps = self.estimate_kbps.min(max_kbps);
    }

    pub fn usage(&self) -> Usage {
        self.usage
    }

    /// The last scaled trend and the threshold it is judged against (ms).
    pub fn trend(&self) -> (f64, f64) {
        (self.trend, self.threshold)
    }

    /// Queueing delay of the newest packet, in ms.
    pub fn queue_delay_ms(&self) -> f64 {
        self.queue_delay_ms
    }

    /// What the receiver got over the last half second of arrivals, in kbit/s.
    pub fn delivered_kbps(&self) -> Option<f64> {
        self.delivered_kbps
    }

    /// One feedback message's packets, in sending order, received at `now` (seconds, the
    /// sender's clock). Returns the usage it left the detector in.
    pub fn on_feedback(&mut self, now: f64, packets: &[PacketResult]) -> Usage {
        for p in packets {
            if let Some(arrived) = p.arrived_at {
                self.on_arrival(p.sent_at, arrived, p.size);
            }
        }
        self.measure_delivered();
        self.update_rate(now);
        self.usage
    }

    fn on_arrival(&mut self, sent: f64, arrived: f64, size: u32) {
        self.note_one_way(arrived, arrived - sent);
        self.note_delivered(arrived, size);
        let Some(mut group) = self.group else {
            self.group = Some(Group {
                first_sent: sent,
                last_sent: sent,
                last_arrival: arrived,
            });
            return;
        };
        if sent < group.first_sent {
            // Sent before this group (reordered on the way): says nothing about the queue now.
            return;
        }
        if (sent - group.first_sent) * 1000.0 <= BURST_MS {
            group.last_sent = group.last_sent.max(sent);
            group.last_arrival = group.last_arrival.max(arrived);
            self.group = Some(group);
            return;
        }
        if let Some(previous) = self.previous {
            let send_delta = group.last_sent - previous.last_sent;
            let arrival_delta = group.last_arrival - previous.last_arrival;
            if (arrival_delta - send_delta).abs() > IMPOSSIBLE_S {
                self.previous = None;
                self.group = None;
                return;
            }
            if arrival_delta >= 0.0 {
                self.on_group_delta(send_delta * 1000.0, arrival_delta * 1000.0, group);
            }
        }
        self.previous = Some(group);
        self.group = Some(Group {
            first_sent: sent,
            last_sent: sent,
            last_arrival: arrived,
        });
    }

    fn note_one_way(&mut self, arrived: f64, one_way: f64) {
        while self.one_way.back().is_some_and(|&(_, d)| d >= one_way) {
            self.one_way.pop_back();
        }
        self.one_way.push_back((arrived, one_way));
        while self
            .one_way
            .front()
            .is_some_and(|&(t, _)| t < arrived - BASE_WINDOW_S)
        {
            self.one_way.pop_front();
        }
        let base = self.one_way.front().map_or(one_way, |&(_, d)| d);
        self.queue_delay_ms = (one_way - base) * 1000.0;
    }

    fn note_delivered(&mut self, arrived: f64, size: u32) {
        self.delivered.push_back((arrived, size));
        self.delivered_bits += size as f64 * 8.0;
        self.newest_arrival = self.newest_arrival.max(arrived);
        while let Some(&(t, bytes)) = self.delivered.front() {
            if t >= self.newest_arrival - DELIVERED_WINDOW_S {
                break;
            }
            self.delivered.pop_front();
            self.delivered_bits -= bytes as f64 * 8.0;
        }
    }

    /// What arrived over the window, once a quarter of it is covered (two packets are no rate).
    fn measure_delivered(&mut self) {
        let Some(&(oldest, _)) = self.delivered.front() else {
            return;
        };
        let span = self.newest_arrival - oldest;
        if span >= DELIVERED_WINDOW_S / 4.0 {
            self.delivered_kbps = Some(self.delivered_bits / span.max(DELIVERED_WINDOW_S) / 1000.0);
        }
    }

    fn on_group_delta(&mut self, send_delta_ms: f64, arrival_delta_ms: f64, group: Group) {
        let arrival_ms = group.last_arrival * 1000.0;
        let first = *self.first_arrival.get_or_insert(arrival_ms);
        self.deltas = (self.deltas + 1.0).min(1000.0);
        self.accumulated_ms += arrival_delta_ms - send_delta_ms;
        self.smoothed_ms = SMOOTHING * self.smoothed_ms + (1.0 - SMOOTHING) * self.accumulated_ms;
        self.history
            .push_back((arrival_ms - first, self.smoothed_ms));
        if self.history.len() > TREND_WINDOW {
            self.history.pop_front();
        }
        if self.history.len() == TREND_WINDOW {
            let slope = slope(&self.history).unwrap_or(0.0);
            self.trend = self.deltas.min(TREND_DELTAS_CAP) * slope * TREND_GAIN;
        }
        self.detect(send_delta_ms, arrival_ms);
    }

    fn detect(&mut self, send_delta_ms: f64, now_ms: f64) {
        let trend = self.trend;
        if trend > self.threshold {
            let over = match self.overusing_ms {
                None => send_delta_ms / 2.0,
                Some(ms) => ms + send_delta_ms,
            };
            self.overusing_ms = Some(over);
            self.overuse_count += 1;
            if over > OVERUSE_MS && self.overuse_count > 1 && trend >= self.previous_trend {
                self.overusing_ms = Some(0.0);
                self.overuse_count = 0;
                self.usage = Usage::Overuse;
            }
        } else {
            self.overusing_ms = None;
            self.overuse_count = 0;
            self.usage = if trend < -self.threshold {
                Usage::Underuse
            } else {
                Usage::Normal
            };
        }
        self.previous_trend = trend;
        // The threshold follows the trend (fast down, slowly up) but not a spike far above it.
        let since = self
            .threshold_updated
            .map_or(0.0, |t| (now_ms - t).clamp(0.0, 100.0));
        self.threshold_updated = Some(now_ms);
        let magnitude = trend.abs();
        if magnitude <= self.threshold + 15.0 {
            let k = if magnitude < self.threshold {
                THRESHOLD_DOWN
            } else {
                THRESHOLD_UP
            };
            self.threshold = (self.threshold + k * (magnitude - self.threshold) * since)
                .clamp(THRESHOLD_MIN, THRESHOLD_MAX);
        }
    }

    fn update_rate(&mut self, now: f64) {
        let dt = self
            .last_update
            .map_or(0.0, |t| (now - t).clamp(0.0, MAX_GROWTH_STEP_S));
        self.last_update = Some(now);
        let delivered = self.delivered_kbps;
        match self.usage {
            Usage::Overuse => {
                // Cut from what got through, deeper while a standing queue must drain: a
                // second of queue needs a second at half the capacity.
                // At most one cut per round trip while the overuse lasts.
                if self.last_cut.is_some_and(|t| now - t < CUT_INTERVAL_S) {
                    return;
                }
                self.last_cut = Some(now);
                let beta = (BETA - self.queue_delay_ms / 1000.0).max(BETA_DRAINING);
                let base = delivered.unwrap_or(self.estimate_kbps);
                self.estimate_kbps = self.estimate_kbps.min(beta * base);
                self.capacity_kbps = Some(match (self.capacity_kbps, delivered) {
                    (Some(c), Some(d)) => 0.5 * (c + d),
                    (_, d) => d.unwrap_or(base),
                });
                self.phase = Phase::Hold;
            }
            Usage::Underuse => self.phase = Phase::Hold,
            Usage::Normal if self.phase == Phase::Hold => self.phase = Phase::Increase,
            Usage::Normal => {
                if let (Some(c), Some(d)) = (self.capacity_kbps, delivered) {
                    if d > NEAR_CAPACITY * c {
                        self.capacity_kbps = None;
                    }
                }
                let near = self
                    .capacity_kbps
                    .is_some_and(|c| self.estimate_kbps < NEAR_CAPACITY * c);
                let growth = if near { GROWTH_NEAR } else { GROWTH_FAR };
                let grown = self.estimate_kbps * growth.powf(dt);
                let bound = delivered.map_or(grown, |d| MAX_AHEAD_OF_DELIVERED * d + AHEAD_KBPS);
                // Growth never lowers the estimate (a still picture delivers little).
                self.estimate_kbps = grown.min(bound).max(self.estimate_kbps);
            }
        }
    }
}

/// Least-squares slope of (x, y) points; `None` when x does not vary.
fn slope(points: &VecDeque<(f64, f64)>) -> Option<f64> {
    let n = points.len() as f64;
    let (sx, sy) = points
        .iter()
        .fold((0.0, 0.0), |(sx, sy), &(x, y)| (sx + x, sy + y));
    let (mx, my) = (sx / n, sy / n);
    let (num, den) = points.iter().fold((0.0, 0.0), |(num, den), &(x, y)| {
        (num + (x - mx) * (y - my), den + (x - mx) * (x - mx))
    });
    (den > 0.0).then(|| num / den)
}
