"""Voting: index hits -> best (song, time offset) alignments with a calibrated score.

A clip of a song, played from frame ``d`` of that song, makes each matching landmark
vote for ``song_offset - query_offset == d``. Votes are counted per (song, d), with
``d - 1`` and ``d + 1`` added in (the clip's frame grid straddles the song's). The
score is the evidence against chance: ``-log10`` of the probability that a song's
random hits, spread over the offsets they span, put that many votes into any one
bin, multiplied by the number of (song, offset) bins tried. Below the threshold the
answer is "no match", not a weak guess.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import pdtrc

TOLERANCE = 1  # frames on each side merged into one vote bin
_SHIFT = np.int64(1 << 32)
_BIAS = np.int64(1 << 31)


@dataclass(frozen=True)
class Alignment:
    """One candidate: a song and the frame of that song where the clip starts."""

    song_id: int
    offset: int  # frames; may be negative when the clip starts before the song
    votes: int  # landmarks agreeing on this offset (+- TOLERANCE frames)
    hits: int  # all of this song's index hits for the clip
    score: float  # -log10(chance of `votes` or more anywhere), >= 0


def align(
    query_pos: np.ndarray,
    song_ids: np.ndarray,
    song_offsets: np.ndarray,
    query_offsets: np.ndarray,
    top: int = 5,
) -> list[Alignment]:
    """Vote index hits into the `top` best alignments, one per song, best first.

    Parameters
    ----------
    query_pos : np.ndarray, shape (h,), int — which query landmark each hit answers.
    song_ids, song_offsets : np.ndarray, shape (h,), uint32 — the hits' postings.
    query_offsets : np.ndarray, shape (q,), uint32 — anchor frame of each query landmark.
    """
    if song_ids.size == 0:
        return []
    delta = song_offsets.astype(np.int64) - query_offsets[query_pos].astype(np.int64)
    key = song_ids.astype(np.int64) * _SHIFT + (delta + _BIAS)
    keys, counts = np.unique(key, return_counts=True)
    smoothed = counts.copy()
    for k in range(1, TOLERANCE + 1):
        left = keys[k:] - keys[:-k] == k
        smoothed[k:] += np.where(left, counts[:-k], 0)
        smoothed[:-k] += np.where(left, counts[k:], 0)
    songs = keys // _SHIFT
    # Per song: its hits, the span of offsets they cover, and its best bin.
    first = np.flatnonzero(np.r_[True, songs[1:] != songs[:-1]])
    last = np.r_[first[1:], songs.size] - 1
    hits = np.add.reduceat(counts, first)
    span = (keys[last] - keys[first]) + 1
    best = np.maximum.reduceat(smoothed, first)
    # Index of the best bin in each song (first on ties: largest raw count wins below).
    rank_key = smoothed.astype(np.int64) * (1 << 20) + counts
    best_idx = _argmax_per_group(rank_key, first)
    bins = np.maximum(span, 2 * TOLERANCE + 1).astype(np.float64)
    lam = hits * (2 * TOLERANCE + 1) / bins
    p_bin = pdtrc(best - 1, lam)  # P(Poisson(lam) >= best)
    n_bins = float(bins.sum())
    p_any = np.minimum(1.0, p_bin * n_bins)
    score = -np.log10(np.maximum(p_any, 1e-300))
    order = np.lexsort((-best, -score))[:top]
    return [
        Alignment(
            song_id=int(songs[first[i]]),
            offset=int(keys[best_idx[i]] % _SHIFT - _BIAS),
            votes=int(best[i]),
            hits=int(hits[i]),
            score=float(score[i]),
        )
        for i in order
    ]


def _argmax_per_group(values: np.ndarray, first: np.ndarray) -> np.ndarray:
    """Index of the maximum of each contiguous group starting at `first` (first on ties)."""
    group = np.repeat(np.arange(first.size), np.diff(np.r_[first, values.size]))
    order = np.lexsort((np.arange(values.size), -values, group))
    return order[np.r_[0, np.flatnonzero(group[order][1:] != group[order][:-1]) + 1]]


DEFAULT_MIN_SCORE = 12.0  # provisional; being calibrated
MIN_VOTES = 5


def is_match(a: Alignment, min_score: float = DEFAULT_MIN_SCORE) -> bool:
    """True when an alignment is strong enough to name its song."""
    return a.votes >= MIN_VOTES and a.score >= min_score
