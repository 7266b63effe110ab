"""Accuracy evaluation: clips of indexed and held-out tracks, degraded, recognised.

Clip positions depend only on (seed, track, length, clip number), so every condition
sees the same clips and a run is reproducible. A clip of an indexed track is correct
when the best match is that track; its offset is right within 0.2 s of where the clip
was cut, or at a verbatim repeat of the clip in the track (looped music). A clip of a
held-out track must come back "no match"; anything else is a false positive.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from scipy.signal import fftconvolve

from .decode import decode
from .degrade import CONDITIONS
from .errors import ConfigError, TooShortError
from .recognize import Recognizer

OFFSET_TOLERANCE_S = 0.2


@dataclass(frozen=True)
class EvalConfig:
    secs: tuple[float, ...] = (1.0, 2.0, 3.0, 5.0)
    clips: int = 4  # per indexed track, length and condition
    negative_clips: int = 8  # per held-out track, length and condition
    padding_s: float = 10.0  # clips start at least this far from either end
    seed: int = 42
    conditions: tuple[str, ...] = tuple(CONDITIONS)

    def __post_init__(self) -> None:
        unknown = [c for c in self.conditions if c not in CONDITIONS]
        if unknown:
            raise ConfigError(f"unknown condition(s) {', '.join(unknown)}; "
                              f"known: {', '.join(CONDITIONS)}")
        if not self.conditions:
            raise ConfigError(f"no conditions given; known: {', '.join(CONDITIONS)}")
        if not self.secs or not all(0 < s < float("inf") for s in self.secs):  # NaN too
            raise ConfigError("clip lengths must be positive seconds")


@dataclass(frozen=True)
class Outcome:
    """One recognised clip."""

    condition: str
    secs: float
    track: str
    negative: bool
    matched: bool  # a result came back
    correct: bool  # best result is the clip's track (never for negatives)
    offset_ok: bool
    seconds: float  # recognition time (fingerprint + lookup + vote)

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def split_tracks(files: Sequence[Path], negatives: int, seed: int) -> tuple[list[Path], list[Path]]:
    """Seeded split of `files` into (indexed, held-out negatives)."""
    if negatives >= len(files):
        raise ConfigError(f"cannot hold out {negatives} of {len(files)} tracks")
    order = np.random.default_rng(seed).permutation(len(files))
    held = sorted(files[i] for i in order[:negatives])
    return sorted(files[i] for i in order[negatives:]), held


def _rng(seed: int, *keys: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, *keys]))


def verbatim_repeat(y: np.ndarray, rate: int, clip: np.ndarray, at_s: float,
                    threshold: float = 0.9) -> bool:
    """True when the audio at `at_s` (+-0.2 s) correlates > `threshold` with the clip."""
    lo = max(0, int((at_s - OFFSET_TOLERANCE_S) * rate))
    hi = min(y.size, int((at_s + OFFSET_TOLERANCE_S) * rate) + clip.size)
    seg = y[lo:hi].astype(np.float64)
    if seg.size < clip.size or not np.any(clip):
        return False
    c = clip.astype(np.float64)
    num = fftconvolve(seg, c[::-1], mode="valid")
    power = np.r_[0.0, np.cumsum(seg**2)]
    energy = power[c.size :] - power[: -c.size]
    corr = num / (np.sqrt(np.maximum(energy, 1e-12)) * np.linalg.norm(c))
    return bool(corr.max() > threshold)


def evaluate_track(
    recognizer: Recognizer, path: Path, track_no: int, song_id: int | None,
    config: EvalConfig, rate: int,
) -> list[Outcome]:
    """Cut, degrade and recognise every clip of one track (``song_id`` None: held out)."""
    y = decode(path, rate)
    negative = song_id is None
    per_length = config.negative_clips if negative else config.clips
    out: list[Outcome] = []
    for li, secs in enumerate(config.secs):
        n = int(round(secs * rate))
        lo, hi = int(config.padding_s * rate), y.size - int(config.padding_s * rate) - n
        if hi <= lo:  # a short track: centre what fits
            lo, hi = 0, max(1, y.size - n)
            if y.size < n:
                continue
        for k in range(per_length):
            start = int(_rng(config.seed, track_no, li, k).integers(lo, hi))
            clip = y[start : start + n]
            for ci, cond in enumerate(config.conditions):
                degraded = CONDITIONS[cond](clip, rate, _rng(config.seed, track_no, li, k, ci + 1))
                t0 = time.perf_counter()
                try:
                    best = recognizer.recognize_samples(degraded, rate).best
                except TooShortError:  # nothing to fingerprint (silence, under 0.5 s): no match
                    best = None
                dt = time.perf_counter() - t0
                correct = bool(best and not negative and best.song_id == song_id)
                offset_ok = bool(correct and best and (
                    abs(best.offset_seconds - start / rate) <= OFFSET_TOLERANCE_S
                    or verbatim_repeat(y, rate, clip, best.offset_seconds)))
                out.append(Outcome(cond, secs, path.name, negative, best is not None, correct,
                                   offset_ok, dt))
    return out


def evaluate(
    recognizer: Recognizer, indexed: dict[Path, int], negatives: Sequence[Path],
    config: EvalConfig, rate: int = 16000,
    progress: Callable[[int], None] | None = None,
) -> list[Outcome]:
    """Evaluate every track; `indexed` maps each indexed file to its song id.

    Clips are cut at `rate` (above the fingerprint rate, so they pass through the
    resampler like real input). `progress(n)` is called with the clips done per track.
    """
    outcomes: list[Outcome] = []
    tracks: list[tuple[Path, int | None]] = [*indexed.items(), *((p, None) for p in negatives)]
    for no, (path, song_id) in enumerate(tracks):
        got = evaluate_track(recognizer, path, no, song_id, config, rate)
        outcomes += got
        if progress:
            progress(len(got))
    return outcomes


def clip_count(config: EvalConfig, n_indexed: int, n_negative: int) -> int:
    per = len(config.secs) * len(config.conditions)
    return per * (n_indexed * config.clips + n_negative * config.negative_clips)


def summarize(outcomes: Sequence[Outcome]) -> list[dict[str, object]]:
    """One row per (condition, clip length): accuracy, offsets, false positives, time."""
    rows = []
    keys = sorted({(o.condition, o.secs) for o in outcomes},
                  key=lambda k: (list(CONDITIONS).index(k[0]), k[1]))
    for cond, secs in keys:
        pos = [o for o in outcomes if o.condition == cond and o.secs == secs and not o.negative]
        neg = [o for o in outcomes if o.condition == cond and o.secs == secs and o.negative]
        correct = sum(o.correct for o in pos)
        times = np.array([o.seconds for o in pos + neg]) * 1000
        rows.append({
            "condition": cond, "secs": secs,
            "clips": len(pos), "correct": correct,
            "top1": correct / len(pos) if pos else None,
            "offset_ok": (sum(o.offset_ok for o in pos) / correct) if correct else None,
            "negative_clips": len(neg), "false_positives": sum(o.matched for o in neg),
            "fp_rate": (sum(o.matched for o in neg) / len(neg)) if neg else None,
            "median_ms": float(np.median(times)) if times.size else None,
            "p95_ms": float(np.percentile(times, 95)) if times.size else None,
        })
    return rows
