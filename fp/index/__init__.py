"""Index backends behind one seam (see `fp.index.base.Index`)."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import ConfigError
from .base import Hits, Index, IndexStats
from .embedded import EmbeddedIndex

__all__ = ["EmbeddedIndex", "Hits", "Index", "IndexStats", "open_index"]


def open_index(url: str | None, store: str | os.PathLike[str], create: bool = True) -> Index:
    """Open the index named by `url`; none means the embedded index inside `store`.

    Accepted: ``None``/``""`` (``STORE/index``), ``file:PATH`` or a plain path.
    """
    if not url:
        return EmbeddedIndex(Path(store) / "index", create=create)
    if url.startswith("file:"):
        return EmbeddedIndex(Path(url[5:]).expanduser(), create=create)
    scheme = url.split("://", 1)[0] if "://" in url else ""
    if scheme in ("redis", "rediss", "redis-cluster"):
        raise ConfigError(f"index URL {url!r}: the Redis backends are not built yet "
                          "(planned); use the embedded index (leave --index unset)")
    if scheme:
        raise ConfigError(f"index URL {url!r}: unknown scheme {scheme!r} "
                          "(expected file:PATH, or leave unset for the embedded index)")
    return EmbeddedIndex(Path(url).expanduser(), create=create)
