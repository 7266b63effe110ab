"""fp.catalog: songs, their states, and finding a song by id, sha1 or name."""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path

import pytest

from fp.catalog import DONE, PENDING, Catalog, engine_url
from fp.errors import ConfigError, SongNotFoundError

SCHEME = "fp1-0000test"


def sha(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


@pytest.fixture
def catalog(tmp_path: Path):  # type: ignore[no-untyped-def]
    c = Catalog.in_store(tmp_path / "store")
    yield c
    c.close()


def test_pending_then_done(catalog: Catalog) -> None:
    a = catalog.add_pending("Song A", sha("a"), "/music/a.mp3", 120.5, SCHEME)
    b = catalog.add_pending("Song B", sha("b"), None, 60.0, SCHEME)
    assert a != b and a > 0 and b > 0
    assert catalog.list() == []  # only done songs by default
    assert {s.song_id for s in catalog.list(state=PENDING)} == {a, b}
    assert catalog.done_sha1s() == set()
    t = catalog.totals()
    assert (t.songs, t.postings, t.audio_s, t.pending) == (0, 0, 0.0, 2)

    catalog.mark_done({a: 1000})
    song = catalog.get([a])[a]
    assert (song.state, song.postings, song.song_name, song.file_sha1, song.source) == (
        DONE, 1000, "Song A", sha("a"), "/music/a.mp3")
    assert song.duration_s == pytest.approx(120.5)
    assert song.scheme_id == SCHEME
    assert catalog.done_sha1s() == {sha("a")}
    t = catalog.totals()
    assert (t.songs, t.postings, t.pending) == (1, 1000, 1)
    assert t.audio_s == pytest.approx(120.5)

    catalog.mark_done({b: 5})
    assert [s.song_id for s in catalog.list()] == [a, b]
    assert catalog.totals().postings == 1005
    assert catalog.all_ids() == {a, b}

    catalog.delete([a])
    assert catalog.all_ids() == {b}
    assert catalog.get([a]) == {}
    assert catalog.by_sha1(sha("a")) is None
    assert catalog.totals().songs == 1


def test_mark_done_nothing_is_fine(catalog: Catalog) -> None:
    catalog.mark_done({})
    catalog.delete([])
    assert catalog.get([]) == {}


@pytest.fixture
def three(catalog: Catalog) -> dict[str, int]:
    ids = {
        "x": catalog.add_pending("Unique Name", sha("x"), None, 1.0, SCHEME),
        "y1": catalog.add_pending("Twin", sha("y1"), None, 1.0, SCHEME),
        "y2": catalog.add_pending("Twin", sha("y2"), None, 1.0, SCHEME),
    }
    catalog.mark_done({i: 1 for i in ids.values()})
    return ids


def test_resolve_by_id_sha1_and_name(catalog: Catalog, three: dict[str, int]) -> None:
    x = three["x"]
    assert catalog.resolve(str(x)).song_id == x
    assert catalog.resolve(f"  {x} ").song_id == x
    assert catalog.resolve(sha("x")).song_id == x
    assert catalog.resolve(sha("x").upper()).song_id == x
    assert catalog.resolve("Unique Name").song_id == x
    assert catalog.resolve(sha("y2")).song_id == three["y2"]


def test_resolve_ambiguous_name(catalog: Catalog, three: dict[str, int]) -> None:
    with pytest.raises(SongNotFoundError, match="2 songs are named 'Twin'") as e:
        catalog.resolve("Twin")
    assert str(three["y1"]) in str(e.value) and str(three["y2"]) in str(e.value)


@pytest.mark.parametrize("ref", ["999", sha("nobody"), "No Such Song", "unique name"])
def test_resolve_not_found(catalog: Catalog, three: dict[str, int], ref: str) -> None:
    with pytest.raises(SongNotFoundError, match="no song with id, sha1 or name"):
        catalog.resolve(ref)


def test_a_name_made_of_digits(catalog: Catalog) -> None:
    sid = catalog.add_pending("1999", sha("prince"), None, 1.0, SCHEME)
    catalog.mark_done({sid: 1})
    assert catalog.resolve("1999").song_id == sid  # no song 1999: falls back to the name


def test_meta(catalog: Catalog, tmp_path: Path) -> None:
    assert catalog.get_meta("scheme") is None
    catalog.set_meta("scheme", "one")
    catalog.set_meta("scheme", "two")
    assert catalog.get_meta("scheme") == "two"
    catalog.close()
    again = Catalog.in_store(tmp_path / "store")
    assert again.get_meta("scheme") == "two"
    again.close()


def test_persistence(tmp_path: Path) -> None:
    c = Catalog.in_store(tmp_path / "s")
    sid = c.add_pending("Kept", sha("k"), None, 3.0, SCHEME)
    c.mark_done({sid: 7})
    c.close()
    c = Catalog.in_store(tmp_path / "s")
    assert c.resolve("Kept").postings == 7
    c.close()


def test_long_names_are_cut(catalog: Catalog) -> None:
    sid = catalog.add_pending("n" * 2000, sha("long"), None, 1.0, SCHEME)
    assert len(catalog.get([sid])[sid].song_name) == 512


def test_engine_urls() -> None:
    assert engine_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert engine_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert engine_url("mysql://u@h/db") == "mysql+pymysql://u@h/db"
    assert engine_url("mariadb://u@h/db") == "mysql+pymysql://u@h/db"
    assert engine_url("sqlite:///x.db") == "sqlite:///x.db"
    with pytest.raises(ConfigError, match="catalog DSN"):
        engine_url("oracle://x")


@pytest.mark.skipif(importlib.util.find_spec("psycopg") is not None, reason="psycopg installed")
def test_missing_driver_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="psycopg"):
        Catalog("postgresql://user@localhost/fp")
