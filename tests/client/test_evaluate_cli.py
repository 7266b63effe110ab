"""fp-client evaluate (Typer app, in process): index a folder, report accuracy, write files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from fp.client.cli import app
from fp.evalreport import markdown

runner = CliRunner()
SMALL = ["--negatives", "1", "--clips", "1", "--negative-clips", "1", "--secs", "2",
         "--conditions", "clean,noise-5db", "--padding", "1"]
OUTPUTS = {"evaluation.json", "evaluation.md", "accuracy.png", "timing.png"}


def run(*args: str | Path) -> Result:
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.synth_audio import SONG_RATE, synth_song, write_audio

    d = tmp_path_factory.mktemp("corpus")
    for i, fmt in enumerate(["wav", "flac", "wav", "ogg"]):
        write_audio(d / f"song{i}.{fmt}", synth_song(700 + i, 8.0), SONG_RATE)
    return d


@pytest.fixture(scope="module")
def evaluated(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Result, Path]:
    out = tmp_path_factory.mktemp("eval") / "out"
    return run("evaluate", corpus, *SMALL, "--out", out), out


def test_evaluate_prints_the_table_and_writes_the_files(
        evaluated: tuple[Result, Path], corpus: Path) -> None:
    r, out = evaluated
    assert r.exit_code == 0, r.output
    assert {p.name for p in out.iterdir()} == OUTPUTS
    data = json.loads((out / "evaluation.json").read_text())
    meta, rows = data["meta"], data["rows"]
    assert meta["corpus"] == str(corpus)
    assert meta["indexed_tracks"] == 3 and meta["held_out_tracks"] == 1
    assert meta["seed"] == 42 and meta["padding_s"] == 1.0 and meta["scheme"]
    assert [(row["condition"], row["secs"]) for row in rows] == [("clean", 2.0), ("noise-5db", 2.0)]
    for row in rows:
        assert row["clips"] == 3 and row["negative_clips"] == 1
    clean = rows[0]
    assert clean["top1"] == 1.0 and clean["offset_ok"] == 1.0 and clean["false_positives"] == 0
    # stdout is the Markdown report, as written; the files are named on stderr.
    assert r.stdout == markdown(rows, meta) + "\n"
    assert "| condition | 2 s |" in r.stdout
    assert "| clean | 100.0% (0.0%) |" in r.stdout
    assert "| noise-5db | " in r.stdout
    for name in OUTPUTS:
        assert f"wrote {out / name}" in r.stderr
    assert "indexing 3 tracks (1 held out)" in r.stderr
    for png in ("accuracy.png", "timing.png"):
        assert (out / png).read_bytes()[:4] == b"\x89PNG"


def test_evaluate_keeps_the_store_when_asked(corpus: Path, tmp_path: Path) -> None:
    store = tmp_path / "kept-store"
    r = run("evaluate", corpus, *SMALL, "--conditions", "clean", "--out", tmp_path / "out",
            "--store", store, "-j", "1")
    assert r.exit_code == 0, r.output
    assert store.is_dir() and any(store.iterdir())
    rows = json.loads((tmp_path / "out" / "evaluation.json").read_text())["rows"]
    assert [row["condition"] for row in rows] == ["clean"]


@pytest.mark.parametrize(("args", "message"), [
    (["--conditions", "clean,bogus"], "unknown condition(s) bogus"),
    (["--conditions", ","], "no conditions"),
    (["--secs", "0"], "clip lengths must be positive"),
    (["--secs", "nan"], "clip lengths must be positive"),
    (["--negatives", "4"], "cannot hold out 4 of 4 tracks"),
])
def test_evaluate_config_errors(corpus: Path, tmp_path: Path, args: list[str], message: str) -> None:
    out = tmp_path / "out"
    r = run("evaluate", corpus, *SMALL, *args, "--out", out)
    assert r.exit_code == 1
    assert isinstance(r.exception, SystemExit)  # a handled error, not a crash
    assert f"error: {message}" in r.stderr
    assert "Traceback" not in r.output
    assert not out.exists()


def test_evaluate_bad_secs_is_a_usage_error(corpus: Path, tmp_path: Path) -> None:
    r = run("evaluate", corpus, *SMALL, "--secs", "2,x", "--out", tmp_path / "out")
    assert r.exit_code == 2
    assert isinstance(r.exception, SystemExit)
    assert "--secs" in r.stderr
    assert "Traceback" not in r.output


@pytest.mark.parametrize("args", [["evaluate"], ["evaluate", "d", "--clips", "0"],
                                  ["evaluate", "d", "--negatives", "-1"]])
def test_evaluate_usage_errors_exit_2(args: list[str]) -> None:
    assert run(*args).exit_code == 2


def test_evaluate_help_lists_the_conditions() -> None:
    r = run("evaluate", "--help")
    assert r.exit_code == 0
    for name in ("clean", "mp3-64k", "mic", "speed+2%"):
        assert name in r.stdout
