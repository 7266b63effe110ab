"""fp.matching: votes on (song, song offset - query offset) and a calibrated "no match"."""

from __future__ import annotations

import numpy as np

from fp.matching import DEFAULT_MIN_SCORE, MIN_VOTES, TOLERANCE, Alignment, align, is_match


class Hits:
    """Builds the arrays `align` takes: hits of query landmarks on postings."""

    def __init__(self, n_query: int = 400, query_frames: int = 160, seed: int = 0) -> None:
        self.rng = np.random.default_rng(seed)
        self.query_offsets = np.sort(self.rng.integers(0, query_frames, n_query)).astype(np.uint32)
        self.qpos: list[np.ndarray] = []
        self.songs: list[np.ndarray] = []
        self.offsets: list[np.ndarray] = []

    def true(self, song: int, delta: int, n: int) -> Hits:
        """`n` hits of `song` agreeing on offset `delta` (distinct query landmarks)."""
        q = self.rng.choice(self.query_offsets.size, n, replace=False)
        self._add(q, song, self.query_offsets[q].astype(np.int64) + delta)
        return self

    def noise(self, n: int, songs: tuple[int, int] = (1, 40), span: int = 20_000) -> Hits:
        q = self.rng.integers(0, self.query_offsets.size, n)
        s = self.rng.integers(songs[0], songs[1], n)
        self.qpos.append(q)
        self.songs.append(s.astype(np.uint32))
        self.offsets.append(self.rng.integers(0, span, n).astype(np.uint32))
        return self

    def _add(self, q: np.ndarray, song: int, offsets: np.ndarray) -> None:
        assert offsets.min() >= 0
        self.qpos.append(q)
        self.songs.append(np.full(q.size, song, np.uint32))
        self.offsets.append(offsets.astype(np.uint32))

    def align(self, top: int = 5) -> list[Alignment]:
        return align(np.concatenate(self.qpos).astype(np.int64), np.concatenate(self.songs),
                     np.concatenate(self.offsets), self.query_offsets, top=top)


def test_known_song_and_offset_win() -> None:
    result = Hits(seed=1).true(song=7, delta=5000, n=60).noise(2000).align()
    best = result[0]
    assert (best.song_id, best.offset) == (7, 5000)
    assert best.votes >= 60
    assert best.hits >= best.votes
    assert is_match(best)
    assert not any(is_match(a) for a in result[1:])


def test_hit_order_does_not_matter() -> None:
    h = Hits(seed=2).true(song=3, delta=800, n=40).noise(1500)
    q, s, o = (np.concatenate(x) for x in (h.qpos, h.songs, h.offsets))
    perm = np.random.default_rng(9).permutation(q.size)
    a = align(q.astype(np.int64), s, o, h.query_offsets)
    b = align(q[perm].astype(np.int64), s[perm], o[perm], h.query_offsets)
    assert a == b


def test_neighbouring_offsets_count_together() -> None:
    """Votes at d-1, d, d+1 add up; votes TOLERANCE+2 frames away do not."""
    assert TOLERANCE == 1
    h = Hits(seed=3).noise(1000)
    h.true(9, 700, 30).true(9, 699, 15).true(9, 701, 15).true(9, 703, 20)
    best = h.align()[0]
    assert best.song_id == 9
    assert best.offset == 700
    assert best.votes == 60


def test_negative_offset_when_the_clip_starts_before_the_song() -> None:
    h = Hits(seed=4, query_frames=300).noise(800)
    q = np.flatnonzero(h.query_offsets >= 100)[:50]
    h._add(q, 5, h.query_offsets[q].astype(np.int64) - 100)
    best = h.align()[0]
    assert (best.song_id, best.offset) == (5, -100)


def test_empty_input() -> None:
    z = np.zeros(0, np.uint32)
    assert align(np.zeros(0, np.int64), z, z, np.arange(10, dtype=np.uint32)) == []


def test_one_alignment_per_song_best_first_and_top() -> None:
    h = Hits(seed=5).noise(3000)
    for song, n in [(11, 80), (12, 60), (13, 45), (14, 35), (15, 25), (16, 20), (17, 15)]:
        h.true(song, 1000 + song, n)
    result = h.align(top=4)
    assert len(result) == 4
    assert [a.song_id for a in result] == [11, 12, 13, 14]
    assert [a.offset for a in result] == [1011, 1012, 1013, 1014]
    scores = [a.score for a in result]
    assert scores == sorted(scores, reverse=True)
    assert len(h.align(top=100)) == len({a.song_id for a in h.align(top=100)})


def test_random_hits_are_no_match() -> None:
    for seed in range(5):
        result = Hits(seed=10 + seed).noise(4000, songs=(1, 30)).align(top=30)
        assert result, "noise still produces candidates"
        assert not any(is_match(a) for a in result), result[:3]


def test_weak_true_alignment_among_many_hits_is_no_match() -> None:
    """Three agreeing hits are what chance gives; they must not name a song."""
    result = Hits(seed=20).true(8, 300, 3).noise(3000, songs=(1, 10)).align(top=20)
    assert not any(is_match(a) for a in result)


def test_scores_grow_with_evidence() -> None:
    scores = []
    for n in (10, 20, 40, 80):
        result = Hits(seed=30).true(4, 1234, n).noise(2000).align()
        assert result[0].song_id == 4
        scores.append(result[0].score)
    assert scores == sorted(scores)
    assert scores[-1] > scores[0]


def test_a_clean_alignment_without_stray_hits_is_a_match() -> None:
    """Regression: when every hit of a song agreed on one offset (no stray hits of that
    song), the chance model's span collapsed to a few bins and the score to 0."""
    h = Hits(seed=40).true(song=2, delta=42, n=70).noise(500, songs=(10, 20))
    best = h.align()[0]
    assert (best.song_id, best.offset, best.votes) == (2, 42, 70)
    assert is_match(best)


def test_is_match_thresholds() -> None:
    strong = Alignment(song_id=1, offset=0, votes=MIN_VOTES + 50, hits=500, score=DEFAULT_MIN_SCORE + 1)
    assert is_match(strong)
    assert is_match(Alignment(1, 0, MIN_VOTES, 500, DEFAULT_MIN_SCORE))
    assert not is_match(Alignment(1, 0, MIN_VOTES - 1, 500, 1e6))
    assert not is_match(Alignment(1, 0, 1000, 5000, DEFAULT_MIN_SCORE - 0.01))
    assert not is_match(strong, min_score=strong.score + 1)
    assert is_match(Alignment(1, 0, 1000, 5000, 1.0), min_score=0.5)
