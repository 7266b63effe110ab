"""Storage engines for the embedded fingerprint index, measured side by side.

    python bench/index_engines.py [--corpus /tmp/corpus] [--scale N] [--queries 60] [--batch 20]

Every engine gets the same postings (22-bit landmark hash -> song id, anchor frame)
of the dev corpus, ``--scale N`` times over (copy c of a song gets a new song id):

* ``segments``      fp's `EmbeddedIndex` as it is: immutable hash-sorted segments of
                    4-byte records, MANIFEST swapped atomically, tiered merges;
* ``segments-exact`` the same files and writer; lookup binary-searches each hash's own
                    records inside its directory bucket instead of reading the whole
                    bucket (a prototype of a fix, see `exact_segment_lookup`);
* ``lmdb-packed``   py-lmdb, key = 4-byte big-endian hash, value = the hash's postings as
                    little-endian uint32 (song, offset) pairs; an ingest batch is one write
                    txn that reads, extends and rewrites each key it touches;
* ``lmdb-dupfixed`` py-lmdb, MDB_DUPSORT|MDB_DUPFIXED, one 8-byte value (song, offset
                    big-endian) per posting, bulk read with MDB_GET_MULTIPLE;
* ``sqlite``        WITHOUT ROWID table postings(hash, song, offset), primary key
                    (hash, song, offset), WAL; lookup by ``IN (...)`` chunks, a temp-table
                    join or ``json_each`` -- the fastest on the first queries is used.

Durability: every engine makes each batch durable before the next (segments: fsync of
files, manifest and folder; LMDB: sync=True, metasync=True, writemap=False; SQLite:
WAL with synchronous=FULL).

Measured, engines interleaved batch by batch and query by query (2 shared cores):

(a) allocated size (st_blocks * 512) of the engine's folder after the ingest, live and
    after closing (SQLite: after a TRUNCATE checkpoint), as bytes/posting and MB/hour;
(b) ingest wall and CPU time per posting, batches of ``--batch`` songs + durable commit;
(c) lookup of one 5 s query clip's unique hashes into (query_pos, song_ids, offsets)
    arrays, median and p95 over ``--queries`` real clips; every engine must return
    exactly the same set of (hash, song, offset) hits;
(d) removal of one song, made durable (median of ``--removals`` songs);
(e) reading during writes: a reader process looks up a clip in a loop while the writer
    re-adds and removes that clip's song; it must never fail, block or see a partial commit.

Postings and query hashes are cached in /tmp/work/postings.npz (rebuilt when the corpus or
fp's scheme id changes). Results are printed and stored under ``runs.<scale>`` in
bench/out/index_engines.json. ``--scale 20`` (~50 h, ~11 M postings) takes ~5 minutes.
"""

from __future__ import annotations

import argparse
import itertools
import json
import multiprocessing as mp
import os
import shutil
import sqlite3
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import lmdb
import numpy as np

from fp.decode import decode
from fp.fingerprint import fingerprint, fingerprint_blocks
from fp.index.base import Hits
from fp.index.embedded import EmbeddedIndex
from fp.index.segment import Segment
from fp.scheme import Scheme

SCHEME = Scheme()
CLIP_S = 5.0
CLIPS_PER_TRACK = 4
OUT = Path(__file__).resolve().parent / "out" / "index_engines.json"
MAP_SIZE = 1 << 37  # 128 GiB of address space; the file grows only as pages are used

Song = tuple[int, np.ndarray, np.ndarray]  # song id, hashes, offsets (uint32)


# Postings and queries ---------------------------------------------------------------


@dataclass(frozen=True)
class Corpus:
    """Index postings of each track (grouped by track) and unique hashes of query clips."""

    hashes: np.ndarray  # uint32 (n,)
    offsets: np.ndarray  # uint32 (n,)
    bounds: np.ndarray  # int64 (tracks + 1,): track i owns [bounds[i], bounds[i + 1])
    seconds: np.ndarray  # float64 (tracks,)
    q_hashes: np.ndarray  # uint32, unique hashes of every clip, concatenated
    q_bounds: np.ndarray  # int64 (clips + 1,)
    q_track: np.ndarray  # int64 (clips,): track each clip is cut from

    @property
    def tracks(self) -> int:
        return int(self.seconds.size)

    def song(self, song_id: int) -> Song:
        """Postings of `song_id` (copy ``(id - 1) // tracks`` of track ``(id - 1) % tracks``)."""
        t = (song_id - 1) % self.tracks
        a, b = self.bounds[t], self.bounds[t + 1]
        return song_id, self.hashes[a:b], self.offsets[a:b]

    def query(self, i: int) -> np.ndarray:
        return self.q_hashes[self.q_bounds[i] : self.q_bounds[i + 1]]


def fingerprint_track(path: Path, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, float,
                                                                    list[np.ndarray], int]:
    """Index landmarks of a track (duplicates dropped, counted) and unique hashes of random 5 s clips."""
    samples = decode(path, SCHEME.sample_rate)
    fpr = fingerprint_blocks(iter([samples]), SCHEME, "index")
    key = np.unique((fpr.hashes.astype(np.uint64) << np.uint64(32)) | fpr.offsets)
    hashes, offsets = (key >> np.uint64(32)).astype(np.uint32), key.astype(np.uint32)
    n = int(CLIP_S * SCHEME.sample_rate)
    clips = []
    if samples.size > n:
        for start in rng.integers(0, samples.size - n, CLIPS_PER_TRACK):
            clips.append(np.unique(fingerprint(samples[start : start + n], SCHEME, "query").hashes))
    return hashes, offsets, samples.size / SCHEME.sample_rate, clips, len(fpr) - key.size


def load_corpus(corpus_dir: Path, cache: Path, seed: int) -> Corpus:
    """Fingerprint the corpus once; later runs read `cache` (rebuilt if anything changed)."""
    files = sorted(p for p in corpus_dir.iterdir() if p.suffix.lower() in (".ogg", ".mp3", ".flac", ".wav"))
    meta = {"scheme": SCHEME.id, "files": [[p.name, p.stat().st_size] for p in files],
            "clips_per_track": CLIPS_PER_TRACK, "clip_s": CLIP_S, "seed": seed}
    if cache.exists():
        z = np.load(cache)
        if json.loads(str(z["meta"])) == meta:
            return Corpus(*(z[f] for f in Corpus.__dataclass_fields__))
    rng = np.random.default_rng(seed)
    parts, clips, q_track, seconds, dups = [], [], [], [], 0
    t0 = time.perf_counter()
    for i, path in enumerate(files):
        h, o, sec, cl, d = fingerprint_track(path, rng)
        dups += d
        parts.append((h, o))
        seconds.append(sec)
        clips += cl
        q_track += [i] * len(cl)
    print(f"fingerprinted {len(files)} tracks in {time.perf_counter() - t0:.0f} s ({dups} duplicates)")
    corpus = Corpus(
        hashes=np.concatenate([p[0] for p in parts]), offsets=np.concatenate([p[1] for p in parts]),
        bounds=np.r_[0, np.cumsum([p[0].size for p in parts])].astype(np.int64),
        seconds=np.asarray(seconds), q_hashes=np.concatenate(clips),
        q_bounds=np.r_[0, np.cumsum([c.size for c in clips])].astype(np.int64),
        q_track=np.asarray(q_track, np.int64))
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_suffix(".tmp.npz")
    np.savez(tmp, meta=json.dumps(meta), **{f: getattr(corpus, f) for f in Corpus.__dataclass_fields__})
    os.replace(tmp, cache)
    return corpus


def concat_songs(songs: list[Song]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(hashes, song ids, offsets) of `songs`, sorted by (hash, song, offset)."""
    h = np.concatenate([s[1] for s in songs])
    s = np.concatenate([np.full(s[1].size, s[0], np.uint32) for s in songs])
    o = np.concatenate([s[2] for s in songs])
    order = np.lexsort((o, s, h))
    return h[order], s[order], o[order]


def position_of(hashes: np.ndarray, found: np.ndarray) -> np.ndarray:
    """Index in `hashes` (unique, any order) of each value of `found` (all present)."""
    order = np.argsort(hashes, kind="stable")
    return order[np.searchsorted(hashes[order], found)]


def key_list(hashes: np.ndarray) -> list[bytes]:
    """4-byte big-endian keys (sorted hashes give sorted keys)."""
    raw = np.ascontiguousarray(hashes, dtype=">u4").tobytes()
    return [raw[i : i + 4] for i in range(0, len(raw), 4)]


def allocated(path: Path) -> int:
    return sum(p.stat().st_blocks * 512 for p in path.rglob("*") if p.is_file())


# Engines: ingest(songs), lookup(hashes) -> Hits, remove(song_id), close() ----------------


class SegmentsEngine:
    """fp's EmbeddedIndex, unchanged."""

    name = "segments"
    readers = ("lock-free: readers mmap immutable segment files and reload the atomically renamed "
               "MANIFEST on their next lookup; one writer holds an flock")

    def __init__(self, path: Path, writer: bool = True) -> None:
        self.path = path
        self.ix = EmbeddedIndex(path, create=writer)
        if writer and self.ix.get_scheme() is None:
            self.ix.set_scheme(json.dumps(SCHEME.to_dict(), sort_keys=True), SCHEME.hash_bits)

    def ingest(self, songs: list[Song]) -> None:
        for song_id, hashes, offsets in songs:
            self.ix.add(song_id, hashes, offsets)
        self.ix.commit()

    def lookup(self, hashes: np.ndarray) -> Hits:
        return self.ix.lookup(hashes)

    def remove(self, song_id: int) -> None:
        self.ix.remove([song_id])
        self.ix.commit()

    def close(self) -> None:
        self.ix.close()

    def details(self) -> dict:
        return {"segments": self.ix.stats().details["segments"]}


def _lower_bound(records: np.ndarray, lo: np.ndarray, hi: np.ndarray, target: np.ndarray) -> np.ndarray:
    """For each row, the first index in [lo, hi) whose record is >= target (records sorted in each range)."""
    lo, hi = lo.copy(), hi.copy()
    while True:
        active = lo < hi
        if not active.any():
            return lo
        mid = (lo + hi) >> 1
        less = records[np.minimum(mid, records.size - 1)].astype(np.int64) < target
        lo = np.where(active & less, mid + 1, lo)
        hi = np.where(active & ~less, mid, hi)


def exact_segment_lookup(seg: Segment, hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`Segment.lookup` that reads only the hash's own records: a vectorized binary search for the
    range of its low bits inside the directory bucket, instead of gathering the whole bucket."""
    h = hashes.astype(np.int64)
    bucket = h >> seg.rem_bits
    hi = seg.directory[bucket + 1]
    rem = h & ((1 << seg.rem_bits) - 1)
    start = _lower_bound(seg.records, seg.directory[bucket], hi, rem << seg.pos_bits)
    counts = _lower_bound(seg.records, start, hi, (rem + 1) << seg.pos_bits) - start
    qpos = np.repeat(np.arange(h.size), counts)
    idx = np.repeat(start - (np.cumsum(counts) - counts), counts) + np.arange(int(counts.sum()))
    pos = (seg.records[idx].astype(np.int64)) & ((1 << seg.pos_bits) - 1)
    song = np.searchsorted(seg.starts, pos, side="right") - 1
    return qpos, seg.songs[song].astype(np.uint32), (pos - seg.starts[song]).astype(np.uint32)


class SegmentsExactEngine(SegmentsEngine):
    """fp's segment files and writer unchanged; lookup uses `exact_segment_lookup` (a fix prototype)."""

    name = "segments-exact"

    def lookup(self, hashes: np.ndarray) -> Hits:
        self.ix._refresh()
        parts = [exact_segment_lookup(seg, hashes) for seg in self.ix._segments.values()]
        if not parts:
            return Hits.empty()
        return Hits(*(np.concatenate([p[i] for p in parts]) for i in range(3)))


class LmdbPackedEngine:
    """LMDB, one key per hash, value = packed (song, offset) uint32 LE pairs."""

    name = "lmdb-packed"
    readers = ("MVCC: a read txn sees the last committed snapshot (copy-on-write B+tree), never "
               "blocks and is never blocked; one writer at a time (LMDB's writer mutex)")

    def __init__(self, path: Path, writer: bool = True) -> None:
        self.path = path
        self.env = lmdb.open(str(path), map_size=MAP_SIZE, readonly=not writer, sync=True,
                             metasync=True, writemap=False, map_async=False, max_readers=64)

    def ingest(self, songs: list[Song]) -> None:
        h, s, o = concat_songs(songs)
        uniq, first = np.unique(h, return_index=True)
        keys = key_list(uniq)
        records = np.stack([s, o], axis=1).astype("<u4").tobytes()
        bounds = (np.r_[first, h.size] * 8).tolist()
        with self.env.begin(write=True) as txn:
            cur = txn.cursor()
            old = dict(cur.getmulti(keys))
            cur.putmulti([(k, old.get(k, b"") + records[a:b])
                          for k, a, b in zip(keys, bounds[:-1], bounds[1:], strict=True)])

    def lookup(self, hashes: np.ndarray) -> Hits:
        # One get per key: unlike getmulti's (key, value) tuples, bytes are not tracked by the
        # cyclic GC, whose full collections otherwise add ~50 ms to one lookup in twelve.
        with self.env.begin() as txn:
            get = txn.get
            values = [get(k, b"") for k in key_list(hashes)]
        counts = np.fromiter(map(len, values), np.int64, len(values)) // 8
        records = np.frombuffer(b"".join(values), "<u4").reshape(-1, 2)
        qpos = np.repeat(np.arange(hashes.size), counts)
        return Hits(qpos, records[:, 0].astype(np.uint32), records[:, 1].astype(np.uint32))

    def remove(self, song_id: int) -> None:
        """Scan every value (no song -> hashes map is stored) and rewrite the keys holding the song."""
        with self.env.begin(write=True) as txn:
            items = list(txn.cursor().iternext())
            counts = np.fromiter((len(v) for _, v in items), np.int64, len(items)) // 8
            records = np.frombuffer(b"".join(v for _, v in items), "<u4").reshape(-1, 2)
            bounds = np.r_[0, np.cumsum(counts)]
            owner = np.repeat(np.arange(len(items)), counts)
            for i in np.unique(owner[records[:, 0] == song_id]).tolist():
                rec = records[bounds[i] : bounds[i + 1]]
                rec = rec[rec[:, 0] != song_id]
                if rec.size:
                    txn.put(items[i][0], rec.tobytes())
                else:
                    txn.delete(items[i][0])

    def close(self) -> None:
        self.env.close()

    def details(self) -> dict:
        return {"keys": self.env.stat()["entries"], "depth": self.env.stat()["depth"]}


DUP_DTYPE = np.dtype([("h", ">u4"), ("s", ">u4"), ("o", ">u4")])


class LmdbDupfixedEngine:
    """LMDB, MDB_DUPSORT|MDB_DUPFIXED: key = hash, one 8-byte (song, offset) BE value per posting."""

    name = "lmdb-dupfixed"
    readers = LmdbPackedEngine.readers

    def __init__(self, path: Path, writer: bool = True) -> None:
        self.path = path
        self.env = lmdb.open(str(path), map_size=MAP_SIZE, readonly=not writer, sync=True,
                             metasync=True, writemap=False, map_async=False, max_readers=64, max_dbs=1)
        self.db = self.env.open_db(b"postings", dupsort=True, dupfixed=True, create=writer)

    def ingest(self, songs: list[Song]) -> None:
        h, s, o = concat_songs(songs)
        values = np.stack([s, o], axis=1).astype(">u4").tobytes()
        items = list(zip(key_list(h), [values[i : i + 8] for i in range(0, len(values), 8)], strict=True))
        with self.env.begin(write=True, db=self.db) as txn:
            txn.cursor().putmulti(items, dupdata=True)

    def _read(self, cur: lmdb.Cursor, keys: list[bytes]) -> np.ndarray:
        return np.frombuffer(cur.getmulti(keys, dupdata=True, dupfixed_bytes=8, keyfixed=True), DUP_DTYPE)

    def lookup(self, hashes: np.ndarray) -> Hits:
        with self.env.begin(db=self.db) as txn:
            rec = self._read(txn.cursor(), key_list(hashes))
        qpos = position_of(hashes, rec["h"])
        return Hits(qpos, rec["s"].astype(np.uint32), rec["o"].astype(np.uint32))

    def remove(self, song_id: int) -> None:
        """Read every posting (MDB_GET_MULTIPLE per key) and delete the song's (key, value) pairs."""
        with self.env.begin(write=True, db=self.db) as txn:
            cur = txn.cursor()
            rec = self._read(cur, list(cur.iternext_nodup(keys=True, values=False)))
            raw = rec[rec["s"] == song_id].tobytes()
            for i in range(0, len(raw), 12):
                txn.delete(raw[i : i + 4], raw[i + 4 : i + 12])

    def close(self) -> None:
        self.env.close()

    def details(self) -> dict:
        with self.env.begin(db=self.db) as txn:
            st = txn.stat(self.db)
        return {"depth": st["depth"], "postings": st["entries"]}


class SqliteEngine:
    """SQLite WITHOUT ROWID table with primary key (hash, song, offset), WAL, synchronous=FULL."""

    name = "sqlite"
    readers = ("WAL: a read transaction sees the snapshot of its start while one writer appends "
               "to the WAL; readers and the writer do not block each other (checkpoints wait)")
    modes = ("in", "temp", "json")
    CHUNK = 500

    def __init__(self, path: Path, writer: bool = True, mode: str = "in") -> None:
        self.path = path
        self.mode = mode
        path.mkdir(parents=True, exist_ok=True)
        self.con = sqlite3.connect(path / "index.sqlite", isolation_level=None)
        self.con.execute("PRAGMA cache_size=-65536")
        self.con.execute("PRAGMA temp_store=MEMORY")
        if writer:
            self.con.execute("PRAGMA journal_mode=WAL")
            self.con.execute("PRAGMA synchronous=FULL")
            self.con.execute('CREATE TABLE IF NOT EXISTS postings (hash INTEGER NOT NULL, '
                             'song INTEGER NOT NULL, "offset" INTEGER NOT NULL, '
                             'PRIMARY KEY (hash, song, "offset")) WITHOUT ROWID')
        self.con.execute("CREATE TEMP TABLE q (hash INTEGER PRIMARY KEY)")
        marks = ",".join("?" * self.CHUNK)
        self.sql_in = f'SELECT hash, song, "offset" FROM postings WHERE hash IN ({marks})'

    def ingest(self, songs: list[Song]) -> None:
        h, s, o = concat_songs(songs)
        self.con.execute("BEGIN")
        self.con.executemany("INSERT INTO postings VALUES (?, ?, ?)", zip(h.tolist(), s.tolist(),
                                                                         o.tolist(), strict=True))
        self.con.execute("COMMIT")

    def _rows(self, hashes: list[int]) -> list[tuple[int, int, int]]:
        if self.mode == "json":
            return self.con.execute('SELECT hash, song, "offset" FROM postings WHERE hash IN '
                                    "(SELECT value FROM json_each(?))", (json.dumps(hashes),)).fetchall()
        if self.mode == "temp":
            self.con.execute("BEGIN")
            self.con.execute("DELETE FROM temp.q")
            self.con.executemany("INSERT INTO temp.q VALUES (?)", ((h,) for h in hashes))
            rows = self.con.execute('SELECT p.hash, p.song, p."offset" FROM temp.q CROSS JOIN postings p '
                                    "ON p.hash = q.hash").fetchall()
            self.con.execute("COMMIT")
            return rows
        rows = []
        self.con.execute("BEGIN")  # one snapshot for every chunk
        for i in range(0, len(hashes), self.CHUNK):
            chunk = hashes[i : i + self.CHUNK]
            rows += self.con.execute(self.sql_in, chunk + [-1] * (self.CHUNK - len(chunk))).fetchall()
        self.con.execute("COMMIT")
        return rows

    def lookup(self, hashes: np.ndarray) -> Hits:
        rows = self._rows(hashes.tolist())
        arr = np.fromiter(itertools.chain.from_iterable(rows), np.int64, 3 * len(rows)).reshape(-1, 3)
        return Hits(position_of(hashes, arr[:, 0]), arr[:, 1].astype(np.uint32), arr[:, 2].astype(np.uint32))

    def remove(self, song_id: int) -> None:
        """DELETE by song: a full scan (the primary key leads with hash; no index on song)."""
        self.con.execute("BEGIN IMMEDIATE")
        self.con.execute("DELETE FROM postings WHERE song = ?", (song_id,))
        self.con.execute("COMMIT")

    def close(self) -> None:
        self.con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self.con.close()

    def details(self) -> dict:
        return {"lookup_mode": self.mode,
                "page_size": self.con.execute("PRAGMA page_size").fetchone()[0]}


ENGINES = {e.name: e for e in (SegmentsEngine, SegmentsExactEngine, LmdbPackedEngine, LmdbDupfixedEngine,
                               SqliteEngine)}
Engine = SegmentsEngine | SegmentsExactEngine | LmdbPackedEngine | LmdbDupfixedEngine | SqliteEngine


def open_engine(name: str, path: Path, writer: bool = True, **options: str) -> Engine:
    return ENGINES[name](path, writer, **options)


# Measurements -------------------------------------------------------------------------


def rotated(items: list, i: int) -> list:
    """`items` starting at position i (mod len): each engine goes first as often as the others."""
    k = i % len(items)
    return items[k:] + items[:k]


def hit_set(hashes: np.ndarray, hits: Hits) -> np.ndarray:
    """Hits as sorted (hash, song, offset) rows, for comparing engines."""
    rows = np.stack([hashes[hits.query_pos].astype(np.int64), hits.song_ids.astype(np.int64),
                     hits.offsets.astype(np.int64)], axis=1)
    return rows[np.lexsort(rows.T[::-1])]


def measure_ingest(engines: dict[str, Engine], batches: list[list[Song]]) -> dict[str, dict]:
    """(b): every batch goes into every engine (rotating the order), timing each commit."""
    wall = {n: [] for n in engines}
    cpu = {n: [] for n in engines}
    for i, batch in enumerate(batches):
        for name in rotated(list(engines), i):
            w, c = time.perf_counter(), time.process_time()
            engines[name].ingest(batch)
            wall[name].append(time.perf_counter() - w)
            cpu[name].append(time.process_time() - c)
    return {n: {"wall_s": float(np.sum(wall[n])), "cpu_s": float(np.sum(cpu[n])),
                "max_batch_wall_s": float(np.max(wall[n])),
                "batch_wall_s": [round(x, 4) for x in wall[n]]} for n in engines}


def calibrate_sqlite(engine: SqliteEngine, queries: list[np.ndarray]) -> dict[str, float]:
    """Median lookup ms of each SQLite lookup mode on the first queries; keeps the fastest."""
    times: dict[str, list[float]] = {m: [] for m in engine.modes}
    for i, q in enumerate(queries):
        for mode in rotated(list(engine.modes), i):
            engine.mode = mode
            t = time.perf_counter()
            engine.lookup(q)
            times[mode].append(1e3 * (time.perf_counter() - t))
    med = {m: float(np.median(v)) for m, v in times.items()}
    engine.mode = min(med, key=med.__getitem__)
    return med


def measure_lookups(engines: dict[str, Engine], queries: list[np.ndarray]) -> tuple[dict, dict]:
    """(c): each query into every engine in turn (wall and CPU ms); checks the hit sets are identical."""
    wall: dict[str, list[float]] = {n: [] for n in engines}
    cpu: dict[str, list[float]] = {n: [] for n in engines}
    hits, mismatches = [], 0
    for i, q in enumerate(queries):
        sets = {}
        for name in rotated(list(engines), i):
            w, c = time.perf_counter(), time.process_time()
            h = engines[name].lookup(q)
            wall[name].append(1e3 * (time.perf_counter() - w))
            cpu[name].append(1e3 * (time.process_time() - c))
            sets[name] = hit_set(q, h)
        ref = next(iter(sets.values()))
        mismatches += sum(not np.array_equal(ref, s) for s in sets.values())
        hits.append(len(ref))
    lookups = {n: {"median_ms": float(np.median(wall[n])), "p95_ms": float(np.percentile(wall[n], 95)),
                   "cpu_median_ms": float(np.median(cpu[n])), "cpu_p95_ms": float(np.percentile(cpu[n], 95))}
               for n in engines}
    return lookups, {"queries": len(queries), "mismatching_answers": mismatches,
                     "query_hashes_median": int(np.median([q.size for q in queries])),
                     "hits_median": int(np.median(hits)), "hits_max": int(np.max(hits))}


def measure_removals(engines: dict[str, Engine], song_ids: list[int]) -> dict[str, dict]:
    """(d): remove each song from every engine (durable commit each), rotating the order."""
    wall = {n: [] for n in engines}
    for i, sid in enumerate(song_ids):
        for name in rotated(list(engines), i):
            t = time.perf_counter()
            engines[name].remove(sid)
            wall[name].append(time.perf_counter() - t)
    return {n: {"median_s": float(np.median(v)), "max_s": float(np.max(v))} for n, v in wall.items()}


def check_removed(engines: dict[str, Engine], queries: list[np.ndarray], removed: list[int]) -> int:
    """Answers that still contain a removed song or differ between engines after removals."""
    bad = 0
    for q in queries:
        sets = [hit_set(q, e.lookup(q)) for e in engines.values()]
        bad += sum(not np.array_equal(sets[0], s) for s in sets)
        bad += int(np.isin(sets[0][:, 1], removed).any())
    return bad


def reader_process(name: str, path: str, options: dict, hashes: np.ndarray, conn) -> None:
    """(e) reader: look `hashes` up in a loop until told to stop; report hit counts seen."""
    engine = open_engine(name, Path(path), writer=False, **options)
    engine.lookup(hashes)
    conn.send("ready")
    counts: dict[int, int] = {}
    latency, errors = [], []
    while not conn.poll():
        t = time.perf_counter()
        try:
            n = len(engine.lookup(hashes))
        except Exception as e:  # any failure to read during a write is what we look for
            errors.append(repr(e))
            continue
        latency.append(time.perf_counter() - t)
        counts[n] = counts.get(n, 0) + 1
        time.sleep(0.002)
    engine.close()
    conn.send({"counts": counts, "errors": errors[:3], "n_errors": len(errors),
               "max_ms": 1e3 * max(latency, default=0.0), "median_ms": 1e3 * float(np.median(latency))})


def measure_concurrency(engine: Engine, options: dict, corpus: Corpus, song_id: int,
                        query: np.ndarray, seconds: float) -> dict:
    """(e): a reader process runs lookups while this process adds and removes a song for `seconds`."""
    without = len(engine.lookup(query))
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=reader_process, args=(engine.name, str(engine.path), options, query, child))
    proc.start()
    parent.recv()
    t, commits, with_song = time.perf_counter(), 0, None
    while commits < 2 or time.perf_counter() - t < seconds:
        engine.ingest([corpus.song(song_id)])
        with_song = with_song or len(engine.lookup(query))
        engine.remove(song_id)
        commits += 2
    write_s = time.perf_counter() - t
    time.sleep(0.05)
    parent.send("stop")
    seen = parent.recv()
    proc.join()
    partial = {k: v for k, v in seen["counts"].items() if k not in (without, with_song)}
    return {"ok": seen["n_errors"] == 0 and not partial and len(seen["counts"]) == 2,
            "reader_lookups": sum(seen["counts"].values()), "states_seen": len(seen["counts"]),
            "partial_answers": sum(partial.values()), "n_errors": seen["n_errors"], "errors": seen["errors"],
            "reader_median_ms": round(seen["median_ms"], 2), "reader_max_ms": round(seen["max_ms"], 2),
            "writer_commits": commits, "writer_s": round(write_s, 3)}


def segment_scan_per_hit(engine: SegmentsEngine, queries: list[np.ndarray]) -> float:
    """Records fp's segments gather per hit returned: a lookup reads its hash's whole directory
    bucket (2**rem_bits hashes) in every segment and filters it."""
    segments = list(engine.ix._segments.values())
    scanned = hits = 0
    for q in queries:
        h = q.astype(np.int64)
        for seg in segments:
            b = h >> seg.rem_bits
            scanned += int((seg.directory[b + 1] - seg.directory[b]).sum())
        hits += len(engine.lookup(q))
    return round(scanned / max(hits, 1), 1)


# Run ------------------------------------------------------------------------------------


def open_all(names: list[str], root: Path, options: dict[str, dict]) -> dict[str, Engine]:
    return {n: open_engine(n, root / n, True, **options.get(n, {})) for n in names}


def _copy_compact(src: str, dst: str) -> None:
    env = lmdb.open(src, readonly=True, max_dbs=1)
    env.copy(dst, compact=True)
    env.close()


def compact_lmdb(path: Path) -> int | None:
    """Allocated size of a compacted copy (free pages left by copy-on-write dropped).

    Run in a child process: LMDB 0.9's compacting copy crashes (SIGSEGV) on this DUPFIXED
    database; None then.
    """
    with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
        proc = mp.get_context("spawn").Process(target=_copy_compact, args=(str(path), tmp))
        proc.start()
        proc.join()
        return allocated(Path(tmp)) if proc.exitcode == 0 else None


def run(args: argparse.Namespace) -> dict:
    corpus = load_corpus(args.corpus, args.cache, args.seed)
    rng = np.random.default_rng(args.seed)
    song_ids = list(range(1, corpus.tracks * args.scale + 1))
    batches = [[corpus.song(s) for s in song_ids[i : i + args.batch]]
               for i in range(0, len(song_ids), args.batch)]
    clip_ids = rng.choice(corpus.q_track.size, args.queries, replace=False)
    queries = [corpus.query(int(i)) for i in clip_ids]
    postings = int(corpus.hashes.size) * args.scale
    hours = float(corpus.seconds.sum()) * args.scale / 3600
    print(f"scale {args.scale}: {len(song_ids)} songs, {hours:.1f} h, {postings:,} postings "
          f"({postings / hours / 3600:.1f}/s), {len(batches)} batches, {len(queries)} queries")

    root = Path(tempfile.mkdtemp(prefix=f"index_engines_x{args.scale}_", dir=args.workdir))
    options: dict[str, dict] = {}
    engines = open_all(args.engines, root, options)
    t0 = time.perf_counter()
    ingest = measure_ingest(engines, batches)
    print(f"ingest done in {time.perf_counter() - t0:.0f} s")
    live = {n: allocated(e.path) for n, e in engines.items()}
    for e in engines.values():
        e.close()
    closed = {n: allocated(root / n) for n in engines}
    compact = {n: compact_lmdb(root / n) for n in engines if n.startswith("lmdb")}
    engines = open_all(args.engines, root, options)

    calibration = {}
    if "sqlite" in engines:
        calibration = calibrate_sqlite(engines["sqlite"], queries[: args.calibrate])
        options["sqlite"] = {"mode": engines["sqlite"].mode}
    lookups, answers = measure_lookups(engines, queries)
    print(f"lookups done: {answers}")

    removed = [int(corpus.q_track[i]) + 1 for i in clip_ids[: args.removals]]
    removed = list(dict.fromkeys(removed))
    removals = measure_removals(engines, removed)
    answers["bad_after_removal"] = check_removed(engines, queries[:10], removed)
    details = {n: e.details() for n, e in engines.items()}
    if "segments" in engines:
        scan = segment_scan_per_hit(engines["segments"], queries[:20])
        details["segments"]["records_scanned_per_hit"] = scan
    concurrency = {n: measure_concurrency(e, options.get(n, {}), corpus, removed[0], queries[0],
                                          args.rw_seconds) for n, e in engines.items()}
    for e in engines.values():
        e.close()
    if not args.keep:
        shutil.rmtree(root)

    result = {"scale": args.scale, "scheme": SCHEME.id, "songs": len(song_ids), "hours": round(hours, 3),
              "postings": postings, "batches": len(batches), "batch_songs": args.batch, "answers": answers,
              "sqlite_lookup_modes_ms": calibration, "engines": {}}
    for n in args.engines:
        result["engines"][n] = {
            "bytes_live": live[n], "bytes_closed": closed[n], "bytes_compacted": compact.get(n),
            "bytes_per_posting": round(closed[n] / postings, 2),
            "mb_per_hour": round(closed[n] / 1e6 / hours, 3),
            "mb_per_hour_live": round(live[n] / 1e6 / hours, 3),
            "ingest_us_per_posting_wall": round(1e6 * ingest[n]["wall_s"] / postings, 3),
            "ingest_us_per_posting_cpu": round(1e6 * ingest[n]["cpu_s"] / postings, 3),
            "ingest_audio_s_per_cpu_s": round(hours * 3600 / max(ingest[n]["cpu_s"], 1e-9), 1),
            "ingest_max_batch_s": round(ingest[n]["max_batch_wall_s"], 3),
            "lookup_median_ms": round(lookups[n]["median_ms"], 2),
            "lookup_p95_ms": round(lookups[n]["p95_ms"], 2),
            "lookup_cpu_median_ms": round(lookups[n]["cpu_median_ms"], 2),
            "lookup_cpu_p95_ms": round(lookups[n]["cpu_p95_ms"], 2),
            "remove_median_s": round(removals[n]["median_s"], 3),
            "remove_max_s": round(removals[n]["max_s"], 3),
            "read_during_write": concurrency[n], "readers": ENGINES[n].readers, "details": details[n],
            "ingest_batch_wall_s": ingest[n]["batch_wall_s"],
        }
    return result


def print_table(result: dict) -> None:
    cols = [("engine", 13, None), ("B/post", 6, "bytes_per_posting"), ("MB/h", 6, "mb_per_hour"),
            ("live", 6, "mb_per_hour_live"), ("ing us/p", 8, "ingest_us_per_posting_wall"),
            ("cpu us/p", 8, "ingest_us_per_posting_cpu"), ("audio/cpu", 9, "ingest_audio_s_per_cpu_s"),
            ("max bat s", 9, "ingest_max_batch_s"), ("look ms", 7, "lookup_median_ms"),
            ("p95", 6, "lookup_p95_ms"), ("cpu ms", 6, "lookup_cpu_median_ms"),
            ("cpu p95", 7, "lookup_cpu_p95_ms"), ("rm s", 6, "remove_median_s"), ("read||write", 11, None)]
    ans = result["answers"]
    print(f"\nscale {result['scale']} (scheme {result['scheme']}): {result['songs']} songs, "
          f"{result['hours']} h, "
          f"{result['postings']:,} postings; hits/query median {ans['hits_median']:,}, "
          f"query hashes {ans['query_hashes_median']}; mismatching answers "
          f"{ans['mismatching_answers']}, after removal {ans['bad_after_removal']}")
    print("columns: bytes/posting and MB per hour of audio closed (live = during ingest), ingest wall "
          "and CPU us/posting, audio s indexed per CPU s, slowest batch commit, lookup wall median/p95 "
          "and CPU median/p95 ms, song removal s, reader process during writes (its slowest lookup)")
    print(" ".join(f"{c:>{w}}" for c, w, _ in cols))
    for name, e in result["engines"].items():
        rw = e["read_during_write"]
        state = "ok" if rw["ok"] else f"{rw['n_errors']}err"
        verdict = f"{state} {rw['reader_max_ms']:.0f}ms"
        cells = [name] + [e[k] for _, _, k in cols[1:-1]] + [verdict]
        print(" ".join(f"{c:>{w}}" for c, (_, w, _) in zip(cells, cols, strict=True)))
    if result["sqlite_lookup_modes_ms"]:
        modes = ", ".join(f"{m} {v:.1f} ms" for m, v in result["sqlite_lookup_modes_ms"].items())
        print(f"sqlite lookup modes (median of calibration queries): {modes}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", type=Path, default=Path("/tmp/corpus"))
    ap.add_argument("--scale", type=int, default=1, help="copies of the corpus, each with new song ids")
    ap.add_argument("--queries", type=int, default=60, help="5 s query clips (>= 50 for a p95)")
    ap.add_argument("--batch", type=int, default=20, help="songs per ingest batch (one durable commit)")
    ap.add_argument("--removals", type=int, default=3)
    ap.add_argument("--calibrate", type=int, default=5, help="queries that pick the SQLite lookup mode")
    ap.add_argument("--engines", nargs="+", default=list(ENGINES), choices=list(ENGINES))
    ap.add_argument("--rw-seconds", type=float, default=1.5, help="duration of the read-during-write test")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--cache", type=Path, default=Path("/tmp/work/postings.npz"))
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/work"), help="engines are built under here")
    ap.add_argument("--keep", action="store_true", help="keep the engines' folders")
    ap.add_argument("--out", type=Path, default=OUT, help="JSON file; this run goes under runs.<scale>")
    args = ap.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    result = run(args)
    result["runtime_s"] = round(time.perf_counter() - t0, 1)
    print_table(result)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    previous = json.loads(args.out.read_text()) if args.out.exists() else {}
    previous.setdefault("runs", {})[str(args.scale)] = result
    args.out.write_text(json.dumps(previous, indent=1) + "\n")
    print(f"runtime {result['runtime_s']} s; written to {args.out}")


if __name__ == "__main__":
    main()
