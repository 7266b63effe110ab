"""Recognition: audio or fingerprints -> ranked matches, against one open store."""

from __future__ import annotations

import os
import time
from dataclasses import replace

import numpy as np

from .catalog import DONE
from .decode import decode, resample, to_mono
from .errors import FpError, TooShortError
from .fingerprint import Fingerprint, fingerprint
from .matching import DEFAULT_MIN_SCORE, align, is_match
from .results import Match, Recognition
from .scheme import check_same_scheme
from .store import Store

MIN_QUERY_SECONDS = 0.5
MAX_QUERY_SECONDS = 120.0  # longer inputs are recognised from their first two minutes
# Playback speeds tried when a clip names nothing at its own speed (a
# turntable, radio or DJ off by a percent or two shifts every landmark's frequency and
# time difference, which exact hashes do not survive). Each is a further chance of a
# match by chance, so their scores pay log10(len(SPEEDS)).
SPEEDS = (1.01, 0.99, 1.02, 0.98)


class Recognizer:
    """Recognises many inputs against one store, paying start-up costs once."""

    def __init__(self, store: Store, top: int = 5, min_score: float | None = None,
                 speeds: tuple[float, ...] = SPEEDS) -> None:
        self.store = store
        self.speeds = speeds
        self.scheme = store.scheme
        self.top = top
        self.min_score = DEFAULT_MIN_SCORE if min_score is None else min_score

    def recognize_file(self, path: str | os.PathLike[str] | bytes) -> Recognition:
        """Decode and recognise a file (or encoded bytes); errors go into `.error`."""
        name = "<bytes>" if isinstance(path, bytes) else os.fspath(path)
        t0 = time.perf_counter()
        try:
            samples = decode(path, self.scheme.sample_rate, limit_s=MAX_QUERY_SECONDS)
            decode_s = time.perf_counter() - t0
            rec = self.recognize_samples(samples)
        except FpError as e:
            msg = str(e) if str(e).startswith(name) else f"{name}: {e}"
            return Recognition(file=name, error=msg,
                               timings={"total_s": time.perf_counter() - t0})
        rec.file = name
        rec.timings["decode_s"] = decode_s
        rec.timings["total_s"] = time.perf_counter() - t0
        return rec

    def recognize_samples(self, samples: np.ndarray, sample_rate: int | None = None) -> Recognition:
        """Recognise samples: shape (n,) or (n, channels), float or int, any rate.

        Only the first `MAX_QUERY_SECONDS` are used. Raises `TooShortError` for empty,
        too short or silent audio.
        """
        t0 = time.perf_counter()
        x = to_mono(samples)
        if sample_rate and sample_rate != self.scheme.sample_rate:
            x = resample(x, sample_rate, self.scheme.sample_rate)
        x = x[: int(MAX_QUERY_SECONDS * self.scheme.sample_rate)]
        seconds = x.size / self.scheme.sample_rate
        if seconds < MIN_QUERY_SECONDS:
            raise TooShortError(f"audio too short to recognise: {seconds:.2f} s "
                                f"(need at least {MIN_QUERY_SECONDS} s)")
        fpr = fingerprint(x, self.scheme, "query")
        t1 = time.perf_counter()
        if len(fpr) == 0:
            raise TooShortError(f"no landmarks in {seconds:.2f} s of audio (silent or "
                                "featureless); nothing to recognise")
        rec = self.recognize_fingerprint(fpr)
        fp_s = t1 - t0
        penalty = float(np.log10(len(self.speeds))) if self.speeds else 0.0
        # Only a clip that names nothing at its own speed pays for the search; the best
        # scoring speed wins (a near speed also matches, with a drifting offset).
        for speed in self.speeds if not rec.results else ():
            t2 = time.perf_counter()
            # Undo a playback `speed` times too fast: stretch the clip by that factor.
            y = resample(x, self.scheme.sample_rate, self.scheme.sample_rate * speed)
            variant = fingerprint(y, self.scheme, "query")
            fp_s += time.perf_counter() - t2
            if len(variant) == 0:
                continue
            found = self.recognize_fingerprint(variant, score_penalty=penalty)
            for k in ("query_s", "align_s"):
                rec.timings[k] += found.timings[k]
            if found.results and (not rec.results or found.results[0].score > rec.results[0].score):
                found.timings = rec.timings
                rec = found
        rec.timings["fingerprint_s"] = fp_s
        rec.timings["total_s"] = time.perf_counter() - t0
        return rec

    def recognize_fingerprint(self, fpr: Fingerprint, score_penalty: float = 0.0) -> Recognition:
        """Match precomputed query landmarks (their scheme must be the store's).

        `score_penalty` is taken off every score before the match threshold (for
        searches that try several variants of one query).
        """
        check_same_scheme(self.scheme, fpr.scheme_id)
        t0 = time.perf_counter()
        uniq, inverse = np.unique(fpr.hashes, return_inverse=True)
        hits = self.store.index.lookup(uniq)
        # Expand hits on unique hashes back to every query landmark with that hash.
        order = np.argsort(inverse, kind="stable")
        starts = np.searchsorted(inverse[order], np.arange(uniq.size + 1))
        per = np.diff(starts)[hits.query_pos]
        qpos = order[np.repeat(starts[hits.query_pos], per) + _ramp(per)]
        song_ids = np.repeat(hits.song_ids, per)
        offsets = np.repeat(hits.offsets, per)
        t1 = time.perf_counter()
        alignments = align(qpos, song_ids, offsets, fpr.offsets, top=self.top * 2,
                           query_hashes=fpr.hashes)
        if score_penalty:
            alignments = [replace(a, score=a.score - score_penalty) for a in alignments]
        alignments = [a for a in alignments if is_match(a, self.min_score)]
        songs = self.store.catalog.get(a.song_id for a in alignments) if alignments else {}
        t2 = time.perf_counter()
        results = []
        for a in alignments:
            song = songs.get(a.song_id)
            if song is None or song.state != DONE:
                continue  # removed meanwhile, or still being ingested
            results.append(Match(
                song_id=song.song_id, song_name=song.song_name,
                input_total_hashes=len(fpr), fingerprinted_hashes_in_db=song.postings,
                hashes_matched_in_input=a.votes,
                input_confidence=round(a.votes / max(1, len(fpr)), 4),
                fingerprinted_confidence=round(a.votes / max(1, song.postings), 4),
                offset=a.offset, offset_seconds=round(a.offset * self.scheme.frame_seconds, 3),
                file_sha1=song.file_sha1, score=round(a.score, 2),
            ))
            if len(results) == self.top:
                break
        return Recognition(file=None, results=results, timings={
            "query_s": t1 - t0, "align_s": t2 - t1, "total_s": t2 - t0, "fingerprint_s": 0.0})


def _ramp(counts: np.ndarray) -> np.ndarray:
    """0..c-1 for each c in `counts`, concatenated."""
    total = int(counts.sum())
    return np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
