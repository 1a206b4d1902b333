"""SPEC §6 atlas format, expression folders, load-time checks and fallback chains."""
import json
import shutil

import pytest
from helpers import SAMPLES, make_atlas, make_session, sprite_color, write_json

from render.atlas import load_atlas
from contracts.errors import ContractError
from studio.plan import open_project



def test_s6_views_at_top_level_or_under_views(tmp_path):
    a = load_atlas(make_atlas(tmp_path / "a", top_level=True))
    b = load_atlas(make_atlas(tmp_path / "b", top_level=False))
    assert set(a.views) == set(b.views) == {"front", "left15", "left30", "right15", "right30"}
    assert a.views["front"]["closed"] == "front/mouth_close.png"


def test_s6_mouth_labels_case_insensitive_and_close_means_closed(tmp_path):
    p = make_atlas(tmp_path, views=("front",), expressions=())
    doc = json.loads(p.read_text())
    doc["front"] = {"Close": "front/mouth_close.png", "A": "front/mouth_a.png"}
    write_json(p, doc)
    a = load_atlas(p)
    assert a.views["front"] == {"closed": "front/mouth_close.png", "a": "front/mouth_a.png"}


def test_s6_defaults_for_fallback_labels_and_default(tmp_path):
    p = make_atlas(tmp_path, views=("front",), expressions=())
    doc = json.loads(p.read_text())
    for k in ("fallback", "expression_labels", "expression_default"):
        doc.pop(k)
    write_json(p, doc)
    a = load_atlas(p)
    assert (a.fallback_view, a.fallback_mouth, a.default) == ("front", "closed", "normal")
    assert a.labels == ["normal", "smile", "angry", "sad", "blink"]


def test_s6_expression_variant_path_uses_the_file_name(tmp_path):
    a = load_atlas(make_atlas(tmp_path))
    assert a.variant("blink", "front", "a") == "blink_front/mouth_a.png"
    r = a.resolve("blink", "front", "a")
    assert r.sprite == "blink_front/mouth_a.png" and r.reasons == ()


def test_s6_variant_exists_even_without_the_base_file(tmp_path):
    a = load_atlas(make_atlas(tmp_path, skip=("left15/mouth_a.png",)))
    assert a.resolve("smile", "left15", "a").sprite == "smile_left15/mouth_a.png"
    assert a.resolve("smile", "left15", "a").reasons == ()
    assert any("left15/mouth_a.png" in w for w in a.warnings)


def test_s6_default_expression_draws_the_base(tmp_path):
    r = load_atlas(make_atlas(tmp_path)).resolve("normal", "right30", "o")
    assert r.sprite == "right30/mouth_o.png" and r.reasons == ()


def test_s6_expression_missing_falls_back_to_base(tmp_path):
    r = load_atlas(make_atlas(tmp_path, expressions=("smile",))).resolve("sad", "left30", "e")
    assert r.sprite == "left30/mouth_e.png" and r.reasons == ("expression_missing",)


def test_s6_sprite_missing_keeps_view_and_expression(tmp_path):
    """v0.2: a listed file missing on disk (base and variant) is sprite_missing, not mouth_missing."""
    atlas = make_atlas(tmp_path, skip=("right15/mouth_u.png", "blink_right15/mouth_u.png"))
    r = load_atlas(atlas).resolve("blink", "right15", "u")
    assert r.sprite == "blink_right15/mouth_close.png" and r.reasons == ("sprite_missing",)
    assert r.missing == ("right15/mouth_u.png is missing",)


def test_s6_mouth_not_listed_in_view(tmp_path):
    r = load_atlas(make_atlas(tmp_path, mouths=("closed", "a"), views=("front", "left15"))).resolve("normal", "left15", "o")
    assert r.sprite == "left15/mouth_close.png" and r.reasons == ("mouth_missing",)


def test_s6_view_missing_starts_at_fallback_view(tmp_path):
    r = load_atlas(make_atlas(tmp_path)).resolve("smile", "up15", "a")
    assert r.sprite == "smile_front/mouth_a.png" and r.reasons == ("view_missing",)


def test_s6_blink_on_the_right_view_beats_front_popping_in(tmp_path):
    atlas = make_atlas(tmp_path, skip=("blink_left30/mouth_a.png", "left30/mouth_a.png"))
    r = load_atlas(atlas).resolve("blink", "left30", "a")
    assert r.sprite == "blink_left30/mouth_close.png" and r.view == "left30"


def test_s6_full_chain_to_fallback_view_and_mouth(tmp_path):
    skip = ("smile_left30/mouth_a.png", "left30/mouth_a.png", "smile_left30/mouth_close.png",
            "left30/mouth_close.png", "smile_front/mouth_a.png", "front/mouth_a.png", "smile_front/mouth_close.png")
    r = load_atlas(make_atlas(tmp_path, skip=skip)).resolve("smile", "left30", "a")
    assert r.sprite == "front/mouth_close.png"  # every candidate before it was listed but had no file
    assert set(r.reasons) == {"sprite_missing", "expression_missing"}


def test_s6_missing_fallback_sprite_is_an_error(tmp_path):
    with pytest.raises(ContractError, match="fallback sprite"):
        load_atlas(make_atlas(tmp_path, skip=("front/mouth_close.png",)))


def test_s6_fallback_not_listed_is_an_error(tmp_path):
    p = make_atlas(tmp_path, extra={"fallback": {"view": "up7", "mouth": "closed"}})
    with pytest.raises(ContractError, match="fallback"):
        load_atlas(p)


def test_s6_no_sprite_exists_is_an_error_never_all_fallback(tmp_path):
    p = make_atlas(tmp_path / "a")
    with pytest.raises(ContractError, match="none of the"):
        load_atlas(p, assets_dir=tmp_path / "empty")


def test_s6_did_you_mean_hint_for_misnamed_files(tmp_path):
    p = make_atlas(tmp_path)
    (tmp_path / "left30" / "mouth_close.png").rename(tmp_path / "left30" / "mouth_closed.png")
    a = load_atlas(p)
    w = [w for w in a.warnings if "left30/mouth_close.png" in w]
    assert w and "did you mean left30/mouth_closed.png" in w[0]


def test_s6_fallback_frames_are_marked_in_the_plan(tmp_path):
    atlas = make_atlas(tmp_path / "at", expressions=())
    p = open_project(make_session(tmp_path, atlas=atlas, audio_ms=160,
                                  expression=[{"t_ms": 40, "dur_ms": 40, "expression": "blink"}],
                                  pose=[{"t_ms": 0, "pitch_deg": 0}, {"t_ms": 80, "pitch_deg": 0},
                                        {"t_ms": 120, "pitch_deg": 20}], mouth=[{"t_ms": 0, "mouth_id": 0}]))
    rows = [p.plan.row(i) for i in range(4)]
    assert [r["fallback"] for r in rows] == ["", "expression_missing", "", "view_missing"]
    assert rows[3]["view"] == "down15" and rows[3]["sprite"] == "front/mouth_close.png"


def test_s6_rendered_pixels_come_from_the_resolved_sprite(tmp_path):
    atlas = make_atlas(tmp_path / "at")
    p = open_project(make_session(tmp_path, atlas=atlas, audio_ms=80,
                                  pose=[{"t_ms": 0, "yaw_deg": -20}], mouth=[{"t_ms": 0, "mouth_id": 3}],
                                  expression=[{"t_ms": 0, "expression": "smile"}]))
    img = p.render_frame(0)
    assert tuple(img[360, 360, :3]) == sprite_color("left30", "u", "smile")


def test_s6_production_atlas_opens_unchanged_with_hints(tmp_path):
    """The production atlas with a sprite tree where some views say mouth_closed.png."""
    shutil.copy(SAMPLES / "atlas.min.json", tmp_path / "atlas.min.json")
    doc = json.loads((SAMPLES / "atlas.min.json").read_text())
    import cv2
    from helpers import make_sprite
    for view, mouths in doc.items():
        if not isinstance(mouths, dict) or "closed" not in mouths:
            continue
        for m, rel in mouths.items():
            if view == "left30" and m == "closed":
                rel = rel.replace("mouth_close", "mouth_closed")
            for folder in ("", "blink_"):
                f = tmp_path / (folder + rel)
                f.parent.mkdir(parents=True, exist_ok=True)
                cv2.imwrite(str(f), make_sprite(sprite_color(view, m, "blink" if folder else None)))
    a = load_atlas(tmp_path / "atlas.min.json")
    assert len(a.views) == 13 and a.rules["diag_yaw_max_deg"] == 22
    assert any("did you mean left30/mouth_closed.png" in w for w in a.warnings)
    r = a.resolve("blink", "left30", "closed")  # the misnamed file is not guessed: fallback, reported
    assert r.sprite == "blink_front/mouth_close.png" and r.reasons == ("sprite_missing",)
    assert r.missing == ("left30/mouth_close.png is missing (did you mean left30/mouth_closed.png?)",)
