"""The QR image: segno makes the code (versions, Reed-Solomon error correction, masks), this
module lays its modules on an exact Size x Size RGBA canvas, as the captured codes are (300x300
RGBA, IHDR decoded), and writes the PNG with zlib. segno's own PNG writer only knows whole
module scales, so it cannot hit an exact pixel size.

segno is imported with the first code, not at start-up: with the writers it loads (xml,
urllib.request) it was about 13 ms of the server's start, for an API most shops never call."""

from __future__ import annotations

import struct
import zlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from segno import QRCode

QUIET_ZONE = 4  # modules of white border the QR standard asks for
BLACK, WHITE = b"\x00\x00\x00\xff", b"\xff\xff\xff\xff"


def fits(text: str, size: int) -> bool:
    """Whether a `size`-pixel square gives every module of the code at least one pixel."""
    return size >= _modules(text) + 2 * QUIET_ZONE


def _modules(text: str) -> int:
    return _qr(text).symbol_size(border=0)[0]


def _qr(text: str) -> QRCode:
    import segno

    return segno.make_qr(text, error="m", boost_error=False)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(
        ">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png(text: str, size: int) -> bytes:
    """A `size` x `size` RGBA PNG of the QR code for `text`, centred on a white square."""
    code = _qr(text)
    matrix = [bytes(row) for row in code.matrix]
    n = len(matrix)
    scale = max(1, size // (n + 2 * QUIET_ZONE))
    offset = (size - n * scale) // 2
    blank = b"\x00" + WHITE * size  # filter byte 0, then the pixels
    rows = []
    for y in range(size):
        my = (y - offset) // scale if y >= offset else -1
        if not 0 <= my < n:
            rows.append(blank)
            continue
        line = matrix[my]
        pixels = [WHITE * offset]
        pixels += [(BLACK if dark & 1 else WHITE) * scale for dark in line]
        pixels.append(WHITE * (size - offset - n * scale))
        rows.append(b"\x00" + b"".join(pixels))
    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header)
            + _chunk(b"IDAT", zlib.compress(b"".join(rows), 9)) + _chunk(b"IEND", b""))
