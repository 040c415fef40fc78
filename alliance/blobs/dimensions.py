"""The canvas a file declares in its header, read before any decoder runs.

A decompression bomb is a small file declaring a huge canvas; refusing it on the header
alone means no decoder (Pillow's or any other) ever allocates for it. Pillow checks again
while opening, as a second guard.
"""

from __future__ import annotations

import struct

from alliance.blobs.sniffing import BlobType

# JPEG start-of-frame markers (baseline, extended, progressive, lossless…), not DHT/JPG/DAC.
_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


def declared_size(data: bytes, kind: BlobType) -> tuple[int, int] | None:
    """(width, height) from the header, or None when the header does not say (yet)."""
    try:
        if kind is BlobType.PNG:
            if data[12:16] == b"IHDR":
                return struct.unpack(">II", data[16:24])  # type: ignore[return-value]
            return None
        if kind is BlobType.GIF:
            return struct.unpack("<HH", data[6:10])  # type: ignore[return-value]
        if kind is BlobType.WEBP:
            return _webp(data)
        if kind is BlobType.JPEG:
            return _jpeg(data)
    except struct.error:
        return None
    return None


def _webp(data: bytes) -> tuple[int, int] | None:
    chunk = data[12:16]
    if chunk == b"VP8X":
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return width, height
    if chunk == b"VP8L":
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8 ":
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF
    return None


def _jpeg(data: bytes) -> tuple[int, int] | None:
    at = 2
    while at + 4 <= len(data):
        if data[at] != 0xFF:
            return None
        marker = data[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            at += 2
            continue
        (length,) = struct.unpack(">H", data[at + 2 : at + 4])
        if marker in _SOF:
            height, width = struct.unpack(">HH", data[at + 5 : at + 9])
            return width, height
        if marker == 0xDA:  # scan data before any frame header: not a JPEG we can read
            return None
        at += 2 + length
    return None
