"""A store: catalog + index + the fingerprint scheme they were built with.

The scheme is fixed when a store is first written and recorded in both the catalog
and the index. Later runs use the recorded scheme; a setting that asks for a
different one is refused rather than silently mixing incompatible hashes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from .catalog import Catalog, Song
from .errors import SchemeMismatchError, StoreError
from .index import Index, open_index
from .scheme import QUERY_ONLY_FIELDS, Scheme
from .settings import Settings

SCHEME_KEY = "scheme"


@dataclass(frozen=True)
class StoreStatus:
    songs: int
    pending: int
    postings: int
    audio_hours: float
    store_bytes: int
    scheme: str
    backend: str
    shards: int
    location: str

    def to_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


class Store:
    """Open catalog and index, with the store's scheme resolved."""

    def __init__(self, settings: Settings, *, create: bool = True) -> None:
        self.settings = settings
        if not create and not settings.catalog and not (settings.store / "catalog.sqlite3").exists():
            raise StoreError(f"no fp store at {settings.store} (ingest something first, "
                             "or point --store / FP_STORE at one)")
        self.catalog = (Catalog(settings.catalog) if settings.catalog
                        else Catalog.in_store(settings.store))
        try:
            self.index: Index = open_index(settings.index, settings.store, create=create)
        except Exception:
            self.catalog.close()
            raise
        try:
            self.scheme, self.scheme_recorded = self._resolve_scheme()
        except Exception:
            self.close()
            raise

    def _resolve_scheme(self) -> tuple[Scheme, bool]:
        in_catalog = self.catalog.get_meta(SCHEME_KEY)
        in_index = self.index.get_scheme()
        stored = [Scheme.from_json(j) for j in (in_catalog, in_index) if j]
        if len(stored) == 2 and stored[0].id != stored[1].id:
            raise StoreError(f"catalog and index disagree on the fingerprint scheme "
                             f"({stored[0].id} vs {stored[1].id}); they belong to different stores")
        if not stored:
            return self.settings.requested_scheme(), False
        complete = len(stored) == 2
        scheme = stored[0]
        wanted = self.settings.scheme_overrides
        changed = {k: v for k, v in wanted.items()
                   if k not in QUERY_ONLY_FIELDS and getattr(scheme, k) != v}
        if changed:
            desc = ", ".join(f"{k}={v!r} (store: {getattr(scheme, k)!r})" for k, v in changed.items())
            raise SchemeMismatchError(
                f"the store uses fingerprint scheme {scheme.id}, but settings ask for {desc}; "
                "a store cannot mix schemes: drop those settings or use a new --store"
            )
        # Query-only parameters are not part of the stored scheme (nor of its id): they
        # come from this run's settings, so query tuning applies to existing stores.
        requested = self.settings.requested_scheme()
        scheme = scheme.replace(**{k: getattr(requested, k) for k in QUERY_ONLY_FIELDS})
        return scheme, complete

    def record_scheme(self) -> None:
        """Write the scheme into catalog and index where missing (before the first posting).

        Reread under the writer lock: another writer may have recorded a different
        scheme since this store was opened, and hashes must never mix.
        """
        if self.scheme_recorded:
            return
        self.index.begin_writing()
        scheme, _ = self._resolve_scheme()
        if scheme.id != self.scheme.id:
            raise SchemeMismatchError(
                f"another writer recorded fingerprint scheme {scheme.id} in this store while "
                f"this run fingerprinted with {self.scheme.id}; nothing was added, run it again")
        text = json.dumps(self.scheme.to_dict(), sort_keys=True)
        if self.index.get_scheme() is None:
            self.index.set_scheme(text, self.scheme.hash_bits)
        if self.catalog.get_meta(SCHEME_KEY) is None:
            self.catalog.set_meta(SCHEME_KEY, text)
        self.scheme_recorded = True

    def remove(self, songs: list[Song]) -> int:
        """Remove songs and their postings; returns the postings removed."""
        if not songs:
            return 0
        self.index.begin_writing()
        # pending first: a crash between the steps leaves work that recover() finishes
        self.catalog.mark_pending(s.song_id for s in songs)
        self.index.remove([s.song_id for s in songs])
        self.index.commit()
        self.catalog.delete(s.song_id for s in songs)
        return sum(s.postings for s in songs)

    def recover(self) -> list[Song]:
        """Clean up after a crashed writer: drop pending songs and orphaned postings."""
        self.index.begin_writing()
        pending = self.catalog.list(state="pending")
        orphans = self.index.song_ids() - self.catalog.all_ids()
        if pending or orphans:
            self.index.remove([s.song_id for s in pending] + sorted(orphans))
            self.index.commit()
            self.catalog.delete(s.song_id for s in pending)
        return pending

    def status(self) -> StoreStatus:
        t = self.catalog.totals()
        ix = self.index.stats()
        catalog_bytes = 0
        if not self.settings.catalog:
            for p in self.settings.store.glob("catalog.sqlite3*"):
                catalog_bytes += p.stat().st_blocks * 512
        return StoreStatus(
            songs=t.songs, pending=t.pending, postings=t.postings,
            audio_hours=round(t.audio_s / 3600.0, 4), store_bytes=ix.bytes + catalog_bytes,
            scheme=self.scheme.id, backend=ix.backend, shards=ix.shards,
            location=str(self.settings.store),
        )

    def close(self) -> None:
        self.index.close()
        self.catalog.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
