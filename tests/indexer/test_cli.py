"""fp-indexer (Typer app, in process): ingest, status, list, remove."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from fp.indexer.cli import app
from fp.scheme import Scheme
from tests.conftest import LIBRARY, IndexedStore
from tests.fp.test_store import snapshot
from tests.synth_audio import SONG_RATE, synth_song, write_audio

runner = CliRunner()


def run(*args: str | Path, env: dict[str, str] | None = None) -> Result:
    return runner.invoke(app, [str(a) for a in args], env=env)


def status(store: Path) -> dict:
    r = run("status", "--json", "--store", store)
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


def listed(store: Path) -> list[dict]:
    r = run("list", "--json", "--store", store)
    assert r.exit_code == 0, r.output
    return [json.loads(line) for line in r.stdout.splitlines() if line.strip()]


def test_ingest_summary(song_dir: Path, tmp_path: Path) -> None:
    store = tmp_path / "s"
    r = run("ingest", song_dir, "--store", store, "--jobs", "1")
    assert r.exit_code == 0, r.output
    assert f"{len(LIBRARY)} indexed, 0 already indexed, 0 failed (of {len(LIBRARY)} files)" in r.stdout
    assert "postings" in r.stdout and "h of audio" in r.stdout
    assert status(store)["songs"] == len(LIBRARY)
    again = run("ingest", song_dir, "--store", store, "--jobs", "1")
    assert again.exit_code == 0
    assert f"0 indexed, {len(LIBRARY)} already indexed" in again.stdout


def test_ingest_json_report_with_errors_ext_and_limit(tmp_path: Path) -> None:
    d = tmp_path / "in"
    d.mkdir()
    write_audio(d / "one.wav", synth_song(401, 20.0), SONG_RATE)
    write_audio(d / "two.flac", synth_song(402, 20.0), SONG_RATE)
    write_audio(d / "three.ogg", synth_song(403, 20.0), SONG_RATE)
    (d / "bad.wav").write_text("not a wav")
    store = tmp_path / "s"
    r = run("ingest", d, "--store", store, "--ext", "wav,.FLAC", "--limit", "6", "--json", "-j", "1")
    assert r.exit_code == 1, r.output  # per-file errors are reported; the rest is indexed
    report = json.loads(r.stdout)
    assert (report["files"], report["indexed"]) == (3, 2)
    assert [Path(f["path"]).name for f in report["failed"]] == ["bad.wav"]
    assert "bad.wav" in report["failed"][0]["error"]
    songs = {s["song_name"]: s for s in listed(store)}
    assert set(songs) == {"one", "two"}
    assert all(s["duration_s"] == pytest.approx(6.0, rel=0.02) for s in songs.values())


def test_ingest_reports_bad_files_on_stderr(tmp_path: Path) -> None:
    d = tmp_path / "in"
    d.mkdir()
    write_audio(d / "good.wav", synth_song(404, 20.0), SONG_RATE)
    (d / "empty.mp3").write_bytes(b"")
    r = run("ingest", d, "--store", tmp_path / "s", "-j", "1")
    assert r.exit_code == 1  # some files could not be indexed
    assert "empty.mp3" in r.stderr
    assert "1 indexed, 0 already indexed, 1 failed (of 2 files)" in r.stdout


def test_ingest_missing_folder(tmp_path: Path) -> None:
    r = run("ingest", tmp_path / "nope", "--store", tmp_path / "s")
    assert r.exit_code == 1
    assert "error:" in r.stderr and "nope" in r.stderr
    assert "Traceback" not in r.output


def test_ingest_empty_folder_warns(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    r = run("ingest", tmp_path / "empty", "--store", tmp_path / "s")
    assert r.exit_code == 0
    assert "no audio files found" in r.stderr


def test_store_from_environment(song_dir: Path, tmp_path: Path) -> None:
    store = tmp_path / "env-store"
    r = run("ingest", song_dir / "alpha.wav", env={"FP_STORE": str(store)})
    assert r.exit_code == 0, r.output
    assert status(store)["songs"] == 1


def test_status_json(indexed: IndexedStore) -> None:
    st = status(indexed.path)
    assert {"songs", "postings", "audio_hours", "store_bytes", "scheme"} <= set(st)
    assert st["songs"] == len(LIBRARY)
    assert st["postings"] == sum(s["postings"] for s in listed(indexed.path))
    assert st["audio_hours"] == pytest.approx(len(LIBRARY) * 20.0 / 3600, rel=0.02)
    assert st["store_bytes"] > 0
    assert st["scheme"] == Scheme().id


def test_status_human(indexed: IndexedStore) -> None:
    r = run("status", "--store", indexed.path)
    assert r.exit_code == 0
    assert f"songs      {len(LIBRARY)}" in r.stdout
    assert Scheme().id in r.stdout


def test_list(indexed: IndexedStore) -> None:
    songs = listed(indexed.path)
    assert [s["song_name"] for s in songs] == [spec.name for spec in LIBRARY]  # ingest order: sorted
    assert {"song_id", "song_name", "file_sha1", "duration_s", "postings"} <= set(songs[0])
    r = run("list", "--store", indexed.path)
    assert r.exit_code == 0
    for s in songs:
        assert s["song_name"] in r.stdout and s["file_sha1"] in r.stdout
    assert f"{len(LIBRARY)} songs" in r.stdout


@pytest.mark.parametrize("how", ["id", "sha1", "name"])
def test_remove(store_copy: Path, how: str) -> None:
    songs = {s["song_name"]: s for s in listed(store_copy)}
    victim = songs["charlie"]
    before = status(store_copy)
    ref = {"id": str(victim["song_id"]), "sha1": victim["file_sha1"], "name": "charlie"}[how]
    r = run("remove", ref, "--store", store_copy)
    assert r.exit_code == 0, r.output
    assert f"removed {victim['song_id']} charlie" in r.stdout
    after = status(store_copy)
    assert after["songs"] == before["songs"] - 1
    assert after["postings"] == before["postings"] - victim["postings"]
    assert "charlie" not in {s["song_name"] for s in listed(store_copy)}


def test_remove_several(store_copy: Path) -> None:
    r = run("remove", "alpha", "bravo", "--store", store_copy)
    assert r.exit_code == 0
    assert "2 song(s)" in r.stdout
    assert {s["song_name"] for s in listed(store_copy)} == {s.name for s in LIBRARY[2:]}


@pytest.mark.parametrize("refs", [["no such song"], ["alpha", "no such song"], ["99999"]])
def test_remove_unknown_changes_nothing(store_copy: Path, refs: list[str]) -> None:
    before = snapshot(store_copy)
    r = run("remove", *refs, "--store", store_copy)
    assert r.exit_code == 1
    assert "no song with id, sha1 or name" in r.stderr
    assert "Traceback" not in r.output
    assert snapshot(store_copy) == before


def test_remove_ambiguous_name(tmp_path: Path) -> None:
    for sub, seed in (("a", 411), ("b", 412)):
        (tmp_path / sub).mkdir()
        write_audio(tmp_path / sub / "same.wav", synth_song(seed, 20.0), SONG_RATE)
    store = tmp_path / "s"
    assert run("ingest", tmp_path / "a", tmp_path / "b", "--store", store, "-j", "1").exit_code == 0
    r = run("remove", "same", "--store", store)
    assert r.exit_code == 1
    assert "2 songs are named 'same'" in r.stderr
    assert status(store)["songs"] == 2


@pytest.mark.parametrize("command", ["status", "list", "remove"])
def test_missing_store(tmp_path: Path, command: str) -> None:
    args = [command, "--store", tmp_path / "nothing"] + (["x"] if command == "remove" else [])
    r = run(*args)
    assert r.exit_code == 1
    assert "no fp store" in r.stderr
    assert "Traceback" not in r.output
    assert not (tmp_path / "nothing").exists()


def test_scheme_mismatch_from_environment(store_copy: Path, song_dir: Path) -> None:
    before = snapshot(store_copy)
    env = {"FP_FAN_VALUE": str(Scheme().fan_value + 1)}
    for args in (["ingest", song_dir], ["status"], ["remove", "alpha"]):
        r = run(*args, "--store", store_copy, env=env)
        assert r.exit_code == 1, (args, r.output)
        assert Scheme().id in r.stderr
        assert "fan_value" in r.stderr
    assert snapshot(store_copy) == before


@pytest.mark.parametrize("args", [
    [], ["ingest"], ["ingest", ".", "--jobs", "0"], ["remove"], ["frobnicate"],
    ["ingest", ".", "--name-from", "astrology"],
])
def test_usage_errors_exit_2(args: list[str]) -> None:
    assert run(*args).exit_code == 2


def test_a_failed_ingest_does_not_fix_the_scheme_of_a_new_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fp.scheme import Scheme

    store = tmp_path / "s"
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "noise.mp3").write_text("not audio")
    monkeypatch.setenv("FP_FAN_VALUE", str(Scheme().fan_value + 5))
    assert run("ingest", tmp_path / "missing", "--store", store).exit_code == 1
    assert run("ingest", bad, "--store", store, "-j", "1").exit_code == 1  # every file fails
    monkeypatch.delenv("FP_FAN_VALUE")
    good = tmp_path / "good"
    good.mkdir()
    write_audio(good / "one.wav", synth_song(404, 12.0), SONG_RATE)
    assert run("ingest", good, "--store", store, "-j", "1").exit_code == 0
    status = json.loads(run("status", "--store", store, "--json").stdout)
    assert status["scheme_parameters"]["fan_value"] == Scheme().fan_value
    assert status["songs"] == 1
