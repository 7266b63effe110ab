"""Brute-force reference for index tests: postings as plain Python, compared as multisets."""

from __future__ import annotations

from collections import Counter, defaultdict

import numpy as np


def random_song(rng: np.random.Generator, n: int, hash_bits: int, frames: int = 5000,
                shared: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """`n` postings: random hashes (some from `shared`, so songs collide) and offsets."""
    h = rng.integers(0, 1 << hash_bits, n, dtype=np.int64)
    if shared is not None and n:
        pick = rng.random(n) < 0.3
        h[pick] = rng.choice(shared, int(pick.sum()))
    return h.astype(np.uint32), rng.integers(0, frames, n).astype(np.uint32)


class Reference:
    """hash -> Counter of (song, offset), the slow obvious way."""

    def __init__(self) -> None:
        self.by_hash: dict[int, Counter[tuple[int, int]]] = defaultdict(Counter)

    def add(self, song: int, hashes: np.ndarray, offsets: np.ndarray) -> None:
        for h, o in zip(hashes.tolist(), offsets.tolist(), strict=True):
            self.by_hash[h][(song, o)] += 1

    def remove(self, songs: set[int]) -> None:
        for c in self.by_hash.values():
            for key in [k for k in c if k[0] in songs]:
                del c[key]

    def songs(self) -> set[int]:
        return {s for c in self.by_hash.values() for (s, _), n in c.items() if n}

    def postings(self) -> int:
        return sum(sum(c.values()) for c in self.by_hash.values())

    def expected(self, queries: np.ndarray) -> Counter[tuple[int, int, int]]:
        out: Counter[tuple[int, int, int]] = Counter()
        for i, h in enumerate(queries.tolist()):
            for (s, o), n in self.by_hash.get(h, Counter()).items():
                out[(i, s, o)] += n
        return out


def got(query_pos: np.ndarray, song_ids: np.ndarray, offsets: np.ndarray) -> Counter[tuple[int, int, int]]:
    return Counter(zip(query_pos.tolist(), song_ids.tolist(), offsets.tolist(), strict=True))


def queries_for(ref: Reference, rng: np.random.Generator, hash_bits: int, n: int = 3000) -> np.ndarray:
    """Query hashes: half present in the reference (if any), half random, some repeated."""
    present = np.fromiter(ref.by_hash.keys(), np.int64, len(ref.by_hash))
    parts = [rng.integers(0, 1 << hash_bits, n // 2, dtype=np.int64)]
    if present.size:
        parts.append(rng.choice(present, n - n // 2))
    q = np.concatenate(parts)
    q = np.concatenate([q, q[:50]])  # repeated query hashes answer twice
    return q.astype(np.uint32)
