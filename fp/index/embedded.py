"""The embedded index: a folder of immutable segments and a manifest. No server.

* Crash safety: a commit writes new segment files (fsynced) and then replaces the
  ``MANIFEST`` atomically (write, fsync, rename, fsync the folder). Whatever dies
  mid-way leaves the previous manifest intact; files it does not list are garbage
  and are deleted by the next writer.
* Readers never lock: they map the segments the manifest lists and notice a new
  manifest on their next lookup. One writer at a time holds ``LOCK`` (flock).
* Removal rewrites the segments holding the song, so its postings really leave.
* Segments are merged in tiers (four of similar size become one), so a lookup
  touches O(log n) segments.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from pathlib import Path

import numpy as np

from ..errors import StoreError
from .base import Hits, IndexStats
from .segment import Postings, Segment, write_segment

MANIFEST = "MANIFEST"
FORMAT = 1
MERGE_FACTOR = 4
STAGE_LIMIT = 4_000_000  # staged postings that force an intermediate segment write


def _tier(postings: int) -> int:
    t, n = 0, max(1, postings) // 4096
    while n:
        n //= MERGE_FACTOR
        t += 1
    return t


class EmbeddedIndex:
    """Index in a local folder; see the module docstring."""

    backend = "embedded"

    def __init__(self, path: str | os.PathLike[str], create: bool = True) -> None:
        self.path = Path(path)
        self._manifest: dict = {}
        self._stamp: str | None = None
        self._segments: dict[str, Segment] = {}
        self._staged: list[Postings] = []
        self._staged_removals: set[int] = set()
        self._lock_fd: int | None = None
        if not (self.path / MANIFEST).exists():
            if not create:
                raise StoreError(f"no fp index at {self.path}")
            self.path.mkdir(parents=True, exist_ok=True)
            self._lock()
            if not (self.path / MANIFEST).exists():
                self._write_manifest({"format": FORMAT, "scheme": None, "hash_bits": None,
                                      "next": 1, "segments": []})
        self._refresh()

    # Reading ----------------------------------------------------------------------
    def _refresh(self) -> None:
        """Load the manifest (and its segments) if it changed since last time."""
        for _ in range(20):
            try:
                # Compare contents, not inode and mtime: inodes are reused after a rename and
                # two commits can share an mtime tick. The manifest is small.
                stamp = (self.path / MANIFEST).read_text()
                if stamp == self._stamp:
                    return
                manifest = json.loads(stamp)
                segments = {s["name"]: self._segments.get(s["name"]) or Segment(self.path / s["name"])
                            for s in manifest["segments"]}
            except FileNotFoundError:
                continue  # a writer replaced the manifest or merged a segment away: reread
            except (ValueError, KeyError) as e:
                raise StoreError(f"index manifest {self.path / MANIFEST} is damaged: {e}") from None
            if manifest.get("format") != FORMAT:
                raise StoreError(f"index at {self.path} has format {manifest.get('format')}, "
                                 f"this fp reads format {FORMAT}")
            for name, seg in self._segments.items():
                if name not in segments:
                    seg.close()
            self._manifest, self._segments, self._stamp = manifest, segments, stamp
            return
        raise StoreError(f"index at {self.path} keeps changing or is missing segments")

    def lookup(self, hashes: np.ndarray) -> Hits:
        self._refresh()
        hashes = np.asarray(hashes, dtype=np.uint32)
        bits = self._manifest.get("hash_bits")
        if hashes.size == 0 or not self._segments or bits is None:
            return Hits.empty()
        if int(hashes.max()) >> bits:
            raise StoreError(f"query hash wider than the index's {bits} bits")
        parts = [seg.lookup(hashes) for seg in self._segments.values()]
        return Hits(*(np.concatenate([p[i] for p in parts]) for i in range(3)))

    def song_ids(self) -> set[int]:
        self._refresh()
        return {int(s) for entry in self._manifest["segments"] for s in entry["songs"]}

    def stats(self) -> IndexStats:
        self._refresh()
        segs = self._manifest["segments"]
        size = sum(_allocated(self.path / s["name"]) for s in segs) + _allocated(
            self.path / MANIFEST)
        return IndexStats(
            backend=self.backend,
            postings=sum(s["postings"] for s in segs),
            songs=len(self.song_ids()),
            bytes=size,
            details={"segments": len(segs), "path": str(self.path)},
        )

    def get_scheme(self) -> str | None:
        self._refresh()
        scheme = self._manifest.get("scheme")
        return None if scheme is None else json.dumps(scheme, sort_keys=True)

    # Writing ----------------------------------------------------------------------
    def begin_writing(self) -> None:
        self._lock()

    def set_scheme(self, scheme_json: str, hash_bits: int) -> None:
        self._lock()
        self._refresh()
        m = dict(self._manifest)
        m["scheme"], m["hash_bits"] = json.loads(scheme_json), hash_bits
        self._write_manifest(m)
        self._refresh()

    def add(self, song_id: int, hashes: np.ndarray, offsets: np.ndarray) -> None:
        self._lock()
        hashes = np.asarray(hashes, np.uint32)
        offsets = np.asarray(offsets, np.uint32)
        if hashes.shape != offsets.shape or hashes.ndim != 1:
            raise ValueError("hashes and offsets must be 1-D arrays of one length")
        if not 0 <= song_id < 2**32:
            raise ValueError("song_id must fit in 32 bits")
        self._staged.append(Postings(hashes, np.full(hashes.size, song_id, np.uint32), offsets))
        if sum(len(p) for p in self._staged) >= STAGE_LIMIT:
            self.commit()

    def remove(self, song_ids: list[int]) -> None:
        self._lock()
        self._staged_removals.update(int(s) for s in song_ids)

    def commit(self) -> None:
        """Write staged postings and removals; atomic for everything staged."""
        if not self._staged and not self._staged_removals:
            return
        self._lock()
        self._refresh()
        m = json.loads(json.dumps(self._manifest))
        if m.get("hash_bits") is None:
            raise StoreError("index has no fingerprint scheme yet; set_scheme() first")
        removed = np.fromiter(self._staged_removals, np.uint32, len(self._staged_removals))
        obsolete: list[str] = []
        entries = []
        for entry in m["segments"]:
            if removed.size and set(entry["songs"]) & self._staged_removals:
                kept = self._segments[entry["name"]].postings().without(removed)
                obsolete.append(entry["name"])
                if len(kept):
                    entries.append(self._new_segment(m, kept))
            else:
                entries.append(entry)
        staged = Postings.concat(self._staged).without(removed) if self._staged else None
        if staged is not None and len(staged):
            entries.append(self._new_segment(m, staged))
        entries, merged = self._merge_tiers(m, entries)
        m["segments"] = entries
        self._write_manifest(m)
        self._staged, self._staged_removals = [], set()
        self._refresh()
        for name in obsolete + merged:
            with contextlib.suppress(FileNotFoundError):
                (self.path / name).unlink()

    def _new_segment(self, m: dict, postings: Postings) -> dict:
        name = f"seg-{m['next']:08d}.fps"
        m["next"] += 1
        tmp = self.path / (name + ".tmp")
        write_segment(tmp, postings, m["hash_bits"])
        os.replace(tmp, self.path / name)
        return {"name": name, "postings": len(postings),
                "songs": sorted({int(s) for s in np.unique(postings.song_ids)})}

    def _merge_tiers(self, m: dict, entries: list[dict]) -> tuple[list[dict], list[str]]:
        merged: list[str] = []
        while True:
            tiers: dict[int, list[dict]] = {}
            for e in entries:
                tiers.setdefault(_tier(e["postings"]), []).append(e)
            group = next((g for g in tiers.values() if len(g) >= MERGE_FACTOR), None)
            if group is None:
                return entries, merged
            parts = [self._load(e["name"]).postings() for e in group]
            new = self._new_segment(m, Postings.concat(parts))
            names = {e["name"] for e in group}
            merged += sorted(names)
            entries = [e for e in entries if e["name"] not in names] + [new]

    def _load(self, name: str) -> Segment:
        seg = self._segments.get(name)
        if seg is None:
            seg = self._segments[name] = Segment(self.path / name)
        return seg

    def _write_manifest(self, m: dict) -> None:
        tmp = self.path / (MANIFEST + ".tmp")
        with open(tmp, "w") as f:
            json.dump(m, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path / MANIFEST)
        dfd = os.open(self.path, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)

    def _lock(self) -> None:
        """Take the single-writer lock (once), then sweep files no manifest lists."""
        if self._lock_fd is not None:
            return
        fd = os.open(self.path / "LOCK", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 64).decode(errors="replace").strip() or "another process"
            os.close(fd)
            raise StoreError(
                f"the index at {self.path} is being written by {holder}; "
                "wait for it to finish (one writer at a time)"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"pid {os.getpid()}".encode())
        self._lock_fd = fd
        self._sweep()

    def _sweep(self) -> None:
        try:
            listed = {s["name"] for s in json.loads((self.path / MANIFEST).read_text())["segments"]}
        except FileNotFoundError:
            listed = set()
        for p in self.path.glob("seg-*"):
            if p.name not in listed:
                p.unlink()

    def close(self) -> None:
        for seg in self._segments.values():
            seg.close()
        self._segments = {}
        self._stamp = None
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None


def _allocated(path: Path) -> int:
    try:
        return os.stat(path).st_blocks * 512
    except FileNotFoundError:
        return 0
