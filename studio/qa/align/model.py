"""The aligner's frame classifier: a small MLP over stacked MFCC frames -> P(closed, a, i, u, e, o, cons).

Trained offline on synthesised speech with exact phoneme timing (scripts/train_aligner.py); the
weights ship in resources/aligner/ (a few hundred KB). The forward pass is plain numpy.
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


@lru_cache(maxsize=4)
def model_for(lang: str) -> Mlp:
    """The shipped model for a language (one per language: their vowels and consonants differ)."""
    path = MODEL_DIR / f"{lang}.npz"
    if not path.exists():
        raise FileNotFoundError(f"no aligner model for '{lang}' in {MODEL_DIR} (run scripts/train_aligner.py)")
    return load(path)
