// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! The fuzz target's body, shared with the corpus replay test (`tests/fuzz_corpus.rs`).

use session_keys::{Freshness, Keyring, MeetingKey, Verdict};

/// Datagrams as they reach a participant's media port (two-byte length, then the bytes), heard
/// in both freshness modes: nothing panics, and no key is taken from bytes this meeting key
/// did not authenticate (the fuzzer cannot forge HMAC-SHA256).
pub fn hear(data: &[u8]) {
    let meeting = MeetingKey::from_bytes([7; 30]);
    for freshness in [Freshness::Challenge, Freshness::Window { ms: 30_000 }] {
        let mut ring = Keyring::new(meeting.clone(), freshness).expect("random numbers");
        let mut rest = data;
        while rest.len() >= 2 {
            let n = (usize::from(u16::from_be_bytes([rest[0], rest[1]]))).min(rest.len() - 2);
            let heard = ring.hear(&rest[2..2 + n], 1_000_000);
            assert!(
                !matches!(
                    heard.verdict,
                    Verdict::Accepted(_) | Verdict::Known | Verdict::Own
                ),
                "a key from unauthenticated bytes"
            );
            rest = &rest[2 + n..];
        }
    }
}
