"""View selection (SPEC §6), vectorised over whole frame grids."""
from __future__ import annotations

import numpy as np

VIEW_RULE_DEFAULTS = {
    "left30_max_yaw_deg": -12.0, "right30_min_yaw_deg": 12.0,
    "left15_max_yaw_deg": -6.0, "right15_min_yaw_deg": 6.0,
    "up15_max_pitch_deg": -10.0, "down15_min_pitch_deg": 10.0,
    "up7_max_pitch_deg": -5.0, "down7_min_pitch_deg": 5.0,
    "diag_yaw_min_deg": 10.0, "diag_pitch_min_deg": 5.0,
}
VIEWS = ("front", "left15", "left30", "right15", "right30", "up7", "up15", "down7", "down15",
         "left15_up7", "left15_down7", "right15_up7", "right15_down7")
FIRST_DIAGONAL = 9                 # VIEWS index of left15_up7; the diagonals close the tuple
DIAGONALS = VIEWS[FIRST_DIAGONAL:]


def rules_with_defaults(raw: dict | None) -> dict[str, float]:
    """Every threshold key, defaults filled in; the diagonal maxima default to right30_min / down15_min."""
    rules = {**VIEW_RULE_DEFAULTS, **{k: float(v) for k, v in (raw or {}).items()}}
    rules.setdefault("diag_yaw_max_deg", rules["right30_min_yaw_deg"])
    rules.setdefault("diag_pitch_max_deg", rules["down15_min_pitch_deg"])
    return rules


def select_view_ids(yaw, pitch, rules: dict[str, float], available) -> np.ndarray:
    """Index into VIEWS per frame from raw yaw/pitch (degrees; pitch < 0 is up, yaw < 0 is left).

    1. a diagonal when |yaw| and |pitch| are inside the diagonal band and the atlas has it;
    2. else pitch wins when |pitch| >= |yaw|; 3. else yaw.
    """
    yaw = np.atleast_1d(np.asarray(yaw, dtype=np.float64))
    pitch = np.atleast_1d(np.asarray(pitch, dtype=np.float64))
    ay, ap = np.abs(yaw), np.abs(pitch)
    r = rules
    v = {name: np.int16(i) for i, name in enumerate(VIEWS)}
    pitch_view = np.select(
        [pitch <= r["up15_max_pitch_deg"], pitch <= r["up7_max_pitch_deg"],
         pitch >= r["down15_min_pitch_deg"], pitch >= r["down7_min_pitch_deg"]],
        [v["up15"], v["up7"], v["down15"], v["down7"]], v["front"])
    yaw_view = np.select(
        [yaw <= r["left30_max_yaw_deg"], yaw <= r["left15_max_yaw_deg"],
         yaw >= r["right30_min_yaw_deg"], yaw >= r["right15_min_yaw_deg"]],
        [v["left30"], v["left15"], v["right30"], v["right15"]], v["front"])
    out = np.where(ap >= ay, pitch_view, yaw_view).astype(np.int16)

    in_band = ((r["diag_yaw_min_deg"] <= ay) & (ay < r["diag_yaw_max_deg"])
               & (r["diag_pitch_min_deg"] <= ap) & (ap < r["diag_pitch_max_deg"]))
    # DIAGONALS order: left15_up7, left15_down7, right15_up7, right15_down7
    diag = (FIRST_DIAGONAL + 2 * (yaw >= 0) + (pitch >= 0)).astype(np.int16)
    has = np.array([name in available for name in DIAGONALS])
    take = in_band & has[diag - FIRST_DIAGONAL]
    out[take] = diag[take]
    return out


def select_views(yaw, pitch, rules: dict[str, float], available) -> np.ndarray:
    """View name per frame (see select_view_ids)."""
    return np.asarray(VIEWS, dtype=object)[select_view_ids(yaw, pitch, rules, available)]
