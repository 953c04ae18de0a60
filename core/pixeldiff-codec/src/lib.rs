// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! The pixeldiff video codec: conditional replenishment on a macroblock grid, with no GStreamer
//! types. The bitstream is specified in `docs/pixeldiff-format.md`.
//!
//! A frame is cut into chunks of whole macroblocks, each chunk at most an MTU long and decodable
//! on its own, so a lost chunk only leaves its own blocks stale. Blocks are compared against the
//! decoder's reconstruction, which the encoder keeps, so errors never pile up into ghosts.
//!
//! ```
//! use pixeldiff_codec::{Decoder, Encoder, EncoderSettings, InPlane, Layout, PixelFormat};
//! let layout = Layout::new(PixelFormat::Gray8, 32, 16).unwrap();
//! let frame = vec![77u8; 32 * 16];
//! let mut enc = Encoder::new(layout, 30.0);
//! let settings = EncoderSettings { lossless: true, ..Default::default() };
//! let coded = enc.encode(&[InPlane { data: &frame, stride: 32 }], &[], false, &settings).unwrap();
//! let mut dec = Decoder::new();
//! assert!(dec.decode(&coded.data).errors.is_empty());
//! ```

mod decoder;
mod encoder;
mod format;
mod mbcode;
mod motion;
mod picture;
pub mod rangecoder;
pub mod transform;

pub use decoder::{DecodeOutcome, Decoder};
pub use encoder::{
    qp_for_quality, EncodedFrame, Encoder, EncoderSettings, NoRoiAction, Rect, RoiMode, MAX_MTU,
    MIN_MTU,
};
pub use format::{
    seal_chunk, split_chunks, ChunkHeader, Layout, PixelFormat, HEADER_LEN, MAX_DIMENSION, VERSION,
};
pub use picture::{
    memory_planes, packed_frame_size, packed_plane_sizes, packed_planes, packed_planes_mut,
    InPlane, OutPlane, Picture,
};

/// Why a chunk or a frame could not be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    /// Shorter than its header or than the size it announces.
    Truncated,
    /// Does not start with the pixeldiff magic byte.
    BadMagic,
    UnsupportedVersion(u8),
    /// The CRC does not match: damaged in transit.
    Checksum,
    BadFormat(u8),
    BadDimensions {
        width: u32,
        height: u32,
    },
    Corrupt(&'static str),
    /// Raw input that does not match its declared layout.
    BadInput(&'static str),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        match self {
            Error::Truncated => write!(f, "truncated chunk"),
            Error::BadMagic => write!(f, "not a pixeldiff chunk (bad magic byte)"),
            Error::UnsupportedVersion(v) => {
                write!(
                    f,
                    "unsupported pixeldiff version {v} (this decoder reads {VERSION})"
                )
            }
            Error::Checksum => write!(f, "chunk checksum mismatch (damaged data)"),
            Error::BadFormat(id) => write!(f, "unknown pixel format id {id}"),
            Error::BadDimensions { width, height } => write!(
                f,
                "invalid dimensions {width}x{height} (each must be 1 to {MAX_DIMENSION})"
            ),
            Error::Corrupt(why) => write!(f, "corrupt chunk: {why}"),
            Error::BadInput(why) => write!(f, "bad input frame: {why}"),
        }
    }
}

impl std::error::Error for Error {}
