"""SPEC §7: size, roll, placement, premultiplied resampling, exact copy at identity, BGRA output."""
import numpy as np
import pytest
from helpers import make_atlas, make_session

from render.atlas import Sprite
from render.compositor import clamp_pose, compose
from studio.plan import open_project


def textured_sprite(h=64, w=48, seed=0):
    rng = np.random.default_rng(seed)
    img = rng.integers(0, 256, (h, w, 4), dtype=np.uint8)
    img[:, :, 3] = 255
    img[:4] = 0  # a transparent band with non-zero colour would still be copied exactly
    img[:4, :, :3] = 77
    return img


def centroid(img):
    a = img[:, :, 3].astype(float)
    ys, xs = np.mgrid[0:img.shape[0], 0:img.shape[1]]
    return (xs * a).sum() / a.sum(), (ys * a).sum() / a.sum()


@pytest.mark.parametrize("tx,ty", [(0, 0), (5, -7), (-30, 12)])
def test_s7_identity_is_an_exact_copy_at_the_contract_position(tx, ty):
    src = textured_sprite()
    out = compose(Sprite(src), 0.0, tx, ty, 1.0, 200, 160)
    x0, y0 = 200 // 2 - 48 // 2 + tx, 160 // 2 - 64 // 2 + ty
    assert np.array_equal(out[y0:y0 + 64, x0:x0 + 48], src)
    mask = np.ones(out.shape[:2], bool)
    mask[y0:y0 + 64, x0:x0 + 48] = False
    assert not out[mask].any()


def test_s7_identity_with_odd_sizes_and_clipping():
    src = textured_sprite(31, 17)
    out = compose(Sprite(src), 0.0, -55, 0, 1.0, 101, 99)
    x0, y0 = 101 // 2 - 17 // 2 - 55, 99 // 2 - 31 // 2
    assert x0 == -13
    assert np.array_equal(out[y0:y0 + 31, 0:x0 + 17], src[:, -x0:])


def test_s7_output_is_uint8_bgra_canvas_sized():
    out = compose(Sprite(textured_sprite()), 12.5, 3.3, -2.2, 1.3, 120, 90)
    assert out.dtype == np.uint8 and out.shape == (90, 120, 4)


def test_s7_sprite_centre_stays_put_under_scale_and_roll():
    src = np.zeros((60, 60, 4), np.uint8)
    src[10:50, 10:50] = (0, 0, 255, 255)
    for scale, roll in [(1.5, 0), (0.7, 0), (1.0, 33), (1.8, -70)]:
        cx, cy = centroid(compose(Sprite(src), roll, 0, 0, scale, 200, 200))
        assert abs(cx - 100) < 0.6 and abs(cy - 100) < 0.6, (scale, roll, cx, cy)


def test_s7_scale_sets_drawn_height_and_is_clamped():
    src = np.zeros((40, 40, 4), np.uint8)
    src[:, :] = (0, 255, 0, 255)
    def height(scale):
        rows = np.flatnonzero(compose(Sprite(src), 0, 0, 0, scale, 400, 400)[:, 200, 3] > 127)
        return rows.max() - rows.min() + 1
    assert height(1.5) == 60 and height(0.5) == 20
    _, _, s, _ = clamp_pose(0, 0, np.array([0.1, 3.0, 1.2]), 400, 400)
    assert list(s) == [0.5, 2.0, 1.2]


def test_s7_target_h_ratio_sets_height_from_canvas():
    src = np.zeros((40, 20, 4), np.uint8)
    src[:, :] = (0, 255, 0, 255)
    out = compose(Sprite(src), 0, 0, 0, 1.0, 300, 300, target_h_ratio=0.5)
    height = out[:, 150, 3].sum() / 255   # coverage, so half-covered edge pixels count half
    width = out[150, :, 3].sum() / 255
    assert abs(height - 150) < 0.6 and abs(width - 75) < 0.6  # aspect kept


def test_s7_positive_roll_turns_counter_clockwise_on_screen():
    src = np.zeros((21, 61, 4), np.uint8)
    src[:, 45:] = (255, 0, 0, 255)  # a mark on the right end of a horizontal bar
    out = compose(Sprite(src), 90.0, 0, 0, 1.0, 200, 200)
    cx, cy = centroid(out)
    assert cy < 100 - 15 and abs(cx - 100) < 3  # the right end goes up: counter-clockwise


def test_s7_translation_clamped_to_45_percent_and_counted(tmp_path):
    tx, ty, _, clamped = clamp_pose(np.array([0, 400, -500]), np.array([10, 0, 0]), np.ones(3), 720, 720)
    assert list(tx) == [0, 324, -324] and list(clamped) == [False, True, True]
    p = open_project(make_session(tmp_path, audio_ms=120, pose=[{"t_ms": 0, "tx": 1000}, {"t_ms": 40, "tx": 0}]))
    assert list(p.plan.clamped) == [True, False, False] and p.plan.pose[0, 3] == 324


def test_s7_no_dark_fringe_under_rotation_and_scale():
    """Premultiplied resampling: edge pixels keep the sprite colour, never blend toward black."""
    src = np.zeros((80, 80, 4), np.uint8)
    src[20:60, 20:60] = (40, 200, 250, 255)
    for roll, scale, tx in [(17, 1.33, 0.4), (-45, 0.61, 0.25), (3, 1.0, 0.5)]:
        out = compose(Sprite(src), roll, tx, 0, scale, 160, 160)
        edge = (out[:, :, 3] > 0) & (out[:, :, 3] < 255)
        assert edge.sum() > 20
        diff = np.abs(out[edge][:, :3].astype(int) - [40, 200, 250]).max()
        assert diff <= 2, (roll, scale, diff)


def test_s7_fully_transparent_pixels_are_zero():
    out = compose(Sprite(textured_sprite()), 10, 0.5, 0.5, 1.1, 120, 120)
    assert not out[out[:, :, 3] == 0].any()


def test_s7_deterministic_and_frame_independent(tmp_path):
    atlas = make_atlas(tmp_path / "at")
    pose = [{"t_ms": t, "yaw_deg": (t % 400) / 20 - 10, "roll_deg": t / 100, "tx": t / 33, "scale": 1 + t / 4000}
            for t in range(0, 800, 40)]
    p = open_project(make_session(tmp_path, atlas=atlas, audio_ms=800, pose=pose))
    forward = [p.render_frame(i).copy() for i in range(20)]
    backward = [p.render_frame(i).copy() for i in reversed(range(20))][::-1]
    again = open_project(tmp_path / "session.json")
    assert all(np.array_equal(a, b) for a, b in zip(forward, backward))
    assert all(np.array_equal(a, again.render_frame(i)) for i, a in enumerate(forward))


def test_studio_sprite_cache_scales_with_memory_and_batch_keeps_the_default(monkeypatch):
    from render import sprites
    monkeypatch.setattr(sprites.os, "sysconf", lambda name: {"SC_PAGE_SIZE": 4096, "SC_PHYS_PAGES": (24 << 30) // 4096}[name])
    assert sprites.interactive_budget() == 3 << 30                    # 24 GiB machine: capped at 3 GB
    monkeypatch.setattr(sprites.os, "sysconf", lambda name: {"SC_PAGE_SIZE": 4096, "SC_PHYS_PAGES": (2 << 30) // 4096}[name])
    assert sprites.interactive_budget() == 640 << 20                  # small machine: never below the default
    monkeypatch.setenv("LIPSYNC_SPRITE_CACHE_MB", "100")
    assert sprites.interactive_budget() == 100 << 20
    assert sprites.SpriteCache().budget == 640 << 20                  # what validate/score/export get
