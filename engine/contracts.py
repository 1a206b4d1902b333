"""The engine's contracts (SPEC §10, reference/dawdreamer_engine_contracts_v1alpha.md) as typed objects."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class TransportState:
    """A snapshot of the transport; position_seconds is media time (session time), whatever the rate."""
    session_id: str
    running: bool
    position_seconds: float
    sample_rate: int
    buffer_size_frames: int
    tempo_bpm: float | None = None
    last_update_iso8601: str = field(default_factory=now_iso)
    extensions: dict = field(default_factory=dict)  # rate, loop, output, volume, muted ...

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class RenderOptions:
    offline: bool = True
    preroll: float = 0.0


@dataclass(frozen=True)
class RenderRequest:
    request_id: str
    duration_seconds: float
    sample_rate: int
    channels: int
    start_position_seconds: float | None = 0.0
    options: RenderOptions = RenderOptions()
    node_graph: tuple = ()            # (node_id, ...) routing; the studio uses the default graph
    time_ratio: float = 1.0           # extension: >1 renders slowed (pitch kept), e.g. 2.0 for 0.5x

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class RenderResult:
    request_id: str
    status: str                       # "ok" | "error" | "partial"
    error: str | None
    buffer_handle: str | None         # key for EngineClient.get_buffer
    frames: int
    processing_time_ms: float

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class NodeDescriptor:
    node_id: str
    name: str
    vendor: str | None
    format: str
    supported_sample_rates: tuple[int, ...]
    latency_samples: int
    parameters: tuple[dict, ...] = ()
    resource_estimate: dict | None = None

    def to_dict(self) -> dict:
        return asdict(self)
