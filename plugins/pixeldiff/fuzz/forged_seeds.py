#!/usr/bin/env python3
# Copyright (C) 2026 pixelmeet developers
# SPDX-License-Identifier: MPL-2.0
"""Writes the forged-but-valid inputs of the rtp_receive corpus: RTP packets whose pixeldiff
chunks carry correct CRCs (the CRC is no authentication) and ask the receiver for as much work
as a header can: layouts flipping to 8192x8192, 65535-macroblock chunks with no payload, one
frame of many chunks, and a flood of empty packets from a second sender.

    python3 plugins/pixeldiff/fuzz/forged_seeds.py plugins/pixeldiff/fuzz/corpus/rtp_receive
"""
import struct
import sys
import zlib
from pathlib import Path

GRAY8, I420, RGB = 1, 2, 4
HEADER_LEN = 26


def chunk(fmt, width, height, frame, mb_count, payload=b"", keyframe=True, index=0, count=1):
    size = HEADER_LEN + len(payload)
    header = struct.pack(
        "<BBHIBBHHHHHB3sH", 0x50, 2, size, 0, 1 if keyframe else 0, fmt, width, height,
        frame & 0xFFFF, index, count, 30, (0).to_bytes(3, "little"), mb_count)
    data = bytearray(header + payload)
    struct.pack_into("<I", data, 4, zlib.crc32(bytes(data)) & 0xFFFFFFFF)
    return bytes(data)


def rtp(seq, timestamp, ssrc, payload, marker=True):
    return struct.pack(">BBHII", 0x80, (0x80 if marker else 0) | 96, seq & 0xFFFF,
                       timestamp & 0xFFFFFFFF, ssrc) + payload


def framed(packets):
    return b"".join(struct.pack(">H", len(p)) + p for p in packets)


def main(out_dir):
    out = Path(out_dir)
    seeds = {
        # A new 8192x8192 RGB picture, then a small one, 40 times.
        "forged-layout-flips": [
            rtp(i, 3000 * i, 0xF0F0,
                chunk(RGB, 8192, 8192, i, 0) if i % 2 == 0 else chunk(I420, 64, 48, i, 0))
            for i in range(40)],
        # Eight 65535-macroblock chunks with no payload: the decoder reads zeros past the end.
        "forged-empty-macroblock-runs": [
            rtp(i, 3000 * i, 0xF0F1, chunk(GRAY8, 4096, 4096, i, 65535)) for i in range(8)],
        # One frame of 48 chunks of 1000 bytes, each announcing the whole picture.
        "forged-one-frame-many-chunks": [
            rtp(i, 90000, 0xF0F2, chunk(GRAY8, 1024, 1024, 7, 4096, bytes([0x5A]) * 1000,
                                        index=i, count=48), marker=(i == 47))
            for i in range(48)],
        # A sender streaming, and 2000 empty packets of a second SSRC between its frames.
        "forged-empty-payload-flood": [
            p for f in range(4) for p in
            [rtp(f, 3000 * f, 0xF0F3, chunk(I420, 64, 48, f, 0))]
            + [rtp(1000 + 500 * f + k, 3000 * f + k, 0xBAD, b"") for k in range(500)]],
    }
    for name, packets in seeds.items():
        (out / name).write_bytes(framed(packets))
        print(f"{out / name}: {len(packets)} datagrams")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "plugins/pixeldiff/fuzz/corpus/rtp_receive")
