"""From frame-class probabilities to a mouth shape per 10 ms hop.

- Audio only: a Viterbi pass over the six shapes with a switching cost, so the mouth does not
  flicker; a consonant can take any shape (its probability supports every open shape, and in
  English closed as much), and hops without speech energy are closed.
- With text: forced alignment of the text's units (text.py) in order, a Viterbi pass over
  (hop, unit) in a band around the diagonal, each unit at least one hop, pauses optional. Then
  every hop takes its unit's shape; a consonant takes the shape of the vowel it leads into (or,
  before a pause, the vowel it ends).
Both return shapes per hop; track.py turns them into frames and events.
"""
from __future__ import annotations

import numpy as np

from studio.qa.align.phones import CLOSED, CONS
from studio.qa.align.text import Unit

SWITCH_COST = 2.2        # audio only: log-probability cost of changing shape between hops
CONS_SHARE = 0.6         # audio only: how much of a consonant's probability supports each open shape
# ... and closed, per language. English puts consonants before pauses and other consonants, and the
# classifier hears its p/b/m (aspirated, nasal) mostly as "a consonant": one that supports closed as
# much as any open shape lets those closures show. On the English development setting (flite heard by
# a model trained without it) open/closed 92.7 -> 95.5 %, vowel frames 78.3 -> 76.8 %; built on
# 95.2 -> 96.3 % and 90.2 -> 89.0 %. Japanese consonants lead into the vowel of their mora: there it
# cost open/closed and vowel frames (93.7 -> 93.3 %, 71.3 -> 70.0 % on its development setting).
CONS_CLOSED = {"ja": 0.0, "en": 0.6}
FLOOR = 1e-4


def audio_only(post: np.ndarray, speech: np.ndarray, lang: str = "ja") -> np.ndarray:
    """Shapes (0..5) per hop from (hops, 7) class probabilities and a per-hop speech mask."""
    p = post[:, :6].copy()
    p[:, 1:] += CONS_SHARE * post[:, CONS:CONS + 1]
    p[:, 0] += CONS_CLOSED.get(lang, 0.0) * post[:, CONS]
    p[~speech, 0] = 1.0                                 # no speech energy: closed
    p[~speech, 1:] = FLOOR
    logp = np.log(np.maximum(p, FLOOR))
    n, k = logp.shape
    back = np.zeros((n, k), np.int8)
    score = logp[0].copy()
    for h in range(1, n):
        best = int(np.argmax(score))
        switch = score[best] - SWITCH_COST
        stay = score >= switch
        back[h] = np.where(stay, np.arange(k), best)
        score = np.where(stay, score, switch) + logp[h]
    out = np.empty(n, np.int8)
    out[-1] = int(np.argmax(score))
    for h in range(n - 1, 0, -1):
        out[h - 1] = back[h, out[h]]
    return out


def _emissions(post: np.ndarray, priors: np.ndarray, units: list[Unit]) -> tuple[np.ndarray, np.ndarray]:
    """Log scaled likelihoods, log P(class | hop) / P(class), of each *kind* of unit per hop:
    (table (hops, kinds), kind of each unit). Units of one kind (one vowel, closed, a consonant)
    share a column, so an hour of text costs a few columns, not one per unit."""
    scaled = np.log(np.maximum(post, FLOOR)) - np.log(np.maximum(priors, FLOOR))
    kinds: dict[tuple, int] = {}
    unit_kind = np.array([kinds.setdefault(u.shapes, len(kinds)) for u in units], np.int64)
    cols = []
    for shapes in kinds:
        if shapes:
            cols.append(scaled[:, list(shapes)].max(axis=1))
        else:   # a consonant: its class, or (briefly) anything, as real consonants are often not "cons"
            cols.append(np.maximum(scaled[:, CONS], scaled.max(axis=1) - 1.5))
    return np.stack(cols, axis=1).astype(np.float32), unit_kind


BEAM = 320   # units kept either side of the best unit at each hop (the path moves at most 2 units a hop)


def forced(post: np.ndarray, priors: np.ndarray, units: list[Unit], beam: int = BEAM) -> np.ndarray:
    """The unit index per hop of the best monotonic alignment of `units` to the hops: each unit at least
    one hop, optional units may be skipped. A beam around the best unit of the previous hop keeps an
    hour of text affordable (the window only moves forward)."""
    n, m = len(post), len(units)
    table, kind = _emissions(post, priors, units)
    optional = np.array([u.optional for u in units])
    can_skip = np.zeros(m, bool)
    can_skip[1:] = optional[:-1]
    neg = np.float32(-1e30)
    prev = np.full(m + 2, neg, np.float32)          # index j + 2 holds unit j (two guard cells below 0)
    cur = np.full(m + 2, neg, np.float32)
    prev[2] = table[0, kind[0]]
    if optional[0] and m > 1:
        prev[3] = table[0, kind[1]]
    best = 0
    lo_prev, hi_prev = 0, min(m, 2)
    lo_old, hi_old = 0, 0                             # the band `cur` holds (two hops back)
    moves = []                                      # per hop: (lo, width, packed 'advanced', packed 'skipped')
    for h in range(1, n):
        a = max(lo_prev, best - beam)
        b = min(m, max(hi_prev, best + beam + 2), hi_prev + 2)   # the path moves at most 2 units a hop
        stay = prev[a + 2:b + 2]
        step = prev[a + 1:b + 1]
        jump = np.where(can_skip[a:b], prev[a:b], neg)
        top = np.maximum(stay, np.maximum(step, jump))
        advanced = (step >= stay) & (step >= jump)
        skipped = ~advanced & (jump > stay)
        cur[lo_old + 2:hi_old + 2] = neg               # clear what `cur` held two hops back
        vals = top + table[h][kind[a:b]]
        cur[a + 2:b + 2] = vals
        moves.append((a, b - a, np.packbits(advanced), np.packbits(skipped)))
        best = a + int(np.argmax(vals))
        lo_old, hi_old = lo_prev, hi_prev
        lo_prev, hi_prev = a, b
        prev, cur = cur, prev
    ends = [m - 1] + ([m - 2] if m >= 2 and optional[m - 1] else [])
    j = max(ends, key=lambda k: prev[k + 2])
    if prev[j + 2] <= neg / 2:                      # the end fell out of the beam: take the best reached
        j = best
    path = np.empty(n, np.int64)
    path[-1] = j
    for h in range(n - 1, 0, -1):
        a, w, adv, skp = moves[h - 1]
        k = j - a
        if 0 <= k < w:
            if (adv[k >> 3] >> (7 - (k & 7))) & 1:
                j -= 1
            elif (skp[k >> 3] >> (7 - (k & 7))) & 1:
                j -= 2
        path[h - 1] = max(j, 0)
        j = path[h - 1]
    return path


def unit_shapes(path: np.ndarray, units: list[Unit], post: np.ndarray) -> np.ndarray:
    """A shape per hop from the aligned units: vowels their best-fitting candidate, consonants the
    vowel they lead into (or the one they end, before a pause), pauses and bilabials closed."""
    m = len(units)
    shape_of = np.zeros(m, np.int8)
    nxt, prv = -1, -1
    vowel_next = np.full(m, -1, np.int64)
    vowel_prev = np.full(m, -1, np.int64)
    for j in range(m - 1, -1, -1):
        if units[j].kind == "pause":
            nxt = -1
        vowel_next[j] = nxt
        if units[j].kind == "vowel":
            nxt = j
    for j in range(m):
        if units[j].kind == "pause":
            prv = -1
        vowel_prev[j] = prv
        if units[j].kind == "vowel":
            prv = j
    out = np.zeros(len(path), np.int8)
    for j in range(m):
        hops = np.flatnonzero(path == j)
        u = units[j]
        if u.kind in ("pause", "closed"):
            out[hops] = CLOSED
        elif u.shapes:   # vowel or glide: the candidate the audio favours, hop by hop
            cands = np.array(u.shapes)
            if len(hops):
                out[hops] = cands[np.argmax(post[np.ix_(hops, cands)], axis=1)] if len(cands) > 1 else cands[0]
            shape_of[j] = cands[0]
        else:
            k = vowel_prev[j] if vowel_prev[j] >= 0 else vowel_next[j]
            out[hops] = units[k].shapes[0] if k >= 0 else CLOSED
    return out
