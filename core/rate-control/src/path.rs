// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! A modelled network path and a call over it, in stream time, for the tests and `adapt-bench`:
//! what the controller does is measurable without a network, and the same run twice gives the
//! same numbers.
//!
//! The path is a bottleneck with a drop-tail **queue** (capacity in kbit/s, buffer depth in ms;
//! the capacity may change at given seconds), optionally a token-bucket **policer** in front
//! (netsim's `max-kbps`: no buffer, what exceeds is dropped) and **random loss** after it, plus
//! a fixed propagation delay.
//!
//! The call: an encoder at 30 frames a second whose rate follows its target within a few
//! hundred ms (as `pixeldiffenc`'s does), each frame's packets (up to 1200 bytes) leaving
//! together; a receiver report every 500 ms (loss fraction in 1/256, interarrival jitter as RFC
//! 3550 computes it); with transport-wide feedback, a message every 100 ms about every packet up
//! to the newest that arrived. Feedback comes back over an uncongested path.

use crate::delay::PacketResult;
use crate::loss::Feedback;
use crate::RateController;

/// The path's properties.
#[derive(Clone, Debug, PartialEq)]
pub struct Path {
    /// Capacity of the bottleneck, kbit/s (`f64::INFINITY`: none).
    pub capacity_kbps: f64,
    /// Its buffer: a packet that would wait longer than this is dropped, ms.
    pub buffer_ms: f64,
    /// (second, new rate): the policer's rate, or else the bottleneck's capacity, changes
    /// mid-call.
    pub changes: Vec<(f64, f64)>,
    /// A token-bucket policer in front of the queue, kbit/s.
    pub policer_kbps: Option<f64>,
    /// Fraction of packets lost at random after the queue.
    pub random_loss: f64,
    /// One-way propagation delay, ms.
    pub base_delay_ms: f64,
}

impl Default for Path {
    fn default() -> Self {
        Path {
            capacity_kbps: f64::INFINITY,
            buffer_ms: 0.0,
            changes: Vec::new(),
            policer_kbps: None,
            random_loss: 0.0,
            base_delay_ms: 20.0,
        }
    }
}

/// Policer bucket depth, kbit: a few packets of burst.
const POLICER_BURST_KBIT: f64 = 60.0;

impl Path {
    /// The bottleneck's capacity and the policer's rate at second `t`.
    pub fn rates_at(&self, t: f64) -> (f64, Option<f64>) {
        let changed = self
            .changes
            .iter()
            .rfind(|&&(at, _)| at <= t)
            .map(|&(_, rate)| rate);
        match (self.policer_kbps, changed) {
            (Some(_), Some(rate)) => (self.capacity_kbps, Some(rate)),
            (policer, Some(rate)) => (rate, policer),
            (policer, None) => (self.capacity_kbps, policer),
        }
    }
}

/// What happened to one packet.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Delivery {
    /// When it arrived, seconds; `None`: lost.
    pub arrived_at: Option<f64>,
    /// How long it waited in the bottleneck's queue, ms (0 when dropped before it).
    pub queued_ms: f64,
}

/// A path carrying packets: the queue's and the policer's state, and the random source.
#[derive(Clone, Debug)]
pub struct Link {
    path: Path,
    /// When the bottleneck is free to send the next packet.
    free_at: f64,
    bucket_kbit: f64,
    bucket_at: f64,
    rng: u64,
}

impl Link {
    pub fn new(path: Path, seed: u64) -> Self {
        Link {
            path,
            free_at: 0.0,
            bucket_kbit: POLICER_BURST_KBIT,
            bucket_at: 0.0,
            rng: seed,
        }
    }

    fn uniform(&mut self) -> f64 {
        self.rng = self
            .rng
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.rng >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A packet of `bytes` entering the path at second `at` (in sending order).
    pub fn send(&mut self, at: f64, bytes: u32) -> Delivery {
        let kbit = bytes as f64 * 8.0 / 1000.0;
        let lost = Delivery {
            arrived_at: None,
            queued_ms: 0.0,
        };
        let (capacity, policer) = self.path.rates_at(at);
        if let Some(rate) = policer {
            self.bucket_kbit =
                (self.bucket_kbit + rate * (at - self.bucket_at)).min(POLICER_BURST_KBIT);
            self.bucket_at = at;
            if self.bucket_kbit < kbit {
                return lost;
            }
            self.bucket_kbit -= kbit;
        }
        let start = self.free_at.max(at);
        let queued_ms = (start - at) * 1000.0;
        if capacity.is_finite() {
            if queued_ms > self.path.buffer_ms {
                return lost;
            }
            self.free_at = start + kbit / capacity;
        }
        if self.uniform() < self.path.random_loss {
            return Delivery {
                arrived_at: None,
                queued_ms,
            };
        }
        let serialised = if capacity.is_finite() {
            kbit / capacity
        } else {
            0.0
        };
        Delivery {
            arrived_at: Some(start + serialised + self.path.base_delay_ms / 1000.0),
            queued_ms,
        }
    }
}

/// A call to model.
#[derive(Clone, Debug)]
pub struct Call {
    pub path: Path,
    pub seconds: usize,
    pub seed: u64,
    pub min_kbps: f64,
    pub max_kbps: f64,
    /// Where the target starts.
    pub start_kbps: f64,
    /// Whether the receiver sends transport-wide feedback (else: loss from reports only).
    pub transport_feedback: bool,
}

impl Call {
    pub fn new(path: Path, seconds: usize, seed: u64) -> Self {
        Call {
            path,
            seconds,
            seed,
            min_kbps: 100.0,
            max_kbps: 3000.0,
            start_kbps: crate::DEFAULT_START_KBPS,
            transport_feedback: true,
        }
    }
}

/// What a modelled call measured.
#[derive(Clone, Debug, Default)]
pub struct Trace {
    /// kbit/s the encoder sent, per second.
    pub sent_kbps: Vec<f64>,
    /// kbit/s that arrived, per second of sending.
    pub delivered_kbps: Vec<f64>,
    /// Mean queueing delay of the packets sent in each second that got through, ms.
    pub queue_ms: Vec<f64>,
    /// (second, target kbit/s) after each decision.
    pub targets: Vec<(f64, f64)>,
    /// Why, for each of `targets`.
    pub reasons: Vec<crate::Reason>,
}

impl Trace {
    /// Mean of `per_second[from..to]`.
    pub fn mean(per_second: &[f64], from: usize, to: usize) -> f64 {
        let window = &per_second[from.min(per_second.len())..to.min(per_second.len())];
        window.iter().sum::<f64>() / window.len().max(1) as f64
    }

    /// Mean target over seconds `from..to`, weighting each target by how long it held.
    pub fn mean_target(&self, from: f64, to: f64) -> f64 {
        let mut total = 0.0;
        for (i, &(t, kbps)) in self.targets.iter().enumerate() {
            let next = self.targets.get(i + 1).map_or(to, |&(n, _)| n);
            let span = next.min(to) - t.max(from);
            if span > 0.0 {
                total += kbps * span;
            }
        }
        total / (to - from)
    }
}

const FPS: f64 = 30.0;
const MAX_PACKET: f64 = 1200.0;
const TICK: f64 = 0.01;
const REPORT_EVERY_S: f64 = 0.5;
const FEEDBACK_EVERY_S: f64 = 0.1;

/// A packet on its way: (sent at, bytes, delivery).
type InFlight = (f64, u32, Delivery);

/// Runs `call` and measures it.
pub fn simulate(call: &Call) -> Trace {
    let mut controller = RateController::new(call.min_kbps, call.max_kbps, call.start_kbps);
    let mut link = Link::new(call.path.clone(), call.seed.wrapping_add(1));
    let return_delay = call.path.base_delay_ms / 1000.0;
    let mut trace = Trace::default();
    let seconds = call.seconds;
    trace.sent_kbps = vec![0.0; seconds];
    trace.delivered_kbps = vec![0.0; seconds];
    let mut queued = vec![(0.0, 0u32); seconds];

    let mut rate = call.start_kbps;
    let mut next_frame = 0.0;
    let mut packets: Vec<InFlight> = Vec::new();
    // Packets the next report and the next transport-wide feedback start from.
    let (mut reported, mut fed_back) = (0usize, 0usize);
    let mut jitter_s = 0.0f64;
    let mut last_transit: Option<f64> = None;
    // Feedback on its way back: (arrives at, what).
    let mut returning: Vec<(f64, Returning)> = Vec::new();

    let ticks = (seconds as f64 / TICK).round() as usize;
    for tick in 1..=ticks {
        let now = tick as f64 * TICK;
        rate += (controller.target_kbps() - rate) * 0.03;
        while next_frame <= now {
            let mut bits = rate * 1000.0 / FPS;
            while bits > 0.0 {
                let bytes = (bits / 8.0).clamp(100.0, MAX_PACKET);
                bits -= bytes * 8.0;
                let delivery = link.send(next_frame, bytes as u32);
                let second = (next_frame as usize).min(seconds - 1);
                trace.sent_kbps[second] += bytes * 8.0 / 1000.0;
                if delivery.arrived_at.is_some() {
                    trace.delivered_kbps[second] += bytes * 8.0 / 1000.0;
                    queued[second].0 += delivery.queued_ms;
                    queued[second].1 += 1;
                }
                packets.push((next_frame, bytes as u32, delivery));
            }
            next_frame += 1.0 / FPS;
        }
        let arrived_by = |p: &InFlight| p.2.arrived_at.is_some_and(|a| a <= now);
        if call.transport_feedback && tick % (FEEDBACK_EVERY_S / TICK).round() as usize == 0 {
            // Up to the newest packet that arrived; lost ones before it are reported lost.
            if let Some(last) = packets[fed_back..].iter().rposition(arrived_by) {
                let results = packets[fed_back..=fed_back + last]
                    .iter()
                    .map(|&(sent_at, size, d)| PacketResult {
                        sent_at,
                        arrived_at: d.arrived_at,
                        size,
                    })
                    .collect();
                fed_back += last + 1;
                returning.push((now + return_delay, Returning::Transport(results)));
            }
        }
        if tick % (REPORT_EVERY_S / TICK).round() as usize == 0 {
            // A receiver knows of packets up to the newest that arrived.
            if let Some(last) = packets[reported..].iter().rposition(arrived_by) {
                let upto = reported + last + 1;
                let window = &packets[reported..upto];
                for &(sent_at, _, d) in window {
                    if let Some(a) = d.arrived_at {
                        let transit = a - sent_at;
                        if let Some(last) = last_transit {
                            jitter_s += ((transit - last).abs() - jitter_s) / 16.0;
                        }
                        last_transit = Some(transit);
                    }
                }
                let lost = window.iter().filter(|p| p.2.arrived_at.is_none()).count();
                let fraction = ((lost * 256) / window.len()).min(255) as f64 / 256.0;
                let second = now as usize;
                let sent_kbps = if second >= 1 {
                    trace.sent_kbps[second - 1]
                } else {
                    rate
                };
                returning.push((
                    now + return_delay,
                    Returning::Report(Feedback {
                        at: now + return_delay,
                        loss: fraction,
                        jitter_ms: jitter_s * 1000.0,
                        sent_kbps,
                        packets: window.len() as u32,
                    }),
                ));
                reported = upto;
            }
        }
        let (due, later): (Vec<_>, Vec<_>) = returning.drain(..).partition(|(at, _)| *at <= now);
        returning = later;
        for (at, what) in due {
            match what {
                Returning::Report(f) => {
                    controller.on_report(&f);
                }
                Returning::Transport(results) => {
                    controller.on_transport_feedback(1, at, &results);
                }
            }
            trace.targets.push((at, controller.target_kbps()));
            trace.reasons.push(controller.reason());
        }
    }
    trace.queue_ms = queued
        .iter()
        .map(|&(sum, n)| if n == 0 { 0.0 } else { sum / n as f64 })
        .collect();
    trace
}

enum Returning {
    Report(Feedback),
    Transport(Vec<PacketResult>),
}
