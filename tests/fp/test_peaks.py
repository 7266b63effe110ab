"""fp.peaks: prominent local maxima, evenly spread, none in silence."""

from __future__ import annotations

import numpy as np
import pytest

from fp.peaks import band_of_bin, find_peaks
from fp.scheme import Scheme
from fp.spectrogram import log_spectrogram
from tests.synth_audio import SONG_RATE, resample, synth_song

S = Scheme()


@pytest.fixture(scope="module")
def song_spec() -> np.ndarray:
    x = resample(synth_song(11, 12.0), SONG_RATE, S.sample_rate)
    return log_spectrogram(x, S)


def test_band_of_bin() -> None:
    bands = band_of_bin(S)
    assert bands.shape == (S.max_bin - S.min_bin + 1,)
    assert bands.min() == 0 and bands.max() == S.peak_bands - 1
    assert np.all(np.diff(bands) >= 0)


def test_silence_has_no_peaks() -> None:
    spec = log_spectrogram(np.zeros(5 * S.sample_rate, np.float32), S)
    t, b, p = find_peaks(spec, S, S.peaks_per_band)
    assert t.size == b.size == p.size == 0


def test_empty_spectrogram() -> None:
    t, b, p = find_peaks(np.zeros((0, S.max_bin - S.min_bin + 1), np.float32), S, 3)
    assert t.size == b.size == p.size == 0


def test_a_tone_peaks_at_its_bin() -> None:
    freq = 1200.0
    x = (0.5 * np.sin(2 * np.pi * freq * np.arange(3 * S.sample_rate) / S.sample_rate)).astype(np.float32)
    x += np.random.default_rng(0).normal(0, 1e-5, x.size).astype(np.float32)
    t, b, p = find_peaks(log_spectrogram(x, S), S, S.peaks_per_band)
    assert t.size > 0
    assert np.all(np.abs(b - round(freq * S.n_fft / S.sample_rate)) <= 1)
    assert np.all(p >= S.amp_min)


def test_peaks_are_prominent_local_maxima_sorted(song_spec: np.ndarray) -> None:
    t, b, p = find_peaks(song_spec, S, S.peaks_per_band)
    assert t.size > 100
    assert t.dtype == np.int32 and b.dtype == np.int32
    assert np.all((b >= S.min_bin) & (b <= S.max_bin))
    assert np.all((t >= 0) & (t < song_spec.shape[0]))
    order = np.lexsort((b, t))
    assert np.array_equal(order, np.arange(t.size))  # sorted by frame, then bin
    assert np.all(p >= S.amp_min)
    # each is the maximum of its neighbourhood
    rt, rf = S.peak_neighborhood_frames // 2, S.peak_neighborhood // 2
    for ti, bi in zip(t[::25], b[::25] - S.min_bin, strict=True):
        hood = song_spec[max(0, ti - rt): ti + rt + 1, max(0, bi - rf): bi + rf + 1]
        assert song_spec[ti, bi] == hood.max()


@pytest.mark.parametrize("per_band", [1, 2, 5])
def test_at_most_per_band_peaks_per_cell(song_spec: np.ndarray, per_band: int) -> None:
    t, b, _ = find_peaks(song_spec, S, per_band)
    cells = (t // S.peak_block_frames) * S.peak_bands + band_of_bin(S)[b - S.min_bin]
    _, counts = np.unique(cells, return_counts=True)
    assert counts.max() <= per_band
    more_t, _, _ = find_peaks(song_spec, S, per_band + 3)
    assert more_t.size >= t.size


def test_first_frame_and_keep(song_spec: np.ndarray) -> None:
    """A chunk given its absolute frame number reports absolute frames, only in `keep`."""
    t_all, b_all, _ = find_peaks(song_spec, S, S.peaks_per_band)
    first = 3 * S.peak_block_frames
    t, b, _ = find_peaks(song_spec[first:], S, S.peaks_per_band, first_frame=first,
                         keep=(first + 10, first + 200))
    assert np.all((t >= first + 10) & (t < first + 200))
    # away from the chunk edge, the peaks are those of the whole pass
    lo, hi = first + S.peak_block_frames, first + 10 * S.peak_block_frames
    inner = (t >= lo) & (t < hi)
    inner_all = (t_all >= lo) & (t_all < hi)
    assert np.array_equal(t[inner], t_all[inner_all])
    assert np.array_equal(b[inner], b_all[inner_all])
