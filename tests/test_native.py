"""The native fast path (native/, render/native.py): our PNG encoder read back by libpng (OpenCV)
and Pillow with byte-exact pixels on every path (AVX2 and portable give the same bytes), its
checksums, the fused warp + un-premultiply kernel against the OpenCV path, the fpng fallback with
one warning, and re-exports that never trust a frame another encoder or kernel wrote."""
import io
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from helpers import ROOT, make_atlas, make_session
from PIL import Image

from render import compositor, native
from render.sprites import Sprite
from studio.export import fg as export_fg_mod
from studio.export.fg import ExportOptions, export_fg, fg_dir
from studio.plan import open_project

ext = native.ext
needs_ext = pytest.mark.skipif(ext is None, reason=f"native extension not built: {native.missing}")
PATHS = [pytest.param(True, id="avx2"), pytest.param(False, id="portable")]


def images():
    rng = np.random.default_rng(21)
    noise = rng.integers(0, 256, (37, 53, 4), dtype=np.uint8)
    opaque = rng.integers(0, 256, (40, 33, 4), dtype=np.uint8)
    opaque[:, :, 3] = 255
    sparse = rng.integers(0, 256, (61, 70, 4), dtype=np.uint8)   # zero runs of every length, across rows
    sparse[rng.random((61, 70)) < 0.9] = 0
    flat = np.zeros((50, 300, 4), np.uint8)
    flat[10:40, 20:290] = (40, 200, 250, 254)                     # long runs inside a row after Sub
    wide = rng.integers(0, 256, (3, 8192, 4), dtype=np.uint8)
    wide[1, 100:5000] = 0
    photo = cv2.GaussianBlur(rng.integers(0, 256, (120, 90, 4), dtype=np.uint8), (0, 0), 2)
    shape = rng.integers(1, 256, (80, 90, 4), dtype=np.uint8)     # transparent margins that move row to row
    ys, xs = np.mgrid[0:80, 0:90]
    shape[(xs < ys // 2) | (xs > 30 + ys) | ((ys > 60) & (ys < 64))] = 0
    return {"random": noise, "all_transparent": np.zeros((64, 48, 4), np.uint8), "all_opaque": opaque,
            "1x1": np.array([[[9, 8, 7, 6]]], np.uint8), "sparse": sparse, "flat": flat, "8192_wide": wide,
            "smooth": photo, "margins": shape, "odd_width": rng.integers(0, 256, (5, 3, 4), dtype=np.uint8)}


IMAGES = images()


@needs_ext
@pytest.mark.parametrize("simd", PATHS)
@pytest.mark.parametrize("name", list(IMAGES))
def test_s8_native_png_is_read_back_exactly_by_libpng_and_pillow(name, simd):
    if simd and not ext.has_avx2():
        pytest.skip("this CPU has no AVX2")
    rgba = IMAGES[name]
    png = ext.encode_png(rgba, simd=simd)
    via_libpng = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_UNCHANGED)
    assert via_libpng.shape == rgba.shape and np.array_equal(via_libpng, cv2.cvtColor(rgba, cv2.COLOR_RGBA2BGRA))
    with Image.open(io.BytesIO(png)) as im:
        assert im.mode == "RGBA" and np.array_equal(np.asarray(im), rgba)
    bgra = np.ascontiguousarray(rgba[:, :, [2, 1, 0, 3]])
    assert ext.encode_png(bgra, swap_rb=True, simd=simd) == png          # the BGRA entry point: same file


@needs_ext
def test_native_png_paths_agree_and_compress():
    """AVX2 and portable write the same bytes (a frame does not depend on the machine's CPU), and a
    textured frame is smaller than its raw pixels; a view with a row stride encodes the view."""
    for img in IMAGES.values():
        assert ext.encode_png(img, simd=True) == ext.encode_png(img, simd=False)
    smooth = IMAGES["smooth"]
    assert len(ext.encode_png(smooth)) < smooth.nbytes * 0.8
    big = np.zeros((20, 30, 4), np.uint8)
    big[5:15, 4:24] = IMAGES["random"][:10, :20]
    view = big[5:15, 4:24]
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(ext.encode_png(view)))), view)
    with pytest.raises(ValueError):
        ext.encode_png(np.zeros((4, 4, 3), np.uint8))


@needs_ext
@pytest.mark.parametrize("simd", PATHS)
def test_native_checksums_match_zlib(simd):
    data = np.random.default_rng(5).integers(0, 256, 70000, dtype=np.uint8).tobytes()
    for n in (0, 1, 15, 16, 31, 63, 64, 65, 127, 5553, 70000):
        assert ext.crc32(data[:n], simd=simd) == zlib.crc32(data[:n])
        assert ext.adler32(data[:n], simd=simd) == zlib.adler32(data[:n])
    assert ext.adler32(b"\xff" * 200000, simd=simd) == zlib.adler32(b"\xff" * 200000)   # modulo reductions


def textured(h=90, w=70, seed=4):
    rng = np.random.default_rng(seed)
    img = cv2.GaussianBlur(rng.integers(0, 256, (h, w, 4), dtype=np.uint8), (0, 0), 1.5)
    img[:, :, 3] = 254
    img[:8] = 0
    edge = cv2.GaussianBlur(np.pad(np.ones((h - 24, w - 16), np.float32), ((16, 8), (8, 8))), (0, 0), 3)
    img[:, :, 3] = np.minimum(img[:, :, 3], (edge * 254).astype(np.uint8))   # feathered edge, alpha 254 body
    return img


@needs_ext
def test_s7_fused_kernel_within_two_levels_of_the_opencv_path(monkeypatch):
    """The fused warp + un-premultiply (float bilinear, no intermediate 16-bit rounding) is within 2
    levels of the OpenCV path (on a few % of pixels of this small, edge-heavy sprite; < 1 % on a
    production-like frame), keeps transparent pixels (0, 0, 0, 0), and
    its AVX2 and portable versions give identical pixels."""
    sprite = Sprite(textured())
    poses = [(2.0, 3.3, -1.2, 1.02), (-17, 0.5, 0.25, 0.7), (45, -10.5, 3, 1.5), (0.5, 0, 0, 1.0001), (90, 1, 1, 1)]
    fused = [compositor.compose(sprite, *p, 160, 150).copy() for p in poses]
    monkeypatch.setattr(native, "SIMD", False)
    portable = [compositor.compose(sprite, *p, 160, 150).copy() for p in poses]
    monkeypatch.setattr(native, "ext", None)
    opencv = [compositor.compose(sprite, *p, 160, 150).copy() for p in poses]
    for a, b, c in zip(fused, portable, opencv):
        assert np.array_equal(a, b)
        diff = np.abs(a.astype(int) - c)
        assert diff.max() <= 2 and (diff > 0).any(axis=2).mean() < 0.05
        assert not a[a[:, :, 3] == 0].any()
        assert ((a[:, :, 3] > 0) == (c[:, :, 3] > 0)).mean() > 0.999


def test_native_version_matches_its_sources():
    header = (ROOT / "native" / "src" / "native.h").read_text()
    assert re.search(r'#define LS_NATIVE_VERSION "(\w+)"', header).group(1) == native.EXPECTED_VERSION


FALLBACK_SCRIPT = """
import sys
{block}
sys.path.insert(0, {root!r})
from studio.cli import main
sys.exit(main(["export", {session!r}, "--out", {out!r}]))
"""


@pytest.mark.parametrize("how", ["missing", "off"])
def test_export_falls_back_to_fpng_with_one_warning(tmp_path, how):
    """Without the extension (not built: its import fails; or LIPSYNC_NATIVE=off) export still
    passes with fpng and the OpenCV kernel, and says so in exactly one warning line."""
    atlas = make_atlas(tmp_path / "at")
    pose = [{"t_ms": t, "roll_deg": t / 100, "tx": t / 33} for t in range(0, 400, 40)]
    session = make_session(tmp_path / "s", atlas=atlas, audio_ms=400, pose=pose)
    out = tmp_path / "out"
    block = "sys.modules['lipsync_native'] = None" if how == "missing" else ""
    env = {**os.environ, "LIPSYNC_NATIVE": "off" if how == "off" else "auto"}
    code = FALLBACK_SCRIPT.format(block=block, root=str(ROOT), session=str(session), out=str(out))
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert res.returncode == 0, res.stderr
    lines = [ln for ln in res.stderr.splitlines() if "native PNG encoder" in ln]
    assert len(lines) == 1 and lines[0].startswith("warning:"), res.stderr
    report = json.loads((out / "run_report.json").read_text())
    assert report["encoder"] == "fpng" and report["passed"]
    assert sum("native PNG encoder" in w for w in report["warnings"]) == 1
    frame = cv2.imread(str(fg_dir(out) / "00000007.png"), cv2.IMREAD_UNCHANGED)
    assert frame.shape == (720, 720, 4) and frame[:, :, 3].any()


@needs_ext
def test_s12_reexport_after_an_encoder_change_renders_every_frame_again(tmp_path, monkeypatch):
    """Frame hashes name the kernel and the encoder: frames an export with fpng wrote are never
    reused by an export with the native encoder (nor back), and the result equals a fresh export."""
    pose = [{"t_ms": t, "roll_deg": t / 100, "tx": t / 33, "scale": 1 + t / 4000} for t in range(0, 480, 40)]
    session = make_session(tmp_path / "s", atlas=make_atlas(tmp_path / "at"), audio_ms=480, pose=pose)
    out = tmp_path / "out"

    def export(encoder):
        real = export_fg_mod.render_spec

        def spec_with(project):
            spec = real(project)
            spec.encoder = encoder
            return spec
        monkeypatch.setattr(export_fg_mod, "render_spec", spec_with)
        return export_fg(open_project(session), ExportOptions(out_dir=out, workers=1)).report

    first = export("fpng")
    assert first["reused_frames"] == 0
    fpng_bytes = (fg_dir(out) / "00000005.png").read_bytes()
    again = export(native.ENCODER)
    assert again["reused_frames"] == 0                          # nothing another encoder wrote is trusted
    native_bytes = (fg_dir(out) / "00000005.png").read_bytes()
    assert native_bytes != fpng_bytes and native_bytes == ext.encode_png(
        cv2.cvtColor(open_project(session).render_frame(5), cv2.COLOR_BGRA2RGBA))
    assert export(native.ENCODER)["reused_frames"] == 12          # same encoder: every frame reused
    for i in (0, 5, 11):
        img = cv2.imread(str(fg_dir(out) / f"{i:08d}.png"), cv2.IMREAD_UNCHANGED)
        assert np.array_equal(img, open_project(session).render_frame(i))


@pytest.mark.skipif(not shutil.which("cc"), reason="no C compiler")
def test_native_sources_build_without_x86(tmp_path):
    """The variant a non-x86 machine compiles (portable code only) builds without warnings."""
    include = sysconfig.get_paths()["include"]
    for src in (ROOT / "native" / "src").glob("*.c"):
        res = subprocess.run(["cc", "-std=c11", "-O1", "-Wall", "-Werror", "-DLS_PORTABLE_ONLY",
                              f"-I{include}", "-c", str(src), "-o", str(tmp_path / (src.stem + ".o"))],
                             capture_output=True, text=True)
        assert res.returncode == 0, res.stderr


def test_native_is_built_by_the_bootstrap():
    """The bootstrap builds native/ and rebuilds it when its sources change (a stamp in .venv)."""
    script = (ROOT / "scripts" / "bootstrap.sh").read_text()
    assert "native/src/*.[ch]" in script and ".venv/.native-stamp" in script and "--no-index" in script
    if Path(sys.prefix).resolve() == (ROOT / ".venv").resolve() and os.environ.get("CI"):
        assert native.ext is not None, native.missing   # CI's machine has a compiler: the fast path is there
