// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! A frame number drawn into the picture, so that a receiver tells which captured frame it
//! shows (for latency from capture to render): 16 bits as 16 blocks of 16x16 luma along the
//! top, white for 1 and black for 0, big enough to survive lossy coding.

/// Side of a bit's block, in luma samples.
pub const BLOCK: usize = 16;
/// Bits drawn: the picture must be at least `BITS * BLOCK` wide.
pub const BITS: usize = 16;

/// Draws `number` into the luma plane `y` (row stride `stride`).
pub fn draw(y: &mut [u8], stride: usize, number: u16) {
    for bit in 0..BITS {
        let value = if number >> bit & 1 == 1 { 235 } else { 16 };
        for row in 0..BLOCK {
            let at = row * stride + bit * BLOCK;
            y[at..at + BLOCK].fill(value);
        }
    }
}

/// The number drawn into `y`, read from the middle of each block.
pub fn read(y: &[u8], stride: usize) -> u16 {
    (0..BITS).fold(0, |n, bit| {
        let middle = (BLOCK / 2) * stride + bit * BLOCK + BLOCK / 2;
        let mean =
            (u32::from(y[middle - 1]) + u32::from(y[middle]) + u32::from(y[middle + stride])) / 3;
        n | (u16::from(mean > 128) << bit)
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_number_reads_back() {
        let stride = 320;
        let mut y = vec![77u8; stride * 32];
        for n in [0, 1, 0x8000, 0xffff, 12345] {
            super::draw(&mut y, stride, n);
            assert_eq!(super::read(&y, stride), n);
        }
    }
}
