"""fp.ingest: files -> store, idempotent, resumable, per-file errors reported and skipped."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import fp
from fp.errors import FpError
from fp.ingest import AUDIO_EXTENSIONS, FileEvent, discover, file_sha1, fingerprint_file, ingest
from fp.scheme import Scheme
from fp.settings import load_settings
from fp.store import Store
from tests.conftest import LIBRARY, IndexedStore
from tests.fp.test_store import snapshot
from tests.synth_audio import SONG_RATE, synth_song, write_audio


def open_store(path: Path) -> Store:
    return Store(load_settings(store=path))


def catalog_view(path: Path) -> dict[str, tuple[str, int, str]]:
    """name -> (sha1, postings, state) for every song, pending ones included."""
    with open_store(path) as s:
        return {x.song_name: (x.file_sha1, x.postings, x.state) for x in s.catalog.list(state=None)}


def assert_consistent(path: Path) -> None:
    """Index and catalog agree: same songs, same posting totals, nothing pending."""
    with open_store(path) as s:
        songs = s.catalog.list(state=None)
        assert all(x.state == "done" for x in songs)
        assert s.index.song_ids() == {x.song_id for x in songs}
        assert s.index.stats().postings == sum(x.postings for x in songs)


def test_indexes_every_format(indexed: IndexedStore, song_dir: Path) -> None:
    with open_store(indexed.path) as s:
        songs = {x.song_name: x for x in s.catalog.list()}
        assert set(songs) == {spec.name for spec in LIBRARY}  # name = file name, no extension
        for spec in LIBRARY:
            song = songs[spec.name]
            assert song.file_sha1 == file_sha1(song_dir / spec.filename)
            assert song.duration_s == pytest.approx(spec.seconds, rel=0.02)
            assert song.postings > 10 * spec.seconds
            assert song.scheme_id == s.scheme.id == Scheme().id
            assert song.source and song.source.endswith(spec.filename)
    assert_consistent(indexed.path)


def test_report_and_progress(song_dir: Path, tmp_path: Path) -> None:
    events: list[FileEvent] = []
    started: list[int] = []
    with open_store(tmp_path / "s") as s:
        report = ingest(s, [song_dir], progress=events.append, on_start=started.append)
    assert started == [len(LIBRARY)]
    n = len(LIBRARY)
    assert (report.files, report.indexed, report.skipped, report.failed) == (n, n, 0, [])
    assert report.audio_s == pytest.approx(sum(x.seconds for x in LIBRARY), rel=0.02)
    assert report.postings == sum(e.postings for e in events)
    assert sorted(Path(e.path).name for e in events) == sorted(x.filename for x in LIBRARY)
    assert {e.status for e in events} == {"indexed"}
    assert all(e.song_id is not None for e in events)
    d = report.to_dict()
    assert d["indexed"] == len(LIBRARY) and d["failed"] == [] and d["postings"] == report.postings


def test_rerun_skips_everything_even_renamed_copies(store_copy: Path, song_dir: Path,
                                                    tmp_path: Path) -> None:
    before = snapshot(store_copy)
    with open_store(store_copy) as s:
        report = ingest(s, [song_dir])
    assert (report.indexed, report.skipped, report.failed) == (0, len(LIBRARY), [])
    renamed = tmp_path / "renamed"
    renamed.mkdir()
    shutil.copy(song_dir / "alpha.wav", renamed / "a completely different name.wav")
    with open_store(store_copy) as s:
        report = ingest(s, [renamed])
    assert (report.indexed, report.skipped) == (0, 1)
    assert snapshot(store_copy) == before


def test_a_duplicate_within_one_run_is_indexed_once(tmp_path: Path, song_dir: Path) -> None:
    d = tmp_path / "dups"
    d.mkdir()
    shutil.copy(song_dir / "alpha.wav", d / "one.wav")
    shutil.copy(song_dir / "alpha.wav", d / "two.wav")
    with open_store(tmp_path / "s") as s:
        report = ingest(s, [d])
    assert (report.indexed, report.skipped) == (1, 1)
    assert list(catalog_view(tmp_path / "s")) == ["one"]


@pytest.fixture
def mixed_dir(tmp_path: Path, make_files: Callable[..., list[Path]]) -> Path:
    d = tmp_path / "mixed"
    make_files(d, [("good one", 201, "wav"), ("good two", 202, "ogg")])
    (d / "not audio.mp3").write_text("this is a text file, not an mp3\n" * 300)
    (d / "empty.wav").write_bytes(b"")
    write_audio(d / "blip.wav", synth_song(203, 0.2), SONG_RATE)
    (d / "sub").mkdir()
    write_audio(d / "sub" / "silence.flac", np.zeros(5 * SONG_RATE, np.float32), SONG_RATE)
    return d


def test_bad_files_are_reported_skipped_and_leave_no_trace(mixed_dir: Path, tmp_path: Path) -> None:
    with open_store(tmp_path / "s") as s:
        report = ingest(s, [mixed_dir])
    assert report.files == 6
    assert report.indexed == 2
    failed = {Path(e.path).name: e.message for e in report.failed}
    assert set(failed) == {"not audio.mp3", "empty.wav", "blip.wav", "silence.flac"}
    for name, message in failed.items():
        assert name in message  # the path is in the message
    assert "empty" in failed["empty.wav"]
    assert "too short" in failed["blip.wav"]
    assert "silent" in failed["silence.flac"] or "too short" in failed["silence.flac"]
    view = catalog_view(tmp_path / "s")
    assert set(view) == {"good one", "good two"}
    assert_consistent(tmp_path / "s")
    # A re-run retries the bad files (they never entered the store) and fails them again.
    with open_store(tmp_path / "s") as s:
        again = ingest(s, [mixed_dir])
    assert (again.indexed, again.skipped, len(again.failed)) == (0, 2, 4)
    assert catalog_view(tmp_path / "s") == view


def test_extension_filter(song_dir: Path, tmp_path: Path) -> None:
    with open_store(tmp_path / "s") as s:
        report = ingest(s, [song_dir], extensions=frozenset({"flac", "ogg"}))
    assert report.files == 2
    assert set(catalog_view(tmp_path / "s")) == {"bravo", "charlie"}


def test_limit_seconds(song_dir: Path, tmp_path: Path, indexed: IndexedStore) -> None:
    with open_store(tmp_path / "s") as s:
        ingest(s, [song_dir / "alpha.wav", song_dir / "delta.opus"], limit_s=5.0)
        limited = {x.song_name: x for x in s.catalog.list()}
    with open_store(indexed.path) as s:
        full = {x.song_name: x for x in s.catalog.list()}
    for name in ("alpha", "delta"):
        assert limited[name].duration_s == pytest.approx(5.0, rel=0.02)
        assert 0 < limited[name].postings < full[name].postings / 2


def test_two_jobs_give_the_same_catalog_as_one(song_dir: Path, tmp_path: Path,
                                                indexed: IndexedStore) -> None:
    with open_store(tmp_path / "s") as s:
        report = ingest(s, [song_dir], jobs=2)
    assert report.indexed == len(LIBRARY)
    assert catalog_view(tmp_path / "s") == catalog_view(indexed.path)
    assert_consistent(tmp_path / "s")


def test_recovery_after_a_crash_between_index_commit_and_mark_done(
        store_copy: Path, song_dir: Path, tmp_path: Path) -> None:
    """Simulate a writer killed after its postings were committed but before the catalog
    marked the song done: the next ingest removes them and redoes the song once."""
    spec = LIBRARY[0]
    path = song_dir / spec.filename
    full_view = catalog_view(store_copy)
    with open_store(store_copy) as s:
        victim = s.catalog.resolve(spec.name)
        s.remove([victim])
        fpr = fingerprint_file(str(path), s.scheme)
        s.index.begin_writing()
        song_id = s.catalog.add_pending(fpr.name, fpr.sha1, fpr.path, fpr.duration_s, s.scheme.id)
        s.index.add(song_id, fpr.hashes, fpr.offsets)
        s.index.add(song_id, fpr.hashes[:100], fpr.offsets[:100])  # half-written extra junk
        s.index.add(31337, fpr.hashes[:50], fpr.offsets[:50])  # postings of no catalog song
        s.index.commit()
        assert song_id in s.index.song_ids()
    with open_store(store_copy) as s:
        report = ingest(s, [song_dir])
    assert report.recovered == 1
    assert (report.indexed, report.skipped) == (1, len(LIBRARY) - 1)
    assert catalog_view(store_copy) == full_view  # same sha1s and posting counts as clean
    assert_consistent(store_copy)
    with open_store(store_copy) as s:
        assert song_id not in s.index.song_ids() or s.catalog.resolve(spec.name).song_id == song_id
        assert 31337 not in s.index.song_ids()
        redone = s.catalog.resolve(spec.name)
        hits = s.index.lookup(fpr.hashes)
        assert int((hits.song_ids == redone.song_id).sum()) >= len(fpr.hashes)
        assert s.index.stats().postings == sum(x.postings for x in s.catalog.list())


def test_discover(tmp_path: Path) -> None:
    (tmp_path / "b" / "deep").mkdir(parents=True)
    for name in ["a.mp3", "b/c.WAV", "b/deep/d.flac", "notes.txt", "b/cover.jpg"]:
        (tmp_path / name).write_bytes(b"x")
    found = discover([tmp_path])
    assert [p.relative_to(tmp_path).as_posix() for p in found] == ["a.mp3", "b/c.WAV", "b/deep/d.flac"]
    assert discover([tmp_path / "notes.txt"]) == [tmp_path / "notes.txt"]  # a file is taken as given
    assert len(discover([tmp_path, tmp_path / "a.mp3"])) == 3  # no duplicates
    assert [p.name for p in discover([tmp_path], frozenset({"flac"}))] == ["d.flac"]
    with pytest.raises(FpError, match="no such file"):
        discover([tmp_path / "missing"])
    assert {"mp3", "wav", "flac", "ogg", "opus", "m4a"} <= AUDIO_EXTENSIONS


def test_names_from_tags(tmp_path: Path) -> None:
    d = tmp_path / "tagged"
    d.mkdir()
    write_audio(d / "track01.mp3", synth_song(301, 20.0), SONG_RATE,
                tags={"artist": "The Testers", "title": "Unit Song"})
    write_audio(d / "track02.m4a", synth_song(302, 20.0), SONG_RATE, tags={"title": "Only A Title"})
    with open_store(tmp_path / "s") as s:
        ingest(s, [d], name_from="tags")
    assert set(catalog_view(tmp_path / "s")) == {"The Testers - Unit Song", "track02"}


def test_top_level_api_uses_the_default_store(song_dir: Path, _test_env: Path) -> None:
    report = fp.ingest(song_dir / "alpha.wav")
    assert report.indexed == 1
    assert (_test_env / "fp" / "catalog.sqlite3").exists()  # $XDG_DATA_HOME/fp
    assert catalog_view(_test_env / "fp").keys() == {"alpha"}
