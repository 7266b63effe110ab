"""fp.index.embedded: a folder of segments and a manifest; one writer, many readers."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from fp.errors import StoreError
from fp.index import open_index
from fp.index.embedded import MANIFEST, MERGE_FACTOR, EmbeddedIndex
from tests.fp.postings_reference import Reference, got, queries_for, random_song

BITS = 22
SCHEME_JSON = json.dumps({"test": "scheme"})


def new_index(path: Path) -> EmbeddedIndex:
    ix = EmbeddedIndex(path)
    ix.set_scheme(SCHEME_JSON, BITS)
    return ix


def check(ix: EmbeddedIndex, ref: Reference, rng: np.random.Generator) -> None:
    q = queries_for(ref, rng, BITS)
    hits = ix.lookup(q)
    assert hits.song_ids.dtype == np.uint32 and hits.offsets.dtype == np.uint32
    assert got(hits.query_pos, hits.song_ids, hits.offsets) == ref.expected(q)
    assert ix.song_ids() == ref.songs()
    assert ix.stats().postings == ref.postings()


def segment_files(path: Path) -> set[str]:
    return {p.name for p in path.glob("seg-*")}


def listed(path: Path) -> set[str]:
    return {s["name"] for s in json.loads((path / MANIFEST).read_text())["segments"]}


def test_add_commit_lookup_across_commits_and_merges(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    shared = rng.integers(0, 1 << BITS, 100)
    ix, ref = new_index(tmp_path / "ix"), Reference()
    committed = Reference()
    song = 0
    for commit in range(3 * MERGE_FACTOR + 1):
        for _ in range(int(rng.integers(1, 4))):
            song += 1
            h, o = random_song(rng, int(rng.integers(200, 3000)), BITS, 8000, shared)
            ix.add(song, h, o)
            ref.add(song, h, o)
        if commit % 3 == 0:
            check(ix, committed, rng)  # staged, not committed: not visible yet
        ix.commit()
        committed = _copy(ref)
        check(ix, ref, rng)
    # Tier merges keep the segment count well below the number of commits.
    segs = json.loads((tmp_path / "ix" / MANIFEST).read_text())["segments"]
    assert len(segs) < 3 * MERGE_FACTOR
    assert segment_files(tmp_path / "ix") == listed(tmp_path / "ix")  # merged inputs deleted
    ix.close()
    # A fresh reader sees the same.
    check(EmbeddedIndex(tmp_path / "ix", create=False), ref, rng)


def _copy(ref: Reference) -> Reference:
    out = Reference()
    for h, c in ref.by_hash.items():
        out.by_hash[h] = c.copy()
    return out


def test_remove_takes_postings_out(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    shared = rng.integers(0, 1 << BITS, 100)
    ix, ref = new_index(tmp_path / "ix"), Reference()
    for song in range(1, 9):
        h, o = random_song(rng, 4000, BITS, 5000, shared)
        ix.add(song, h, o)
        ref.add(song, h, o)
        if song % 2 == 0:
            ix.commit()
    before = ix.stats()
    ix.remove([3, 6])
    ix.commit()
    ref.remove({3, 6})
    check(ix, ref, rng)
    after = ix.stats()
    assert 3 not in ix.song_ids() and 6 not in ix.song_ids()
    assert after.postings == before.postings - 8000
    assert after.songs == before.songs - 2
    assert after.bytes < before.bytes  # the files shrink, the postings really left
    # Removing every song empties the index; unknown ids are harmless.
    ix.remove([1, 2, 4, 5, 7, 8, 999])
    ix.commit()
    assert ix.song_ids() == set()
    assert len(ix.lookup(np.arange(1 << 12, dtype=np.uint32))) == 0
    assert segment_files(tmp_path / "ix") == set()


def test_remove_and_add_in_one_commit(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    ix, ref = new_index(tmp_path / "ix"), Reference()
    h1, o1 = random_song(rng, 1000, BITS)
    ix.add(1, h1, o1)
    ix.commit()
    h2, o2 = random_song(rng, 1000, BITS)
    ix.remove([1])
    ix.add(2, h2, o2)
    ix.commit()
    ref.add(2, h2, o2)
    check(ix, ref, rng)


def test_reader_sees_commits_of_a_writer(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    writer, ref = new_index(tmp_path / "ix"), Reference()
    reader = EmbeddedIndex(tmp_path / "ix", create=False)
    assert reader.song_ids() == set()
    for song in (1, 2, 3):
        h, o = random_song(rng, 1500, BITS)
        writer.add(song, h, o)
        ref.add(song, h, o)
        writer.commit()
        check(reader, ref, rng)  # same reader object, no reopen
    writer.remove([2])
    writer.commit()
    ref.remove({2})
    check(reader, ref, rng)
    reader.close()
    writer.close()


def test_one_writer_at_a_time(tmp_path: Path) -> None:
    first = new_index(tmp_path / "ix")
    first.add(1, np.arange(10, dtype=np.uint32), np.arange(10, dtype=np.uint32))
    second = EmbeddedIndex(tmp_path / "ix")
    with pytest.raises(StoreError, match="being written by pid") as e:
        second.begin_writing()
    assert "one writer at a time" in str(e.value)
    with pytest.raises(StoreError):
        second.add(2, np.arange(5, dtype=np.uint32), np.arange(5, dtype=np.uint32))
    # Readers are not blocked.
    assert second.song_ids() == set()
    first.commit()
    assert second.song_ids() == {1}
    first.close()
    second.begin_writing()  # free now
    second.remove([1])
    second.commit()
    assert second.song_ids() == set()


def test_leftovers_of_a_crashed_writer_are_ignored_then_swept(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    path = tmp_path / "ix"
    ix, ref = new_index(path), Reference()
    h, o = random_song(rng, 2000, BITS)
    ix.add(1, h, o)
    ref.add(1, h, o)
    ix.commit()
    good = next(iter(listed(path)))
    ix.close()
    # A crash mid-commit leaves a half-written tmp segment and an unlisted finished one.
    (path / "seg-00000099.fps.tmp").write_bytes(b"FPSEG1\0\0garbage")
    (path / "seg-00000098.fps").write_bytes((path / good).read_bytes())
    (path / (MANIFEST + ".tmp")).write_text("{not json")
    reader = EmbeddedIndex(path, create=False)
    check(reader, ref, rng)  # neither the unlisted copy nor the garbage is read
    assert (path / "seg-00000099.fps.tmp").exists()  # readers never delete
    writer = EmbeddedIndex(path)
    writer.begin_writing()
    assert segment_files(path) == {good}
    check(writer, ref, rng)


def test_truncated_segment_is_a_store_error(tmp_path: Path) -> None:
    rng = np.random.default_rng(6)
    path = tmp_path / "ix"
    ix = new_index(path)
    ix.add(1, *random_song(rng, 3000, BITS))
    ix.commit()
    ix.close()
    seg = path / next(iter(listed(path)))
    seg.write_bytes(seg.read_bytes()[: seg.stat().st_size // 2])
    with pytest.raises(StoreError, match="truncated or damaged"):
        EmbeddedIndex(path, create=False).lookup(np.arange(10, dtype=np.uint32))


def test_reader_survives_a_merge_between_manifest_and_segment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A writer may delete a segment after a reader read the manifest naming it."""
    rng = np.random.default_rng(5)
    writer, ref = new_index(tmp_path), Reference()
    for song_id in range(1, 4):
        h, o = random_song(rng, 3000, BITS)
        writer.add(song_id, h, o)
        ref.add(song_id, h, o)
        writer.commit()
    reader = EmbeddedIndex(tmp_path, create=False)
    check(reader, ref, rng)
    stale = json.loads((tmp_path / MANIFEST).read_text())
    for song_id in range(4, 4 + MERGE_FACTOR):  # forces a merge that deletes segments
        h, o = random_song(rng, 3000, BITS)
        writer.add(song_id, h, o)
        ref.add(song_id, h, o)
        writer.commit()
    assert not listed(tmp_path) >= {e["name"] for e in stale["segments"]}
    # The reader's next read of the manifest returns the old one (it read it just before
    # the merge), whose segments are gone by the time it opens them: it must reread.
    served = []
    real_read = Path.read_text

    def stale_once(self: Path, *args: object, **kwargs: object) -> str:
        if self.name == MANIFEST and not served:
            served.append(self)
            return json.dumps(stale)
        return real_read(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "read_text", stale_once)
    reader._stamp = None
    reader._segments = {}
    check(reader, ref, rng)
    assert served, "the stale manifest was not served"
    writer.close()
    reader.close()


def test_manifest_naming_a_lost_segment_is_a_store_error(tmp_path: Path) -> None:
    rng = np.random.default_rng(6)
    ix = new_index(tmp_path)
    h, o = random_song(rng, 3000, BITS)
    ix.add(1, h, o)
    ix.commit()
    ix.close()
    for name in listed(tmp_path):
        (tmp_path / name).unlink()
    with pytest.raises(StoreError, match="missing segments"):
        EmbeddedIndex(tmp_path, create=False)


def test_damaged_manifest(tmp_path: Path) -> None:
    path = tmp_path / "ix"
    new_index(path).close()
    (path / MANIFEST).write_text("{broken")
    with pytest.raises(StoreError, match="damaged"):
        EmbeddedIndex(path, create=False)


def test_scheme_is_recorded(tmp_path: Path) -> None:
    ix = EmbeddedIndex(tmp_path / "ix")
    assert ix.get_scheme() is None
    with pytest.raises(StoreError, match="scheme"):
        ix.add(1, np.arange(3, dtype=np.uint32), np.arange(3, dtype=np.uint32))
        ix.commit()
    ix.set_scheme(SCHEME_JSON, BITS)
    assert json.loads(ix.get_scheme() or "null") == json.loads(SCHEME_JSON)
    ix.close()
    assert json.loads(EmbeddedIndex(tmp_path / "ix", create=False).get_scheme() or "null") == {
        "test": "scheme"}


def test_bad_arguments(tmp_path: Path) -> None:
    ix = new_index(tmp_path / "ix")
    ix.add(1, np.arange(3, dtype=np.uint32), np.arange(3, dtype=np.uint32))
    ix.commit()
    with pytest.raises(ValueError):
        ix.add(1, np.arange(3, dtype=np.uint32), np.arange(4, dtype=np.uint32))
    with pytest.raises(ValueError):
        ix.add(2**32, np.arange(3, dtype=np.uint32), np.arange(3, dtype=np.uint32))
    with pytest.raises(StoreError, match="wider"):
        ix.lookup(np.array([1 << BITS], np.uint32))
    assert len(ix.lookup(np.zeros(0, np.uint32))) == 0


def test_missing_index_without_create(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no fp index"):
        EmbeddedIndex(tmp_path / "nothing", create=False)
    assert not (tmp_path / "nothing").exists()


def test_open_index_urls(tmp_path: Path) -> None:
    assert isinstance(open_index(None, tmp_path / "store"), EmbeddedIndex)
    assert (tmp_path / "store" / "index" / MANIFEST).exists()
    assert isinstance(open_index(f"file:{tmp_path / 'other'}", tmp_path / "store"), EmbeddedIndex)
    from fp.errors import ConfigError

    with pytest.raises(ConfigError, match="not built yet"):
        open_index("redis://localhost:6379", tmp_path)
    with pytest.raises(ConfigError, match="unknown scheme"):
        open_index("ftp://x", tmp_path)


def test_stats(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    ix = new_index(tmp_path / "ix")
    ix.add(4, *random_song(rng, 1234, BITS))
    ix.add(5, *random_song(rng, 766, BITS))
    ix.commit()
    st = ix.stats()
    assert (st.backend, st.postings, st.songs) == ("embedded", 2000, 2)
    assert st.bytes > 0
