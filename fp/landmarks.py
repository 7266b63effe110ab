"""Landmarks: pairs of peaks in a target zone, packed into 32-bit hashes.

Each anchor peak is paired with the next ``fan_value`` peaks (in time order) that lie
``min_dt..max_dt`` frames later and at most ``max_dfreq`` bins away. The hash packs
``anchor bin | bin difference | frame difference``; the anchor's frame is the offset.
"""

from __future__ import annotations

import numpy as np

from .scheme import Scheme


def pair_landmarks(
    frames: np.ndarray, bins: np.ndarray, scheme: Scheme, fan_value: int
) -> tuple[np.ndarray, np.ndarray]:
    """Pair peaks into landmark hashes.

    Parameters
    ----------
    frames, bins : np.ndarray, shape (p,), int — peaks sorted by frame.
    fan_value : targets per anchor.

    Returns
    -------
    hashes, offsets : np.ndarray, shape (h,), uint32 — hash and anchor frame, in anchor
        order.
    """
    p = frames.size
    if p < 2:
        return np.zeros(0, np.uint32), np.zeros(0, np.uint32)
    t = frames.astype(np.int64)
    f = bins.astype(np.int64)
    # Look ahead far enough to see every peak within max_dt frames of any anchor.
    ends = np.searchsorted(t, t + scheme.max_dt, side="right")
    width = int(min(p - 1, max(1, (ends - np.arange(p)).max() - 1)))
    j = np.arange(p)[:, None] + np.arange(1, width + 1)[None, :]
    in_range = j < p
    j = np.minimum(j, p - 1)
    dt = t[j] - t[:, None]
    df = f[j] - f[:, None]
    valid = in_range & (dt >= scheme.min_dt) & (dt <= scheme.max_dt) & (np.abs(df) <= scheme.max_dfreq)
    valid &= np.cumsum(valid, axis=1) <= fan_value
    anchor, k = np.nonzero(valid)
    dts, dfs = dt[anchor, k], df[anchor, k]
    hashes = (
        (f[anchor] << (scheme.dfreq_bits + scheme.dt_bits))
        | ((dfs + (1 << (scheme.dfreq_bits - 1))) << scheme.dt_bits)
        | dts
    ).astype(np.uint32)
    return hashes, t[anchor].astype(np.uint32)
