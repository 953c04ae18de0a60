// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! What `pixeldiffadapt` does with an RTCP packet from the network: `report_blocks` parses the
//! compound packet, and every block becomes a `Feedback` for a `LossController`, built as the
//! element builds it (loss = fraction / 256, jitter in 90 kHz ticks, packets from the step of
//! the reporter's highest sequence number). The input starts with 12 bytes of settings
//! (`common::RtcpInput`: min/max bitrate, what the encoder sent, the time between reports).
//!
//! Must hold: no panic; no more blocks than 24-byte slots in the input; after every report the
//! target is finite and within min..=max.

#![no_main]

use std::collections::HashMap;

use libfuzzer_sys::fuzz_target;

mod common;

use rate_control::loss::{Feedback, LossController};
use rate_control::rtcp::report_blocks;

/// `pixeldiffadapt`'s conversion of interarrival jitter (90 kHz video clock) to milliseconds.
const TICKS_PER_MS: f64 = 90.0;

fuzz_target!(|data: &[u8]| {
    let input = common::RtcpInput::parse(data);
    let blocks = report_blocks(input.rtcp);
    assert!(
        blocks.len() * 24 <= input.rtcp.len(),
        "{} blocks",
        blocks.len()
    );

    let mut c = LossController::new(
        input.min_kbps as f64,
        input.max_kbps as f64,
        input.max_kbps as f64,
    );
    let check = |c: &LossController, what: &dyn std::fmt::Debug| {
        let t = c.target_kbps();
        let (min, max) = c.limits();
        assert!(
            t.is_finite() && t >= min && t <= max,
            "target {t} outside {min}..={max} after {what:?}"
        );
    };
    check(&c, &"new");
    let mut highest_seq: HashMap<u32, u32> = HashMap::new();
    let mut at = 0.0;
    for b in &blocks {
        let sent_kbps = if input.sent_follows_target {
            c.target_kbps() * input.sent_factor
        } else {
            input.sent_kbps
        };
        let packets = highest_seq
            .insert(b.sender_ssrc, b.highest_seq)
            .map(|n| b.highest_seq.wrapping_sub(n))
            .filter(|&n| n < 1 << 16)
            .unwrap_or(0);
        let f = Feedback {
            at,
            loss: b.fraction_lost as f64 / 256.0,
            jitter_ms: b.jitter as f64 / TICKS_PER_MS,
            sent_kbps,
            packets,
        };
        c.on_feedback(&f);
        check(&c, &f);
        at += input.step_s;
    }
});
