"""A two-minute tour: make a few songs, ingest them, recognise a noisy clip.

Runs the real command lines against a throwaway store, so it needs no server and
leaves the user's default store alone. The songs are synthesised (chords and
melodies from a seeded random generator), so no audio has to be downloaded.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

RATE = 22050
BIN = Path(sys.executable).parent


def synth_song(seed: int, seconds: float = 30.0) -> np.ndarray:
    """Stereo float32: random notes with harmonics and decaying envelopes, plus hiss."""
    rng = np.random.default_rng(seed)
    n = int(seconds * RATE)
    out = np.zeros(n, np.float64)
    t = 0
    while t < n:
        length = int(rng.uniform(0.15, 0.6) * RATE)
        tt = np.arange(min(length, n - t)) / RATE
        env = np.exp(-tt * rng.uniform(2, 8))
        for _ in range(rng.integers(1, 4)):
            f0 = 110 * 2 ** (rng.integers(0, 36) / 12)
            for h in range(1, 4):
                out[t : t + tt.size] += env * np.sin(2 * np.pi * f0 * h * tt) / (h * 3)
        t += int(length * rng.uniform(0.5, 1.0))
    out += rng.normal(0, 0.01, n)
    out /= np.abs(out).max() * 1.2
    return np.stack([out, out * 0.9], axis=1).astype(np.float32)


def run(*args: str) -> None:
    print(f"$ {shlex.join(args)}", flush=True)
    subprocess.run([str(BIN / args[0]), *args[1:]], check=True)


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="fp-demo-") as tmp:
        music, store = Path(tmp) / "music", Path(tmp) / "store"
        music.mkdir()
        names = ["Aurora - Northern Lights", "Basalt - Slow River", "Cinder - Ember Waltz",
                 "Dune - Sand Theory", "Echo - Glass Hours"]
        songs = {}
        for seed, name in enumerate(names):
            songs[name] = synth_song(seed)
            fmt = ("flac", "ogg", "wav")[seed % 3]
            sf.write(music / f"{name}.{fmt}", songs[name], RATE)
        # A 5 s clip of the third song from 12.0 s on, with noise at 10 dB SNR.
        clip = songs[names[2]][12 * RATE : 17 * RATE].mean(axis=1)
        rng = np.random.default_rng(99)
        clip = clip + rng.normal(0, np.sqrt(np.mean(clip**2) / 10), clip.size)
        sf.write(Path(tmp) / "clip.wav", clip.astype(np.float32), RATE)

        print(f"fp demo: {len(names)} songs in {music}, store {store}\n")
        run("fp-indexer", "ingest", str(music), "--store", str(store))
        run("fp-indexer", "status", "--store", str(store))
        print(f"\nThe clip is '{names[2]}' from 0:12.0, with noise at 10 dB SNR:")
        run("fp-client", "recognize", str(Path(tmp) / "clip.wav"), "--store", str(store))


if __name__ == "__main__":
    main()
