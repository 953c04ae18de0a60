// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! The fuzz targets' bodies, shared with the codec's corpus test (`tests/fuzz_corpus.rs`, which
//! replays the committed corpus with overflow checks on): decode, then export the decoder's
//! picture into correctly sized buffers and check what must hold for any input.

use pixeldiff_codec::{
    memory_planes, packed_frame_size, packed_plane_sizes, packed_planes_mut, seal_chunk,
    split_chunks, Decoder, OutPlane, HEADER_LEN, MAX_DIMENSION,
};

/// `decode`: arbitrary bytes straight into `Decoder::decode`, then export into buffers sized from
/// the decoded layout. Random bytes rarely pass the chunk CRC, so this mostly exercises chunk
/// splitting and header validation; `decode_resealed` reaches the payload.
pub fn decode(data: &[u8]) {
    let mut dec = Decoder::new();
    let _ = dec.decode(data);
    check_and_export(&dec, data.len() % 17);
}

/// `decode_resealed`: a buffer of chunks back to back. Every chunk whose header size field is
/// plausible (at least the header, within the buffer) gets its CRC recomputed, so damaged headers
/// and payloads get past the checksum and the macroblock parser and reconstruction are really
/// exercised. Decoded whole, and again chunk by chunk in a fresh decoder, exporting after each.
pub fn decode_resealed(input: &[u8]) {
    let mut data = input.to_vec();
    let sealed = reseal(&mut data);

    // The whole buffer in one call, as a decoder element receives it.
    let mut dec = Decoder::new();
    let outcome = dec.decode(&data);
    let delimited = split_chunks(&data).filter(|c| c.is_ok()).count();
    assert!(outcome.chunks as usize <= delimited);
    check_and_export(&dec, input.len() % 13);

    // Chunk by chunk, as separate packets, exporting the picture after each one.
    if sealed.len() > 1 {
        let mut dec = Decoder::new();
        for r in &sealed {
            let _ = dec.decode(&data[r.clone()]);
            check_and_export(&dec, 0);
        }
    }
}

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

/// After any `decode`, the layout (if any) must be sane and exporting into buffers sized from it,
/// tightly packed and with padded rows, must succeed without panicking.
pub fn check_and_export(dec: &Decoder, pad: usize) {
    let Some(layout) = dec.layout() else {
        // Nothing decoded yet: export must refuse, not panic.
        let mut empty: [OutPlane; 0] = [];
        assert!(dec.export(&mut empty).is_err());
        return;
    };
    assert!(layout.width >= 1 && layout.width <= MAX_DIMENSION);
    assert!(layout.height >= 1 && layout.height <= MAX_DIMENSION);
    assert!(dec.picture().is_some());

    // Tightly packed, as the property tests do.
    let mut out = vec![0u8; packed_frame_size(&layout)];
    let mut planes = packed_planes_mut(&layout, &mut out).expect("buffer sized from the layout");
    assert_eq!(planes.len(), memory_planes(layout.format));
    dec.export(&mut planes)
        .expect("export into a correctly sized frame must succeed");

    // Rows padded by `pad` bytes (strides as a video frame with alignment would have them).
    if pad > 0 {
        let sizes = packed_plane_sizes(&layout);
        let mut bufs: Vec<Vec<u8>> = sizes
            .iter()
            .map(|&(row, rows)| vec![0u8; (row + pad) * rows])
            .collect();
        let mut planes: Vec<OutPlane> = bufs
            .iter_mut()
            .zip(&sizes)
            .map(|(b, &(row, _))| OutPlane {
                data: b.as_mut_slice(),
                stride: row + pad,
            })
            .collect();
        dec.export(&mut planes)
            .expect("export into a padded frame must succeed");
        // Too few planes must be refused, not panic.
        if planes.len() > 1 {
            assert!(dec.export(&mut planes[..1]).is_err());
        }
    }
}
