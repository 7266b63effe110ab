"""Shared fixtures: isolated environment, generated songs and files, ready stores.

Nothing here touches the user's real store: every test runs with ``XDG_DATA_HOME``
pointing at a temporary folder and without any ``FP_*`` variable from the caller's
environment; stores are created under pytest's temporary folders.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from tests.synth_audio import SONG_RATE, synth_song, write_audio


def _scrub_env(mp: pytest.MonkeyPatch, data_home: Path) -> None:
    for key in list(os.environ):
        if key.startswith("FP_"):
            mp.delenv(key)
    mp.setenv("XDG_DATA_HOME", str(data_home))


@pytest.fixture(scope="session", autouse=True)
def _session_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Session-wide: no FP_* from outside, XDG_DATA_HOME in a temporary folder."""
    with pytest.MonkeyPatch.context() as mp:
        _scrub_env(mp, tmp_path_factory.mktemp("xdg-session"))
        yield


@pytest.fixture(autouse=True)
def _test_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Per test: a fresh XDG_DATA_HOME, so the default store is private to the test."""
    data_home = tmp_path / "xdg-data"
    data_home.mkdir()
    _scrub_env(monkeypatch, data_home)
    return data_home


@dataclass(frozen=True)
class SongSpec:
    """One generated song written to a file: how to regenerate its samples."""

    name: str
    seed: int
    fmt: str
    rate: int
    channels: int
    seconds: float

    @property
    def filename(self) -> str:
        return f"{self.name}.{self.fmt}"

    @property
    def samples(self) -> np.ndarray:
        return synth_song(self.seed, self.seconds, self.rate, self.channels)

    def mono(self) -> np.ndarray:
        x = self.samples
        return x if x.ndim == 1 else x.mean(axis=1)


# One song per format, with several rates and channel counts.
LIBRARY = (
    SongSpec("alpha", 101, "wav", SONG_RATE, 1, 20.0),
    SongSpec("bravo", 102, "flac", 44100, 2, 20.0),
    SongSpec("charlie", 103, "ogg", 22050, 1, 20.0),
    SongSpec("delta", 104, "opus", 48000, 1, 20.0),
    SongSpec("echo", 105, "mp3", 22050, 2, 20.0),
    SongSpec("foxtrot", 106, "m4a", 44100, 1, 20.0),
)
# Songs that are never indexed: their clips must come back as "no match".
NEGATIVE_SEEDS = (901, 902, 903, 904)


@pytest.fixture(scope="session")
def library() -> tuple[SongSpec, ...]:
    return LIBRARY


@pytest.fixture(scope="session")
def song_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with the LIBRARY songs, one file per format (read-only for tests)."""
    d = tmp_path_factory.mktemp("music")
    for spec in LIBRARY:
        write_audio(d / spec.filename, spec.samples, spec.rate)
    return d


@dataclass(frozen=True)
class IndexedStore:
    path: Path
    songs: dict[str, SongSpec]
    ids: dict[str, int]  # song name -> song_id


@pytest.fixture(scope="session")
def indexed(song_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> IndexedStore:
    """A store with every LIBRARY song ingested. Shared: tests must not change it
    (use `store_copy` to get a private, writable copy)."""
    import fp

    path = tmp_path_factory.mktemp("indexed") / "store"
    report = fp.ingest(song_dir, store=path, jobs=1)
    assert report.indexed == len(LIBRARY), report.to_dict()
    with fp.open_store(path, create=False) as s:
        ids = {song.song_name: song.song_id for song in s.catalog.list()}
    return IndexedStore(path, {s.name: s for s in LIBRARY}, ids)


@pytest.fixture
def store_copy(indexed: IndexedStore, tmp_path: Path) -> Path:
    """A private copy of the `indexed` store, free to change."""
    dst = tmp_path / "store-copy"
    shutil.copytree(indexed.path, dst)
    return dst


@pytest.fixture
def make_files(tmp_path: Path) -> Callable[..., list[Path]]:
    """Write generated songs to a folder: ``make_files(dir, [(name, seed, fmt), ...])``."""

    def make(folder: Path | str, items: list[tuple[str, int, str]], seconds: float = 20.0,
             rate: int = SONG_RATE) -> list[Path]:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        return [write_audio(folder / f"{name}.{fmt}", synth_song(seed, seconds, rate), rate)
                for name, seed, fmt in items]

    return make
