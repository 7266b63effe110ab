"""Voting: index hits -> best (song, time offset) alignments with a calibrated score.

A clip of a song, played from frame ``d`` of that song, makes each matching landmark
vote for ``song_offset - query_offset == d``. Votes are counted per (song, d), with
``d - 1`` and ``d + 1`` added in (the clip's frame grid straddles the song's); given
the query hashes, a hash votes at most once per (song, d), so a loop repeated in both
clip and song counts once.

Scoring. Per song, the best bin's votes are compared with a Poisson model of chance:
the song's other hits spread evenly over the offsets they span (at least `MIN_SPAN`),
``S = -log10(span * P(Poisson(lam) >= votes))``. Real chance matches (music in the
same key and tempo) have a far heavier tail than Poisson; measured on wrong songs,
``P(S >= s) <= 10**(CHANCE_INTERCEPT - CHANCE_SLOPE * s)``. So the score is
``CHANCE_SLOPE * S - CHANCE_INTERCEPT - log10(songs with hits)``, about ``-log10``
of the expected number of wrong songs in the store aligning this well by chance.
It accounts for the store's size: the same evidence scores log10(500) = 2.7 lower
in a 10,000-song store than in a 20-song one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import gammaln, pdtrc

TOLERANCE = 1  # frames on each side merged into one vote bin
# Fit of the chance tail on wrong songs (see module docstring), on the conservative side.
CHANCE_SLOPE = 0.24
CHANCE_INTERCEPT = 0.5
# `is_match` threshold: at most ~10**-DEFAULT_MIN_SCORE wrong answers per query (about
# twice that with the speed search). 3.0 admits more short noisy / microphone clips;
# measured wrong-song scores stayed below it in stores of 40, 440 and 2,280 songs.
DEFAULT_MIN_SCORE = 3.0
MIN_VOTES = 5  # never name a song on fewer distinct landmarks than this
MIN_SPAN = 1024  # frames (~33 s): the fewest offsets a song's chance hits are spread over
_LOG10E = float(np.log10(np.e))


@dataclass(frozen=True)
class Alignment:
    """One candidate: a song and the frame of that song where the clip starts."""

    song_id: int
    offset: int  # frames; may be negative when the clip starts before the song
    votes: int  # distinct landmarks agreeing on this offset (+- TOLERANCE frames)
    hits: int  # all of this song's (distinct) index hits for the clip
    score: float  # ~ -log10(expected chance alignments this strong in the store), >= 0


def is_match(a: Alignment, min_score: float = DEFAULT_MIN_SCORE) -> bool:
    """True when `a` is strong enough to name its song (else the answer is "no match")."""
    return a.votes >= MIN_VOTES and a.score >= min_score


def align(
    query_pos: np.ndarray,
    song_ids: np.ndarray,
    song_offsets: np.ndarray,
    query_offsets: np.ndarray,
    top: int = 5,
    *,
    query_hashes: np.ndarray | None = None,
) -> list[Alignment]:
    """Vote index hits into the `top` best alignments, one per song, best first.

    Parameters
    ----------
    query_pos : np.ndarray, shape (h,), int — which query landmark each hit answers.
    song_ids, song_offsets : np.ndarray, shape (h,), uint32 — the hits' postings.
    query_offsets : np.ndarray, shape (q,), uint32 — anchor frame of each query landmark.
    query_hashes : np.ndarray, shape (q,), uint32, optional — the query landmarks'
        hashes; when given, each hash votes once per (song, offset). Pass them.
    """
    if song_ids.size == 0:
        return []
    songs, offsets, votes, hits, evidence = song_evidence(
        query_pos, song_ids, song_offsets, query_offsets, query_hashes
    )
    score = CHANCE_SLOPE * evidence - CHANCE_INTERCEPT - np.log10(songs.size)
    score = np.maximum(score, 0.0)
    order = np.lexsort((-votes, -score))[:top]
    return [
        Alignment(
            song_id=int(songs[i]),
            offset=int(offsets[i]),
            votes=int(votes[i]),
            hits=int(hits[i]),
            score=float(score[i]),
        )
        for i in order
    ]


def song_evidence(
    query_pos: np.ndarray,
    song_ids: np.ndarray,
    song_offsets: np.ndarray,
    query_offsets: np.ndarray,
    query_hashes: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Best bin of every song with hits (arguments as `align`; needs >= 1 hit).

    Returns
    -------
    songs, offsets, votes, hits : np.ndarray, shape (s,), int64 — song id, best
        offset, its votes, and all the song's hits.
    evidence : np.ndarray, shape (s,), float64 — the uncalibrated Poisson evidence
        ``S = -log10(span * P(Poisson(lam) >= votes))``, >= 0.
    """
    qpos = np.asarray(query_pos, dtype=np.int64)
    delta = song_offsets.astype(np.int64) - np.asarray(query_offsets, np.int64)[qpos]
    d_min = int(delta.min())
    n_delta = int(delta.max()) - d_min + 1 + 2 * TOLERANCE  # room to smooth at the edges
    delta -= d_min - TOLERANCE
    song = song_ids.astype(np.int64)
    if query_hashes is not None:
        ident = np.unique(np.asarray(query_hashes), return_inverse=True)[1].ravel()[qpos]
        n_ident = int(ident.max()) + 1
    else:
        ident, n_ident = qpos, len(query_offsets)
    if (int(song.max()) + 1) * n_delta * n_ident < 1 << 62:
        pairs = np.sort((song * n_delta + delta) * n_ident + ident)
        pairs = pairs[np.r_[True, pairs[1:] != pairs[:-1]]]  # one vote per (bin, hash)
        bin_of = pairs // n_ident
    else:  # ids too large to pack: sort on two keys
        bin_all = song * n_delta + delta
        order = np.lexsort((ident, bin_all))
        b, i = bin_all[order], ident[order]
        bin_of = b[np.r_[True, (b[1:] != b[:-1]) | (i[1:] != i[:-1])]]
    starts = np.flatnonzero(np.r_[True, bin_of[1:] != bin_of[:-1]])
    keys = bin_of[starts]  # song * n_delta + delta, sorted
    counts = np.diff(np.r_[starts, bin_of.size])
    smoothed = counts.copy()
    for k in range(1, TOLERANCE + 1):
        adjacent = keys[k:] - keys[:-k] == k  # never across songs: edges are padded
        smoothed[k:] += np.where(adjacent, counts[:-k], 0)
        smoothed[:-k] += np.where(adjacent, counts[k:], 0)

    songs = keys // n_delta
    first = np.flatnonzero(np.r_[True, songs[1:] != songs[:-1]])
    last = np.r_[first[1:], songs.size] - 1
    hits = np.add.reduceat(counts, first)
    span = (keys[last] - keys[first] + 1).astype(np.float64)
    # Best bin of each song: most votes, then most exact-offset votes, then earliest.
    rank = smoothed.astype(np.int64) * (1 << 31) + counts
    best_rank = np.maximum.reduceat(rank, first)
    group = np.repeat(np.arange(first.size), np.diff(np.r_[first, keys.size]))
    at_best = np.flatnonzero(rank == best_rank[group])
    best_idx = at_best[np.r_[True, group[at_best][1:] != group[at_best][:-1]]]
    votes = smoothed[best_idx]
    # Chance rate from the hits outside the best bin, spread over at least MIN_SPAN bins
    # (a song whose every hit agrees would otherwise look like pure chance).
    span = np.maximum(span, MIN_SPAN)
    lam = np.maximum(hits - votes, 1) * (2 * TOLERANCE + 1) / span
    evidence = np.maximum(0.0, -(_log10_poisson_sf(votes, lam) + np.log10(span)))
    offsets = keys[best_idx] % n_delta + (d_min - TOLERANCE)
    return songs[first], offsets, votes, hits, evidence


def _log10_poisson_sf(k: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """log10 P(Poisson(lam) >= k), accurate far into the tail (k >= 1, lam > 0)."""
    k = k.astype(np.float64)
    sf = pdtrc(k - 1, lam)
    # Where that underflows: the first term dominates, the rest sum to < 1/(1 - lam/k).
    head = (k * np.log(lam) - lam - gammaln(k + 1)) * _LOG10E
    tail = -np.log10(np.maximum(1e-12, 1.0 - lam / (k + 1)))
    return np.where(sf > 1e-250, np.log10(np.maximum(sf, 1e-300)), head + tail)
