"""fp.degrade: each degradation does what it claims, measured on its output."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.signal import welch

from fp.degrade import (
    CONDITIONS,
    clean,
    microphone,
    mp3,
    pink_noise,
    room_impulse,
    speed,
    white_noise,
)
from tests.synth_audio import SONG_RATE, rms, synth_song

RATE = SONG_RATE


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def power(x: np.ndarray) -> float:
    return rms(x) ** 2


def db(ratio: float) -> float:
    return float(10 * np.log10(ratio))


def song(seconds: float = 4.0, seed: int = 7) -> np.ndarray:
    return synth_song(seed, seconds, RATE)


def tone(hz: float, seconds: float = 4.0, rate: int = RATE) -> np.ndarray:
    return (0.5 * np.sin(2 * np.pi * hz * np.arange(int(seconds * rate)) / rate)).astype(np.float32)


def peak_hz(x: np.ndarray, rate: int = RATE) -> float:
    """Frequency of the strongest component (Hann window, zero-padded, parabolic peak)."""
    n = 1 << 20
    spec = np.abs(np.fft.rfft(x * np.hanning(x.size), n))
    k = int(np.argmax(spec))
    a, b, c = np.log(spec[k - 1 : k + 2])
    return (k + 0.5 * (a - c) / (a - 2 * b + c)) * rate / n


def band_db(x: np.ndarray, lo: float, hi: float, rate: int = RATE) -> float:
    """Mean power spectral density in [lo, hi) Hz, in dB."""
    f, p = welch(np.asarray(x, np.float64), rate, nperseg=2048)
    return db(float(p[(f >= lo) & (f < hi)].mean()))


def test_conditions() -> None:
    assert set(CONDITIONS) == {"clean", "mp3-64k", "noise-5db", "noise-0db", "mic",
                               "speed+2%", "speed-2%"}
    assert CONDITIONS["clean"] is clean


@pytest.mark.parametrize("name", list(CONDITIONS))
def test_every_condition_is_float32_mono_and_deterministic(name: str) -> None:
    x = song(3.0)
    y = CONDITIONS[name](x, RATE, rng(3))
    assert y.dtype == np.float32 and y.ndim == 1
    assert np.all(np.isfinite(y))
    if not name.startswith("speed"):
        assert y.size == x.size
    assert np.array_equal(y, CONDITIONS[name](x, RATE, rng(3)))
    assert not x.flags.writeable  # the cached song was read, never written
    if name != "clean":
        assert not np.allclose(y[: x.size], x[: y.size], atol=1e-3)


@pytest.mark.parametrize("name", ["noise-5db", "noise-0db", "mic"])
def test_noise_depends_on_the_seed(name: str) -> None:
    x = song(2.0)
    a, b = CONDITIONS[name](x, RATE, rng(1)), CONDITIONS[name](x, RATE, rng(2))
    assert not np.allclose(a, b, atol=1e-3)


def test_clean_is_the_input() -> None:
    x = song(1.0)
    y = clean(x, RATE, rng())
    assert y.dtype == np.float32
    assert np.array_equal(y, x)


@pytest.mark.parametrize("snr_db", [-5.0, 0.0, 5.0, 20.0])
def test_white_noise_snr(snr_db: float) -> None:
    x = song(4.0)
    noise = white_noise(x, RATE, rng(5), snr_db=snr_db).astype(np.float64) - x
    assert db(power(x) / power(noise)) == pytest.approx(snr_db, abs=0.5)
    # White: flat spectrum (low and high bands within 1.5 dB of each other).
    assert band_db(noise, 100, 1000) == pytest.approx(band_db(noise, 5000, 7000), abs=1.5)
    assert abs(noise.mean()) < 0.05 * rms(noise)


def test_white_noise_scales_with_the_clip() -> None:
    x = song(2.0)
    quiet = white_noise(0.1 * x, RATE, rng(5), snr_db=5.0) - 0.1 * x
    loud = white_noise(x, RATE, rng(5), snr_db=5.0) - x
    assert rms(loud) == pytest.approx(10 * rms(quiet), rel=1e-3)


def test_pink_noise_unit_power_and_slope() -> None:
    n = 1 << 17
    y = pink_noise(n, rng(11))
    assert y.shape == (n,)
    assert power(y) == pytest.approx(1.0, rel=1e-9)
    assert np.array_equal(y, pink_noise(n, rng(11)))
    assert not np.allclose(y, pink_noise(n, rng(12)))
    # 1/f power: -10 dB per decade. Average the periodogram in log-spaced bands, fit a line.
    p = np.abs(np.fft.rfft(y)) ** 2
    f = np.fft.rfftfreq(n, 1 / RATE)
    edges = np.geomspace(20, 7000, 25)
    centres, levels = [], []
    for lo, hi in itertools.pairwise(edges):
        sel = (f >= lo) & (f < hi)
        centres.append(np.log10(np.sqrt(lo * hi)))
        levels.append(db(float(p[sel].mean())))
    slope = np.polyfit(centres, levels, 1)[0]
    assert slope == pytest.approx(-10.0, abs=1.0)


@pytest.mark.parametrize("rt60", [0.2, 0.5])
def test_room_impulse(rt60: float) -> None:
    h = room_impulse(RATE, rng(4), rt60=rt60)
    assert h.size == int(rt60 * RATE)
    # The direct path comes first and is the strongest; the first reflections ~5 ms later.
    assert h[0] == 1.0
    assert np.abs(h[1:]).max() < 0.5
    gap = int(0.005 * RATE)
    assert not np.any(h[1:gap]) and np.any(h[gap : gap + 10])
    assert np.sum(h[1:] ** 2) == pytest.approx(0.35**2, rel=1e-6)
    # Energy decays ~60 dB by rt60: fit dB vs time over 10 ms windows of the tail.
    w = int(0.01 * RATE)
    tail = h[gap : gap + (h.size - gap) // w * w].reshape(-1, w)
    t = (gap + w * (np.arange(tail.shape[0]) + 0.5)) / RATE
    level = 10 * np.log10(np.mean(tail**2, axis=1))
    slope = np.polyfit(t, level, 1)[0]
    assert slope * rt60 == pytest.approx(-60.0, abs=5.0)
    assert np.array_equal(h, room_impulse(RATE, rng(4), rt60=rt60))


def test_microphone_band_limits_a_broadband_input() -> None:
    x = (0.1 * rng(0).standard_normal(4 * RATE)).astype(np.float32)
    y = microphone(x, RATE, rng(1))
    assert y.size == x.size and y.dtype == np.float32

    def rel(z: np.ndarray, lo: float, hi: float) -> float:  # band level vs the 500-3000 Hz band
        return band_db(z, lo, hi) - band_db(z, 500, 3000)

    assert rel(x, 20, 150) == pytest.approx(0.0, abs=1.5)  # the input is flat
    assert rel(y, 20, 150) < -20.0
    assert rel(y, 4500, 7500) < -15.0
    assert rel(y, 500, 3000) == 0.0


def signal_and_noise(x: np.ndarray, **kw: float) -> tuple[np.ndarray, np.ndarray]:
    """Split microphone(x) into signal and noise: the noise does not depend on the
    sign of the input, so with the same seed, y(x) - y(-x) is twice the signal and
    y(x) + y(-x) twice the noise."""
    a = microphone(x, RATE, rng(9), **kw).astype(np.float64)
    b = microphone(-x, RATE, rng(9), **kw).astype(np.float64)
    return (a - b) / 2, (a + b) / 2


@pytest.mark.parametrize("snr_db", [10.0, 20.0])
def test_microphone_noise_level(snr_db: float) -> None:
    x = song(4.0)
    sig, noise = signal_and_noise(x, snr_db=snr_db)
    assert db(power(sig) / power(noise)) == pytest.approx(snr_db, abs=0.5)
    # The noise is in the phone's band too, so it hits the band that matters.
    assert db(power(sig) / power(noise)) == pytest.approx(
        band_db(sig, 300, 3400) - band_db(noise, 300, 3400), abs=3.0)


def test_microphone_default_snr_is_10db() -> None:
    sig, noise = signal_and_noise(song(3.0))
    assert db(power(sig) / power(noise)) == pytest.approx(10.0, abs=0.5)


def test_microphone_adds_reverb() -> None:
    # A click comes out with a tail lasting well beyond the band-pass filter's ringing.
    x = np.zeros(RATE, np.float32)
    x[100] = 1.0
    sig, _ = signal_and_noise(x, snr_db=60.0)
    late = sig[100 + int(0.1 * RATE) : 100 + int(0.2 * RATE)]
    assert rms(late) > 1e-3 * np.abs(sig).max()


@pytest.mark.parametrize("factor", [1.02, 0.98])
def test_speed_changes_length_and_pitch(factor: float) -> None:
    x = tone(1000.0)
    y = speed(x, RATE, rng(), factor=factor)
    assert y.dtype == np.float32
    assert y.size == pytest.approx(x.size / factor, abs=2)
    assert peak_hz(x) == pytest.approx(1000.0, abs=0.5)
    assert peak_hz(y) == pytest.approx(1000.0 * factor, abs=1.0)


def test_speed_conditions() -> None:
    x = tone(1000.0, 2.0)
    fast = CONDITIONS["speed+2%"](x, RATE, rng())
    slow = CONDITIONS["speed-2%"](x, RATE, rng())
    assert fast.size == pytest.approx(x.size / 1.02, abs=2)
    assert slow.size == pytest.approx(x.size / 0.98, abs=2)
    assert peak_hz(fast) == pytest.approx(1020.0, abs=1.0)
    assert peak_hz(slow) == pytest.approx(980.0, abs=1.0)


def best_lag(x: np.ndarray, y: np.ndarray, max_lag: int = 200) -> int:
    c = [np.dot(x[max_lag:-max_lag], y[max_lag + k : y.size - max_lag + k])
         for k in range(-max_lag, max_lag + 1)]
    return int(np.argmax(c)) - max_lag


@pytest.mark.parametrize("seconds", [3.0, 1.2345])
def test_mp3_keeps_length_and_alignment(seconds: float) -> None:
    x = song(seconds)
    y = mp3(x, RATE, rng(), kbps=64)
    assert y.dtype == np.float32 and y.size == x.size
    assert np.corrcoef(x, y)[0, 1] > 0.9
    assert best_lag(x, y) == 0
    assert np.abs(y - x).max() > 1e-3  # really re-encoded
    assert CONDITIONS["mp3-64k"](x, RATE, rng()).size == x.size


def test_mp3_bitrate_matters() -> None:
    x = song(3.0)
    err = {kbps: rms(mp3(x, RATE, rng(), kbps=kbps) - x) for kbps in (16, 128)}
    assert err[16] > 1.5 * err[128]


def test_mp3_at_another_rate() -> None:
    rate = 22050
    x = synth_song(8, 2.0, rate)
    y = mp3(x, rate, rng(), kbps=64)
    assert y.size == x.size
    assert np.corrcoef(x, y)[0, 1] > 0.9
    assert best_lag(x, y) == 0
