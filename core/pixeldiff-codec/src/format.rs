// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! Pixel formats, frame geometry and the chunk header (docs/pixeldiff-format.md).

use std::fmt;

/// Bitstream version written in every chunk and in the caps.
pub const VERSION: u8 = 2;
/// First byte of every chunk.
pub const MAGIC: u8 = b'P';
/// Size of the fixed chunk header in bytes.
pub const HEADER_LEN: usize = 26;
/// Largest accepted width or height: bounds what a (possibly hostile) stream can make a decoder
/// allocate to about 200 MB.
pub const MAX_DIMENSION: u32 = 8192;
/// Side of a macroblock in luma samples.
pub const MB: usize = 16;

/// Raw pixel formats the codec carries. The number is the format id in the chunk header.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum PixelFormat {
    Gray8 = 1,
    I420 = 2,
    Nv12 = 3,
    Rgb = 4,
    Bgrx = 5,
}

impl PixelFormat {
    pub const ALL: [PixelFormat; 5] = [
        PixelFormat::Gray8,
        PixelFormat::I420,
        PixelFormat::Nv12,
        PixelFormat::Rgb,
        PixelFormat::Bgrx,
    ];

    pub fn from_id(id: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|f| *f as u8 == id)
    }

    /// The name GStreamer and the caps use.
    pub fn name(self) -> &'static str {
        match self {
            PixelFormat::Gray8 => "GRAY8",
            PixelFormat::I420 => "I420",
            PixelFormat::Nv12 => "NV12",
            PixelFormat::Rgb => "RGB",
            PixelFormat::Bgrx => "BGRx",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.name() == name)
    }

    /// Number of coded planes (the codec's own planar view, not the memory layout).
    pub fn coded_planes(self) -> usize {
        match self {
            PixelFormat::Gray8 => 1,
            _ => 3,
        }
    }

    /// Chroma subsampling factor of coded planes 1 and 2 (1 or 2, both directions).
    pub fn chroma_shift(self) -> u32 {
        match self {
            PixelFormat::I420 | PixelFormat::Nv12 => 1,
            _ => 0,
        }
    }

    /// Sample value of a blank canvas for coded plane `p`: mid grey.
    pub fn blank_value(self, _p: usize) -> u8 {
        128
    }
}

impl fmt::Display for PixelFormat {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Geometry of a frame: format and size, with derived per-plane and macroblock sizes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    pub format: PixelFormat,
    pub width: u32,
    pub height: u32,
}

/// Width and height of one coded plane, in samples.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlaneSize {
    pub width: usize,
    pub height: usize,
    /// Padded to whole macroblocks, the size of the codec's internal planes.
    pub padded_width: usize,
    pub padded_height: usize,
    /// Side of one macroblock in this plane (16 or 8).
    pub mb: usize,
}

impl Layout {
    pub fn new(format: PixelFormat, width: u32, height: u32) -> Result<Self, crate::Error> {
        if width == 0 || height == 0 || width > MAX_DIMENSION || height > MAX_DIMENSION {
            return Err(crate::Error::BadDimensions { width, height });
        }
        Ok(Layout {
            format,
            width,
            height,
        })
    }

    pub fn mb_cols(&self) -> usize {
        (self.width as usize).div_ceil(MB)
    }

    pub fn mb_rows(&self) -> usize {
        (self.height as usize).div_ceil(MB)
    }

    pub fn mb_count(&self) -> usize {
        self.mb_cols() * self.mb_rows()
    }

    pub fn plane(&self, p: usize) -> PlaneSize {
        let shift = if p == 0 {
            0
        } else {
            self.format.chroma_shift()
        };
        let sub = |v: u32| ((v + (1 << shift) - 1) >> shift) as usize;
        let mb = MB >> shift;
        PlaneSize {
            width: sub(self.width),
            height: sub(self.height),
            padded_width: self.mb_cols() * mb,
            padded_height: self.mb_rows() * mb,
            mb,
        }
    }

    /// Bytes of one macroblock in all coded planes: the size of a raw (PCM) macroblock.
    pub fn mb_samples(&self) -> usize {
        (0..self.format.coded_planes())
            .map(|p| self.plane(p).mb * self.plane(p).mb)
            .sum()
    }
}

/// The fixed header at the start of every chunk. Multi-byte fields are little-endian.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChunkHeader {
    /// Total chunk size in bytes, header included.
    pub size: u16,
    pub keyframe: bool,
    pub lossless: bool,
    pub layout: Layout,
    /// Frame counter, wrapping at 65536.
    pub frame: u16,
    pub chunk_index: u16,
    pub chunk_count: u16,
    pub qp: u8,
    pub first_mb: u32,
    pub mb_count: u16,
}

const FLAG_KEYFRAME: u8 = 1;
const FLAG_LOSSLESS: u8 = 2;

impl ChunkHeader {
    /// Write the header into the first `HEADER_LEN` bytes of `out`, CRC field zeroed.
    pub fn write(&self, out: &mut [u8]) {
        let flags = (self.keyframe as u8 * FLAG_KEYFRAME) | (self.lossless as u8 * FLAG_LOSSLESS);
        out[0] = MAGIC;
        out[1] = VERSION;
        out[2..4].copy_from_slice(&self.size.to_le_bytes());
        out[4..8].fill(0);
        out[8] = flags;
        out[9] = self.layout.format as u8;
        out[10..12].copy_from_slice(&(self.layout.width as u16).to_le_bytes());
        out[12..14].copy_from_slice(&(self.layout.height as u16).to_le_bytes());
        out[14..16].copy_from_slice(&self.frame.to_le_bytes());
        out[16..18].copy_from_slice(&self.chunk_index.to_le_bytes());
        out[18..20].copy_from_slice(&self.chunk_count.to_le_bytes());
        out[20] = self.qp;
        out[21..24].copy_from_slice(&self.first_mb.to_le_bytes()[..3]);
        out[24..26].copy_from_slice(&self.mb_count.to_le_bytes());
    }

    /// Parse and validate a header; `data` is the whole chunk (its size is checked against it).
    pub fn parse(data: &[u8]) -> Result<Self, crate::Error> {
        use crate::Error;
        if data.len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        if data[0] != MAGIC {
            return Err(Error::BadMagic);
        }
        if data[1] != VERSION {
            return Err(Error::UnsupportedVersion(data[1]));
        }
        let u16_at = |i: usize| u16::from_le_bytes([data[i], data[i + 1]]);
        let size = u16_at(2);
        if (size as usize) < HEADER_LEN || size as usize > data.len() {
            return Err(Error::Truncated);
        }
        let format = PixelFormat::from_id(data[9]).ok_or(Error::BadFormat(data[9]))?;
        let layout = Layout::new(format, u16_at(10) as u32, u16_at(12) as u32)?;
        let header = ChunkHeader {
            size,
            keyframe: data[8] & FLAG_KEYFRAME != 0,
            lossless: data[8] & FLAG_LOSSLESS != 0,
            layout,
            frame: u16_at(14),
            chunk_index: u16_at(16),
            chunk_count: u16_at(18),
            qp: data[20],
            first_mb: u32::from_le_bytes([data[21], data[22], data[23], 0]),
            mb_count: u16_at(24),
        };
        if data[8] & !(FLAG_KEYFRAME | FLAG_LOSSLESS) != 0
            || header.qp > crate::transform::QP_MAX
            || header.chunk_index >= header.chunk_count
            || header.first_mb as usize + header.mb_count as usize > layout.mb_count()
        {
            return Err(Error::Corrupt("header field out of range"));
        }
        let stored = u32::from_le_bytes([data[4], data[5], data[6], data[7]]);
        if stored != chunk_crc(&data[..size as usize]) {
            return Err(Error::Checksum);
        }
        Ok(header)
    }
}

/// CRC-32 (IEEE) of a chunk, computed with its CRC field taken as zero.
pub fn chunk_crc(chunk: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(&chunk[..4]);
    h.update(&[0; 4]);
    h.update(&chunk[8..]);
    h.finalize()
}

/// Store the CRC of a finished chunk in its header.
pub fn seal_chunk(chunk: &mut [u8]) {
    let crc = chunk_crc(chunk);
    chunk[4..8].copy_from_slice(&crc.to_le_bytes());
}

/// Split a buffer of concatenated chunks. Yields each chunk's bytes, or the error that stopped the
/// split (after which nothing more can be delimited).
pub fn split_chunks(mut data: &[u8]) -> impl Iterator<Item = Result<&[u8], crate::Error>> {
    std::iter::from_fn(move || {
        if data.is_empty() {
            return None;
        }
        if data.len() < 4 || data[0] != MAGIC {
            let err = if data.len() < 4 {
                crate::Error::Truncated
            } else {
                crate::Error::BadMagic
            };
            data = &[];
            return Some(Err(err));
        }
        let size = u16::from_le_bytes([data[2], data[3]]) as usize;
        if size < HEADER_LEN || size > data.len() {
            data = &[];
            return Some(Err(crate::Error::Truncated));
        }
        let (chunk, rest) = data.split_at(size);
        data = rest;
        Some(Ok(chunk))
    })
}
