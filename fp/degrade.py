"""Degradations that stand in for the real world in evaluations.

Each takes mono float32 samples at `rate` and a seeded generator, and returns the
degraded samples (float32, same rate). They model what recognition meets outside:
a low-bitrate MP3 stream, broadband noise, a phone held up in a room, a turntable
or radio running slightly fast or slow.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from functools import partial

import numpy as np
import soxr
from scipy.signal import butter, fftconvolve, sosfilt

from .decode import decode

Degradation = Callable[[np.ndarray, int, np.random.Generator], np.ndarray]


def _power(x: np.ndarray) -> float:
    return float(np.mean(np.square(x, dtype=np.float64))) or 1e-12


def clean(x: np.ndarray, rate: int, rng: np.random.Generator) -> np.ndarray:
    return np.asarray(x, np.float32)


def white_noise(x: np.ndarray, rate: int, rng: np.random.Generator, snr_db: float) -> np.ndarray:
    """Add Gaussian white noise at `snr_db` dB below the clip's mean power."""
    noise = rng.standard_normal(x.size) * np.sqrt(_power(x) / 10 ** (snr_db / 10))
    return (x + noise).astype(np.float32)


def pink_noise(n: int, rng: np.random.Generator) -> np.ndarray:
    """Unit-power 1/f noise, shape (n,), by shaping white noise in the frequency domain."""
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.arange(spec.size, dtype=np.float64)
    f[0] = 1.0
    y = np.fft.irfft(spec / np.sqrt(f), n)
    return y / np.sqrt(_power(y))


def room_impulse(rate: int, rng: np.random.Generator, rt60: float = 0.3) -> np.ndarray:
    """A small room: the direct path, then exponentially decaying diffuse reflections."""
    n = int(rt60 * rate)
    t = np.arange(n) / rate
    tail = rng.standard_normal(n) * np.exp(-6.9 * t / rt60)  # -60 dB at rt60
    tail[: int(0.005 * rate)] = 0.0  # first reflections after ~5 ms
    h = 0.35 * tail / np.sqrt(np.sum(tail**2))
    h[0] = 1.0
    return h


def microphone(x: np.ndarray, rate: int, rng: np.random.Generator,
               low_hz: float = 300.0, high_hz: float = 3400.0, snr_db: float = 10.0) -> np.ndarray:
    """Phone-like capture in a small room: reverb, pink room noise at `snr_db`, band-pass.

    The noise is captured by the same microphone, so it is band-passed too (unfiltered
    pink noise would put most of its power below the band, a milder condition than
    `snr_db` says); the SNR is measured after the band-pass.
    """
    y = fftconvolve(x.astype(np.float64), room_impulse(rate, rng))[: x.size]
    sos = butter(4, [low_hz, min(high_hz, 0.45 * rate)], btype="bandpass", fs=rate, output="sos")
    y = sosfilt(sos, y)
    noise = sosfilt(sos, pink_noise(y.size, rng))
    y += noise * np.sqrt(_power(y) / _power(noise) / 10 ** (snr_db / 10))
    return y.astype(np.float32)


def speed(x: np.ndarray, rate: int, rng: np.random.Generator, factor: float) -> np.ndarray:
    """Play `factor` times as fast, pitch and tempo together (a turntable off speed)."""
    return soxr.resample(x.astype(np.float32), rate * factor, rate, quality="HQ").astype(np.float32)


def mp3(x: np.ndarray, rate: int, rng: np.random.Generator, kbps: int = 64) -> np.ndarray:
    """Encode to MP3 at `kbps` kbit/s (LAME, through PyAV) and decode back."""
    import av

    buf = io.BytesIO()
    with av.open(buf, mode="w", format="mp3") as out:
        stream = out.add_stream("mp3", rate=rate, layout="mono")
        stream.bit_rate = kbps * 1000
        pcm = np.clip(x, -1, 1).astype(np.float32)[None, :]
        frame = av.AudioFrame.from_ndarray(pcm, format="fltp", layout="mono")
        frame.rate = rate
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    y = decode(buf.getvalue(), rate)
    # The encoder's priming delay shifts the audio; keep the clip's length and alignment.
    delay = _lag(x, y)
    y = y[delay : delay + x.size] if delay >= 0 else np.r_[np.zeros(-delay, np.float32), y]
    return np.pad(y, (0, max(0, x.size - y.size)))[: x.size].astype(np.float32)


def _lag(x: np.ndarray, y: np.ndarray, max_lag: int = 4096) -> int:
    """Samples by which `y` lags `x` (cross-correlation over the first second)."""
    n = min(x.size, y.size, 1 << 15)
    if n < 16:
        return 0
    a, b = x[:n].astype(np.float64), y[: n + max_lag].astype(np.float64)
    c = fftconvolve(b, a[::-1], mode="full")[n - 1 : n - 1 + max_lag + 1]
    return int(np.argmax(c))


CONDITIONS: dict[str, Degradation] = {
    "clean": clean,
    "mp3-64k": partial(mp3, kbps=64),
    "noise-5db": partial(white_noise, snr_db=5.0),
    "noise-0db": partial(white_noise, snr_db=0.0),
    "mic": microphone,
    "speed+2%": partial(speed, factor=1.02),
    "speed-2%": partial(speed, factor=0.98),
}
