"""fp.recognize: clips of indexed songs are named with their position; others are not."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import fp
from fp.errors import StoreError, TooShortError
from fp.recognize import Recognizer
from fp.results import Match, Recognition
from fp.settings import load_settings
from fp.store import Store
from tests.conftest import LIBRARY, NEGATIVE_SEEDS, IndexedStore, SongSpec
from tests.synth_audio import SONG_RATE, clip, synth_song, write_audio

OFFSET_TOLERANCE_S = 0.2
DESIGN_FIELDS = {  # DESIGN.md, "Songs and results"
    "song_id", "song_name", "input_total_hashes", "fingerprinted_hashes_in_db",
    "hashes_matched_in_input", "input_confidence", "fingerprinted_confidence", "offset",
    "offset_seconds", "file_sha1", "score",
}


@pytest.fixture(scope="module")
def recognizer(indexed: IndexedStore) -> Iterator[Recognizer]:
    with Store(load_settings(store=indexed.path), create=False) as s:
        yield Recognizer(s)


def clips_of(spec: SongSpec, n: int, seed: int) -> list[tuple[float, float]]:
    """(start, length) of `n` clips, 2-5 s long, at random positions inside the song."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        length = float(rng.uniform(2.0, 5.0))
        out.append((float(rng.uniform(0.5, spec.seconds - length - 0.5)), length))
    return out


def assert_recognised(rec: Recognition, spec: SongSpec, start: float, indexed: IndexedStore) -> None:
    assert rec.error is None
    assert rec.best is not None, f"{spec.name} at {start:.2f} s: no match"
    assert rec.best.song_name == spec.name
    assert rec.best.song_id == indexed.ids[spec.name]
    assert rec.best.offset_seconds == pytest.approx(start, abs=OFFSET_TOLERANCE_S)


@pytest.mark.parametrize("spec", LIBRARY, ids=lambda s: s.name)
def test_clips_of_indexed_songs(spec: SongSpec, recognizer: Recognizer, indexed: IndexedStore) -> None:
    for start, length in clips_of(spec, 3, seed=spec.seed):
        x = clip(spec.samples, spec.rate, start, length)  # native rate and channel count
        assert_recognised(recognizer.recognize_samples(x, spec.rate), spec, start, indexed)


def test_clip_files(recognizer: Recognizer, indexed: IndexedStore, tmp_path: Path) -> None:
    for spec, fmt in zip(LIBRARY, ["mp3", "wav", "ogg", "flac", "m4a", "opus"], strict=True):
        start, length = clips_of(spec, 1, seed=spec.seed + 1000)[0]
        path = write_audio(tmp_path / f"clip-{spec.name}.{fmt}",
                           clip(spec.samples, spec.rate, start, length), spec.rate)
        rec = recognizer.recognize_file(path)
        assert rec.file == str(path)
        assert_recognised(rec, spec, start, indexed)
        assert {"fingerprint_s", "query_s", "align_s", "total_s", "decode_s"} <= set(rec.timings)
        assert all(v >= 0 for v in rec.timings.values())


def test_numpy_input_other_rate_and_stereo(recognizer: Recognizer, indexed: IndexedStore) -> None:
    spec = LIBRARY[0]  # indexed from a 16 kHz mono wav
    start = 7.3
    mono = clip(spec.samples, spec.rate, start, 4.0)
    hi = synth_song(spec.seed, spec.seconds, 44100)  # same notes, rendered at 44.1 kHz
    stereo = np.stack([clip(hi, 44100, start, 4.0)] * 2, axis=1)
    for x, rate in [(mono, spec.rate), (stereo, 44100), (stereo.astype(np.float64), 44100),
                    ((stereo * 32767).astype(np.int16), 44100)]:
        assert_recognised(recognizer.recognize_samples(x, rate), spec, start, indexed)


def test_songs_that_are_not_indexed_are_no_match(recognizer: Recognizer) -> None:
    for seed in NEGATIVE_SEEDS:
        song = synth_song(seed, 20.0)
        for start, length in [(1.0, 2.0), (6.0, 3.5), (12.0, 5.0)]:
            rec = recognizer.recognize_samples(clip(song, SONG_RATE, start, length), SONG_RATE)
            assert rec.error is None
            assert rec.results == [], (seed, start, [(m.song_name, m.score) for m in rec.results])


def test_noise_is_no_match(recognizer: Recognizer) -> None:
    noise = np.random.default_rng(0).normal(0, 0.2, 5 * SONG_RATE).astype(np.float32)
    assert recognizer.recognize_samples(noise, SONG_RATE).results == []


@pytest.mark.parametrize("x", [
    np.zeros(0, np.float32),
    synth_song(1, 0.2),                      # 0.2 s of music
    np.zeros(5 * SONG_RATE, np.float32),     # silence
    np.zeros((5 * SONG_RATE, 2), np.int16),  # silent stereo ints
], ids=["empty", "0.2s", "silence", "silent-int16-stereo"])
def test_too_short_or_silent(recognizer: Recognizer, x: np.ndarray) -> None:
    with pytest.raises(TooShortError):
        recognizer.recognize_samples(x, SONG_RATE)


def test_bad_files_give_an_error_not_an_exception(recognizer: Recognizer, tmp_path: Path) -> None:
    short = write_audio(tmp_path / "short.wav", synth_song(1, 0.2), SONG_RATE)
    silent = write_audio(tmp_path / "silent.flac", np.zeros(3 * SONG_RATE, np.float32), SONG_RATE)
    text = tmp_path / "text.mp3"
    text.write_text("no audio here\n" * 100)
    for path in (short, silent, text, tmp_path / "missing.ogg"):
        rec = recognizer.recognize_file(path)
        assert rec.results == []
        assert rec.error and str(path) in rec.error
        assert rec.to_dict()["error"] == rec.error
    assert "too short" in (recognizer.recognize_file(short).error or "")


def test_result_fields(recognizer: Recognizer, indexed: IndexedStore) -> None:
    spec = LIBRARY[2]
    x = clip(spec.samples, spec.rate, 4.0, 4.0)
    rec = recognizer.recognize_samples(x, spec.rate)
    best = rec.best
    assert isinstance(best, Match)
    assert {f.name for f in dataclasses.fields(Match)} == DESIGN_FIELDS
    d = rec.to_dict()
    assert set(d) == {"file", "results", "timings", "error"}
    assert set(d["results"][0]) == DESIGN_FIELDS
    assert {"fingerprint_s", "query_s", "align_s", "total_s"} <= set(d["timings"])
    with Store(load_settings(store=indexed.path), create=False) as s:
        song = s.catalog.resolve(spec.name)
    assert best.file_sha1 == song.file_sha1
    assert best.fingerprinted_hashes_in_db == song.postings
    assert 0 < best.hashes_matched_in_input <= best.input_total_hashes
    assert best.input_confidence == pytest.approx(best.hashes_matched_in_input / best.input_total_hashes,
                                                  abs=1e-3)
    assert best.fingerprinted_confidence == pytest.approx(
        best.hashes_matched_in_input / best.fingerprinted_hashes_in_db, abs=1e-3)
    assert best.offset_seconds == pytest.approx(best.offset * recognizer.scheme.frame_seconds, abs=1e-3)
    assert best.score > 0
    scores = [m.score for m in rec.results]
    assert scores == sorted(scores, reverse=True)
    assert len({m.song_id for m in rec.results}) == len(rec.results)


def test_top_limits_results(indexed: IndexedStore) -> None:
    spec = LIBRARY[1]
    x = clip(spec.samples, spec.rate, 3.0, 5.0)
    with Store(load_settings(store=indexed.path), create=False) as s:
        assert len(Recognizer(s, top=1).recognize_samples(x, spec.rate).results) == 1
        # an impossible threshold turns every answer into "no match"
        assert Recognizer(s, min_score=1e9).recognize_samples(x, spec.rate).results == []


def test_removed_song_is_no_longer_recognised(store_copy: Path) -> None:
    spec = LIBRARY[3]
    x = clip(spec.samples, spec.rate, 5.0, 4.0)
    with Store(load_settings(store=store_copy)) as s:
        r = Recognizer(s)
        assert r.recognize_samples(x, spec.rate).best.song_name == spec.name  # type: ignore[union-attr]
        s.remove([s.catalog.resolve(spec.name)])
        assert spec.name not in [m.song_name for m in r.recognize_samples(x, spec.rate).results]


def test_top_level_api(indexed: IndexedStore, tmp_path: Path) -> None:
    spec = LIBRARY[4]
    start = 9.0
    x = clip(spec.samples, spec.rate, start, 4.0)
    path = write_audio(tmp_path / "clip.wav", x, spec.rate)
    for rec in (fp.recognize(path, store=indexed.path),
                fp.recognize(path.read_bytes(), store=indexed.path),
                fp.recognize(x, store=indexed.path, sample_rate=spec.rate)):
        assert_recognised(rec, spec, start, indexed)
    with pytest.raises(StoreError, match="no fp store"):
        fp.recognize(path)  # the default store ($XDG_DATA_HOME/fp) does not exist


@pytest.mark.parametrize("factor", [1.02, 0.98])
def test_speed_changed_clips_are_found_by_the_speed_search(
    factor: float, indexed: IndexedStore
) -> None:
    from fp.degrade import speed

    spec = LIBRARY[0]
    start, length = 3.0, 4.0
    x = clip(spec.samples, spec.rate, start, length)
    x = x.mean(axis=1) if x.ndim == 2 else x
    fast = speed(x.astype(np.float32), spec.rate, np.random.default_rng(0), factor)
    with Store(load_settings(store=indexed.path), create=False) as s:
        exact_only = Recognizer(s, speeds=()).recognize_samples(fast, spec.rate)
        searched = Recognizer(s).recognize_samples(fast, spec.rate)
    assert exact_only.best is None, "exact hashes were not expected to survive a 2% speed change"
    assert_recognised(searched, spec, start, indexed)


def test_speed_search_does_not_name_unindexed_songs(recognizer: Recognizer) -> None:
    for seed in NEGATIVE_SEEDS:
        x = synth_song(seed, 12.0)
        assert recognizer.recognize_samples(x[: 5 * SONG_RATE], SONG_RATE).best is None
