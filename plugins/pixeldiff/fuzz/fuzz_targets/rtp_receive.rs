// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! The receiving end of a pixeldiff RTP stream, as it faces the network: a harness around
//! `rtppixeldiffdepay ! pixeldiffdec` with the caps an `udpsrc` gets, fed the input as a series
//! of datagrams (2-byte big-endian length, then the bytes; at most 2000 bytes each), every
//! decoded frame pulled as it comes, then EOS. Nothing may panic (a panic in an element's
//! virtual method would otherwise be turned into an error message by gstreamer-rs; the fuzzer's
//! panic hook aborts first).
//!
//! A fresh harness per input, so a crash reproduces from its input alone: about 430 exec/s on
//! the seeds against about 750 with one reused harness (see README.md), which is enough. Set
//! `PIXELDIFF_FUZZ_REUSE_HARNESS=1` to keep one harness for the whole run instead (flushed and
//! given a new segment between inputs; the decoder keeps its picture and the elements their
//! counters, so a crash may then need the inputs before it).

#![no_main]

use std::cell::RefCell;

use libfuzzer_sys::fuzz_target;

mod common;

thread_local! {
    static REUSED: RefCell<Option<gst_check::Harness>> = const { RefCell::new(None) };
}

fuzz_target!(
    init: {
        common::init();
        if std::env::var_os("PIXELDIFF_FUZZ_REUSE_HARNESS").is_some_and(|v| v != "0") {
            REUSED.with(|r| *r.borrow_mut() = Some(common::receiver()));
        }
    },
    |data: &[u8]| {
        let reused = REUSED.with(|r| {
            r.borrow_mut().as_mut().map(|h| common::replay(h, data))
        });
        if reused.is_none() {
            let mut h = common::receiver();
            common::replay(&mut h, data);
        }
    }
);
