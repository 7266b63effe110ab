"""The Index seam: hash -> postings (song id, anchor frame), whatever stores them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np


@dataclass(frozen=True)
class Hits:
    """Postings found for a batch of query hashes.

    query_pos : np.ndarray, shape (h,), int64 — index of the query hash each hit answers.
    song_ids, offsets : np.ndarray, shape (h,), uint32 — the postings.
    """

    query_pos: np.ndarray
    song_ids: np.ndarray
    offsets: np.ndarray

    @classmethod
    def empty(cls) -> Hits:
        return cls(np.zeros(0, np.int64), np.zeros(0, np.uint32), np.zeros(0, np.uint32))

    def __len__(self) -> int:
        return int(self.song_ids.size)


@dataclass(frozen=True)
class IndexStats:
    backend: str
    postings: int
    songs: int
    bytes: int  # bytes the backend occupies (files on disk, or server memory)
    shards: int = 1
    details: dict[str, object] = field(default_factory=dict)


class Index(Protocol):
    """hash -> postings. Writes are staged by `add`/`remove` and durable after `commit`.

    A song's postings must be added in one `add` call; `commit` makes every staged
    change durable and visible to readers at once.
    """

    def begin_writing(self) -> None:
        """Claim the right to write (the embedded index allows one writer at a time)."""
        ...

    def add(self, song_id: int, hashes: np.ndarray, offsets: np.ndarray) -> None: ...

    def remove(self, song_ids: list[int]) -> None: ...

    def commit(self) -> None: ...

    def lookup(self, hashes: np.ndarray) -> Hits: ...

    def song_ids(self) -> set[int]: ...

    def stats(self) -> IndexStats: ...

    def get_scheme(self) -> str | None: ...

    def set_scheme(self, scheme_json: str, hash_bits: int) -> None: ...

    def close(self) -> None: ...
