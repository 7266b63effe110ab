"""fp.fingerprint: samples -> landmarks, one pass or streamed, index or query."""

from __future__ import annotations

import numpy as np
import pytest

from fp.fingerprint import CHUNK_FRAMES, Fingerprint, fingerprint, fingerprint_blocks
from fp.scheme import Scheme
from fp.spectrogram import frame_count
from tests.synth_audio import synth_song

S = Scheme()


@pytest.fixture(scope="module")
def long_song() -> np.ndarray:
    """Longer than two streaming chunks, so chunk borders are crossed."""
    seconds = 2.6 * CHUNK_FRAMES * S.hop / S.sample_rate
    return np.array(synth_song(21, seconds, S.sample_rate))


@pytest.fixture(scope="module")
def short_song() -> np.ndarray:
    return np.array(synth_song(22, 20.0, S.sample_rate))


def blocks_of(x: np.ndarray, sizes) -> list[np.ndarray]:  # type: ignore[no-untyped-def]
    out, i = [], 0
    for n in sizes:
        if i >= x.size:
            break
        out.append(x[i:i + n])
        i += n
    if i < x.size:
        out.append(x[i:])
    return out


def assert_same(a: Fingerprint, b: Fingerprint) -> None:
    assert np.array_equal(a.hashes, b.hashes)
    assert np.array_equal(a.offsets, b.offsets)
    assert a.scheme_id == b.scheme_id
    assert a.duration_s == pytest.approx(b.duration_s)


def test_index_fingerprint_basics(short_song: np.ndarray) -> None:
    f = fingerprint(short_song, S, role="index")
    assert len(f) > 100
    assert f.hashes.dtype == np.uint32 and f.offsets.dtype == np.uint32
    assert f.hashes.shape == f.offsets.shape
    assert f.scheme_id == S.id
    assert f.duration_s == pytest.approx(20.0, rel=1e-3)
    assert int(f.hashes.max()) < (1 << S.hash_bits)
    assert int(f.offsets.max()) < frame_count(short_song.size, S)


def test_query_fingerprint_basics(short_song: np.ndarray) -> None:
    f = fingerprint(short_song, S, role="query")
    assert len(f) > 0
    assert int(f.hashes.max()) < (1 << S.hash_bits)
    assert int(f.offsets.max()) <= frame_count(short_song.size, S)
    # deduplicated (hash, offset) pairs
    key = f.hashes.astype(np.uint64) << np.uint64(32) | f.offsets
    assert np.unique(key).size == key.size


@pytest.mark.parametrize("role", ["index", "query"])
def test_deterministic(short_song: np.ndarray, role: str) -> None:
    assert_same(fingerprint(short_song, S, role), fingerprint(short_song.copy(), S, role))  # type: ignore[arg-type]


@pytest.mark.parametrize("role", ["index", "query"])
@pytest.mark.parametrize("length", [0, 100, S.n_fft, 3 * S.sample_rate])
def test_silence_gives_no_landmarks(role: str, length: int) -> None:
    f = fingerprint(np.zeros(length, np.float32), S, role)  # type: ignore[arg-type]
    assert len(f) == 0
    assert f.hashes.dtype == np.uint32


@pytest.mark.parametrize("sizes", [
    "whole", [S.hop * 7], [4096], [65536], [12345], "random", [S.n_fft - 1],
], ids=["whole", "7hops", "4096", "65536", "12345", "random", "nfft-1"])
def test_streamed_equals_one_pass(long_song: np.ndarray, sizes) -> None:  # type: ignore[no-untyped-def]
    x = long_song
    if sizes == "whole":
        blocks = [x]
    elif sizes == "random":
        blocks = blocks_of(x, np.random.default_rng(5).integers(1, 40_000, 10_000))
    else:
        blocks = blocks_of(x, sizes * (x.size // sizes[0] + 1))
    assert_same(fingerprint_blocks(iter(blocks), S, role="index"), fingerprint(x, S, role="index"))


@pytest.mark.parametrize("size", [1, 7, 333])
def test_streamed_tiny_blocks(short_song: np.ndarray, size: int) -> None:
    x = short_song[: 4 * S.sample_rate]
    blocks = [x[i:i + size] for i in range(0, x.size, size)]
    assert_same(fingerprint_blocks(blocks, S), fingerprint(x, S, role="index"))


def test_streamed_empty_and_silent() -> None:
    assert len(fingerprint_blocks([], S)) == 0
    assert len(fingerprint_blocks([np.zeros(S.sample_rate, np.float32)] * 3, S)) == 0


def test_offsets_follow_the_audio(short_song: np.ndarray) -> None:
    """Delaying the audio by k whole blocks of frames delays every landmark by k frames."""
    k = 3 * S.peak_block_frames
    delayed = np.r_[np.zeros(k * S.hop, np.float32), short_song]
    a = fingerprint(short_song, S, role="index")
    b = fingerprint(delayed, S, role="index")
    sa = set(zip(a.hashes.tolist(), (a.offsets + k).tolist(), strict=True))
    sb = set(zip(b.hashes.tolist(), b.offsets.tolist(), strict=True))
    assert len(sa & sb) >= 0.95 * len(sa)


def test_query_contains_most_index_landmarks(short_song: np.ndarray) -> None:
    """A clip starting on the song's frame grid holds most of the song's landmarks there."""
    k = 37
    song = fingerprint(short_song, S, role="index")
    clip = short_song[k * S.hop: k * S.hop + 8 * S.sample_rate]
    q = fingerprint(clip, S, role="query")
    qset = set(zip(q.hashes.tolist(), (q.offsets.astype(np.int64) + k).tolist(), strict=True))
    inside = (song.offsets >= k + S.max_dt) & (song.offsets < k + frame_count(clip.size, S) - S.max_dt)
    expected = set(zip(song.hashes[inside].tolist(), song.offsets[inside].tolist(), strict=True))
    assert len(expected) > 50
    assert len(expected & qset) >= 0.8 * len(expected)


def test_different_songs_share_few_landmarks() -> None:
    a = fingerprint(np.array(synth_song(31, 15.0, S.sample_rate)), S, role="index")
    b = fingerprint(np.array(synth_song(32, 15.0, S.sample_rate)), S, role="index")
    pairs_a = set(zip(a.hashes.tolist(), a.offsets.tolist(), strict=True))
    pairs_b = set(zip(b.hashes.tolist(), b.offsets.tolist(), strict=True))
    assert len(pairs_a & pairs_b) < 0.02 * min(len(pairs_a), len(pairs_b))
