"""Optional debug MP4 (`export --mp4`, SPEC §8): the FG over a checkerboard, session audio muxed in.

Never the product (the PNGs are). Uses the ffmpeg binary that the imageio-ffmpeg wheel ships.
"""
from __future__ import annotations

import subprocess
from pathlib import Path

import cv2
import numpy as np

from studio.plan import Project


def checkerboard(h: int, w: int, cell: int = 24) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w]
    light = ((yy // cell + xx // cell) % 2 == 0)
    out = np.where(light[:, :, None], 205, 160).astype(np.uint8)
    return np.repeat(out, 3, axis=2)


def over(fg_bgra: np.ndarray, bg_bgr: np.ndarray) -> np.ndarray:
    a = fg_bgra[:, :, 3:4].astype(np.float32) * (1.0 / 255.0)
    return (fg_bgra[:, :, :3] * a + bg_bgr * (1.0 - a) + 0.5).astype(np.uint8)


def write_debug_mp4(project: Project, frames_dir: Path, out_path: Path) -> tuple[bool, str | None]:
    """Returns (audio_mux_succeeded, warning or None)."""
    try:
        import imageio_ffmpeg
        ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    except Exception as exc:  # the wheel may be missing its binary on an odd platform
        return False, f"debug MP4 not written: no ffmpeg ({exc})"
    s = project.session
    w, h = s.render.canvas_w, s.render.canvas_h
    tmp = out_path.with_name(f".{out_path.name}.tmp.mp4")
    cmd = [ffmpeg, "-y", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "bgr24", "-s", f"{w}x{h}",
           "-r", f"{s.fps:g}", "-i", "-"]
    if s.audio_path is not None:
        cmd += ["-i", str(s.audio_path), "-c:a", "aac", "-shortest"]
    cmd += ["-c:v", "libx264", "-pix_fmt", "yuv420p", "-preset", "veryfast", str(tmp)]
    bg = checkerboard(h, w)
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        for i in range(len(project.plan)):
            fg = cv2.imread(str(frames_dir / f"{i:08d}.png"), cv2.IMREAD_UNCHANGED)
            proc.stdin.write(over(fg, bg).tobytes())
        proc.stdin.close()
        err = proc.stderr.read().decode(errors="replace").strip()
        code = proc.wait()
    except BrokenPipeError:
        code, err = proc.wait(), proc.stderr.read().decode(errors="replace").strip()
    if code != 0:
        tmp.unlink(missing_ok=True)
        return False, f"debug MP4 failed: {err.splitlines()[-1] if err else f'ffmpeg exit {code}'}"
    tmp.replace(out_path)
    if s.audio_path is None:
        return False, "debug MP4 written without sound: the session has no audio file"
    return True, None
