// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! The input is a buffer of chunks back to back. Every chunk whose header size field is plausible
//! (at least the header, within the buffer) gets its CRC recomputed with `seal_chunk`, so damaged
//! headers and payloads get past the checksum and the macroblock parser and reconstruction are
//! really exercised. Then decode (the whole buffer, and again chunk by chunk in a fresh decoder,
//! exporting after each chunk) and export. Nothing may panic.

#![no_main]

use libfuzzer_sys::fuzz_target;
use pixeldiff_codec::{seal_chunk, split_chunks, Decoder, HEADER_LEN};

mod common;

/// Seal every plausible chunk; return where each sealed chunk lies.
fn reseal(data: &mut [u8]) -> Vec<std::ops::Range<usize>> {
    let mut chunks = Vec::new();
    let mut pos = 0;
    while pos + 4 <= data.len() {
        let size = u16::from_le_bytes([data[pos + 2], data[pos + 3]]) as usize;
        if size < HEADER_LEN || pos + size > data.len() {
            break;
        }
        seal_chunk(&mut data[pos..pos + size]);
        chunks.push(pos..pos + size);
        pos += size;
    }
    chunks
}

fuzz_target!(|input: &[u8]| {
    let mut data = input.to_vec();
    let sealed = reseal(&mut data);

    // The whole buffer in one call, as a decoder element receives it.
    let mut dec = Decoder::new();
    let outcome = dec.decode(&data);
    let delimited = split_chunks(&data).filter(|c| c.is_ok()).count();
    assert!(outcome.chunks as usize <= delimited);
    common::check_and_export(&dec, input.len() % 13);

    // Chunk by chunk, as separate packets, exporting the picture after each one.
    if sealed.len() > 1 {
        let mut dec = Decoder::new();
        for r in &sealed {
            let _ = dec.decode(&data[r.clone()]);
            common::check_and_export(&dec, 0);
        }
    }
});
