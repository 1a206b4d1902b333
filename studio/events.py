"""A minimal Qt-free event: views connect callbacks; the model emits only on real change."""
from __future__ import annotations

from typing import Callable


class Event:
    def __init__(self, name: str):
        self.name = name
        self._callbacks: list[Callable] = []

    def connect(self, callback: Callable) -> Callable:
        self._callbacks.append(callback)
        return callback

    def disconnect(self, callback: Callable) -> None:
        self._callbacks = [c for c in self._callbacks if c is not callback]

    def emit(self, *args) -> None:
        for cb in list(self._callbacks):
            cb(*args)
