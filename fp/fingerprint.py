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
from .peaks import find_peaks, time_margin
from .scheme import Scheme
from .spectrogram import frame_count, log_spectrogram, shift_samples

Role = Literal["index", "query"]
CHUNK_FRAMES = 256  # ~8 s: small arrays stay in cache (measured fastest)


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
    each offset rounded to the nearest whole frame from the clip start; the result is
    sorted by (hash, offset), without duplicate pairs, and of a hash seen at
    consecutive offsets (k, k+1, ...) only every other one is kept.
    """
    per_band, fan = _role_params(scheme, role)
    duration = len(samples) / scheme.sample_rate
    if role == "index":
        t, b, _ = find_peaks(log_spectrogram(samples, scheme), scheme, per_band)
        hashes, offsets = pair_landmarks(t, b, scheme, fan)
        return Fingerprint(hashes, offsets, scheme.id, duration)
    # Lay the shifts' peaks end to end, far enough apart that no landmark spans two.
    # One shift at a time: small arrays are faster than one stacked spectrogram.
    stride = frame_count(len(samples), scheme) + scheme.max_dt + 1
    shifts = shift_samples(scheme, scheme.query_shifts)
    peak_t, peak_b = [], []
    for j, shift in enumerate(shifts):
        t, b, _ = find_peaks(log_spectrogram(samples[shift:], scheme), scheme, per_band)
        peak_t.append(t + np.int32(j * stride))
        peak_b.append(b)
    hashes, anchors = pair_landmarks(np.concatenate(peak_t), np.concatenate(peak_b), scheme, fan)
    layer = anchors // np.uint32(stride)
    # Shift j's frame k starts at k + shifts[j] / hop frames into the clip.
    rounded = np.round(shifts / scheme.hop).astype(np.uint32)
    offsets = anchors - layer * np.uint32(stride) + rounded[layer]
    key = np.sort((hashes.astype(np.uint64) << np.uint64(32)) | offsets)
    if key.size:
        key = key[np.r_[True, key[1:] != key[:-1]]]
        # One landmark seen by two shifts lands on consecutive offsets, which the +-1
        # frame vote tolerance covers anyway: of each run keep every other one,
        # counting from the last (this keeps the offset estimate unbiased).
        run_end = np.flatnonzero(np.r_[key[1:] - key[:-1] != 1, True])
        ends = np.repeat(run_end, np.diff(np.r_[-1, run_end]))
        key = key[(ends - np.arange(key.size)) % 2 == 0]
    hashes = (key >> np.uint64(32)).astype(np.uint32)
    offsets = (key & np.uint64(0xFFFFFFFF)).astype(np.uint32)
    return Fingerprint(hashes, offsets, scheme.id, duration)


def fingerprint_blocks(
    blocks: Iterable[np.ndarray], scheme: Scheme, role: Role = "index"
) -> Fingerprint:
    """Fingerprint a stream of sample blocks with bounded memory.

    Identical to `fingerprint` on the concatenated samples. Queries are short: for
    ``role="query"`` the blocks are simply joined.
    """
    if role == "query":
        parts = [np.asarray(b, dtype=np.float32) for b in blocks]
        return fingerprint(np.concatenate(parts) if parts else np.zeros(0, np.float32),
                           scheme, role)
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
        # Only the frames this chunk needs: a huge block must not be transformed whole.
        n_frames = frame_count(len(buf) - lo, scheme) if last else stop + margin - first
        spec = log_spectrogram(buf[lo : lo + (n_frames - 1) * hop + scheme.n_fft], scheme)
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
