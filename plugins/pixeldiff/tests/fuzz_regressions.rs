// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! The committed fuzz corpus of `plugins/pixeldiff/fuzz` (and any saved reproducer under its
//! `regressions/`), replayed by the normal `cargo test`:
//!
//! - `rtp_receive` inputs go through the fuzz target's own code (`fuzz_targets/common.rs`,
//!   included below): a harness around `rtppixeldiffdepay ! pixeldiffdec`, one buffer per
//!   length-prefixed datagram. No element may panic (gstreamer-rs turns a panic in an element
//!   into a "Panicked" error message and the element refuses all work after it) and the
//!   receiver must still decode a valid stream pushed afterwards.
//! - The same inputs, and `rtp_receive_resealed`'s reproducers, once more with every chunk's
//!   CRC recomputed first, as `rtp_receive_resealed` runs them.
//! - `rtcp_report_blocks` inputs go through `pixeldiffadapt` itself (report parser and loss
//!   controller as the element runs them; the fuzz target calls them directly): the RTCP passes through unchanged, and the target set on the encoder is
//!   within `min-bitrate..=max-bitrate`.
//!
//! No GLib CRITICAL may be logged meanwhile.

#[path = "../fuzz/fuzz_targets/common.rs"]
mod fuzz_common;

use std::path::{Path, PathBuf};

use fuzz_common::{Replayed, RtcpInput};
use gst::prelude::*;

const FUZZ_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fuzz");

/// A valid stream from the real sender (3 lossless I420 frames, 64x48).
const VALID_STREAM: &[u8] = include_bytes!("../fuzz/corpus/rtp_receive/seed-i420-lossless-smpte");

/// The committed inputs of a target: its corpus (`seed-*`, `min-*`; anything else there is a
/// local fuzzing run's, ignored by git) and its reproducers (`regressions/<target>-*`).
fn committed_inputs(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let corpus = Path::new(FUZZ_DIR).join("corpus").join(target);
    let regressions = Path::new(FUZZ_DIR).join("regressions");
    let regression_prefix = format!("{target}-");
    let mut files = Vec::new();
    for (dir, prefixes) in [
        (&corpus, ["seed-", "min-"]),
        (&regressions, [regression_prefix.as_str(); 2]),
    ] {
        let keep = |name: &str| prefixes.iter().any(|p| name.starts_with(p));
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        for e in entries {
            let path = e.expect("readable directory").path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if path.is_file() && keep(&name) {
                let data = std::fs::read(&path).expect("readable corpus file");
                files.push((path, data));
            }
        }
    }
    files.sort();
    files
}

/// The GLib criticals logged so far must be none (the count is process-wide).
fn assert_no_criticals() {
    let (criticals, _warnings) = fuzz_common::glib_log_counts();
    assert_eq!(criticals, 0, "GLib CRITICAL logged (see stderr)");
}

/// Error messages waiting on `bus`, as text.
fn errors(bus: &gst::Bus) -> Vec<String> {
    std::iter::from_fn(|| bus.pop())
        .filter_map(|m| match m.view() {
            gst::MessageView::Error(e) => Some(format!("{}: {:?}", e.error(), e.debug())),
            _ => None,
        })
        .collect()
}

/// A receiver as the fuzz target builds it, with a bus so element errors can be read.
fn receiver() -> (gst_check::Harness, gst::Bus) {
    let h = fuzz_common::receiver();
    let bus = gst::Bus::new();
    h.element().expect("harness bin").set_bus(Some(&bus));
    (h, bus)
}

/// No element panicked; a valid stream replayed now still decodes.
fn assert_still_usable(h: &mut gst_check::Harness, bus: &gst::Bus, what: &Path) {
    let panics: Vec<String> = errors(bus)
        .into_iter()
        .filter(|e| e.contains("Panicked"))
        .collect();
    assert!(panics.is_empty(), "{}: {panics:?}", what.display());
    let after = fuzz_common::replay(h, VALID_STREAM);
    assert!(
        after.frames >= 1,
        "{}: a valid stream pushed afterwards decodes to nothing ({after:?})",
        what.display()
    );
    let panics: Vec<String> = errors(bus)
        .into_iter()
        .filter(|e| e.contains("Panicked"))
        .collect();
    assert!(panics.is_empty(), "{}: {panics:?}", what.display());
}

#[test]
fn datagram_framing_round_trips() {
    let packets: [&[u8]; 4] = [b"", b"x", &[7; 300], &[1; fuzz_common::MAX_DATAGRAM]];
    let framed = fuzz_common::frame_datagrams(packets);
    assert_eq!(fuzz_common::datagrams(&framed).collect::<Vec<_>>(), packets);
    // A length past the end takes what is there; a lone trailing byte is an empty datagram.
    assert_eq!(
        fuzz_common::datagrams(&[0, 9, 1, 2]).collect::<Vec<_>>(),
        [&[1u8, 2][..]]
    );
    assert_eq!(
        fuzz_common::datagrams(&[0, 1, 5, 3]).collect::<Vec<_>>(),
        [&[5u8][..], &[][..]]
    );
    // Longer than MAX_DATAGRAM: cut, and what follows is read as more datagrams (here 50
    // empty ones: zero lengths).
    let long = [&[0xff, 0xff][..], &[0u8; 2100][..]].concat();
    let cut: Vec<usize> = fuzz_common::datagrams(&long).map(|d| d.len()).collect();
    assert_eq!(cut[0], fuzz_common::MAX_DATAGRAM);
    assert_eq!(cut[1..], [0; 50]);
}

#[test]
fn rtp_receive_corpus_replays_and_the_receiver_recovers() {
    fuzz_common::init();
    let inputs = committed_inputs("rtp_receive");
    assert!(
        inputs.len() >= 10,
        "the committed rtp_receive corpus is missing ({} files)",
        inputs.len()
    );
    for (path, data) in &inputs {
        // A fresh receiver per input, as the fuzz target runs it.
        let (mut h, bus) = receiver();
        let r: Replayed = fuzz_common::replay(&mut h, data);
        let name = path.file_name().unwrap().to_string_lossy();
        if name.starts_with("seed-") {
            // Seeds are real streams: every one decodes (the damaged ones too, from their
            // keyframe).
            assert!(r.frames >= 1, "{name}: {r:?}");
            assert_eq!(r.flow_errors, 0, "{name}: {r:?}");
        }
        assert_still_usable(&mut h, &bus, path);
    }
    assert_no_criticals();
}

#[test]
fn rtp_receive_resealed_replays_and_the_receiver_recovers() {
    fuzz_common::init();
    // The rtp_receive_resealed target takes rtp_receive's corpus, plus its own reproducers.
    let mut inputs = committed_inputs("rtp_receive");
    inputs.extend(committed_inputs("rtp_receive_resealed"));
    for (path, data) in &inputs {
        let (mut h, bus) = receiver();
        fuzz_common::replay(&mut h, &fuzz_common::reseal_datagrams(data));
        assert_still_usable(&mut h, &bus, path);
    }
    assert_no_criticals();
}

#[test]
fn rtp_receive_corpus_through_one_reused_receiver() {
    fuzz_common::init();
    // The fuzz target's PIXELDIFF_FUZZ_REUSE_HARNESS mode: state carries from input to input.
    let (mut h, bus) = receiver();
    for (path, data) in committed_inputs("rtp_receive") {
        fuzz_common::replay(&mut h, &data);
        assert_still_usable(&mut h, &bus, &path);
    }
    assert_no_criticals();
}

/// `pixeldiffadapt` (limits set before it starts, as in a launch line) in the harness's bin
/// together with a `pixeldiffenc` for it to steer. The encoder sends nothing here: its `kbps` is
/// 0, so the controller takes its own target for what was sent.
fn adapt_harness(input: &RtcpInput) -> (gst_check::Harness, gst::Element, gst::Element) {
    let mut h = gst_check::Harness::new_parse(&format!(
        "pixeldiffadapt min-bitrate={} max-bitrate={}",
        input.min_kbps, input.max_kbps
    ));
    let bin = h
        .element()
        .expect("harness bin")
        .downcast::<gst::Bin>()
        .expect("new_parse makes a bin");
    let enc = gst::ElementFactory::make("pixeldiffenc")
        .build()
        .expect("pixeldiffenc");
    bin.add(&enc).expect("added");
    let adapt = h.find_element("pixeldiffadapt").expect("pixeldiffadapt");
    h.set_src_caps_str("application/x-rtcp");
    (h, adapt, enc)
}

#[test]
fn rtcp_corpus_through_pixeldiffadapt() {
    fuzz_common::init();
    let inputs = committed_inputs("rtcp_report_blocks");
    assert!(
        inputs.len() >= 5,
        "the committed rtcp_report_blocks corpus is missing ({} files)",
        inputs.len()
    );
    let mut judged = 0;
    for (path, data) in &inputs {
        let input = RtcpInput::parse(data);
        let (mut h, adapt, enc) = adapt_harness(&input);
        let bus = gst::Bus::new();
        adapt.set_bus(Some(&bus));
        // The whole compound packet, then each half again (a truncated datagram). Each comes
        // out unchanged, or is dropped as coming from a receiver not believed (yet).
        let halves = input.rtcp.split_at(input.rtcp.len() / 2);
        for rtcp in [input.rtcp, halves.0, halves.1] {
            let dropped = adapt.property::<u64>("packets-dropped");
            let pushed = h.push(gst::Buffer::from_slice(rtcp.to_vec()));
            assert!(pushed.is_ok(), "{}: {pushed:?}", path.display());
            match h.try_pull() {
                Some(out) => assert_eq!(
                    out.map_readable().unwrap().as_slice(),
                    rtcp,
                    "{}: RTCP passes through unchanged",
                    path.display()
                ),
                None => assert_eq!(
                    adapt.property::<u64>("packets-dropped"),
                    dropped + 1,
                    "{}: the RTCP packet neither came out nor was counted as dropped",
                    path.display()
                ),
            }
        }
        let errs = errors(&bus);
        assert!(errs.is_empty(), "{}: {errs:?}", path.display());
        let reports = adapt.property::<u64>("reports");
        let target = adapt.property::<u32>("target-bitrate");
        let (min, max) = (input.min_kbps, input.max_kbps.max(input.min_kbps));
        if reports + adapt.property::<u64>("reports-ignored") > 0 {
            judged += 1;
        }
        if reports > 0 {
            assert!(
                (min..=max).contains(&target),
                "{}: target {target} outside {min}..={max}",
                path.display()
            );
            assert_eq!(
                enc.property::<u32>("target-bitrate"),
                target,
                "{}: the encoder was given the target",
                path.display()
            );
        } else {
            assert_eq!(target, 0, "{}", path.display());
        }
        let loss = adapt.property::<f64>("loss-percent");
        assert!(
            (0.0..=100.0).contains(&loss),
            "{}: loss {loss}",
            path.display()
        );
    }
    assert!(
        judged > 0,
        "no input's report blocks reached the reporter gate"
    );
    assert_no_criticals();
}
