"""fp.results: the seed system's result fields, JSON shape, and positions as m:ss.s."""

from __future__ import annotations

import dataclasses
import json

import pytest

from fp.results import Match, Recognition, format_position
from tests.fp.test_recognize import DESIGN_FIELDS


def match(song_id: int = 3, score: float = 40.0) -> Match:
    return Match(song_id=song_id, song_name="Artist - Title", input_total_hashes=900,
                 fingerprinted_hashes_in_db=12000, hashes_matched_in_input=120,
                 input_confidence=0.1333, fingerprinted_confidence=0.01, offset=2608,
                 offset_seconds=83.456, file_sha1="ab" * 20, score=score)


def test_match_has_the_design_fields() -> None:
    assert {f.name for f in dataclasses.fields(Match)} == DESIGN_FIELDS
    d = match().to_dict()
    assert set(d) == DESIGN_FIELDS
    assert d["song_name"] == "Artist - Title" and d["offset_seconds"] == 83.456


def test_recognition_json_shape() -> None:
    rec = Recognition(file="clip.wav", results=[match(1, 50.0), match(2, 20.0)],
                      timings={"fingerprint_s": 0.0123456789, "query_s": 0.001, "align_s": 0.002,
                               "total_s": 0.0163456789})
    assert rec.best is not None and rec.best.song_id == 1
    d = rec.to_dict()
    assert set(d) == {"file", "results", "timings", "error"}
    assert d["file"] == "clip.wav" and d["error"] is None
    assert [r["song_id"] for r in d["results"]] == [1, 2]
    assert d["timings"]["fingerprint_s"] == 0.012346  # rounded to microseconds
    assert json.loads(json.dumps(d)) == d  # plain JSON types only


def test_no_match_and_error() -> None:
    nothing = Recognition(file="x.wav")
    assert nothing.best is None
    assert nothing.to_dict()["results"] == [] and nothing.to_dict()["error"] is None
    failed = Recognition(file="bad.mp3", error="bad.mp3: not audio")
    assert failed.to_dict()["error"] == "bad.mp3: not audio"
    assert failed.to_dict()["results"] == []


@pytest.mark.parametrize("seconds, text", [
    (0.0, "0:00.0"), (0.04, "0:00.0"), (0.06, "0:00.1"), (9.96, "0:10.0"), (59.96, "1:00.0"),
    (83.42, "1:23.4"), (600.0, "10:00.0"), (3725.25, "62:05.2"), (-1.26, "-0:01.3"),
])
def test_format_position(seconds: float, text: str) -> None:
    assert format_position(seconds) == text
