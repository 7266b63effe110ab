"""One immutable segment file of bit-packed postings, sorted by hash.

Layout (little endian)::

    b"FPSEG1\\0\\0"  uint64 header length  JSON header  pad to 8
    directory  uint32[2**dir_bits + 1]   start of each bucket (top hash bits)
    records    uint32[n] or uint64[n]     (hash low bits << pos_bits) | pos

Songs of a segment are laid end to end on one frame axis: ``pos = start(song) +
offset``, so a record needs only ``rem_bits + pos_bits`` bits (4 bytes for hours of
audio) instead of hash + song + offset (12 bytes).
"""

from __future__ import annotations

import contextlib
import json
import mmap
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import StoreError

MAGIC = b"FPSEG1\0\0"


@dataclass(frozen=True)
class Postings:
    """Plain posting arrays, shape (n,) each: hash, song id, anchor frame (uint32)."""

    hashes: np.ndarray
    song_ids: np.ndarray
    offsets: np.ndarray

    def __len__(self) -> int:
        return int(self.hashes.size)

    @classmethod
    def concat(cls, parts: list[Postings]) -> Postings:
        if not parts:
            z = np.zeros(0, np.uint32)
            return cls(z, z, z)
        return cls(*(np.concatenate([getattr(p, a) for p in parts]).astype(np.uint32, copy=False)
                     for a in ("hashes", "song_ids", "offsets")))

    def without(self, song_ids: np.ndarray) -> Postings:
        keep = ~np.isin(self.song_ids, song_ids)
        return Postings(self.hashes[keep], self.song_ids[keep], self.offsets[keep])


def write_segment(path: Path, postings: Postings, hash_bits: int) -> None:
    """Write `postings` as a segment file at `path` (fsynced; caller renames into place)."""
    n = len(postings)
    songs, inverse = np.unique(postings.song_ids, return_inverse=True)
    lengths = np.zeros(songs.size, np.int64)
    np.maximum.at(lengths, inverse, postings.offsets.astype(np.int64) + 1)
    starts = np.r_[0, np.cumsum(lengths)[:-1]].astype(np.int64)
    total = int(lengths.sum()) if n else 1
    pos_bits = max(1, int(total - 1).bit_length())
    dir_bits = int(np.clip(int(n).bit_length() - 4, 4, hash_bits))
    rem_bits = hash_bits - dir_bits
    # Whole machine words: gathering them is 16x faster than unpacking odd widths.
    width = 4 if rem_bits + pos_bits <= 32 else 8
    if rem_bits + pos_bits > 64:
        raise StoreError("segment too large to pack (over 2**64 hash-positions)")
    h = postings.hashes.astype(np.uint64)
    if n and int(h.max()) >> hash_bits:
        raise StoreError(f"hash wider than the scheme's {hash_bits} bits")
    pos = starts[inverse].astype(np.uint64) + postings.offsets.astype(np.uint64)
    key = np.sort((h << np.uint64(pos_bits)) | pos)
    bucket = (key >> np.uint64(rem_bits + pos_bits)).astype(np.int64)
    directory = np.searchsorted(bucket, np.arange((1 << dir_bits) + 1)).astype(np.uint32)
    value = key & np.uint64((1 << (rem_bits + pos_bits)) - 1)
    records = value.astype("<u4" if width == 4 else "<u8")
    header = json.dumps({
        "n": n, "hash_bits": hash_bits, "dir_bits": dir_bits, "rem_bits": rem_bits,
        "pos_bits": pos_bits, "width": width,
        "songs": songs.astype(np.int64).tolist(), "starts": starts.tolist(),
    }).encode()
    header += b" " * (-(len(MAGIC) + 8 + len(header)) % 8)
    with open(path, "wb") as f:
        f.write(MAGIC)
        f.write(np.uint64(len(header)).tobytes())
        f.write(header)
        f.write(directory.astype("<u4").tobytes())
        f.write(np.ascontiguousarray(records).tobytes())
        f.flush()
        os.fsync(f.fileno())


class Segment:
    """A memory-mapped segment, read only."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            with open(path, "rb") as f:
                self._mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        except FileNotFoundError:
            raise  # merged away by a writer: the index rereads its manifest and retries
        except (OSError, ValueError) as e:
            raise StoreError(f"cannot open index segment {path}: {e}") from None
        try:
            self._parse(memoryview(self._mm))
        except StoreError:
            raise
        except (ValueError, KeyError, TypeError, IndexError) as e:  # a cut or garbled header
            raise StoreError(f"{path} is truncated or damaged ({e})") from None

    def _parse(self, buf: memoryview) -> None:
        path = self.path
        if bytes(buf[:8]) != MAGIC:
            raise StoreError(f"{path} is not an fp index segment")
        hlen = int(np.frombuffer(buf[8:16], "<u8")[0])
        meta = json.loads(bytes(buf[16 : 16 + hlen]))
        self.n: int = meta["n"]
        self.hash_bits: int = meta["hash_bits"]
        self.dir_bits: int = meta["dir_bits"]
        self.rem_bits: int = meta["rem_bits"]
        self.pos_bits: int = meta["pos_bits"]
        self.width: int = meta["width"]
        self.songs = np.asarray(meta["songs"], np.int64)
        self.starts = np.asarray(meta["starts"], np.int64)
        off = 16 + hlen
        ndir = (1 << self.dir_bits) + 1
        self.directory = np.frombuffer(buf, "<u4", count=ndir, offset=off).astype(np.int64)
        off += 4 * ndir
        if len(buf) - off != self.n * self.width:
            raise StoreError(f"{path} is truncated or damaged")
        if self.width not in (4, 8):
            raise StoreError(f"{path}: unsupported record width {self.width}")
        self.records = np.frombuffer(buf, f"<u{self.width}", count=self.n, offset=off)

    def _values(self, idx: np.ndarray) -> np.ndarray:
        """Records `idx` as uint64 values."""
        return self.records[idx].astype(np.uint64)

    def lookup(self, hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Postings of `hashes` (uint32, (q,)) -> (query_pos, song_ids, offsets).

        Each hash's records are found by a vectorized binary search for its low bits
        inside its directory bucket, so only matching records are read (gathering
        whole buckets read 10-50 records per hit).
        """
        h = hashes.astype(np.int64)
        bucket = h >> self.rem_bits
        lo, hi = self.directory[bucket], self.directory[bucket + 1]
        rem = (h & ((1 << self.rem_bits) - 1)).astype(np.uint64)
        shift = np.uint64(self.pos_bits)
        start = self._lower_bound(lo, hi, rem << shift)
        counts = self._lower_bound(start, hi, (rem + np.uint64(1)) << shift) - start
        total = int(counts.sum())
        if total == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.uint32), np.zeros(0, np.uint32)
        qpos = np.repeat(np.arange(h.size), counts)
        idx = np.repeat(start - (np.cumsum(counts) - counts), counts) + np.arange(total)
        pos = (self._values(idx) & np.uint64((1 << self.pos_bits) - 1)).astype(np.int64)
        song = np.searchsorted(self.starts, pos, side="right") - 1
        return qpos, self.songs[song].astype(np.uint32), (pos - self.starts[song]).astype(np.uint32)

    def _lower_bound(self, lo: np.ndarray, hi: np.ndarray, target: np.ndarray) -> np.ndarray:
        """Per row, the first index in [lo, hi) whose record is >= target (uint64)."""
        lo, hi = lo.copy(), hi.copy()
        last = max(0, self.n - 1)
        while True:
            active = lo < hi
            if not active.any():
                return lo
            mid = (lo + hi) >> 1
            less = self._values(np.minimum(mid, last)) < target
            lo = np.where(active & less, mid + 1, lo)
            hi = np.where(active & ~less, mid, hi)

    def postings(self) -> Postings:
        """Every posting of the segment (for merges and rewrites)."""
        if self.n == 0:
            z = np.zeros(0, np.uint32)
            return Postings(z, z, z)
        values = self._values(np.arange(self.n))
        bucket = np.repeat(np.arange(self.directory.size - 1), np.diff(self.directory))
        rem = values >> np.uint64(self.pos_bits)
        hashes = (bucket.astype(np.uint64) << np.uint64(self.rem_bits)) | rem
        pos = (values & np.uint64((1 << self.pos_bits) - 1)).astype(np.int64)
        song = np.searchsorted(self.starts, pos, side="right") - 1
        return Postings(hashes.astype(np.uint32), self.songs[song].astype(np.uint32),
                        (pos - self.starts[song]).astype(np.uint32))

    def close(self) -> None:
        # Arrays may still view the map; dropping references lets GC unmap it safely.
        self.records = self.directory = np.zeros(0)  # type: ignore[assignment]
        # Still viewed by a caller's array: then it is unmapped when that is released.
        with contextlib.suppress(BufferError):
            self._mm.close()
