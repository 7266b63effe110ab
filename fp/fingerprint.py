"""Samples -> landmark hashes: spectrogram, peaks, pairs.

`fingerprint` handles an array in one pass; `fingerprint_blocks` consumes a stream of
sample blocks chunk by chunk (a 2-hour file never holds its whole spectrogram) and
gives exactly the same result. Index fingerprints are sparse (they are stored); query
fingerprints are denser, and are the union over ``query_shifts`` sub-hop sample
shifts of the clip, so they contain the indexed landmarks even though the clip's
frame grid does not line up with the song's.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

import numpy as np

from .landmarks import pair_landmarks
from .peaks import find_peaks, find_peaks_stacked, time_margin
from .scheme import Scheme
from .spectrogram import (
    frame_count,
    log_spectrogram,
    shift_samples,
    shifted_log_spectrograms,
)

Role = Literal["index", "query"]
COLLAPSE = False
CHUNK_FRAMES = 2048  # ~65 s at the default scheme; a multiple of any sane block length


@dataclass(frozen=True)
class Fingerprint:
    """Landmarks of one piece of audio.

    hashes, offsets : np.ndarray, shape (n,), uint32 — hash and anchor frame.
    """

    hashes: np.ndarray
    offsets: np.ndarray
    scheme_id: str
    duration_s: float

    def __len__(self) -> int:
        return int(self.hashes.size)


def _role_params(scheme: Scheme, role: Role) -> tuple[int, int]:
    if role == "index":
        return scheme.peaks_per_band, scheme.fan_value
    return scheme.query_peaks_per_band, scheme.query_fan_value


def fingerprint(samples: np.ndarray, scheme: Scheme, role: Role = "query") -> Fingerprint:
    """Fingerprint mono float32 samples at ``scheme.sample_rate``.

    ``role="index"`` gives the stored landmarks (as `fingerprint_blocks`). ``role="query"``
    unites the landmarks of ``samples[s:]`` for the ``query_shifts`` sub-hop shifts s,
    each offset rounded to the nearest whole frame from the clip start; the result
    is deduplicated and sorted by (hash, offset).
    """
    per_band, fan = _role_params(scheme, role)
    duration = len(samples) / scheme.sample_rate
    if role == "index":
        t, b, _ = find_peaks(log_spectrogram(samples, scheme), scheme, per_band)
        hashes, offsets = pair_landmarks(t, b, scheme, fan)
        return Fingerprint(hashes, offsets, scheme.id, duration)
    specs = shifted_log_spectrograms(samples, scheme, scheme.query_shifts)
    layer, t, b = find_peaks_stacked(specs, scheme, per_band)
    # Lay the shifts end to end, far enough apart that no landmark spans two.
    stride = specs.shape[1] + scheme.max_dt + 1
    hashes, anchors = pair_landmarks(layer * stride + t, b, scheme, fan)
    layer_of = anchors // np.uint32(stride)
    # Shift j's frame k starts at k + shifts_j / hop frames into the clip.
    rounded = np.round(shift_samples(scheme, scheme.query_shifts) / scheme.hop).astype(np.uint32)
    offsets = anchors - layer_of * np.uint32(stride) + rounded[layer_of]
    key = np.unique((hashes.astype(np.uint64) << np.uint64(32)) | offsets)
    hashes = (key >> np.uint64(32)).astype(np.uint32)
    offsets = (key & np.uint64(0xFFFFFFFF)).astype(np.uint32)
    if COLLAPSE and hashes.size:
        # runs of the same hash at consecutive offsets: keep every other one
        newrun = np.r_[True, (hashes[1:] != hashes[:-1]) | (offsets[1:] != offsets[:-1] + 1)]
        starts = np.flatnonzero(newrun)
        pos = np.arange(hashes.size) - np.repeat(starts, np.diff(np.r_[starts, hashes.size]))
        keep = pos % 2 == 0
        hashes, offsets = hashes[keep], offsets[keep]
    return Fingerprint(hashes, offsets, scheme.id, duration)


def fingerprint_blocks(
    blocks: Iterable[np.ndarray], scheme: Scheme, role: Role = "index"
) -> Fingerprint:
    """Fingerprint a stream of sample blocks with bounded memory.

    Identical to `fingerprint` on the concatenated samples.
    """
    per_band, fan = _role_params(scheme, role)
    hop = scheme.hop
    margin = time_margin(scheme)
    chunk = max(scheme.peak_block_frames, CHUNK_FRAMES // scheme.peak_block_frames
                * scheme.peak_block_frames)
    buf = np.zeros(0, np.float32)
    buf_start = 0  # absolute sample index of buf[0]; always a multiple of hop
    core = 0  # next absolute frame whose peaks are not yet found
    total = 0
    peak_t: list[np.ndarray] = []
    peak_b: list[np.ndarray] = []

    def run(stop: int, last: bool) -> None:
        nonlocal buf, buf_start, core
        first = max(0, core - margin)
        lo = first * hop - buf_start
        n_frames = frame_count(len(buf) - lo, scheme)
        spec = log_spectrogram(buf[lo:], scheme)[: n_frames]
        end = first + spec.shape[0] if last else stop
        t, b, _ = find_peaks(spec, scheme, per_band, first_frame=first, keep=(core, end))
        peak_t.append(t)
        peak_b.append(b)
        core = end
        drop = max(0, (core - margin) * hop - buf_start)
        buf = buf[drop:]
        buf_start += drop

    for block in blocks:
        block = np.asarray(block, dtype=np.float32)
        total += block.size
        buf = np.concatenate([buf, block]) if buf.size else block.copy()
        while frame_count(buf_start + len(buf), scheme) >= core + chunk + margin:
            run(core + chunk, last=False)
    if frame_count(total, scheme) > core:
        run(0, last=True)
    t = np.concatenate(peak_t) if peak_t else np.zeros(0, np.int32)
    b = np.concatenate(peak_b) if peak_b else np.zeros(0, np.int32)
    hashes, offsets = pair_landmarks(t, b, scheme, fan)
    return Fingerprint(hashes, offsets, scheme.id, total / scheme.sample_rate)
