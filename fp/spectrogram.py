"""Short-time log-power spectrogram over the scheme's frequency range."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import scipy.fft
from numpy.lib.stride_tricks import sliding_window_view

from .scheme import Scheme

_EPS = np.float32(1e-10)


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
    lo, hi = scheme.min_bin, scheme.max_bin
    if n == 0:
        return np.zeros((0, hi - lo + 1), np.float32)
    x = np.ascontiguousarray(samples, dtype=np.float32)
    frames = sliding_window_view(x, scheme.n_fft)[:: scheme.hop][:n] * _window(scheme.n_fft)
    spec = scipy.fft.rfft(frames, axis=1)[:, lo : hi + 1]  # complex64: float32 in, out
    power = spec.real**2
    power += spec.imag**2
    power += _EPS
    out = np.log10(power, out=power)
    out *= np.float32(10.0)
    return out
