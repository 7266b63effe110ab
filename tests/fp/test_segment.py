"""fp.index.segment: one immutable, bit-packed, sorted segment file."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from fp.errors import StoreError
from fp.index.segment import Postings, Segment, write_segment
from tests.fp.postings_reference import Reference, got, queries_for, random_song


def build(path: Path, seed: int, songs: dict[int, int], hash_bits: int, frames: int = 5000
          ) -> tuple[Segment, Reference, Postings]:
    rng = np.random.default_rng(seed)
    ref = Reference()
    shared = rng.integers(0, 1 << hash_bits, 50)
    parts = []
    for song, n in songs.items():
        h, o = random_song(rng, n, hash_bits, frames, shared)
        ref.add(song, h, o)
        parts.append(Postings(h, np.full(n, song, np.uint32), o))
    postings = Postings.concat(parts)
    write_segment(path, postings, hash_bits)
    return Segment(path), ref, postings


@pytest.mark.parametrize("hash_bits, songs, frames", [
    (22, {1: 3000, 2: 2000, 7: 500}, 5000),
    (32, {5: 4000, 2**32 - 1: 100}, 60_000),      # full-width hashes, largest song id
    (16, {3: 20_000}, 2**20),                      # dense small hash space, long song
    (22, {1: 1}, 1),
])
def test_lookup_returns_exactly_the_postings(tmp_path: Path, hash_bits: int, songs: dict[int, int],
                                            frames: int) -> None:
    seg, ref, postings = build(tmp_path / "s.fps", 1, songs, hash_bits, frames)
    assert seg.n == len(postings)
    q = queries_for(ref, np.random.default_rng(2), hash_bits)
    qpos, song_ids, offsets = seg.lookup(q)
    assert song_ids.dtype == np.uint32 and offsets.dtype == np.uint32
    assert got(qpos, song_ids, offsets) == ref.expected(q)


def test_postings_round_trip(tmp_path: Path) -> None:
    seg, _, postings = build(tmp_path / "s.fps", 3, {4: 1000, 9: 1500}, 22)
    back = seg.postings()
    key = lambda p: Counter(zip(p.hashes.tolist(), p.song_ids.tolist(), p.offsets.tolist(),  # noqa: E731
                                strict=True))
    assert key(back) == key(postings)


def test_records_are_compact(tmp_path: Path) -> None:
    """A posting costs a few bytes, not hash + song + offset (12)."""
    _, _, postings = build(tmp_path / "s.fps", 4, {1: 50_000, 2: 50_000}, 22, frames=20_000)
    assert (tmp_path / "s.fps").stat().st_size < 6 * len(postings)


def test_empty_segment(tmp_path: Path) -> None:
    z = np.zeros(0, np.uint32)
    write_segment(tmp_path / "e.fps", Postings(z, z, z), 22)
    seg = Segment(tmp_path / "e.fps")
    assert seg.n == 0
    qpos, _, _ = seg.lookup(np.arange(100, dtype=np.uint32))
    assert qpos.size == 0
    assert len(seg.postings()) == 0


def test_hash_wider_than_the_scheme_is_refused(tmp_path: Path) -> None:
    p = Postings(np.array([1 << 22], np.uint32), np.array([1], np.uint32), np.array([0], np.uint32))
    with pytest.raises(StoreError, match="22 bits"):
        write_segment(tmp_path / "w.fps", p, 22)


def test_postings_helpers() -> None:
    a = Postings(np.array([1, 2], np.uint32), np.array([5, 6], np.uint32), np.array([0, 1], np.uint32))
    b = Postings(np.array([3], np.uint32), np.array([5], np.uint32), np.array([9], np.uint32))
    c = Postings.concat([a, b])
    assert len(c) == 3
    assert c.without(np.array([5], np.uint32)).song_ids.tolist() == [6]
    assert len(Postings.concat([])) == 0


@pytest.fixture
def segment_bytes(tmp_path: Path) -> bytes:
    build(tmp_path / "good.fps", 5, {1: 3000, 2: 1000}, 22)
    return (tmp_path / "good.fps").read_bytes()


@pytest.mark.parametrize("cut", [0, 5, 10, 20, 100, 300, "half", "minus1"])
def test_truncated_segment_is_a_store_error(tmp_path: Path, segment_bytes: bytes, cut) -> None:  # type: ignore[no-untyped-def]
    n = {"half": len(segment_bytes) // 2, "minus1": len(segment_bytes) - 1}.get(cut, cut)
    path = tmp_path / "cut.fps"
    path.write_bytes(segment_bytes[:n])
    with pytest.raises(StoreError) as e:
        Segment(path)
    assert str(path) in str(e.value)


def test_not_a_segment(tmp_path: Path) -> None:
    path = tmp_path / "x.fps"
    path.write_bytes(b"hello world, I am no segment" * 10)
    with pytest.raises(StoreError, match="not an fp index segment"):
        Segment(path)


def test_missing_segment_is_reported_as_missing(tmp_path: Path) -> None:
    # Not a StoreError: the index tells "merged away meanwhile" (reread) from damage.
    with pytest.raises(FileNotFoundError):
        Segment(tmp_path / "missing.fps")
