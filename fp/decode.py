"""Audio decoding: any file or byte string -> mono float32 at the fingerprint rate.

Three decoders sit behind one streaming interface, chosen per format by measurement
(CPU seconds of decoding per second of audio, children included, dev corpus, this
machine): miniaudio streaming + soxr 545x realtime on ogg/vorbis, soundfile + soxr 269x,
an ``ffmpeg`` subprocess 210x, PyAV 130x. So:

* miniaudio (dr_wav, dr_flac, dr_mp3, stb_vorbis) for WAV, FLAC, MP3 and Ogg Vorbis;
* soundfile (libsndfile) for Ogg Opus and the other formats it reads;
* PyAV (its own bundled FFmpeg) for everything else: m4a/aac, wma, video containers.

pydub, named by the product card, is not used: it runs the ``ffmpeg`` program (slower
here and a system dependency) and needs ``audioop``, which Python 3.13 removed.

Every decoder yields native-rate blocks; one soxr stream resamples them so the output
does not depend on which decoder ran. Downmix is the channel mean, for every decoder.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

import numpy as np
import soxr

from .errors import DecodeError

Source = str | os.PathLike[str] | bytes
BLOCK_FRAMES = 1 << 16
RESAMPLE_QUALITY = "LQ"  # passband ~91 %: ample below the fingerprint's max_freq


def decode(source: Source, sample_rate: int, limit_s: float | None = None) -> np.ndarray:
    """Decode a whole file (or its first `limit_s` seconds) to mono float32.

    Returns
    -------
    samples : np.ndarray, shape (n,), float32, at `sample_rate`.
    """
    blocks = list(iter_decode(source, sample_rate, limit_s))
    return np.concatenate(blocks) if blocks else np.zeros(0, np.float32)


def iter_decode(
    source: Source, sample_rate: int, limit_s: float | None = None
) -> Iterator[np.ndarray]:
    """Yield mono float32 blocks at `sample_rate`; memory stays bounded for long files."""
    name = _describe(source)
    head = _head(source)
    if not head:
        raise DecodeError(f"{name}: empty file, no audio in it")
    order = _decoders_for(head)
    errors: list[str] = []
    for decoder in order:
        try:
            native_rate, blocks = decoder(source)
        except DecodeError as e:
            errors.append(str(e))
            continue
        yield from _resampled(blocks, native_rate, sample_rate, limit_s, name)
        return
    detail = errors[-1] if errors else "no decoder"
    raise DecodeError(f"{name}: not audio, or a format fp cannot decode ({detail})")


def resample(samples: np.ndarray, from_rate: float, to_rate: float) -> np.ndarray:
    """Resample a mono float32 array (e.g. microphone input) with the decoder's resampler."""
    x = np.ascontiguousarray(samples, dtype=np.float32)
    if from_rate == to_rate:
        return x
    return soxr.resample(x, from_rate, to_rate, quality=RESAMPLE_QUALITY).astype(
        np.float32, copy=False
    )


def to_mono(samples: np.ndarray) -> np.ndarray:
    """Downmix (n,) or (n, channels) samples to (n,) float32 by the channel mean."""
    x = np.asarray(samples)
    if x.dtype.kind in "iu":  # scale before the mean, which would make the ints floats
        x = x.astype(np.float32) / float(np.iinfo(x.dtype).max)
    if x.ndim == 2:
        x = x.mean(axis=1, dtype=np.float32)
    return np.ascontiguousarray(x, dtype=np.float32)


# Internals ---------------------------------------------------------------------------

def _describe(source: Source) -> str:
    return "<audio bytes>" if isinstance(source, bytes) else str(source)


def _head(source: Source, n: int = 4096) -> bytes:
    if isinstance(source, bytes):
        return source[:n]
    try:
        with open(source, "rb") as f:
            return f.read(n)
    except IsADirectoryError:
        raise DecodeError(f"{source}: is a directory, not an audio file") from None
    except OSError as e:
        raise DecodeError(f"{source}: cannot read file: {e.strerror or e}") from None


Decoder = Callable[[Source], tuple[int, Iterator[np.ndarray]]]


def _decoders_for(head: bytes) -> list[Decoder]:
    is_riff = head[:4] == b"RIFF" and head[8:12] == b"WAVE"
    is_mp3 = head[:3] == b"ID3" or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0)
    if head[:4] == b"OggS" and b"OpusHead" in head:
        return [_soundfile_blocks, _pyav_blocks]
    if head[:4] == b"OggS" and b"\x01vorbis" in head:
        return [_miniaudio_blocks, _soundfile_blocks, _pyav_blocks]
    if head[:4] == b"fLaC" or is_riff or is_mp3:
        return [_miniaudio_blocks, _soundfile_blocks, _pyav_blocks]
    if head[:4] in (b"FORM", b"OggS"):  # AIFF, other Ogg codecs
        return [_soundfile_blocks, _pyav_blocks]
    # m4a/aac, wma, webm/mka, video, and anything unknown: FFmpeg. (libsndfile's mpg123
    # probe would print "Illegal Audio-MPEG-Header" notes on stderr for non-audio.)
    return [_pyav_blocks]


def _resampled(
    blocks: Iterator[np.ndarray], native_rate: int, rate: int, limit_s: float | None, name: str
) -> Iterator[np.ndarray]:
    remaining = None if not limit_s or limit_s <= 0 else int(round(limit_s * native_rate))
    stream = None if native_rate == rate else soxr.ResampleStream(
        native_rate, rate, 1, dtype="float32", quality=RESAMPLE_QUALITY
    )
    try:
        for block in blocks:
            if remaining is not None:
                block = block[:remaining]
                remaining -= len(block)
            if len(block):
                yield block if stream is None else stream.resample_chunk(block)
            if remaining is not None and remaining <= 0:
                break
    except DecodeError:
        raise
    except Exception as e:  # a decoder failing mid-file: report it as a decode error
        raise DecodeError(f"{name}: audio data is corrupt: {e}") from None
    if stream is not None:
        tail = stream.resample_chunk(np.zeros(0, np.float32), last=True)
        if len(tail):
            yield tail


def _miniaudio_blocks(source: Source) -> tuple[int, Iterator[np.ndarray]]:
    import miniaudio

    try:
        if isinstance(source, bytes):
            # decode() resamples to its default 44.1 kHz unless told the native rate.
            info = miniaudio.decode(source, output_format=miniaudio.SampleFormat.FLOAT32,
                                    nchannels=1, sample_rate=_miniaudio_memory_rate(source))
            data = np.frombuffer(info.samples, dtype=np.float32)
            return info.sample_rate, iter([data])
        path = os.fspath(source)
        info = miniaudio.get_file_info(path)
        gen = miniaudio.stream_file(
            path, output_format=miniaudio.SampleFormat.FLOAT32, nchannels=1,
            sample_rate=info.sample_rate, frames_to_read=BLOCK_FRAMES,
        )
    except miniaudio.MiniaudioError as e:
        raise DecodeError(f"miniaudio: {e}") from None
    if info.sample_rate <= 0:
        raise DecodeError("miniaudio: no sample rate")

    def blocks() -> Iterator[np.ndarray]:
        for chunk in gen:
            yield np.asarray(chunk, dtype=np.float32)

    return info.sample_rate, blocks()


def _miniaudio_memory_rate(data: bytes) -> int:
    import miniaudio

    for get_info in (miniaudio.wav_get_info, miniaudio.flac_get_info,
                     miniaudio.vorbis_get_info, miniaudio.mp3_get_info):
        try:
            return int(get_info(data).sample_rate)
        except miniaudio.MiniaudioError:
            continue
    raise DecodeError("miniaudio: not a wav, flac, vorbis or mp3 stream")


def _soundfile_blocks(source: Source) -> tuple[int, Iterator[np.ndarray]]:
    import soundfile as sf

    try:
        f = sf.SoundFile(io.BytesIO(source) if isinstance(source, bytes) else os.fspath(source))
    except Exception as e:  # libsndfile's errors are plain RuntimeErrors
        raise DecodeError(f"libsndfile: {e}") from None

    def blocks() -> Iterator[np.ndarray]:
        with f:
            for b in f.blocks(blocksize=BLOCK_FRAMES, dtype="float32", always_2d=True):
                yield b.mean(axis=1, dtype=np.float32) if b.shape[1] > 1 else b[:, 0].copy()

    return int(f.samplerate), blocks()


def _pyav_blocks(source: Source) -> tuple[int, Iterator[np.ndarray]]:
    import av

    fobj: str | BinaryIO = io.BytesIO(source) if isinstance(source, bytes) else os.fspath(source)
    try:
        container = av.open(fobj, mode="r")
        streams = container.streams.audio
        if not streams:
            container.close()
            raise DecodeError("no audio stream")
        stream = streams[0]
        rate = int(stream.codec_context.sample_rate or stream.rate or 0)
    except DecodeError:
        raise
    except Exception as e:  # av.error.FFmpegError and friends
        raise DecodeError(f"ffmpeg: {getattr(e, 'strerror', None) or e}") from None
    if rate <= 0:
        container.close()
        raise DecodeError("ffmpeg: no sample rate")

    def blocks() -> Iterator[np.ndarray]:
        with container:
            resampler = av.AudioResampler(format="fltp", layout=None, rate=rate)
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    yield out.to_ndarray().mean(axis=0, dtype=np.float32)
            for out in resampler.resample(None):
                yield out.to_ndarray().mean(axis=0, dtype=np.float32)

    return rate, blocks()


def is_probably_audio_name(path: Path, extensions: frozenset[str]) -> bool:
    """True when `path`'s extension is one of `extensions` (lower case, no dot)."""
    return path.suffix.lower().lstrip(".") in extensions
