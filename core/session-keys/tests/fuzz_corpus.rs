// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! The committed `fuzz/corpus/hear` replayed through the fuzz target's own body; with
//! `PIXELMEET_WRITE_SEEDS=1` the seeds are written first. `scripts/test.sh` runs this again in
//! the `checked` profile, with overflow checks on.

#[path = "../fuzz/fuzz_targets/common.rs"]
mod fuzz;

use session_keys::{Freshness, Keyring, MeetingKey};

/// Datagrams framed as the target reads them: two-byte length, then the bytes.
fn framed(datagrams: &[Vec<u8>]) -> Vec<u8> {
    datagrams
        .iter()
        .flat_map(|d| (d.len() as u16).to_be_bytes().into_iter().chain(d.clone()))
        .collect()
}

/// Announcements of another meeting key, whole, cut short and altered, and media.
fn seeds() -> Vec<(&'static str, Vec<u8>)> {
    let mut other = Keyring::new(MeetingKey::from_bytes([9; 30]), Freshness::Challenge).unwrap();
    other.set_ssrcs(&[1, 2, 3]);
    let whole = other.announcement(1_000_000);
    let mut altered = whole.clone();
    altered[20] ^= 0x40;
    let rtp = vec![0x80, 96, 0, 1, 0, 0, 0, 90, 0, 0, 0, 7, 1, 2, 3];
    vec![
        (
            "seed-other-meeting-key",
            framed(std::slice::from_ref(&whole)),
        ),
        (
            "seed-cut-short",
            framed(&[whole[..40].to_vec(), whole[..4].to_vec()]),
        ),
        ("seed-altered-and-media", framed(&[altered, rtp, whole])),
    ]
}

#[test]
fn the_hear_corpus_replays_without_a_panic() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/hear");
    if std::env::var_os("PIXELMEET_WRITE_SEEDS").is_some() {
        for (name, data) in seeds() {
            std::fs::write(dir.join(name), data).unwrap();
        }
    }
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(files.len() >= 3, "the hear corpus is missing");
    for path in files {
        let data = std::fs::read(&path).unwrap();
        let replay = std::panic::catch_unwind(|| fuzz::hear(&data));
        assert!(replay.is_ok(), "{} panicked", path.display());
    }
}
