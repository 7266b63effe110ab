"""fp.evaluation: configuration, the seeded split, offsets at repeats, recognition of
degraded clips of indexed and held-out songs, and the summary table."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from fp.degrade import CONDITIONS
from fp.errors import ConfigError
from fp.evaluation import (
    EvalConfig,
    Outcome,
    clip_count,
    evaluate,
    evaluate_track,
    split_tracks,
    summarize,
    verbatim_repeat,
)
from fp.recognize import Recognizer
from fp.settings import load_settings
from fp.store import Store
from tests.conftest import LIBRARY, NEGATIVE_SEEDS, IndexedStore
from tests.synth_audio import SONG_RATE, synth_song, write_audio

RATE = SONG_RATE
SMALL = EvalConfig(secs=(2.0,), clips=2, negative_clips=2, padding_s=1.0,
                   conditions=("clean", "noise-5db"))


# --- configuration -------------------------------------------------------------------

def test_default_config_is_valid() -> None:
    c = EvalConfig()
    assert c.conditions == tuple(CONDITIONS)
    assert all(s > 0 for s in c.secs) and c.clips > 0 and c.negative_clips > 0


def test_unknown_condition_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"unknown condition\(s\) loud, noise-5") as e:
        EvalConfig(conditions=("clean", "loud", "noise-5"))
    assert "known: clean" in str(e.value)


@pytest.mark.parametrize("secs", [(), (0.0,), (2.0, -1.0), (float("nan"),), (float("inf"),)])
def test_clip_lengths_must_be_positive(secs: tuple[float, ...]) -> None:
    with pytest.raises(ConfigError, match="positive"):
        EvalConfig(secs=secs)


def test_no_conditions_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="condition"):
        EvalConfig(conditions=())


# --- the split -----------------------------------------------------------------------

FILES = [Path(f"/music/{i:02d}.flac") for i in range(20)]


def test_split_is_seeded_disjoint_and_complete() -> None:
    indexed, held = split_tracks(FILES, 5, seed=1)
    assert len(held) == 5 and len(indexed) == 15
    assert not set(indexed) & set(held)
    assert set(indexed) | set(held) == set(FILES)
    assert indexed == sorted(indexed) and held == sorted(held)
    assert split_tracks(FILES, 5, seed=1) == (indexed, held)
    others = {tuple(split_tracks(FILES, 5, seed=s)[1]) for s in range(2, 6)}
    assert others - {tuple(held)}, "other seeds hold out other tracks"


def test_split_edges() -> None:
    assert split_tracks(FILES, 0, seed=1) == (FILES, [])
    indexed, held = split_tracks(FILES, 19, seed=1)
    assert len(indexed) == 1 and len(held) == 19
    for n in (20, 21):
        with pytest.raises(ConfigError, match=f"cannot hold out {n} of 20"):
            split_tracks(FILES, n, seed=1)


# --- verbatim repeats ----------------------------------------------------------------

@pytest.fixture(scope="module")
def looped() -> tuple[np.ndarray, np.ndarray, float, float]:
    """A track with 0.5 s copied from 3 s to 11 s; returns (track, clip, at, copy_at)."""
    y = np.array(synth_song(31, 16.0, RATE))
    n = RATE // 2
    y[11 * RATE : 11 * RATE + n] = y[3 * RATE : 3 * RATE + n]
    return y, y[3 * RATE : 3 * RATE + n].copy(), 3.0, 11.0


def test_verbatim_repeat_finds_the_copy(looped) -> None:  # type: ignore[no-untyped-def]
    y, c, at, copy_at = looped
    assert verbatim_repeat(y, RATE, c, at)
    assert verbatim_repeat(y, RATE, c, copy_at)
    assert verbatim_repeat(y, RATE, c, copy_at + 0.15)  # within the offset tolerance
    assert verbatim_repeat(y, RATE, 0.5 * c, copy_at - 0.15)  # level does not matter


def test_verbatim_repeat_rejects_other_audio(looped) -> None:  # type: ignore[no-untyped-def]
    y, c, _, copy_at = looped
    assert not verbatim_repeat(y, RATE, c, 7.0)
    assert not verbatim_repeat(y, RATE, c, copy_at + 0.5)  # outside the tolerance
    assert not verbatim_repeat(synth_song(32, 16.0, RATE), RATE, c, 3.0)
    assert not verbatim_repeat(y, RATE, np.zeros_like(c), 3.0)
    assert not verbatim_repeat(y, RATE, c, 15.5)  # not enough track left for the clip
    assert not verbatim_repeat(np.zeros_like(y), RATE, c, 3.0)


# --- summary -------------------------------------------------------------------------

def outcome(condition: str = "clean", secs: float = 2.0, negative: bool = False,
            matched: bool = True, correct: bool = True, offset_ok: bool = True,
            seconds: float = 0.01) -> Outcome:
    return Outcome(condition, secs, "t.wav", negative, matched, correct, offset_ok, seconds)


def test_summarize_exact_values() -> None:
    outcomes = [
        # noise-5db 2 s: 4 indexed clips, 3 correct, 2 of them at the right offset.
        outcome("noise-5db", seconds=0.010),
        outcome("noise-5db", offset_ok=False, seconds=0.020),
        outcome("noise-5db", seconds=0.030),
        outcome("noise-5db", matched=False, correct=False, offset_ok=False, seconds=0.040),
        # ... and 4 held-out clips, one of which matched something.
        outcome("noise-5db", negative=True, matched=True, correct=False, offset_ok=False, seconds=0.050),
        *[outcome("noise-5db", negative=True, matched=False, correct=False, offset_ok=False,
                  seconds=0.060) for _ in range(3)],
        # clean 1 s and 2 s, given after noise-5db: rows still come in CONDITIONS order.
        outcome("clean", 2.0, seconds=0.002),
        outcome("clean", 1.0, matched=False, correct=False, offset_ok=False, seconds=0.004),
        outcome("clean", 1.0, seconds=0.006),
    ]
    rows = summarize(outcomes)
    assert [(r["condition"], r["secs"]) for r in rows] == [
        ("clean", 1.0), ("clean", 2.0), ("noise-5db", 2.0)]
    c1, c2, n2 = rows
    assert n2 == {
        "condition": "noise-5db", "secs": 2.0, "clips": 4, "correct": 3, "top1": 0.75,
        "offset_ok": pytest.approx(2 / 3), "negative_clips": 4, "false_positives": 1,
        "fp_rate": 0.25, "median_ms": pytest.approx(45.0), "p95_ms": pytest.approx(60.0),
    }
    assert c1["clips"] == 2 and c1["correct"] == 1 and c1["top1"] == 0.5
    assert c1["offset_ok"] == 1.0
    assert c1["median_ms"] == pytest.approx(5.0)
    # No held-out clips: no false-positive rate (not 0).
    assert c1["negative_clips"] == 0 and c1["false_positives"] == 0 and c1["fp_rate"] is None
    assert c2["top1"] == 1.0 and c2["median_ms"] == pytest.approx(2.0)
    assert c2["p95_ms"] == pytest.approx(2.0)


def test_summarize_without_hits_or_indexed_clips() -> None:
    rows = summarize([
        outcome("mic", matched=False, correct=False, offset_ok=False),
        outcome("mic", negative=True, matched=False, correct=False, offset_ok=False),
        outcome("speed+2%", negative=True, matched=False, correct=False, offset_ok=False),
    ])
    mic, spd = rows
    assert mic["top1"] == 0.0 and mic["offset_ok"] is None and mic["fp_rate"] == 0.0
    assert spd["clips"] == 0 and spd["top1"] is None and spd["offset_ok"] is None
    assert spd["negative_clips"] == 1 and spd["fp_rate"] == 0.0
    assert summarize([]) == []


def test_outcome_to_dict() -> None:
    d = outcome().to_dict()
    assert d == {"condition": "clean", "secs": 2.0, "track": "t.wav", "negative": False,
                 "matched": True, "correct": True, "offset_ok": True, "seconds": 0.01}


def test_clip_count() -> None:
    assert clip_count(SMALL, 3, 1) == 1 * 2 * (3 * 2 + 1 * 2)
    c = EvalConfig(secs=(1.0, 2.0, 5.0), clips=4, negative_clips=8)
    assert clip_count(c, 10, 2) == 3 * len(CONDITIONS) * (10 * 4 + 2 * 8)
    assert clip_count(c, 0, 0) == 0


# --- recognising clips ---------------------------------------------------------------

@pytest.fixture(scope="module")
def recognizer(indexed: IndexedStore) -> Iterator[Recognizer]:
    with Store(load_settings(store=indexed.path), create=False) as s:
        yield Recognizer(s, top=1)


@pytest.fixture(scope="module")
def held_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("held-out")
    return write_audio(d / "held.wav", synth_song(NEGATIVE_SEEDS[1], 12.0), RATE)


ALPHA = LIBRARY[0]  # wav at the clip rate


def test_evaluate_track_indexed(recognizer: Recognizer, indexed: IndexedStore, song_dir: Path) -> None:
    path = song_dir / ALPHA.filename
    out = evaluate_track(recognizer, path, 0, indexed.ids[ALPHA.name], SMALL, RATE)
    assert len(out) == 1 * 2 * 2
    assert [o.condition for o in out] == ["clean", "noise-5db"] * 2
    assert all(o.track == ALPHA.filename and o.secs == 2.0 and not o.negative for o in out)
    assert all(o.seconds > 0 for o in out)
    for o in out:
        if o.condition == "clean":
            assert o.matched and o.correct and o.offset_ok, o
    # Reproducible: the same clips, conditions and answers.
    again = evaluate_track(recognizer, path, 0, indexed.ids[ALPHA.name], SMALL, RATE)
    assert [dataclasses.replace(o, seconds=0) for o in again] == [
        dataclasses.replace(o, seconds=0) for o in out]


def test_evaluate_track_wrong_song_id_is_not_correct(recognizer: Recognizer, indexed: IndexedStore,
                                                     song_dir: Path) -> None:
    other = indexed.ids[LIBRARY[1].name]
    out = evaluate_track(recognizer, song_dir / ALPHA.filename, 0, other,
                         dataclasses.replace(SMALL, clips=1, conditions=("clean",)), RATE)
    assert [(o.matched, o.correct, o.offset_ok) for o in out] == [(True, False, False)]


def test_evaluate_track_held_out(recognizer: Recognizer, held_out: Path) -> None:
    out = evaluate_track(recognizer, held_out, 1, None, SMALL, RATE)
    assert len(out) == 4
    assert all(o.negative and not o.matched and not o.correct and not o.offset_ok for o in out)


def test_evaluate_track_short_track_and_long_clips(recognizer: Recognizer, tmp_path: Path) -> None:
    # 3 s track, 10 s padding: clips come from what fits; 4 s clips do not fit at all.
    path = write_audio(tmp_path / "short.wav", synth_song(NEGATIVE_SEEDS[2], 3.0), RATE)
    config = EvalConfig(secs=(2.0, 4.0), clips=1, negative_clips=2, conditions=("clean",))
    out = evaluate_track(recognizer, path, 0, None, config, RATE)
    assert [o.secs for o in out] == [2.0, 2.0]


def test_evaluate_track_silence_and_tiny_clips_are_misses(recognizer: Recognizer, tmp_path: Path) -> None:
    # Clips with nothing to fingerprint count as "no match"; they do not end the run.
    silent = write_audio(tmp_path / "silent.wav", np.zeros(6 * RATE, np.float32), RATE)
    config = EvalConfig(secs=(0.3, 2.0), clips=1, negative_clips=1, padding_s=1.0,
                        conditions=("clean",))
    out = evaluate_track(recognizer, silent, 0, None, config, RATE)
    assert [(o.secs, o.matched) for o in out] == [(0.3, False), (2.0, False)]


def test_evaluate(recognizer: Recognizer, indexed: IndexedStore, song_dir: Path, held_out: Path) -> None:
    path = song_dir / ALPHA.filename
    done: list[int] = []
    out = evaluate(recognizer, {path: indexed.ids[ALPHA.name]}, [held_out], SMALL,
                   progress=done.append)
    assert done == [4, 4]
    assert len(out) == clip_count(SMALL, 1, 1) == 8
    assert [o.negative for o in out] == [False] * 4 + [True] * 4
    # Same track number as evaluate_track(..., 0, ...): the same clips.
    first = evaluate_track(recognizer, path, 0, indexed.ids[ALPHA.name], SMALL, RATE)
    assert [dataclasses.replace(o, seconds=0) for o in out[:4]] == [
        dataclasses.replace(o, seconds=0) for o in first]
    rows = summarize(out)
    assert [r["condition"] for r in rows] == ["clean", "noise-5db"]
    assert rows[0]["top1"] == 1.0 and rows[0]["offset_ok"] == 1.0 and rows[0]["fp_rate"] == 0.0
