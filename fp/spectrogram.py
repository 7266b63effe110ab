"""Short-time log-power spectrogram over the scheme's frequency range."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import scipy.fft
from numpy.lib.stride_tricks import sliding_window_view

from .scheme import Scheme

_EPS = np.float32(1e-10)
FFT_BATCH = 128  # frames per FFT call
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
    if n == 0:
        return np.zeros((0, scheme.max_bin - scheme.min_bin + 1), np.float32)
    x = np.ascontiguousarray(samples, dtype=np.float32)
    return _log_power(sliding_window_view(x, scheme.n_fft)[:: scheme.hop][:n], scheme)


def shift_samples(scheme: Scheme, shifts: int) -> np.ndarray:
    """Sample shift of each of `shifts` evenly spaced sub-hop grids: ``j * hop // shifts``."""
    return (np.arange(shifts) * scheme.hop) // shifts


def _log_power(windows: np.ndarray, scheme: Scheme) -> np.ndarray:
    """dB power of frames (rows of `windows`, unwindowed), bins ``min_bin..max_bin``."""
    lo, hi = scheme.min_bin, scheme.max_bin
    window = _window(scheme.n_fft)
    out = np.empty((windows.shape[0], hi - lo + 1), np.float32)
    # A batch of frames at a time: small temporaries stay in cache (several times faster
    # than one FFT of thousands of frames).
    for i in range(0, windows.shape[0], FFT_BATCH):
        spec = scipy.fft.rfft(windows[i : i + FFT_BATCH] * window, axis=-1)[:, lo : hi + 1]
        power = out[i : i + FFT_BATCH]
        np.square(spec.real, out=power)
        power += np.square(spec.imag)
    out += _EPS
    np.log(out, out=out)  # float32 ln is several times faster than log10
    out *= _DB_PER_NEPER
    return out
