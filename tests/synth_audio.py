"""Test helpers: synthetic songs and real encoded audio files, made in the tests.

A synthetic "song" is a seeded sequence of notes and chords: each note has a random
(continuous, not semitone-quantised) fundamental with a slight glide, a few
harmonics, a fast attack and an exponential decay, at random onsets; a little noise
is added. That is rich enough in time-frequency peaks to fingerprint well, and two
seeds share no structure (a quantised pitch grid makes unrelated songs share
landmarks, which is not what real music looks like).
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import numpy as np
import soxr

SONG_RATE = 16000
OPUS_RATES = (8000, 12000, 16000, 24000, 48000)
FORMATS = ("wav", "flac", "ogg", "opus", "mp3", "m4a")


@functools.lru_cache(maxsize=128)
def synth_song(seed: int, seconds: float = 24.0, rate: int = SONG_RATE,
               channels: int = 1) -> np.ndarray:
    """A deterministic synthetic song: float32, shape (n,) or (n, channels), peak ~0.7.

    Cached for the session; the returned array is read-only.
    """
    rng = np.random.default_rng(seed)
    n = int(round(seconds * rate))
    out = np.zeros((n, channels), np.float64)
    t = 0.0
    nyquist_cap = min(rate * 0.45, 3600.0)
    while True:
        start = int(t * rate)
        length = min(int(rng.uniform(0.1, 0.45) * rate), n - start)
        if length <= 0:
            break
        tt = np.arange(length) / rate
        env = np.minimum(1.0, tt / 0.01) * np.exp(-tt * rng.uniform(3.0, 10.0))
        seg = np.zeros(length)
        for _ in range(int(rng.integers(1, 4))):  # a note or a chord of up to 3
            f0 = float(np.exp(rng.uniform(np.log(100.0), np.log(1500.0))))
            phase = 2 * np.pi * np.cumsum(f0 * 2 ** (rng.uniform(-0.3, 0.3) * tt)) / rate
            for h in range(1, int(rng.integers(2, 6))):
                if f0 * h > nyquist_cap:
                    break
                seg += rng.uniform(0.2, 1.0) / h * np.sin(h * phase + rng.uniform(0, 2 * np.pi))
        gains = rng.uniform(0.3, 1.0, channels)
        out[start:start + length] += (seg * env)[:, None] * gains
        t += rng.uniform(0.06, 0.3)
    out *= 0.7 / max(1e-9, float(np.abs(out).max()))
    out += rng.normal(0.0, 0.005, out.shape)
    song = out.astype(np.float32)
    song = song[:, 0].copy() if channels == 1 else song
    song.setflags(write=False)
    return song


def resample(x: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    if from_rate == to_rate:
        return np.asarray(x, np.float32)
    return soxr.resample(np.asarray(x, np.float32), from_rate, to_rate, quality="HQ").astype(np.float32)


def write_audio(path: str | os.PathLike[str], samples: np.ndarray, rate: int,
                tags: dict[str, str] | None = None) -> Path:
    """Write samples ((n,) or (n, channels) float) as the format the suffix names.

    wav, flac, ogg (Vorbis) and opus (Ogg Opus) through soundfile; mp3 and m4a (AAC)
    through PyAV, so decoding is tested on really encoded files. `tags` (PyAV formats
    only) become container metadata, e.g. ``{"artist": ..., "title": ...}``.
    """
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    x = np.asarray(samples, np.float32)
    if fmt in ("wav", "flac", "ogg", "opus"):
        import soundfile as sf

        if fmt == "wav":
            sf.write(path, x, rate, subtype="PCM_16", format="WAV")
        elif fmt == "flac":
            sf.write(path, x, rate, format="FLAC")
        elif fmt == "ogg":
            sf.write(path, x, rate, format="OGG", subtype="VORBIS")
        else:
            if rate not in OPUS_RATES:
                x, rate = resample(x, rate, 48000), 48000
            sf.write(path, x, rate, format="OGG", subtype="OPUS")
    elif fmt in ("mp3", "m4a"):
        _write_pyav(path, x, rate, "mp3" if fmt == "mp3" else "aac",
                    "mp3" if fmt == "mp3" else "ipod", tags or {})
    else:
        raise ValueError(f"no writer for {fmt!r}")
    return path


def _write_pyav(path: Path, x: np.ndarray, rate: int, codec: str, container: str,
                tags: dict[str, str]) -> None:
    import av

    planar = np.ascontiguousarray((x[:, None] if x.ndim == 1 else x).T)  # (channels, n)
    layout = "mono" if planar.shape[0] == 1 else "stereo"
    with av.open(str(path), "w", format=container) as out:
        out.metadata.update(tags)
        stream = out.add_stream(codec, rate=rate)
        stream.layout = layout
        step = 4096
        for i in range(0, planar.shape[1], step):
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(planar[:, i:i + step]),
                                               format="fltp", layout=layout)
            frame.sample_rate = rate
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)


def clip(song: np.ndarray, rate: int, start_s: float, seconds: float) -> np.ndarray:
    a = int(round(start_s * rate))
    return np.array(song[a:a + int(round(seconds * rate))])


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(np.asarray(x, np.float64)))))
