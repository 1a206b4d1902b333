"""The WAV's own header, read before libsndfile sees the file (SPEC §12).

libsndfile hands MPEG-in-WAV (format tag 0x0055) to libmpg123, which prints notes on stderr, and
then reports "File does not exist" about a file that exists. The format tag says what the samples
are, so a WAV that is not PCM or float is refused here, in our words, and no decoder is woken.
"""
from __future__ import annotations

import struct
from typing import BinaryIO

ACCEPTED_TAGS = {0x0001, 0x0003}    # PCM, IEEE float (also as the sub-format of WAVE_FORMAT_EXTENSIBLE)
EXTENSIBLE = 0xFFFE
TAG_NAMES = {0x0002: "Microsoft ADPCM", 0x0006: "A-law", 0x0007: "µ-law", 0x0011: "IMA ADPCM",
             0x0031: "GSM 6.10", 0x0040: "G.721 ADPCM", 0x0050: "MPEG", 0x0055: "MPEG layer 3 (MP3)",
             0x00FF: "AAC", 0x0160: "WMA", 0x0161: "WMA", 0x1610: "AAC", 0x2000: "AC-3", 0xF1AC: "FLAC"}
W64_RIFF = b"riff\x2e\x91\xcf\x11\xa5\xd6\x28\xdb\x04\xc1\x00\x00"
W64_FMT = b"fmt \xf3\xac\xd3\x11\x8c\xd1\x00\xc0\x4f\x8e\xdb\x8a"
MAX_CHUNKS = 256                    # a header is a handful of chunks; never walk a file of them


def wav_header_problem(f: BinaryIO) -> str | None:
    """Why the open file is not a PCM or float WAV (RIFF, RIFX, RF64 or W64), judged from its header;
    None when it is, or when the header alone cannot tell (libsndfile then decides)."""
    head = f.read(16)
    if head[:4] in (b"RIFF", b"RIFX", b"RF64") and head[8:12] == b"WAVE":
        tag = _riff_format(f, ">" if head[:4] == b"RIFX" else "<")
    elif head == W64_RIFF:
        tag = _w64_format(f)
    else:
        return "it is not a WAV file (no RIFF/WAVE header)"
    if tag is None or tag in ACCEPTED_TAGS:
        return None
    name = TAG_NAMES.get(tag, "compressed")
    return f"it holds {name} audio (format tag 0x{tag:04X}); expected PCM or float samples"


def _format_tag(fmt: bytes, endian: str) -> int | None:
    if len(fmt) < 2:
        return None
    tag = struct.unpack(endian + "H", fmt[:2])[0]
    if tag == EXTENSIBLE and len(fmt) >= 26:   # the sub-format GUID starts with the real tag
        tag = struct.unpack(endian + "H", fmt[24:26])[0]
    return tag


def _riff_format(f: BinaryIO, endian: str) -> int | None:
    f.seek(12)
    for _ in range(MAX_CHUNKS):
        head = f.read(8)
        if len(head) < 8:
            return None
        kind, size = head[:4], struct.unpack(endian + "I", head[4:])[0]
        if kind == b"fmt ":
            return _format_tag(f.read(min(size, 64)), endian)
        if kind == b"data":
            return None
        f.seek(size + (size & 1), 1)
    return None


def _w64_format(f: BinaryIO) -> int | None:
    f.seek(40)
    for _ in range(MAX_CHUNKS):
        head = f.read(24)
        if len(head) < 24:
            return None
        kind, size = head[:16], struct.unpack("<Q", head[16:])[0]
        if kind == W64_FMT:
            return _format_tag(f.read(min(max(size - 24, 0), 64)), "<")
        if size < 24:
            return None
        f.seek(((size + 7) & ~7) - 24, 1)
    return None
