"""Damaged PNGs and WAVs the native decoders complain about on stderr (SPEC §12): used by the
rough-edges tests and the fuzz harness."""
from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import soundfile


def _chunks(raw: bytes):
    """(offset, length, type) of each PNG chunk."""
    pos = 8
    while pos + 8 <= len(raw):
        n, kind = struct.unpack_from(">I4s", raw, pos)
        yield pos, n, kind
        pos += 12 + n


def png_without_iend(raw: bytes) -> bytes:
    return raw[:raw.rfind(b"IEND") - 4]


def png_bad_ihdr_crc(raw: bytes) -> bytes:
    return raw[:29] + bytes([raw[29] ^ 0xFF]) + raw[30:]


def png_truncated(raw: bytes) -> bytes:
    return raw[: len(raw) // 2]


def png_bad_idat(raw: bytes) -> bytes:
    """IDAT bytes scrambled and its CRC recomputed: the chunk walk passes, zlib inside libpng fails."""
    b = bytearray(raw)
    for pos, n, kind in _chunks(raw):
        if kind == b"IDAT":
            for k in range(pos + 10, pos + 8 + n, 7):
                b[k] ^= 0x5A
            struct.pack_into(">I", b, pos + 8 + n, zlib.crc32(bytes(b[pos + 4:pos + 8 + n])))
            break
    return bytes(b)


PNG_DAMAGE = {"png without IEND": png_without_iend, "png IHDR CRC broken": png_bad_ihdr_crc,
              "png truncated": png_truncated, "png IDAT corrupt": png_bad_idat}


def wav_tagged(path: Path, tag: int, extensible: bool = False, frames: int = 4000) -> Path:
    """A WAV whose fmt chunk says `tag` (an MP3 payload of noise for 0x55), optionally as the
    sub-format of WAVE_FORMAT_EXTENSIBLE."""
    data = bytes(np.random.default_rng(tag).integers(0, 256, frames, dtype=np.uint8))
    if extensible:
        guid = struct.pack("<H", tag) + b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"
        fmt = struct.pack("<HHIIHHHHI", 0xFFFE, 1, 16000, 32000, 2, 16, 22, 16, 4) + guid
    else:
        fmt = struct.pack("<HHIIHH", tag, 1, 16000, 2000, 1, 0) + struct.pack("<HHIHHH", 12, 1, 2, 144, 1, 1393)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(data)) + data
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    return path


def wav_subtype(path: Path, subtype: str, ms: int = 400) -> Path:
    soundfile.write(str(path), np.zeros(16 * ms, np.float32), 16000, subtype=subtype)
    return path


WAV_DAMAGE = {"wav MPEG (0x55)": lambda p: wav_tagged(p, 0x55),
              "wav extensible MPEG": lambda p: wav_tagged(p, 0x55, extensible=True),
              "wav A-law": lambda p: wav_subtype(p, "ALAW"), "wav mu-law": lambda p: wav_subtype(p, "ULAW"),
              "wav IMA ADPCM": lambda p: wav_subtype(p, "IMA_ADPCM"),
              "wav MS ADPCM": lambda p: wav_subtype(p, "MS_ADPCM"),
              "wav GSM 6.10": lambda p: wav_subtype(p, "GSM610")}


def project_lines_only(stderr: str) -> list[str]:
    """Lines on stderr that are not the project's own (warnings, notes, the one error sentence)."""
    ours = ("error: ", "warning: ", "note: ", "main.py: error: ", "internal error: ", "interrupted (SIGINT)",
            "terminated (SIGTERM)")
    return [ln for ln in stderr.splitlines() if ln.strip() and not ln.startswith(ours)]
