"""The exceptions fp raises on purpose; everything else is a bug.

::

    FpError                    base: a message meant for the user
    ├── AudioError             the input is not usable audio
    │   ├── DecodeError        unreadable, not audio, or an unsupported format
    │   └── TooShortError      empty, silent, or shorter than a fingerprint needs
    ├── SchemeMismatchError    fingerprints made with another scheme than the store's
    ├── SongNotFoundError      no song with that id, sha1 or name
    ├── StoreError             the store cannot be opened, is locked, or is damaged
    └── ConfigError            a setting, URL or DSN is invalid

Command lines turn an ``FpError`` into its message on stderr and a non-zero exit code;
the gRPC server (later) maps each class onto a status code.
"""

from __future__ import annotations


class FpError(Exception):
    """Base of every error fp reports to a user."""


class AudioError(FpError):
    """The input cannot be used as audio."""


class DecodeError(AudioError):
    """A file or byte string could not be decoded as audio."""


class TooShortError(AudioError):
    """Audio that is empty, silent or too short to fingerprint."""


class SchemeMismatchError(FpError):
    """Fingerprints or settings that do not match the store's fingerprint scheme."""


class SongNotFoundError(FpError):
    """A SONG argument that names no song in the catalog."""


class StoreError(FpError):
    """The store cannot be opened or written (locked, damaged, unreachable)."""


class ConfigError(FpError):
    """An invalid setting, config file, URL or DSN."""
