// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! The input is a buffer of chunks back to back. Every chunk whose header size field is plausible
//! (at least the header, within the buffer) gets its CRC recomputed with `seal_chunk`, so damaged
//! headers and payloads get past the checksum and the macroblock parser and reconstruction are
//! really exercised. Then decode (the whole buffer, and again chunk by chunk in a fresh decoder,
//! exporting after each chunk) and export. Nothing may panic.

#![no_main]

use libfuzzer_sys::fuzz_target;

mod common;

fuzz_target!(|input: &[u8]| common::decode_resealed(input));
