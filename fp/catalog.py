"""The Catalog seam: song metadata in a relational database, one code path.

SQLAlchemy Core over SQLite (the embedded default); the same statements serve
PostgreSQL and MySQL/MariaDB once their drivers are installed. The songs table is
named ``songs`` so other systems can read it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from .errors import ConfigError, SongNotFoundError, StoreError

PENDING, DONE = "pending", "done"

metadata = sa.MetaData()

songs = sa.Table(
    "songs", metadata,
    sa.Column("song_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("song_name", sa.String(512), nullable=False, index=True),
    sa.Column("file_sha1", sa.String(40), nullable=False, unique=True),
    sa.Column("source", sa.Text, nullable=True),
    sa.Column("duration_s", sa.Float, nullable=False, default=0.0),
    sa.Column("postings", sa.BigInteger, nullable=False, default=0),
    sa.Column("state", sa.String(16), nullable=False, default=PENDING, index=True),
    sa.Column("scheme_id", sa.String(32), nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    sqlite_autoincrement=True,  # never reuse a removed song's id
)

meta = sa.Table(
    "fp_meta", metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)


@dataclass(frozen=True)
class Song:
    song_id: int
    song_name: str
    file_sha1: str
    source: str | None
    duration_s: float
    postings: int
    state: str
    scheme_id: str

    def to_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Totals:
    songs: int
    postings: int
    audio_s: float
    pending: int


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def engine_url(dsn: str) -> str:
    """Map a user DSN onto an SQLAlchemy URL with a concrete driver."""
    if dsn.startswith(("postgres://", "postgresql://")):
        return "postgresql+psycopg://" + dsn.split("://", 1)[1]
    if dsn.startswith(("mysql://", "mariadb://")):
        return "mysql+pymysql://" + dsn.split("://", 1)[1]
    if dsn.startswith("sqlite:"):
        return dsn
    raise ConfigError(f"catalog DSN {dsn!r}: expected sqlite:///PATH, postgresql://... "
                      "or mysql://...")


class Catalog:
    """Songs and store-wide metadata (the fingerprint scheme)."""

    def __init__(self, dsn: str) -> None:
        url = engine_url(dsn)
        self.dsn = dsn
        try:
            self.engine: Engine = sa.create_engine(url, future=True)
        except ModuleNotFoundError as e:
            raise ConfigError(f"catalog {dsn!r} needs the database driver {e.name!r}; "
                              "install it (e.g. pip install 'psycopg[binary]' or pymysql)") from None
        if self.engine.dialect.name == "sqlite":
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
        try:
            metadata.create_all(self.engine)
        except sa.exc.SQLAlchemyError as e:
            raise StoreError(f"cannot open catalog {dsn}: {e.__class__.__name__}: "
                             f"{e.args[0] if e.args else e}") from None

    @classmethod
    def in_store(cls, store: Path) -> Catalog:
        store.mkdir(parents=True, exist_ok=True)
        return cls(f"sqlite:///{store / 'catalog.sqlite3'}")

    # Metadata -------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        with self.engine.connect() as c:
            return c.execute(sa.select(meta.c.value).where(meta.c.key == key)).scalar()

    def set_meta(self, key: str, value: str) -> None:
        with self.engine.begin() as c:
            if c.execute(sa.select(meta.c.key).where(meta.c.key == key)).first():
                c.execute(meta.update().where(meta.c.key == key).values(value=value))
            else:
                c.execute(meta.insert().values(key=key, value=value))

    # Songs ----------------------------------------------------------------------
    def add_pending(self, name: str, sha1: str, source: str | None, duration_s: float,
                    scheme_id: str) -> int:
        """Insert a song in state pending; returns its new song_id."""
        now = _now()
        with self.engine.begin() as c:
            r = c.execute(songs.insert().values(
                song_name=name[:512], file_sha1=sha1, source=source, duration_s=duration_s,
                postings=0, state=PENDING, scheme_id=scheme_id, created_at=now, updated_at=now,
            ))
            key = r.inserted_primary_key
            if key is None:
                raise StoreError("the catalog did not return the new song's id")
            return int(key[0])

    def mark_done(self, postings: dict[int, int]) -> None:
        """Mark songs done, recording their posting counts, in one transaction."""
        if not postings:
            return
        now = _now()
        with self.engine.begin() as c:
            for song_id, n in postings.items():
                c.execute(songs.update().where(songs.c.song_id == song_id)
                          .values(state=DONE, postings=n, updated_at=now))

    def mark_pending(self, song_ids: Iterable[int]) -> None:
        """Put songs back to pending (a removal in progress; recovery finishes it)."""
        ids = list(song_ids)
        if ids:
            with self.engine.begin() as c:
                c.execute(songs.update().where(songs.c.song_id.in_(ids))
                          .values(state=PENDING, updated_at=_now()))

    def delete(self, song_ids: Iterable[int]) -> None:
        ids = list(song_ids)
        if ids:
            with self.engine.begin() as c:
                c.execute(songs.delete().where(songs.c.song_id.in_(ids)))

    def by_sha1(self, sha1: str) -> Song | None:
        return self._one(songs.c.file_sha1 == sha1)

    def done_sha1s(self) -> set[str]:
        with self.engine.connect() as c:
            return set(c.execute(sa.select(songs.c.file_sha1).where(songs.c.state == DONE))
                       .scalars())

    def get(self, song_ids: Iterable[int]) -> dict[int, Song]:
        ids = list({int(i) for i in song_ids})
        if not ids:
            return {}
        with self.engine.connect() as c:
            rows = c.execute(sa.select(songs).where(songs.c.song_id.in_(ids))).mappings()
            return {r["song_id"]: _song(r) for r in rows}

    def list(self, state: str | None = DONE) -> list[Song]:
        q = sa.select(songs).order_by(songs.c.song_id)
        if state is not None:
            q = q.where(songs.c.state == state)
        with self.engine.connect() as c:
            return [_song(r) for r in c.execute(q).mappings()]

    def all_ids(self) -> set[int]:
        with self.engine.connect() as c:
            return set(c.execute(sa.select(songs.c.song_id)).scalars())

    def resolve(self, ref: str) -> Song:
        """Find a song by id, sha1 or exact name; an ambiguous name is an error."""
        ref = ref.strip()
        if ref.isdigit():
            found = self.get([int(ref)]).get(int(ref))
            if found:
                return found
        if len(ref) == 40 and all(ch in "0123456789abcdefABCDEF" for ch in ref):
            found = self.by_sha1(ref.lower())
            if found:
                return found
        with self.engine.connect() as c:
            rows = [_song(r) for r in c.execute(
                sa.select(songs).where(songs.c.song_name == ref)).mappings()]
        if len(rows) == 1:
            return rows[0]
        if len(rows) > 1:
            ids = ", ".join(str(s.song_id) for s in rows)
            raise SongNotFoundError(f"{len(rows)} songs are named {ref!r} (ids {ids}); "
                                    "give the id or sha1 instead")
        raise SongNotFoundError(f"no song with id, sha1 or name {ref!r}")

    def totals(self) -> Totals:
        with self.engine.connect() as c:
            row = c.execute(sa.select(
                sa.func.count(), sa.func.coalesce(sa.func.sum(songs.c.postings), 0),
                sa.func.coalesce(sa.func.sum(songs.c.duration_s), 0.0),
            ).where(songs.c.state == DONE)).one()
            pending = c.execute(sa.select(sa.func.count()).where(songs.c.state != DONE)).scalar()
        return Totals(int(row[0]), int(row[1]), float(row[2]), int(pending or 0))

    def _one(self, cond: sa.ColumnElement[bool]) -> Song | None:
        with self.engine.connect() as c:
            r = c.execute(sa.select(songs).where(cond)).mappings().first()
        return _song(r) if r else None

    def close(self) -> None:
        self.engine.dispose()


def _song(r: sa.RowMapping) -> Song:
    return Song(
        song_id=int(r["song_id"]), song_name=r["song_name"], file_sha1=r["file_sha1"],
        source=r["source"], duration_s=float(r["duration_s"]), postings=int(r["postings"]),
        state=r["state"], scheme_id=r["scheme_id"],
    )


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")  # readers run while an ingest writes
    cur.execute("PRAGMA synchronous=FULL")  # "done" must survive power loss (index is fsynced)
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()
