"""Recognition results: the seed system's fields, plus fp's score and timings."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Match:
    """One recognised song (field names and meanings as worldveil/dejavu's results).

    offset is in frames, offset_seconds in seconds: where in the song the clip starts.
    """

    song_id: int
    song_name: str
    input_total_hashes: int
    fingerprinted_hashes_in_db: int
    hashes_matched_in_input: int
    input_confidence: float
    fingerprinted_confidence: float
    offset: int
    offset_seconds: float
    file_sha1: str
    score: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Recognition:
    """The answer for one input: matches best first (empty for "no match")."""

    file: str | None
    results: list[Match] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    error: str | None = None

    @property
    def best(self) -> Match | None:
        return self.results[0] if self.results else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "results": [m.to_dict() for m in self.results],
            "timings": {k: round(v, 6) for k, v in self.timings.items()},
            "error": self.error,
        }


def format_position(seconds: float) -> str:
    """m:ss.s, e.g. 83.42 -> "1:23.4"; negative positions keep their sign."""
    sign = "-" if seconds < 0 else ""
    tenths = int(round(abs(seconds) * 10))
    m, rest = divmod(tenths, 600)
    return f"{sign}{m}:{rest // 10:02d}.{rest % 10}"
