"""fp: audio fingerprinting and recognition.

Embedding in a few lines::

    import fp
    report = fp.ingest("~/Music")                    # the default store
    rec = fp.recognize("clip.mp3")                   # or a numpy array + sample_rate
    print(rec.best.song_name if rec.best else "no match")

For many recognitions, open the store once::

    with fp.open_store() as store:
        r = fp.Recognizer(store)
        for clip in clips:
            print(r.recognize_samples(clip, sample_rate=44100).best)
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from .errors import (
    AudioError,
    ConfigError,
    DecodeError,
    FpError,
    SchemeMismatchError,
    SongNotFoundError,
    StoreError,
    TooShortError,
)
from .fingerprint import Fingerprint, fingerprint
from .ingest import IngestReport
from .recognize import Recognizer
from .results import Match, Recognition
from .scheme import Scheme
from .settings import Settings, load_settings
from .store import Store

__version__ = "0.1.0"

__all__ = [
    "AudioError",
    "ConfigError",
    "DecodeError",
    "Fingerprint",
    "FpError",
    "IngestReport",
    "Match",
    "Recognition",
    "Recognizer",
    "Scheme",
    "SchemeMismatchError",
    "Settings",
    "SongNotFoundError",
    "Store",
    "StoreError",
    "TooShortError",
    "fingerprint",
    "ingest",
    "load_settings",
    "open_store",
    "recognize",
]


def open_store(store: str | os.PathLike[str] | None = None, *, create: bool = True,
               **settings: Any) -> Store:
    """Open a store (default: ``FP_STORE`` or ``~/.local/share/fp``).

    Keyword arguments are settings flags: ``index``, ``catalog``, ``jobs``, ...
    """
    return Store(load_settings(store=store, **settings), create=create)


def ingest(path: str | os.PathLike[str], store: str | os.PathLike[str] | None = None,
           **options: Any) -> IngestReport:
    """Fingerprint a file or folder into a store; see `fp.ingest.ingest` for options."""
    from .ingest import ingest as _ingest

    with open_store(store) as s:
        return _ingest(s, [path], **options)


def recognize(audio: str | os.PathLike[str] | bytes | np.ndarray,
              store: str | os.PathLike[str] | None = None,
              sample_rate: int | None = None) -> Recognition:
    """Recognise a file, encoded bytes, or samples (give `sample_rate` for arrays)."""
    with open_store(store, create=False) as s:
        r = Recognizer(s)
        if isinstance(audio, np.ndarray):
            return r.recognize_samples(audio, sample_rate)
        return r.recognize_file(audio)
