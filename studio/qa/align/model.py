"""The aligner's frame classifier: a small MLP over stacked MFCC frames -> P(closed, a, i, u, e, o, cons).

Trained offline on synthesised speech with exact phoneme timing (scripts/train_aligner.py); the
weights ship in resources/aligner/ (a few hundred KB each). The forward pass is plain numpy. A
language may have more than one model (`ja.npz`, `ja.noisy.npz`): their posteriors are averaged.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from contracts.jsonfile import RESOURCES
from studio.qa.align.features import stack

MODEL_DIR = RESOURCES / "aligner"


@dataclass
class Mlp:
    weights: list[np.ndarray]
    biases: list[np.ndarray]
    context: int
    priors: np.ndarray           # class frequencies in training (for scaled likelihoods)

    def posteriors(self, feats: np.ndarray, batch: int = 8192) -> np.ndarray:
        """(hops, 7) class probabilities for normalised features (features.features)."""
        out = np.empty((len(feats), self.weights[-1].shape[1]), np.float32)
        for a in range(0, len(feats), batch):
            lo, hi = max(0, a - self.context), min(len(feats), a + batch + self.context)
            x = stack(feats[lo:hi], self.context)[a - lo:a - lo + min(batch, len(feats) - a)]
            out[a:a + len(x)] = forward(self.weights, self.biases, x)
        return out

    def save(self, path: Path) -> None:
        arrays = {f"w{k}": w for k, w in enumerate(self.weights)}
        arrays.update({f"b{k}": b for k, b in enumerate(self.biases)})
        np.savez_compressed(path, context=np.array(self.context), priors=self.priors, **arrays)


def forward(weights, biases, x: np.ndarray) -> np.ndarray:
    h = x.astype(np.float32)
    for k, (w, b) in enumerate(zip(weights, biases)):
        h = h @ w + b
        if k < len(weights) - 1:
            np.maximum(h, 0, out=h)
    h -= h.max(axis=1, keepdims=True)
    np.exp(h, out=h)
    h /= h.sum(axis=1, keepdims=True)
    return h


def load(path: Path) -> Mlp:
    with np.load(path) as z:
        n = sum(1 for k in z.files if k.startswith("w"))
        return Mlp([z[f"w{k}"].astype(np.float32) for k in range(n)], [z[f"b{k}"].astype(np.float32) for k in range(n)],
                   int(z["context"]), z["priors"].astype(np.float32))


@dataclass
class Average:
    """Several models of one language heard as one: their posteriors averaged (each generalises to a
    voice it never heard in its own way; averaged, one model's confident mistake is outvoted)."""
    members: list[Mlp]

    @property
    def priors(self) -> np.ndarray:
        return np.mean([m.priors for m in self.members], axis=0)

    def posteriors(self, feats: np.ndarray) -> np.ndarray:
        out = self.members[0].posteriors(feats)
        for m in self.members[1:]:
            out += m.posteriors(feats)
        out /= len(self.members)
        return out


def model_files(lang: str) -> list[Path]:
    """The files of a language's model: `<lang>.npz` and any `<lang>.<name>.npz` beside it."""
    return [MODEL_DIR / f"{lang}.npz"] + sorted(MODEL_DIR.glob(f"{lang}.*.npz"))


@lru_cache(maxsize=4)
def model_for(lang: str) -> Mlp | Average:
    """The shipped model of a language (each has its own: their vowels and consonants differ): its
    files' models averaged when there are several (model_files)."""
    files = model_files(lang)
    if not files[0].exists():
        raise FileNotFoundError(f"no aligner model for '{lang}' in {MODEL_DIR} (run scripts/train_aligner.py)")
    members = [load(f) for f in files]
    return members[0] if len(members) == 1 else Average(members)
