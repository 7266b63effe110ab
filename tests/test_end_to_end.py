"""End to end through the installed console scripts, in real subprocesses.

Includes the kill -9 resume test: an ingest killed at a random moment and run again
ends with every song indexed exactly once, no orphaned postings, and the same
recognition results as a clean run.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import fp
from fp.ingest import file_sha1
from tests.synth_audio import SONG_RATE, clip, resample, synth_song, write_audio

pytestmark = pytest.mark.integration

BIN = Path(sys.executable).parent
TIMEOUT = 180


def script(name: str) -> str:
    path = BIN / name
    if not path.exists():
        pytest.skip(f"{name} is not installed in {BIN}")
    return str(path)


def clean_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FP_")}
    env["XDG_DATA_HOME"] = str(tmp_path / "xdg")
    return env


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, env=env, capture_output=True, text=True, timeout=TIMEOUT)


def test_ingest_then_recognize_through_the_console_scripts(tmp_path: Path) -> None:
    env = clean_env(tmp_path)
    music, clips = tmp_path / "music", tmp_path / "clips"
    songs = {"first": (501, "wav"), "second": (502, "mp3"), "third": (503, "flac")}
    music.mkdir()
    clips.mkdir()
    for name, (seed, fmt) in songs.items():
        write_audio(music / f"{name}.{fmt}", synth_song(seed, 20.0), SONG_RATE)
    store = tmp_path / "store"

    r = run([script("fp-indexer"), "ingest", str(music), "--store", str(store), "--jobs", "2"], env)
    assert r.returncode == 0, r.stderr
    assert "3 indexed, 0 already indexed, 0 failed (of 3 files)" in r.stdout

    starts = {"first": 3.0, "second": 12.4, "third": 7.7}
    files = []
    for name, start in starts.items():
        files.append(write_audio(clips / f"{name}-clip.ogg",
                                 clip(synth_song(songs[name][0], 20.0), SONG_RATE, start, 4.0), SONG_RATE))
    stranger = write_audio(clips / "stranger.wav", clip(synth_song(504, 20.0), SONG_RATE, 2.0, 4.0),
                           SONG_RATE)
    r = run([script("fp-client"), "recognize", *map(str, files), str(stranger), "--json",
             "--store", str(store)], env)
    assert r.returncode == 0, r.stderr
    lines = [json.loads(line) for line in r.stdout.splitlines()]
    assert len(lines) == 4
    for line, (name, start) in zip(lines, starts.items(), strict=False):
        assert set(line) == {"file", "results", "timings", "error"}
        assert line["error"] is None
        assert line["results"], f"{name}: no match"
        assert line["results"][0]["song_name"] == name
        assert line["results"][0]["offset_seconds"] == pytest.approx(start, abs=0.2)
    assert lines[3]["results"] == [] and lines[3]["error"] is None

    # Exit codes: a bad file makes it 1, usage errors 2.
    bad = tmp_path / "bad.mp3"
    bad.write_bytes(b"")
    r = run([script("fp-client"), "recognize", str(files[0]), str(bad), "--store", str(store)], env)
    assert r.returncode == 1
    assert "first" in r.stdout and str(bad) in r.stderr
    assert run([script("fp-client"), "recognize"], env).returncode == 2
    # Nothing ever went to the default store.
    assert not (tmp_path / "xdg" / "fp").exists()


def catalog_rows(store: Path) -> list[tuple[int, str, str, int, str]]:
    try:
        con = sqlite3.connect(f"file:{store / 'catalog.sqlite3'}?mode=ro", uri=True, timeout=5)
    except sqlite3.OperationalError:
        return []
    try:
        return con.execute(
            "SELECT song_id, song_name, file_sha1, postings, state FROM songs ORDER BY song_id").fetchall()
    except sqlite3.OperationalError:  # not created yet, or busy
        return []
    finally:
        con.close()


def test_kill_9_and_resume(tmp_path: Path) -> None:
    env = clean_env(tmp_path)
    music = tmp_path / "music"
    music.mkdir()
    n_songs = 12
    rate = 44100
    for i in range(n_songs):
        mono = resample(synth_song(600 + i, 24.0), SONG_RATE, rate)
        write_audio(music / f"song{i:02d}.flac", np.stack([mono, 0.6 * mono], axis=1), rate)
    files = sorted(music.iterdir())
    store = tmp_path / "killed"

    proc = subprocess.Popen([script("fp-indexer"), "ingest", str(music), "--store", str(store),
                             "--jobs", "1"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not catalog_rows(store):
            assert proc.poll() is None, "ingest finished before it could be killed"
            assert time.monotonic() < deadline, "ingest never wrote a song"
            time.sleep(0.01)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    interrupted = catalog_rows(store)
    assert interrupted
    assert len(interrupted) < n_songs or any(row[4] == "pending" for row in interrupted), \
        "the killed run had already finished its work"

    r = run([script("fp-indexer"), "ingest", str(music), "--store", str(store), "--jobs", "1"], env)
    assert r.returncode == 0, r.stderr

    # Every file exactly once, nothing pending.
    rows = catalog_rows(store)
    assert len(rows) == n_songs
    assert {row[4] for row in rows} == {"done"}
    assert sorted(row[2] for row in rows) == sorted(file_sha1(f) for f in files)
    with fp.open_store(store, create=False) as s:
        assert s.index.song_ids() == {row[0] for row in rows}
        assert s.index.stats().postings == sum(row[3] for row in rows)

    # Same postings as a clean run into another store.
    clean = tmp_path / "clean"
    fp.ingest(music, store=clean, jobs=1)
    assert {row[1]: row[3] for row in rows} == {row[1]: row[3] for row in catalog_rows(clean)}

    # Same recognition results.
    def answers(path: Path) -> list[list[tuple[str, int, int, float]]]:
        out = []
        with fp.open_store(path, create=False) as s:
            r = fp.Recognizer(s)
            for i, start in [(0, 2.0), (5, 10.5), (11, 17.0), (7, 6.3)]:
                x = clip(synth_song(600 + i, 24.0), SONG_RATE, start, 3.0)
                rec = r.recognize_samples(x, SONG_RATE)
                out.append([(m.song_name, m.offset, m.hashes_matched_in_input, m.score) for m in rec.results])
        return out

    resumed, fresh = answers(store), answers(clean)
    assert resumed == fresh
    assert [a[0][0] if a else None for a in fresh] == ["song00", "song05", "song11", "song07"]
