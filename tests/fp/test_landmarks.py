"""fp.landmarks: peak pairs in the target zone, packed into hashes."""

from __future__ import annotations

import numpy as np
import pytest

from fp.landmarks import pair_landmarks
from fp.scheme import Scheme

S = Scheme()


def unpack(h: np.ndarray, s: Scheme) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    h = h.astype(np.int64)
    dt = h & ((1 << s.dt_bits) - 1)
    df = ((h >> s.dt_bits) & ((1 << s.dfreq_bits) - 1)) - (1 << (s.dfreq_bits - 1))
    f = h >> (s.dt_bits + s.dfreq_bits)
    return f, df, dt


def reference_pairs(t: np.ndarray, b: np.ndarray, s: Scheme, fan: int) -> list[tuple[int, int, int, int]]:
    """Plain-Python pairing: each anchor with its next `fan` peaks in the target zone."""
    out = []
    for i in range(t.size):
        taken = 0
        for j in range(i + 1, t.size):
            dt, df = int(t[j] - t[i]), int(b[j] - b[i])
            if dt > s.max_dt:
                break
            if dt >= s.min_dt and abs(df) <= s.max_dfreq:
                out.append((int(b[i]), df, dt, int(t[i])))
                taken += 1
                if taken == fan:
                    break
    return out


def random_peaks(seed: int, n: int, frames: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    t = rng.integers(0, frames, n)
    b = rng.integers(S.min_bin, S.max_bin + 1, n)
    order = np.lexsort((b, t))
    t, b = t[order], b[order]
    keep = np.r_[True, (np.diff(t) != 0) | (np.diff(b) != 0)]
    return t[keep].astype(np.int32), b[keep].astype(np.int32)


@pytest.mark.parametrize("seed, n, frames, fan", [
    (1, 300, 2000, S.fan_value), (2, 500, 400, S.fan_value), (3, 200, 5000, 1),
    (4, 400, 800, S.query_fan_value),
])
def test_matches_the_plain_reference(seed: int, n: int, frames: int, fan: int) -> None:
    t, b = random_peaks(seed, n, frames)
    hashes, offsets = pair_landmarks(t, b, S, fan)
    assert hashes.dtype == np.uint32 and offsets.dtype == np.uint32
    f, df, dt = unpack(hashes, S)
    got = list(zip(f.tolist(), df.tolist(), dt.tolist(), offsets.tolist(), strict=True))
    assert got == reference_pairs(t, b, S, fan)


def test_pairs_respect_the_target_zone_and_fan_out() -> None:
    t, b = random_peaks(5, 600, 1500)
    hashes, offsets = pair_landmarks(t, b, S, S.fan_value)
    assert hashes.size > 0
    assert int(hashes.max()) < (1 << S.hash_bits)
    f, df, dt = unpack(hashes, S)
    assert np.all((dt >= S.min_dt) & (dt <= S.max_dt))
    assert np.all(np.abs(df) <= S.max_dfreq)
    assert np.all((f >= S.min_bin) & (f <= S.max_bin))
    _, per_anchor = np.unique(offsets.astype(np.int64) * 4096 + f, return_counts=True)
    assert per_anchor.max() <= S.fan_value
    assert set(offsets.tolist()) <= set(t.tolist())


@pytest.mark.parametrize("n", [0, 1])
def test_fewer_than_two_peaks(n: int) -> None:
    h, o = pair_landmarks(np.zeros(n, np.int32), np.full(n, 50, np.int32), S, S.fan_value)
    assert h.size == o.size == 0
    assert h.dtype == np.uint32


def test_hash_is_translation_invariant_in_time() -> None:
    t, b = random_peaks(6, 200, 1000)
    h1, o1 = pair_landmarks(t, b, S, S.fan_value)
    h2, o2 = pair_landmarks(t + 777, b, S, S.fan_value)
    assert np.array_equal(h1, h2)
    assert np.array_equal(o2.astype(np.int64) - o1, np.full(o1.size, 777))
