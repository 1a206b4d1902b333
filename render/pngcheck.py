"""A PNG's chunk structure, checked before the decoder sees it (SPEC §12: libpng reports a damaged
file on stderr, in its own words; we name the file and say what is wrong with it).

The walk reads chunk headers and checks each chunk's CRC: a truncated file, a missing IEND, a
first chunk that is not IHDR or a damaged chunk are found here, at about 1 ms per MB.
"""
from __future__ import annotations

import struct
import zlib

from contracts.errors import printable

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_CHUNK = (1 << 31) - 1   # the PNG spec's own limit on a chunk length


def png_problem(raw: bytes | memoryview) -> str | None:
    """Why `raw` (a file that starts with the PNG signature) is not a whole, intact PNG; None when it is."""
    raw = memoryview(raw)
    pos, first = len(PNG_SIGNATURE), True
    while True:
        if pos + 8 > len(raw):
            return "it ends before its IEND chunk (the file is truncated)"
        length, kind = struct.unpack_from(">I4s", raw, pos)
        name = printable(kind.decode("latin-1"))
        if length > MAX_CHUNK:
            return f"its {name} chunk at byte {pos} declares an impossible length"
        end = pos + 12 + length
        if end > len(raw):
            return f"it ends inside its {name} chunk (the file is truncated)"
        if first and kind != b"IHDR":
            return f"its first chunk is {name}, not IHDR"
        if zlib.crc32(raw[pos + 4:end - 4]) != struct.unpack_from(">I", raw, end - 4)[0]:
            return f"its {name} chunk at byte {pos} fails its CRC check (the file is damaged)"
        if kind == b"IEND":
            return None
        pos, first = end, False
