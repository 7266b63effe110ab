"""fp.decode: every format to mono float32 at the asked rate; clear errors for the rest."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from fp.decode import BLOCK_FRAMES, decode, iter_decode, resample, to_mono
from fp.errors import DecodeError
from fp.scheme import Scheme
from tests.conftest import LIBRARY, SongSpec
from tests.synth_audio import FORMATS, rms, synth_song, write_audio

RATE = Scheme().sample_rate


def _spec_id(spec: SongSpec) -> str:
    return f"{spec.fmt}-{spec.rate}-{spec.channels}ch"


@pytest.mark.parametrize("spec", LIBRARY, ids=_spec_id)
def test_each_format_decodes_to_mono_float32_at_the_rate(spec: SongSpec, song_dir: Path) -> None:
    y = decode(song_dir / spec.filename, RATE)
    assert y.dtype == np.float32
    assert y.ndim == 1
    assert len(y) / RATE == pytest.approx(spec.seconds, rel=0.02)
    assert np.isfinite(y).all()
    # The content survives: loudness of the channel-mean downmix, within codec loss.
    assert rms(y) == pytest.approx(rms(spec.mono()), rel=0.15)


@pytest.mark.parametrize("rate", [8000, 11025, 22050])
def test_other_output_rates(rate: int, song_dir: Path) -> None:
    spec = LIBRARY[1]  # 44.1 kHz stereo flac
    y = decode(song_dir / spec.filename, rate)
    assert y.dtype == np.float32
    assert len(y) / rate == pytest.approx(spec.seconds, rel=0.02)


def test_lossless_decode_matches_the_samples(song_dir: Path) -> None:
    spec = LIBRARY[0]  # 16-bit wav
    y = decode(song_dir / spec.filename, spec.rate)  # native rate: no resampling
    x = spec.mono()
    assert len(y) == len(x)
    assert np.abs(y - x).max() < 1e-3  # 16-bit quantisation only


@pytest.fixture(scope="module")
def stereo_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Path, np.ndarray]]:
    """Per format: (left only, left = -right) stereo files of one signal."""
    d = tmp_path_factory.mktemp("stereo")
    x = synth_song(7, 3.0, 44100, 1)
    out = {}
    for fmt in FORMATS:
        left = write_audio(d / f"left.{fmt}", np.stack([x, np.zeros_like(x)], axis=1), 44100)
        anti = write_audio(d / f"anti.{fmt}", np.stack([x, -x], axis=1), 44100)
        out[fmt] = (left, anti, x)
    return out


@pytest.mark.parametrize("fmt", FORMATS)
def test_stereo_is_downmixed_by_the_channel_mean(fmt: str, stereo_files) -> None:
    left, anti, x = stereo_files[fmt]
    # (L + 0) / 2: half the loudness; a sqrt(2) downmix would give 0.71, left-only 1.0.
    assert rms(decode(left, RATE)) / rms(x) == pytest.approx(0.5, abs=0.05)
    # (L - L) / 2: silence.
    assert rms(decode(anti, RATE)) < 0.01 * rms(x)


@pytest.mark.parametrize("spec", [LIBRARY[0], LIBRARY[3], LIBRARY[5]], ids=_spec_id)
def test_limit_s_takes_the_first_seconds(spec: SongSpec, song_dir: Path) -> None:
    path = song_dir / spec.filename
    full = decode(path, RATE)
    head = decode(path, RATE, limit_s=3.0)
    assert len(head) / RATE == pytest.approx(3.0, rel=0.02)
    n = len(head) - RATE // 20  # the resampler's flush differs in the last few samples
    np.testing.assert_allclose(head[:n], full[:n], atol=1e-5)
    # 0 and None mean "everything"
    assert len(decode(path, RATE, limit_s=0)) == len(full)


@pytest.mark.parametrize("spec", LIBRARY, ids=_spec_id)
def test_iter_decode_streams_the_same_samples(spec: SongSpec, song_dir: Path) -> None:
    path = song_dir / spec.filename
    blocks = list(iter_decode(path, RATE))
    assert all(b.dtype == np.float32 and b.ndim == 1 for b in blocks)
    np.testing.assert_array_equal(np.concatenate(blocks), decode(path, RATE))
    # Bounded memory: a file longer than a block comes in several blocks.
    if spec.seconds * spec.rate > 2 * BLOCK_FRAMES:
        assert len(blocks) > 1
        assert max(len(b) for b in blocks) < len(np.concatenate(blocks))


@pytest.mark.parametrize("spec", LIBRARY, ids=_spec_id)
def test_bytes_input_equals_file_input(spec: SongSpec, song_dir: Path) -> None:
    path = song_dir / spec.filename
    from_bytes = decode(path.read_bytes(), RATE)
    from_file = decode(path, RATE)
    assert len(from_bytes) == len(from_file)
    np.testing.assert_allclose(from_bytes, from_file, atol=1e-4)


def test_to_mono_and_resample_helpers() -> None:
    x = synth_song(3, 2.0, 16000, 2)
    m = to_mono(x)
    assert m.dtype == np.float32 and m.shape == (x.shape[0],)
    np.testing.assert_allclose(m, x.mean(axis=1), atol=1e-6)
    # Integer samples are scaled to [-1, 1], mono and stereo alike.
    ints = (x * 32767).astype(np.int16)
    np.testing.assert_allclose(to_mono(ints[:, 0]), x[:, 0], atol=1e-4)
    np.testing.assert_allclose(to_mono(ints), x.mean(axis=1), atol=1e-4)
    r = resample(m, 16000, 8000)
    assert r.dtype == np.float32 and len(r) == pytest.approx(len(m) / 2, abs=2)
    assert resample(m, 16000, 16000) is not None and len(resample(m, 16000, 16000)) == len(m)


# Errors -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def bad_files(tmp_path_factory: pytest.TempPathFactory, song_dir: Path) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("bad")
    files = {
        "text_as_mp3": d / "notes.mp3",
        "random_bytes_ogg": d / "noise.ogg",
        "empty_wav": d / "empty.wav",
        "directory": d / "folder.flac",
    }
    files["text_as_mp3"].write_text("this is not audio at all\n" * 200)
    files["random_bytes_ogg"].write_bytes(np.random.default_rng(0).bytes(40_000))
    files["empty_wav"].write_bytes(b"")
    files["directory"].mkdir()
    m4a = (song_dir / "foxtrot.m4a").read_bytes()
    files["truncated_m4a"] = d / "cut.m4a"
    files["truncated_m4a"].write_bytes(m4a[: len(m4a) // 2])
    for spec in LIBRARY:
        if spec.fmt in ("ogg", "opus", "mp3", "m4a"):
            data = (song_dir / spec.filename).read_bytes()
            key = f"header_only_{spec.fmt}"
            files[key] = d / f"head.{spec.fmt}"
            files[key].write_bytes(data[:200])
    return files


BAD = ["text_as_mp3", "random_bytes_ogg", "empty_wav", "directory", "truncated_m4a",
       "header_only_ogg", "header_only_opus", "header_only_mp3", "header_only_m4a"]


@pytest.mark.parametrize("kind", BAD)
def test_bad_files_raise_decode_error_naming_the_path(kind: str, bad_files: dict[str, Path]) -> None:
    path = bad_files[kind]
    with pytest.raises(DecodeError) as e:
        decode(path, RATE)
    assert str(path) in str(e.value)


def test_missing_path(tmp_path: Path) -> None:
    path = tmp_path / "nope" / "missing.wav"
    with pytest.raises(DecodeError, match=r"missing\.wav") as e:
        decode(path, RATE)
    assert str(path) in str(e.value)


def test_empty_file_message(bad_files: dict[str, Path]) -> None:
    with pytest.raises(DecodeError, match="empty"):
        decode(bad_files["empty_wav"], RATE)


def test_directory_message(bad_files: dict[str, Path]) -> None:
    with pytest.raises(DecodeError, match="directory"):
        decode(bad_files["directory"], RATE)


def test_bad_bytes() -> None:
    with pytest.raises(DecodeError):
        decode(b"", RATE)
    with pytest.raises(DecodeError):
        decode(b"definitely not audio" * 100, RATE)


def test_truncated_streamable_file_decodes_what_is_there(tmp_path: Path, song_dir: Path) -> None:
    """A wav cut in the middle still yields its first part (as ffmpeg does), no crash."""
    data = (song_dir / "alpha.wav").read_bytes()
    cut = tmp_path / "cut.wav"
    cut.write_bytes(data[: len(data) // 2])
    y = decode(cut, RATE)
    assert len(y) / RATE == pytest.approx(LIBRARY[0].seconds / 2, rel=0.05)
