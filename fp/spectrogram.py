"""Short-time log-power spectrogram over the scheme's frequency range."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import scipy.fft
from numpy.lib.stride_tricks import sliding_window_view

from .scheme import Scheme

_EPS = np.float32(1e-10)
_DB_PER_NEPER = np.float32(10.0 / np.log(10.0))  # 10*log10(p) == this * ln(p)


@lru_cache(maxsize=8)
def _window(n_fft: int) -> np.ndarray:
    return np.hanning(n_fft).astype(np.float32)


def frame_count(n_samples: int, scheme: Scheme) -> int:
    """Number of whole frames in `n_samples` samples."""
    if n_samples < scheme.n_fft:
        return 0
    return 1 + (n_samples - scheme.n_fft) // scheme.hop


def log_spectrogram(samples: np.ndarray, scheme: Scheme) -> np.ndarray:
    """Log power (dB) of every whole frame, bins ``scheme.min_bin .. scheme.max_bin``.

    Parameters
    ----------
    samples : np.ndarray, shape (n,), float32 at ``scheme.sample_rate``.

    Returns
    -------
    np.ndarray, shape (frames, max_bin - min_bin + 1), float32; frame k starts at
    sample ``k * scheme.hop``.
    """
    n = frame_count(len(samples), scheme)
    x = np.ascontiguousarray(samples, dtype=np.float32)
    return _log_power(x, np.arange(n) * scheme.hop, scheme)


def shift_samples(scheme: Scheme, shifts: int) -> np.ndarray:
    """Sample shift of each of `shifts` evenly spaced sub-hop grids: ``j * hop // shifts``."""
    return (np.arange(shifts) * scheme.hop) // shifts


def shifted_log_spectrograms(samples: np.ndarray, scheme: Scheme, shifts: int) -> np.ndarray:
    """`log_spectrogram` of ``samples[s:]`` for each shift s of `shift_samples`.

    Returns
    -------
    np.ndarray, shape (shifts, frames, bins), float32; all shifts keep the frame
    count of the last (largest) shift.
    """
    offs = shift_samples(scheme, shifts)
    n = frame_count(len(samples) - int(offs[-1]), scheme)
    x = np.ascontiguousarray(samples, dtype=np.float32)
    starts = offs[:, None] + np.arange(n)[None, :] * scheme.hop
    return _log_power(x, starts, scheme)


def _log_power(x: np.ndarray, starts: np.ndarray, scheme: Scheme) -> np.ndarray:
    """dB power of the windowed frames starting at `starts` (any shape), bins lo..hi."""
    lo, hi = scheme.min_bin, scheme.max_bin
    if starts.size == 0:
        return np.zeros((*starts.shape, hi - lo + 1), np.float32)
    frames = sliding_window_view(x, scheme.n_fft)[starts] * _window(scheme.n_fft)
    spec = scipy.fft.rfft(frames, axis=-1)[..., lo : hi + 1]  # complex64: float32 in, out
    power = spec.real**2
    power += spec.imag**2
    power += _EPS
    out = np.log(power, out=power)  # float32 ln is several times faster than log10
    out *= _DB_PER_NEPER
    return out
