// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! `rtp_receive` with the chunk checksums fixed up: before the datagrams are pushed, every
//! plausible chunk in every RTP payload gets its CRC recomputed (`common::reseal_datagrams`),
//! so damaged chunk headers and bodies get past the checksum and the decoder's glue is really
//! exercised: layout changes mid-stream, renegotiation, large announced pictures (up to
//! 8192x8192), export into the negotiated video frame. It takes the same inputs as
//! `rtp_receive` (run it with `corpus/rtp_receive` as its seed directory). Nothing may panic.

#![no_main]

use libfuzzer_sys::fuzz_target;

mod common;

fuzz_target!(
    init: common::init(),
    |data: &[u8]| {
        let resealed = common::reseal_datagrams(data);
        let mut h = common::receiver();
        common::replay(&mut h, &resealed);
    }
);
