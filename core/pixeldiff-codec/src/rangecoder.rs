// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! Binary adaptive range coder (docs/pixeldiff-format.md, "Entropy coding").
//!
//! Written here rather than taken from a crate because the bitstream specification must pin every
//! integer operation of the coder: a crate's coder is an implementation detail that may change
//! between its versions and silently break every stored or in-flight stream. The coder follows the
//! well-studied LZMA range coder (carry propagation through a cached byte) with 15-bit
//! probabilities and a count-driven adaptation rate, so short chunks learn their statistics fast.

/// Probability precision in bits.
const PROB_BITS: u32 = 15;
const PROB_ONE: u32 = 1 << PROB_BITS;
const TOP: u32 = 1 << 24;

/// Adaptation shift by the number of updates seen so far: starts near a Krichevsky-Trofimov
/// estimate (fast) and settles at a window of about 32 symbols.
const RATE: [u8; 31] = [
    1, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 5,
];

/// One adaptive binary context: the probability of a 0 in units of 1/32768 and an update count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ctx {
    p0: u16,
    n: u8,
}

impl Default for Ctx {
    fn default() -> Self {
        Ctx {
            p0: (PROB_ONE / 2) as u16,
            n: 0,
        }
    }
}

impl Ctx {
    /// Branch-free (the bits of a coefficient stream are close to random, so branches would
    /// mispredict), and exactly: p0 += (32768 - p0) >> shift for a 0, p0 -= p0 >> shift for a 1.
    #[inline]
    fn update(&mut self, bit: u32) {
        let shift = RATE[self.n as usize] as u32;
        self.n += ((self.n as usize) < RATE.len() - 1) as u8;
        let p0 = self.p0 as u32;
        let mask = 0u32.wrapping_sub(bit);
        let up = (PROB_ONE - p0) >> shift;
        let down = p0 >> shift;
        // p0 stays within [1, 32767]: each step moves only part of the way to 0 or 32768.
        self.p0 = (p0 + (up & !mask) - (down & mask)) as u16;
    }

    /// Approximate cost in 1/256 bit of coding `bit` with this context (for encoder decisions).
    #[inline]
    pub fn cost(&self, bit: u32) -> u32 {
        let p = if bit == 0 {
            self.p0 as u32
        } else {
            PROB_ONE - self.p0 as u32
        };
        cost_of_probability(p)
    }
}

/// -log2(p / 32768) in 1/256 bit, from a 64-entry table over the top bits of p.
fn cost_of_probability(p: u32) -> u32 {
    static TABLE: std::sync::LazyLock<[u32; 129]> = std::sync::LazyLock::new(|| {
        let mut t = [0u32; 129];
        for (i, v) in t.iter_mut().enumerate() {
            let p = (i.max(1) as f64) / 128.0;
            *v = (-p.log2() * 256.0).round() as u32;
        }
        t
    });
    TABLE[(p >> (PROB_BITS - 7)) as usize]
}

/// The coding interface shared by the encoder and the decoder, so that every piece of bitstream
/// syntax is written once: the encoder codes the bit it is given and returns it, the decoder ignores
/// the given bit and returns the decoded one.
pub trait BinCoder {
    /// Code one bit with an adaptive context.
    fn bit(&mut self, ctx: &mut Ctx, bit: u32) -> u32;
    /// Code one equiprobable bit.
    fn bypass(&mut self, bit: u32) -> u32;
    /// True when the values passed in are real (encoding), false when they are placeholders.
    fn encoding(&self) -> bool;

    /// Code the `n` low bits of `value`, most significant first, as equiprobable bits.
    fn bypass_bits(&mut self, value: u32, n: u32) -> u32 {
        let mut v = 0;
        for i in (0..n).rev() {
            v = (v << 1) | self.bypass((value >> i) & 1);
        }
        v
    }
}

/// Range encoder writing into a byte vector.
#[derive(Clone, Debug)]
pub struct RangeEncoder {
    low: u64,
    range: u32,
    cache: u8,
    cache_size: u64,
    /// The first byte the LZMA scheme emits is always 0; it is not written.
    first: bool,
    out: Vec<u8>,
}

/// Everything needed to undo the coding done since it was taken.
#[derive(Clone, Copy, Debug)]
pub struct EncoderMark {
    low: u64,
    range: u32,
    cache: u8,
    cache_size: u64,
    first: bool,
    len: usize,
}

impl RangeEncoder {
    /// A coder that appends to `out` (which may already hold a chunk header).
    pub fn new(out: Vec<u8>) -> Self {
        RangeEncoder {
            low: 0,
            range: u32::MAX,
            cache: 0,
            cache_size: 1,
            first: true,
            out,
        }
    }

    fn shift_low(&mut self) {
        if (self.low as u32) < 0xFF00_0000 || (self.low >> 32) != 0 {
            let carry = (self.low >> 32) as u8;
            let mut byte = self.cache;
            loop {
                if self.first {
                    self.first = false;
                } else {
                    self.out.push(byte.wrapping_add(carry));
                }
                byte = 0xFF;
                self.cache_size -= 1;
                if self.cache_size == 0 {
                    break;
                }
            }
            self.cache = ((self.low >> 24) & 0xFF) as u8;
        }
        self.cache_size += 1;
        self.low = (self.low & 0x00FF_FFFF) << 8;
    }

    #[inline]
    fn normalize(&mut self) {
        while self.range < TOP {
            self.range <<= 8;
            self.shift_low();
        }
    }

    /// Upper bound of the bytes `finish` will have produced if coding stopped now.
    pub fn len_bound(&self) -> usize {
        self.out.len() + self.cache_size as usize + 5
    }

    pub fn mark(&self) -> EncoderMark {
        EncoderMark {
            low: self.low,
            range: self.range,
            cache: self.cache,
            cache_size: self.cache_size,
            first: self.first,
            len: self.out.len(),
        }
    }

    pub fn reset_to(&mut self, m: EncoderMark) {
        self.low = m.low;
        self.range = m.range;
        self.cache = m.cache;
        self.cache_size = m.cache_size;
        self.first = m.first;
        self.out.truncate(m.len);
    }

    /// Flush the coder and return the bytes. Up to [`MAX_OMITTED_ZEROS`] trailing zero bytes are
    /// dropped: the decoder reads zeros past the end of its input, so they carry no information.
    pub fn finish(mut self, min_len: usize) -> Vec<u8> {
        for _ in 0..5 {
            self.shift_low();
        }
        let keep = self
            .out
            .len()
            .saturating_sub(MAX_OMITTED_ZEROS)
            .max(min_len);
        while self.out.len() > keep && self.out.last() == Some(&0) {
            self.out.pop();
        }
        self.out
    }
}

impl BinCoder for RangeEncoder {
    #[inline]
    fn bit(&mut self, ctx: &mut Ctx, bit: u32) -> u32 {
        let bound = (self.range >> PROB_BITS) * ctx.p0 as u32;
        let mask = 0u32.wrapping_sub(bit);
        self.low += (bound & mask) as u64;
        self.range = (bound & !mask) | (self.range.wrapping_sub(bound) & mask);
        ctx.update(bit);
        self.normalize();
        bit
    }

    #[inline]
    fn bypass(&mut self, bit: u32) -> u32 {
        self.range >>= 1;
        if bit != 0 {
            self.low += self.range as u64;
        }
        self.normalize();
        bit
    }

    fn encoding(&self) -> bool {
        true
    }
}

/// Range decoder over a byte slice; reads zeros past its end and never panics, whatever the input.
/// Trailing zero bytes an encoder may leave out of a payload. A decoder that has read further past
/// the end than this (plus its 4 bytes of lookahead) is reading what no encoder wrote.
pub const MAX_OMITTED_ZEROS: usize = 16;

#[derive(Debug)]
pub struct RangeDecoder<'a> {
    data: &'a [u8],
    pos: usize,
    range: u32,
    code: u32,
}

impl<'a> RangeDecoder<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        let mut d = RangeDecoder {
            data,
            pos: 0,
            range: u32::MAX,
            code: 0,
        };
        for _ in 0..4 {
            d.code = (d.code << 8) | d.next_byte() as u32;
        }
        d
    }

    /// Whether the decoder has read further past the end of its input than any encoder leaves
    /// out: the payload ended before what its header announced.
    pub fn overran(&self) -> bool {
        self.pos > self.data.len() + MAX_OMITTED_ZEROS + 4
    }

    #[inline]
    fn next_byte(&mut self) -> u8 {
        let b = self.data.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        b
    }

    #[inline]
    fn normalize(&mut self) {
        while self.range < TOP {
            self.range <<= 8;
            self.code = (self.code << 8) | self.next_byte() as u32;
        }
    }
}

impl BinCoder for RangeDecoder<'_> {
    #[inline]
    fn bit(&mut self, ctx: &mut Ctx, _bit: u32) -> u32 {
        let bound = (self.range >> PROB_BITS) * ctx.p0 as u32;
        let bit = (self.code >= bound) as u32;
        let mask = 0u32.wrapping_sub(bit);
        // On valid input code < range always holds; on garbage the code still cannot underflow
        // (it only loses `bound` when it is at least `bound`).
        self.code -= bound & mask;
        self.range = (bound & !mask) | (self.range.wrapping_sub(bound) & mask);
        ctx.update(bit);
        self.normalize();
        bit
    }

    #[inline]
    fn bypass(&mut self, _bit: u32) -> u32 {
        self.range >>= 1;
        let bit = if self.code >= self.range {
            self.code -= self.range;
            1
        } else {
            0
        };
        self.normalize();
        bit
    }

    fn encoding(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_mixed_bits() {
        let mut ctxs = [Ctx::default(); 4];
        let mut enc = RangeEncoder::new(Vec::new());
        let bits: Vec<u32> = (0..5000u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 7) & 1 & ((i % 7 == 0) as u32 | 1))
            .collect();
        for (i, &b) in bits.iter().enumerate() {
            if i % 3 == 0 {
                enc.bypass(b);
            } else {
                enc.bit(&mut ctxs[i % 4], b);
            }
        }
        let data = enc.finish(0);
        let mut ctxs = [Ctx::default(); 4];
        let mut dec = RangeDecoder::new(&data);
        for (i, &b) in bits.iter().enumerate() {
            let got = if i % 3 == 0 {
                dec.bypass(0)
            } else {
                dec.bit(&mut ctxs[i % 4], 0)
            };
            assert_eq!(got, b, "bit {i}");
        }
    }

    #[test]
    fn skewed_source_compresses() {
        let mut ctx = Ctx::default();
        let mut enc = RangeEncoder::new(Vec::new());
        for i in 0..8000 {
            enc.bit(&mut ctx, (i % 50 == 0) as u32);
        }
        let n = enc.finish(0).len();
        // Entropy of p=0.02 is 0.14 bit/symbol: 8000 symbols need about 141 bytes.
        assert!(n < 200, "{n} bytes");
    }

    #[test]
    fn mark_and_reset_undo_coding() {
        let mut ctx = Ctx::default();
        let mut enc = RangeEncoder::new(Vec::new());
        for i in 0..300 {
            enc.bit(&mut ctx, i & 1);
        }
        let m = enc.mark();
        let saved = ctx;
        for _ in 0..300 {
            enc.bypass(1);
        }
        enc.reset_to(m);
        ctx = saved;
        enc.bit(&mut ctx, 1);
        let data = enc.finish(0);
        let mut ctx = Ctx::default();
        let mut dec = RangeDecoder::new(&data);
        for i in 0..300 {
            assert_eq!(dec.bit(&mut ctx, 0), i & 1);
        }
        assert_eq!(dec.bit(&mut ctx, 0), 1);
    }
}
