"""Ingest: files -> fingerprints -> index + catalog, resumable and idempotent.

Per song the catalog goes ``pending -> done`` around the index write, so a run killed
at any moment leaves only pending rows (and maybe their postings); the next run
removes both and does those files again. Files are recognised by the sha1 of their
bytes: a file already done is skipped, whatever its name.

Decoding and fingerprinting run in worker processes (``jobs``); the parent is the
single writer of the store.
"""

from __future__ import annotations

import concurrent.futures as cf
import hashlib
import multiprocessing
import os
import resource
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .decode import iter_decode
from .errors import FpError, TooShortError
from .fingerprint import fingerprint_blocks
from .scheme import Scheme
from .store import Store

AUDIO_EXTENSIONS = frozenset(
    [
        "mp3", "ogg", "oga", "opus", "flac", "wav", "wave", "m4a", "aac", "mp4", "wma",
        "aif", "aiff", "aifc", "webm", "mka",
    ]
)
MIN_SECONDS = 1.0
MIN_LANDMARKS = 10
COMMIT_SECONDS = 15.0  # at most this much finished work is redone after a kill
COMMIT_POSTINGS = 2_000_000


@dataclass(frozen=True)
class FileEvent:
    """Progress of one file: status is "indexed", "skipped" or "failed"."""

    path: str
    status: str
    audio_s: float = 0.0
    postings: int = 0
    message: str = ""
    song_id: int | None = None


@dataclass
class IngestReport:
    files: int = 0
    indexed: int = 0
    skipped: int = 0
    failed: list[FileEvent] = field(default_factory=list)
    recovered: int = 0
    audio_s: float = 0.0
    postings: int = 0
    wall_s: float = 0.0
    cpu_s: float = 0.0

    def to_dict(self) -> dict[str, object]:
        return {
            "files": self.files, "indexed": self.indexed, "skipped": self.skipped,
            "failed": [{"path": e.path, "error": e.message} for e in self.failed],
            "recovered_pending": self.recovered, "audio_hours": round(self.audio_s / 3600, 4),
            "postings": self.postings, "wall_s": round(self.wall_s, 3),
            "cpu_s": round(self.cpu_s, 3),
        }


@dataclass(frozen=True)
class Fingerprinted:
    path: str
    sha1: str
    name: str
    duration_s: float
    hashes: np.ndarray
    offsets: np.ndarray


def discover(sources: Iterable[str | os.PathLike[str]],
             extensions: frozenset[str] = AUDIO_EXTENSIONS) -> list[Path]:
    """Audio files under each source (a file is taken as given), sorted, no duplicates."""
    found: dict[str, Path] = {}
    for src in sources:
        p = Path(src).expanduser()
        if p.is_dir():
            for root, dirs, names in os.walk(p):
                dirs.sort()
                for n in sorted(names):
                    f = Path(root) / n
                    if f.suffix.lower().lstrip(".") in extensions and f.is_file():
                        found.setdefault(str(f.resolve()), f)
        elif p.exists():
            found.setdefault(str(p.resolve()), p)
        else:
            raise FpError(f"{p}: no such file or directory")
    return sorted(found.values())


def file_sha1(path: str | os.PathLike[str]) -> str:
    h = hashlib.sha1()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def song_name(path: Path, name_from: str = "filename") -> str:
    """The file name without extension, or "Artist - Title" from tags when both exist."""
    if name_from == "tags":
        tags = read_tags(path)
        if tags.get("artist") and tags.get("title"):
            return f"{tags['artist']} - {tags['title']}"
    return path.stem


def read_tags(path: Path) -> dict[str, str]:
    import av

    try:
        with av.open(str(path)) as c:
            found = {k.lower(): v for k, v in c.metadata.items()}
            for s in c.streams.audio[:1]:
                found.update({k.lower(): v for k, v in s.metadata.items()})
            return found
    except Exception:
        return {}


def fingerprint_file(path: str, scheme: Scheme, limit_s: float | None = None,
                     name_from: str = "filename", sha1: str | None = None) -> Fingerprinted:
    """Decode and fingerprint one file for the index (raises `FpError` subclasses)."""
    fpr = fingerprint_blocks(iter_decode(path, scheme.sample_rate, limit_s), scheme, "index")
    if fpr.duration_s < MIN_SECONDS or len(fpr) < MIN_LANDMARKS:
        raise TooShortError(
            f"{path}: too short or silent to fingerprint ({fpr.duration_s:.1f} s of audio, "
            f"{len(fpr)} landmarks; need at least {MIN_SECONDS:g} s and {MIN_LANDMARKS})"
        )
    return Fingerprinted(path, sha1 or file_sha1(path), song_name(Path(path), name_from),
                         fpr.duration_s, fpr.hashes, fpr.offsets)


def _work(args: tuple[str, str, str, float | None, str]) -> Fingerprinted | FileEvent:
    path, sha1, scheme_json, limit_s, name_from = args
    try:
        return fingerprint_file(path, Scheme.from_json(scheme_json), limit_s, name_from, sha1)
    except FpError as e:
        return FileEvent(path, "failed", message=str(e))
    except MemoryError:
        return FileEvent(path, "failed", message=f"{path}: out of memory while decoding")


def ingest(
    store: Store,
    sources: Iterable[str | os.PathLike[str]],
    *,
    jobs: int = 1,
    limit_s: float | None = None,
    extensions: frozenset[str] = AUDIO_EXTENSIONS,
    name_from: str = "filename",
    progress: Callable[[FileEvent], None] | None = None,
    on_start: Callable[[int], None] | None = None,
) -> IngestReport:
    """Index every audio file under `sources` into `store`."""
    t0, c0 = time.perf_counter(), _cpu()
    report = IngestReport()
    files = discover(sources, extensions)  # bad paths fail before anything is written
    report.recovered = len(store.recover())  # takes the writer lock first
    report.files = len(files)
    if on_start:
        on_start(len(files))
    emit = progress or (lambda e: None)
    done = store.catalog.done_sha1s()
    todo: list[tuple[str, str]] = []
    for f in files:
        try:
            sha1 = file_sha1(f)
        except OSError as e:
            ev = FileEvent(str(f), "failed", message=f"{f}: cannot read: {e.strerror or e}")
            report.failed.append(ev)
            emit(ev)
            continue
        if sha1 in done:
            report.skipped += 1
            emit(FileEvent(str(f), "skipped", message="already indexed"))
            continue
        done.add(sha1)  # a second copy in this run is skipped too
        todo.append((str(f), sha1))

    scheme_json = store.scheme.canonical_json()
    tasks = [(p, h, scheme_json, limit_s, name_from) for p, h in todo]
    batch: dict[int, int] = {}
    last_commit = time.perf_counter()

    def flush() -> None:
        nonlocal last_commit
        store.index.commit()
        store.catalog.mark_done(batch)
        batch.clear()
        last_commit = time.perf_counter()

    try:
        for result in _run(tasks, jobs):
            if isinstance(result, FileEvent):
                report.failed.append(result)
                emit(result)
                continue
            store.record_scheme()  # a new store takes its scheme with its first song
            song_id = store.catalog.add_pending(result.name, result.sha1, result.path,
                                                result.duration_s, store.scheme.id)
            store.index.add(song_id, result.hashes, result.offsets)
            batch[song_id] = len(result.hashes)
            report.indexed += 1
            report.audio_s += result.duration_s
            report.postings += len(result.hashes)
            emit(FileEvent(result.path, "indexed", result.duration_s, len(result.hashes),
                           song_id=song_id))
            if (time.perf_counter() - last_commit > COMMIT_SECONDS
                    or sum(batch.values()) > COMMIT_POSTINGS):
                flush()
    finally:
        if batch:
            flush()
    report.wall_s = time.perf_counter() - t0
    report.cpu_s = _cpu() - c0
    return report


def _run(tasks: list[tuple], jobs: int) -> Iterator[Fingerprinted | FileEvent]:
    """Results of `_work` over `tasks`, in completion order, at most `jobs` processes."""
    if jobs <= 1 or len(tasks) <= 1:
        for t in tasks:
            yield _work(t)
        return
    # spawn: workers are plain children (their CPU shows in RUSAGE_CHILDREN once joined)
    # and inherit no threads or open database connections from the writer.
    ctx = multiprocessing.get_context("spawn")
    with cf.ProcessPoolExecutor(max_workers=jobs, mp_context=ctx, initializer=_die_with_parent,
                                initargs=(os.getpid(),)) as pool:
        pending: set[cf.Future] = set()
        queue = iter(tasks)
        for t in queue:
            pending.add(pool.submit(_work, t))
            if len(pending) >= 2 * jobs:
                break
        while pending:
            finished, pending = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
            for fut in finished:
                nxt = next(queue, None)
                if nxt is not None:
                    pending.add(pool.submit(_work, nxt))
                yield fut.result()


def _die_with_parent(parent: int) -> None:
    """Worker initializer: exit when the writer dies (even by kill -9), leaving no orphans."""
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)
    except OSError:  # not Linux/glibc: poll for the parent instead
        def watch() -> None:
            while os.getppid() == parent:
                time.sleep(1.0)
            os._exit(1)

        threading.Thread(target=watch, daemon=True).start()


def _cpu() -> float:
    """CPU seconds of this process and its finished children."""
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime
