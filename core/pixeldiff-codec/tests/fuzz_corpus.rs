// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! The committed corpora of `fuzz/` (`decode`, `decode_resealed`), replayed through the fuzz
//! targets' own bodies by the normal `cargo test`; `scripts/test.sh` runs this once more in the
//! `checked` profile, with overflow checks on. Nothing may panic.

#[path = "../fuzz/fuzz_targets/common.rs"]
mod fuzz;

fn corpus(target: &str) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let data = std::fs::read(&p).unwrap();
            (p, data)
        })
        .collect()
}

#[test]
fn the_decode_corpora_replay_without_a_panic() {
    for (target, run) in [
        ("decode", fuzz::decode as fn(&[u8])),
        ("decode_resealed", fuzz::decode_resealed),
    ] {
        let inputs = corpus(target);
        assert!(inputs.len() >= 5, "the {target} corpus is missing");
        for (path, data) in inputs {
            let replay = std::panic::catch_unwind(|| run(&data));
            assert!(replay.is_ok(), "{target}: {} panicked", path.display());
        }
    }
}
