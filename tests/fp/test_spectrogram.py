"""fp.spectrogram: frames, shapes, where energy lands, and the dB scale."""

from __future__ import annotations

import numpy as np
import pytest

from fp.scheme import Scheme
from fp.spectrogram import frame_count, log_spectrogram

S = Scheme()


def tone(freq: float, seconds: float, amp: float = 0.5) -> np.ndarray:
    t = np.arange(int(seconds * S.sample_rate)) / S.sample_rate
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


@pytest.mark.parametrize("n", [0, 1, S.n_fft - 1, S.n_fft, S.n_fft + S.hop - 1, S.n_fft + S.hop,
                               10 * S.sample_rate])
def test_frame_count(n: int) -> None:
    expected = 0 if n < S.n_fft else 1 + (n - S.n_fft) // S.hop
    assert frame_count(n, S) == expected
    spec = log_spectrogram(np.zeros(n, np.float32), S)
    assert spec.shape == (expected, S.max_bin - S.min_bin + 1)
    assert spec.dtype == np.float32


def test_tone_energy_lands_in_its_bin() -> None:
    freq = (S.min_freq + S.max_freq) / 3
    spec = log_spectrogram(tone(freq, 2.0), S)
    expected_bin = round(freq * S.n_fft / S.sample_rate)
    peak_bins = spec.argmax(axis=1) + S.min_bin
    assert np.all(np.abs(peak_bins - expected_bin) <= 1)


def test_frames_follow_time() -> None:
    """Frame k covers samples k*hop ...: a tone starting at 1 s shows from ~frame 1 s/hop."""
    x = np.zeros(2 * S.sample_rate, np.float32)
    x[S.sample_rate:] = tone(1000.0, 1.0)
    spec = log_spectrogram(x, S)
    loud = spec.max(axis=1) > spec.max() - 20
    first = int(np.flatnonzero(loud)[0])
    expected = (S.sample_rate - S.n_fft) / S.hop
    assert expected - 1 <= first <= S.sample_rate / S.hop + 1


def test_scale_is_decibels() -> None:
    quiet = log_spectrogram(tone(900.0, 1.0, amp=0.01), S)
    loud = log_spectrogram(tone(900.0, 1.0, amp=0.1), S)
    assert float(np.median(loud.max(axis=1) - quiet.max(axis=1))) == pytest.approx(20.0, abs=0.5)


def test_silence_is_far_below_sound() -> None:
    silence = log_spectrogram(np.zeros(S.sample_rate, np.float32), S)
    quiet_tone = log_spectrogram(tone(900.0, 1.0, amp=0.001), S)
    assert np.ptp(silence) == 0
    assert silence.max() < quiet_tone.max() - 40
