// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! Chunks a forger can make valid (the CRC is no authentication): the work and memory they cost
//! the decoder stay bounded by the bytes sent.

use pixeldiff_codec::*;

/// A sealed chunk with this header and `payload`.
fn chunk(layout: Layout, keyframe: bool, frame: u16, mb_count: u16, payload: &[u8]) -> Vec<u8> {
    let mut c = vec![0u8; HEADER_LEN + payload.len()];
    ChunkHeader {
        size: c.len() as u16,
        keyframe,
        lossless: false,
        layout,
        frame,
        chunk_index: 0,
        chunk_count: 1,
        qp: 30,
        first_mb: 0,
        mb_count,
    }
    .write(&mut c);
    c[HEADER_LEN..].copy_from_slice(payload);
    seal_chunk(&mut c);
    c
}

fn big() -> Layout {
    Layout::new(PixelFormat::Rgb, 8192, 8192).unwrap()
}

fn small() -> Layout {
    Layout::new(PixelFormat::I420, 64, 48).unwrap()
}

#[test]
fn a_chunk_announcing_more_macroblocks_than_its_payload_holds_stops_early() {
    // Eight 65535-macroblock chunks of eight frames with no payload. Zeros decode as the most
    // likely symbols, as a flat keyframe does (an honest one codes 250 to 450 macroblocks a
    // payload byte), so each chunk stops once the decoder reads 20 bytes past its end.
    let layout = Layout::new(PixelFormat::Gray8, 4096, 4096).unwrap();
    let frames: Vec<u8> = (0..8)
        .flat_map(|f| chunk(layout, true, f, u16::MAX, &[]))
        .collect();
    let out = Decoder::new().decode(&frames);
    assert!(
        out.mbs <= 8 * 12_000,
        "{} macroblocks decoded from 208 bytes",
        out.mbs
    );
    assert!(
        out.errors
            .iter()
            .all(|e| e.to_string().contains("payload ends")),
        "{:?}",
        out.errors
    );
    // The same eight in one frame: no more than twice the picture's macroblocks (every chunk
    // duplicated or resent), whatever comes.
    let payload = vec![0x5a; 1000];
    let one_frame: Vec<u8> = (0..8)
        .flat_map(|_| chunk(layout, true, 0, u16::MAX, &payload))
        .collect();
    let out = Decoder::new().decode(&one_frame);
    assert!(
        out.mbs as usize <= 2 * layout.mb_count(),
        "{} macroblocks in one frame",
        out.mbs
    );
}

#[test]
fn layouts_change_only_on_a_keyframe_and_once_a_buffer() {
    let mut dec = Decoder::new();
    dec.decode(&chunk(small(), true, 0, 0, &[]));
    assert_eq!(dec.layout(), Some(small()));
    // Not a keyframe: the picture stays.
    let out = dec.decode(&chunk(big(), false, 1, 0, &[]));
    assert_eq!(dec.layout(), Some(small()));
    assert!(!out.layout_changed && out.errors.len() == 1);
    // 40 keyframe chunks alternating layouts in one buffer: one new picture, not 40.
    let flips: Vec<u8> = (0..40u16)
        .flat_map(|i| {
            chunk(
                if i % 2 == 0 { big() } else { small() },
                true,
                2 + i,
                0,
                &[],
            )
        })
        .collect();
    let out = dec.decode(&flips);
    assert!(out.layout_changed);
    assert_eq!(out.errors.len(), 20, "{:?}", out.errors);
    assert_eq!(dec.layout(), Some(big()));
}

#[test]
fn a_late_receiver_starts_from_any_chunk() {
    let mut dec = Decoder::new();
    let out = dec.decode(&chunk(small(), false, 7, 0, &[]));
    assert!(out.errors.is_empty() && out.layout_changed);
    assert_eq!(dec.layout(), Some(small()));
}

#[test]
fn a_receiver_takes_no_picture_larger_than_it_expects() {
    let mut dec = Decoder::new();
    dec.set_max_pixels(3840 * 2160);
    let out = dec.decode(&chunk(big(), true, 0, 0, &[]));
    assert_eq!(dec.layout(), None, "no 8192 x 8192 picture was made");
    assert!(
        out.errors[0].to_string().contains("larger"),
        "{:?}",
        out.errors
    );
    dec.decode(&chunk(small(), true, 1, 0, &[]));
    assert_eq!(dec.layout(), Some(small()));
}
