"""fp-client (Typer app, in process): recognize files, human and JSON output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from fp.client.cli import app
from fp.results import format_position
from fp.scheme import Scheme
from tests.conftest import LIBRARY, NEGATIVE_SEEDS, IndexedStore
from tests.fp.test_recognize import DESIGN_FIELDS
from tests.synth_audio import SONG_RATE, clip, synth_song, write_audio

runner = CliRunner()
TIMINGS = {"fingerprint_s", "query_s", "align_s", "total_s"}


def run(*args: str | Path, env: dict[str, str] | None = None) -> Result:
    return runner.invoke(app, [str(a) for a in args], env=env)


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, float]]:
    """name -> (clip file, where in the song it starts); plus one unknown song."""
    d = tmp_path_factory.mktemp("clips")
    out = {}
    for spec, start, fmt in [(LIBRARY[0], 6.2, "wav"), (LIBRARY[1], 11.5, "mp3"), (LIBRARY[3], 3.3, "ogg")]:
        x = clip(spec.samples, spec.rate, start, 4.0)
        out[spec.name] = (write_audio(d / f"clip-{spec.name}.{fmt}", x, spec.rate), start)
    unknown = clip(synth_song(NEGATIVE_SEEDS[0], 20.0), SONG_RATE, 5.0, 4.0)
    out["unknown"] = (write_audio(d / "clip-unknown.flac", unknown, SONG_RATE), 0.0)
    return out


def json_lines(r: Result) -> list[dict]:
    return [json.loads(line) for line in r.stdout.splitlines()]


def test_recognize_json_one_line_per_file(indexed: IndexedStore, clips) -> None:  # type: ignore[no-untyped-def]
    names = ["alpha", "bravo", "delta", "unknown"]
    r = run("recognize", *[clips[n][0] for n in names], "--json", "--store", indexed.path)
    assert r.exit_code == 0, r.output
    lines = json_lines(r)
    assert len(lines) == len(names)
    for name, line in zip(names, lines, strict=True):
        assert set(line) == {"file", "results", "timings", "error"}
        assert line["file"] == str(clips[name][0])
        assert line["error"] is None
        assert set(line["timings"]) >= TIMINGS
        if name == "unknown":
            assert line["results"] == []
            continue
        best = line["results"][0]
        assert set(best) == DESIGN_FIELDS
        assert best["song_name"] == name
        assert best["song_id"] == indexed.ids[name]
        assert best["offset_seconds"] == pytest.approx(clips[name][1], abs=0.2)


def test_recognize_human(indexed: IndexedStore, clips) -> None:  # type: ignore[no-untyped-def]
    path, start = clips["alpha"]
    r = run("recognize", path, clips["unknown"][0], "--store", indexed.path)
    assert r.exit_code == 0, r.output
    first, second = r.stdout.splitlines()
    assert first.startswith(f"{path}: alpha  at ")
    position = first.split(" at ")[1].split()[0]
    m, s = position.split(":")
    assert int(m) * 60 + float(s) == pytest.approx(start, abs=0.25)
    assert "score" in first
    assert second == f"{clips['unknown'][0]}: no match"
    assert format_position(83.42) == "1:23.4"


def test_bad_file_among_good_ones(indexed: IndexedStore, clips, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "broken.mp3"
    bad.write_text("not audio\n" * 50)
    missing = tmp_path / "missing.wav"
    files = [clips["alpha"][0], bad, missing, clips["bravo"][0]]
    r = run("recognize", *files, "--json", "--store", indexed.path)
    assert r.exit_code == 1
    lines = json_lines(r)
    assert [line["file"] for line in lines] == [str(f) for f in files]
    assert lines[0]["error"] is None and lines[0]["results"][0]["song_name"] == "alpha"
    assert lines[3]["error"] is None and lines[3]["results"][0]["song_name"] == "bravo"
    for line, path in ((lines[1], bad), (lines[2], missing)):
        assert line["results"] == []
        assert line["error"] and str(path) in line["error"]
    # Human output: the error goes to stderr, the others still answer.
    r = run("recognize", clips["alpha"][0], bad, "--store", indexed.path)
    assert r.exit_code == 1
    assert "alpha" in r.stdout
    assert f"error: {bad}" in r.stderr


def test_too_short_file(indexed: IndexedStore, tmp_path: Path) -> None:
    short = write_audio(tmp_path / "short.wav", synth_song(1, 0.2), SONG_RATE)
    r = run("recognize", short, "--json", "--store", indexed.path)
    assert r.exit_code == 1
    (line,) = json_lines(r)
    assert "too short" in line["error"]


def test_top_option(indexed: IndexedStore, clips) -> None:  # type: ignore[no-untyped-def]
    r = run("recognize", clips["alpha"][0], "--json", "--top", "1", "--store", indexed.path)
    assert r.exit_code == 0
    assert len(json_lines(r)[0]["results"]) == 1


def test_missing_store(tmp_path: Path, clips) -> None:  # type: ignore[no-untyped-def]
    r = run("recognize", clips["alpha"][0], "--store", tmp_path / "nothing")
    assert r.exit_code == 1
    assert "no fp store" in r.stderr
    assert str(tmp_path / "nothing") in r.stderr
    assert "Traceback" not in r.output
    assert not (tmp_path / "nothing").exists()


def test_default_store_is_used(clips) -> None:  # type: ignore[no-untyped-def]
    r = run("recognize", clips["alpha"][0])  # $XDG_DATA_HOME/fp: empty in tests
    assert r.exit_code == 1
    assert "no fp store" in r.stderr


def test_store_from_environment(indexed: IndexedStore, clips) -> None:  # type: ignore[no-untyped-def]
    r = run("recognize", clips["alpha"][0], "--json", env={"FP_STORE": str(indexed.path)})
    assert r.exit_code == 0, r.output
    assert json_lines(r)[0]["results"][0]["song_name"] == "alpha"


def test_scheme_mismatch_from_environment(indexed: IndexedStore, clips) -> None:  # type: ignore[no-untyped-def]
    r = run("recognize", clips["alpha"][0], "--store", indexed.path,
            env={"FP_FAN_VALUE": str(Scheme().fan_value + 1)})
    assert r.exit_code == 1
    assert Scheme().id in r.stderr and "fan_value" in r.stderr
    assert "Traceback" not in r.output


@pytest.mark.parametrize("args", [["recognize"], ["recognize", "x.wav", "--top", "0"], ["listen"], []])
def test_usage_errors_exit_2(args: list[str]) -> None:
    assert run(*args).exit_code == 2
