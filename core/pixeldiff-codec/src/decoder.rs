// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! The pixeldiff decoder: applies every chunk that arrives, on its own.

use crate::format::{split_chunks, ChunkHeader, Layout, HEADER_LEN};
use crate::mbcode::{self, code_mb, ChunkState, MbData, MbPixels, Mode};
use crate::picture::{OutPlane, Picture, Reconstruction};
use crate::rangecoder::RangeDecoder;
use crate::Error;

/// A forward jump of the frame counter larger than this is taken as a new stream (a restarted
/// sender), not as loss.
const MAX_FRAME_GAP: u16 = 1000;

/// What one call to [`Decoder::decode`] did.
#[derive(Clone, Debug, Default)]
pub struct DecodeOutcome {
    /// Chunks applied.
    pub chunks: u32,
    /// Chunks (or whole frames, counted as one chunk each) found missing: gaps in the frame
    /// counter and frames with fewer chunks than announced.
    pub lost_chunks: u32,
    /// Chunks rejected, with why.
    pub errors: Vec<Error>,
    /// A keyframe chunk was applied.
    pub keyframe: bool,
    /// The stream's layout (size or format) is new: the output must be renegotiated.
    pub layout_changed: bool,
    /// Macroblocks updated.
    pub mbs: u32,
}

struct Stream {
    picture: Reconstruction,
    /// Frame being received, chunks it announced and chunks seen so far.
    frame: u16,
    expected: u16,
    seen: u16,
    /// Macroblocks the chunks of this frame announced so far: an encoder codes each macroblock
    /// at most once a frame, so more than twice the picture (every chunk duplicated or resent)
    /// is forged.
    mbs: u32,
}

/// Decoder state. It holds at most one picture, of at most `max_pixels` (by default
/// [`crate::MAX_DIMENSION`] squared).
pub struct Decoder {
    stream: Option<Stream>,
    max_pixels: u64,
}

impl Default for Decoder {
    fn default() -> Self {
        Self {
            stream: None,
            max_pixels: crate::MAX_DIMENSION as u64 * crate::MAX_DIMENSION as u64,
        }
    }
}

impl Decoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Pictures larger than `pixels` are refused: what a receiver expects, so that a forged
    /// header cannot make it allocate and clear an 8192 x 8192 picture.
    pub fn set_max_pixels(&mut self, pixels: u64) {
        self.max_pixels = pixels;
    }

    /// The current picture's layout, once a chunk has been applied.
    pub fn layout(&self) -> Option<Layout> {
        self.stream.as_ref().map(|s| s.picture.shown().layout)
    }

    pub fn picture(&self) -> Option<&Picture> {
        self.stream.as_ref().map(|s| s.picture.shown())
    }

    /// Write the current picture into a raw frame of the current layout.
    pub fn export(&self, out: &mut [OutPlane]) -> Result<(), Error> {
        match &self.stream {
            Some(s) => s.picture.shown().export(out),
            None => Err(Error::BadInput("nothing decoded yet")),
        }
    }

    /// Apply a buffer holding one or more whole chunks. Bad chunks are skipped and reported;
    /// nothing here panics or allocates beyond one picture, whatever `data` holds.
    pub fn decode(&mut self, data: &[u8]) -> DecodeOutcome {
        let mut out = DecodeOutcome::default();
        for chunk in split_chunks(data) {
            match chunk.and_then(|c| self.apply_chunk(c, &mut out)) {
                Ok(()) => out.chunks += 1,
                Err(e) => out.errors.push(e),
            }
        }
        out
    }

    /// Count what went missing when a chunk of frame `frame` arrives.
    fn track(&mut self, h: &ChunkHeader, out: &mut DecodeOutcome) -> bool {
        let Some(s) = self.stream.as_mut() else {
            return true;
        };
        if h.frame == s.frame && s.seen > 0 {
            s.seen = s.seen.saturating_add(1);
            return false;
        }
        if s.seen > 0 {
            out.lost_chunks = out
                .lost_chunks
                .saturating_add(s.expected.saturating_sub(s.seen) as u32);
            let gap = h.frame.wrapping_sub(s.frame);
            if (2..=MAX_FRAME_GAP).contains(&gap) {
                out.lost_chunks = out.lost_chunks.saturating_add((gap - 1) as u32);
            }
        }
        s.frame = h.frame;
        s.expected = h.chunk_count;
        s.seen = 1;
        s.mbs = 0;
        s.picture.begin_frame();
        true
    }

    fn apply_chunk(&mut self, chunk: &[u8], out: &mut DecodeOutcome) -> Result<(), Error> {
        let h = ChunkHeader::parse(chunk)?;
        if self.layout() != Some(h.layout) {
            // Work per buffer stays bounded: a new picture only from a keyframe (a receiver that
            // joins late starts from any chunk), and at most one per buffer.
            if self.layout().is_some() && !h.keyframe {
                return Err(Error::Corrupt("a new layout starts with a keyframe"));
            }
            if h.layout.width as u64 * h.layout.height as u64 > self.max_pixels {
                return Err(Error::Corrupt("a picture larger than this receiver takes"));
            }
            if out.layout_changed {
                return Err(Error::Corrupt("a second layout in one buffer"));
            }
            self.stream = Some(Stream {
                picture: Reconstruction::blank(h.layout),
                frame: h.frame,
                expected: h.chunk_count,
                seen: 0,
                mbs: 0,
            });
            out.layout_changed = true;
        }
        let new_frame = self.track(&h, out);
        let s = self.stream.as_mut().expect("stream set above");
        if h.keyframe && new_frame {
            // A keyframe defines the whole picture: what it does not send is blank.
            s.picture.clear();
        }
        out.keyframe |= h.keyframe;

        let geom = s.picture.shown().geom;
        let mb_total = h.layout.mb_count() as u32;
        s.mbs += h.mb_count as u32;
        if s.mbs > 2 * mb_total {
            return Err(Error::Corrupt(
                "more macroblocks in one frame than its picture has",
            ));
        }
        let mut dec = RangeDecoder::new(&chunk[HEADER_LEN..h.size as usize]);
        let mut state = ChunkState::new(h.first_mb);
        let mut prediction = MbPixels::default();
        let mut px = MbPixels::default();
        // One scratch for the chunk: the syntax writes every value it later reads.
        let mut mb = MbData::new(0, Mode::Inter, h.qp);
        for _ in 0..h.mb_count {
            code_mb(&mut dec, &mut state, &geom, h.lossless, h.qp, &mut mb);
            // Encoders leave out a few trailing zero bytes, so reading a little past the end is
            // normal; further, the payload ended before the macroblocks its header counts (a
            // forged chunk announcing 65535 of them in no payload costs no more than its bytes).
            if dec.overran() {
                return Err(Error::Corrupt("the payload ends before its macroblocks"));
            }
            if mb.index >= mb_total {
                return Err(Error::Corrupt("macroblock index beyond the picture"));
            }
            let i = mb.index as usize;
            // Intra and Raw need no prediction; Average predicts from the same place.
            match mb.mode {
                Mode::Inter => s.picture.previous().predict_mb(i, mb.mv, &mut prediction),
                Mode::Average => s.picture.previous().load_mb(i, &mut prediction),
                Mode::Intra | Mode::Raw => {}
            }
            mbcode::reconstruct(&geom, h.lossless, &mb, &prediction, &mut px);
            s.picture.store_mb(i, &px);
            out.mbs += 1;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::seal_chunk;
    use crate::mbcode::{MbGeom, MotionVector};
    use crate::rangecoder::RangeEncoder;
    use crate::{Encoder, EncoderSettings, InPlane, PixelFormat};

    /// A lossless GRAY8 stream whose first frame is `first` (exact, keyframe), then one forged
    /// frame of `mbs` as coded here.
    fn stream(layout: Layout, first: &[u8], mbs: &[MbData]) -> Decoder {
        let settings = EncoderSettings {
            lossless: true,
            ..Default::default()
        };
        let mut enc = Encoder::new(layout, 30.0);
        let plane = [InPlane {
            data: first,
            stride: layout.width as usize,
        }];
        let key = enc.encode(&plane, &[], false, &settings).unwrap();
        let mut dec = Decoder::new();
        assert!(dec.decode(&key.data).errors.is_empty());

        let geom = MbGeom::new(&layout);
        let mut coder = RangeEncoder::new(vec![0u8; HEADER_LEN]);
        let mut state = ChunkState::new(mbs[0].index);
        for mb in mbs {
            code_mb(&mut coder, &mut state, &geom, true, 0, &mut mb.clone());
        }
        let mut chunk = coder.finish(HEADER_LEN);
        ChunkHeader {
            size: chunk.len() as u16,
            keyframe: false,
            lossless: true,
            layout,
            frame: 1,
            chunk_index: 0,
            chunk_count: 1,
            qp: 0,
            first_mb: mbs[0].index,
            mb_count: mbs.len() as u16,
        }
        .write(&mut chunk);
        seal_chunk(&mut chunk);
        let out = dec.decode(&chunk);
        assert!(out.errors.is_empty(), "{:?}", out.errors);
        assert_eq!(out.mbs, mbs.len() as u32);
        dec
    }

    /// The decoded picture's first 16x16 macroblock `mb` of a GRAY8 picture.
    fn samples(dec: &Decoder, mb: usize) -> Vec<u8> {
        let mut px = MbPixels::default();
        dec.picture().unwrap().load_mb(mb, &mut px);
        px.0[..256].to_vec()
    }

    #[test]
    fn vectors_far_outside_the_picture_are_clamped_and_read_its_edges() {
        let layout = Layout::new(PixelFormat::Gray8, 32, 32).unwrap();
        let first: Vec<u8> = (0..32 * 32).map(|i| (i % 32 * 4 + i / 32) as u8).collect();
        // Half a picture width and more off to the right and up: clamped to 512 samples, which
        // still reads only the top right corner sample.
        let mut mb = MbData::new(0, Mode::Inter, 0);
        mb.mv = MotionVector::new(50_000, -40_000);
        let dec = stream(layout, &first, &[mb]);
        assert!(samples(&dec, 0).iter().all(|&v| v == first[31]));
    }

    #[test]
    fn vectors_read_the_previous_picture_never_this_frames_blocks() {
        let layout = Layout::new(PixelFormat::Gray8, 32, 16).unwrap();
        let first: Vec<u8> = (0..32 * 16)
            .map(|i| if i % 32 < 16 { 10 } else { 20 })
            .collect();
        // Macroblock 0 becomes 99; macroblock 1 then predicts from macroblock 0's place.
        let mut raw = MbData::new(0, Mode::Raw, 0);
        raw.vals[..256].fill(99);
        let mut moved = MbData::new(1, Mode::Inter, 0);
        moved.mv = MotionVector::new(-32, 0);
        let dec = stream(layout, &first, &[raw, moved]);
        assert!(samples(&dec, 0).iter().all(|&v| v == 99));
        assert!(
            samples(&dec, 1).iter().all(|&v| v == 10),
            "{:?}",
            samples(&dec, 1)
        );
    }
}
