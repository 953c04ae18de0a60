// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! Arbitrary bytes straight into `Decoder::decode`, then export into buffers sized from the
//! decoded layout. Nothing may panic. Random bytes rarely pass the chunk CRC, so this target
//! mostly exercises chunk splitting and header validation; see `decode_resealed` for the payload.

#![no_main]

use libfuzzer_sys::fuzz_target;

mod common;

fuzz_target!(|data: &[u8]| common::decode(data));
