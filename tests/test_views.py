"""SPEC §6 view selection: every threshold at and around its boundary, diagonals, pitch over yaw."""
import pytest

from render.views import VIEWS, rules_with_defaults, select_views

SPEC_EXAMPLE = {"diag_yaw_max_deg": 22.0, "diag_pitch_max_deg": 10.0}  # the SPEC §6 / production atlas
RULES = rules_with_defaults(SPEC_EXAMPLE)
ALL = set(VIEWS)
NO_DIAG = set(VIEWS[:9])
EPS = 1e-6


def view(yaw, pitch, available=ALL, rules=RULES):
    return select_views([yaw], [pitch], rules, available)[0]


def test_s6_defaults_fill_every_key_and_diag_max_defaults_follow_other_keys():
    r = rules_with_defaults({"right30_min_yaw_deg": 20, "down15_min_pitch_deg": 14})
    assert r["diag_yaw_max_deg"] == 20 and r["diag_pitch_max_deg"] == 14
    assert r["left30_max_yaw_deg"] == -12 and r["diag_yaw_min_deg"] == 10 and r["diag_pitch_min_deg"] == 5
    assert rules_with_defaults({})["diag_yaw_max_deg"] == 12 and rules_with_defaults({})["diag_pitch_max_deg"] == 10


@pytest.mark.parametrize("yaw,expected", [
    (-12, "left30"), (-12 - EPS, "left30"), (-12 + EPS, "left15"),
    (-6, "left15"), (-6 + EPS, "front"),
    (12, "right30"), (12 + EPS, "right30"), (12 - EPS, "right15"),
    (6, "right15"), (6 - EPS, "front"), (0.5, "front"),
])
def test_s6_yaw_thresholds(yaw, expected):
    assert view(yaw, 0.0, NO_DIAG) == expected


@pytest.mark.parametrize("pitch,expected", [
    (-10, "up15"), (-10 + EPS, "up7"), (-5, "up7"), (-5 + EPS, "front"),
    (10, "down15"), (10 - EPS, "down7"), (5, "down7"), (5 - EPS, "front"),
])
def test_s6_pitch_thresholds_pitch_negative_is_up(pitch, expected):
    assert view(0.0, pitch, NO_DIAG) == expected


def test_s6_pitch_wins_when_abs_pitch_ge_abs_yaw():
    assert view(7, 7, NO_DIAG) == "down7"        # equal: pitch wins
    assert view(7, 6.99, NO_DIAG) == "right15"   # yaw larger: yaw
    assert view(-20, -20, NO_DIAG) == "up15"
    assert view(-20, 19, NO_DIAG) == "left30"
    assert view(3, 3, NO_DIAG) == "front"        # pitch branch, below every threshold


@pytest.mark.parametrize("yaw,pitch,expected", [
    (-10, -5, "left15_up7"), (-10, 5, "left15_down7"), (10, -5, "right15_up7"), (10, 5, "right15_down7"),
    (21.9, 9.9, "right15_down7"), (-15, -7, "left15_up7"),
])
def test_s6_diagonal_inside_the_band(yaw, pitch, expected):
    assert view(yaw, pitch) == expected


@pytest.mark.parametrize("yaw,pitch", [(9.99, 5), (22, 5), (10, 4.99), (10, 10), (-22, -7), (15, 10)])
def test_s6_diagonal_band_edges_are_half_open(yaw, pitch):
    assert "_" not in view(yaw, pitch)


def test_s6_diagonal_only_when_the_atlas_has_it():
    assert view(15, -7, ALL) == "right15_up7"
    assert view(15, -7, NO_DIAG) == "right30"              # falls to the yaw rule
    assert view(15, -7, NO_DIAG | {"left15_up7"}) == "right30"
    assert view(-11, 8, NO_DIAG | {"left15_down7"}) == "left15_down7"


def test_s6_threshold_of_minus_999_disables_a_view():
    rules = rules_with_defaults({"left30_max_yaw_deg": -999, **SPEC_EXAMPLE})
    assert view(-40, 0, NO_DIAG, rules) == "left15"


def test_s6_custom_rules_from_the_atlas_are_used():
    rules = rules_with_defaults({"right15_min_yaw_deg": 2, "diag_yaw_min_deg": 100, **SPEC_EXAMPLE})
    assert view(3, 0, ALL, rules) == "right15"
    assert view(11, 6, ALL, rules) == "right15"  # diagonal band moved out of reach


def test_s6_default_diagonal_band_ends_at_the_30_degree_threshold():
    rules = rules_with_defaults({})
    assert view(11, 6, ALL, rules) == "right15_down7"
    assert view(12, 6, ALL, rules) == "right30"


def test_s6_vectorised_matches_scalar():
    import numpy as np
    rng = np.random.default_rng(1)
    yaw, pitch = rng.uniform(-30, 30, 500), rng.uniform(-20, 20, 500)
    vec = select_views(yaw, pitch, RULES, ALL)
    assert all(vec[i] == view(yaw[i], pitch[i]) for i in range(500))
