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
        order (then target order).
    """
    p = frames.size
    if p < 2:
        return np.zeros(0, np.uint32), np.zeros(0, np.uint32)
    t = frames.astype(np.int64)
    f = bins.astype(np.int64)
    ends = np.searchsorted(t, t + scheme.max_dt, side="right")  # candidates: i+1 .. ends-1
    # Scan candidates a block of columns at a time, keeping only anchors that still
    # need targets: most find theirs among the first few peaks.
    block = max(8, 2 * fan_value)
    active = np.flatnonzero(ends > np.arange(p) + 1)
    taken = np.zeros(p, np.int64)
    anchors, targets = [], []
    start = 1
    while active.size:
        j = active[:, None] + np.arange(start, start + block)[None, :]
        valid = j < ends[active][:, None]
        j = np.minimum(j, p - 1)
        dt = t[j] - t[active][:, None]
        valid &= (dt >= scheme.min_dt) & (np.abs(f[j] - f[active][:, None]) <= scheme.max_dfreq)
        count = np.cumsum(valid, axis=1) + taken[active][:, None]
        valid &= count <= fan_value
        a, k = np.nonzero(valid)
        anchors.append(active[a])
        targets.append(j[a, k])
        taken[active] = count[:, -1]
        start += block
        active = active[(taken[active] < fan_value) & (active + start < ends[active])]
    anchor = np.concatenate(anchors)
    target = np.concatenate(targets)
    order = np.argsort(anchor * p + target, kind="stable")
    anchor, target = anchor[order], target[order]
    dts, dfs = t[target] - t[anchor], f[target] - f[anchor]
    hashes = (
        (f[anchor] << (scheme.dfreq_bits + scheme.dt_bits))
        | ((dfs + (1 << (scheme.dfreq_bits - 1))) << scheme.dt_bits)
        | dts
    ).astype(np.uint32)
    return hashes, t[anchor].astype(np.uint32)
