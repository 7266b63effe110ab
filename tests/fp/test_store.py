"""fp.store: catalog + index + the scheme they were built with."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from fp.errors import SchemeMismatchError, StoreError
from fp.fingerprint import Fingerprint
from fp.recognize import Recognizer
from fp.scheme import QUERY_ONLY_FIELDS, Scheme
from fp.settings import load_settings
from fp.store import SCHEME_KEY, Store
from tests.conftest import IndexedStore
from tests.fp.test_scheme import _changed


def open_store(path: Path, create: bool = True) -> Store:
    return Store(load_settings(store=path), create=create)


def snapshot(path: Path) -> dict[str, object]:
    """What a store holds: catalog rows and metadata, manifest, segment bytes."""
    con = sqlite3.connect(f"file:{path / 'catalog.sqlite3'}?mode=ro", uri=True)
    try:
        songs = con.execute("SELECT * FROM songs ORDER BY song_id").fetchall()
        meta = con.execute("SELECT * FROM fp_meta ORDER BY key").fetchall()
    finally:
        con.close()
    index = {p.name: hashlib.sha1(p.read_bytes()).hexdigest()
             for p in sorted((path / "index").iterdir()) if p.name != "LOCK"}
    return {"songs": songs, "meta": meta, "index": index}


def other_fan_value() -> int:
    return Scheme().fan_value + 1


def test_new_store_records_its_scheme(tmp_path: Path) -> None:
    with open_store(tmp_path / "s") as s:
        assert not s.scheme_recorded
        assert s.scheme == Scheme()
        s.record_scheme()
        assert s.scheme_recorded
        recorded = json.loads(s.catalog.get_meta(SCHEME_KEY) or "null")
        assert Scheme.from_dict(recorded).id == Scheme().id
        assert json.loads(s.index.get_scheme() or "null") == recorded
    with open_store(tmp_path / "s", create=False) as s:
        assert s.scheme_recorded
        assert s.scheme.id == Scheme().id
        assert s.status().scheme == Scheme().id


def test_later_runs_use_the_stored_scheme(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FP_FAN_VALUE", str(other_fan_value()))
    with open_store(tmp_path / "s") as s:
        s.record_scheme()
        made = s.scheme
    assert made.fan_value == other_fan_value() and made.id != Scheme().id
    monkeypatch.delenv("FP_FAN_VALUE")
    with open_store(tmp_path / "s") as s:  # no setting: the store's scheme, not the default
        assert s.scheme.id == made.id
        assert s.scheme.fan_value == other_fan_value()


def test_changed_setting_is_refused_and_changes_nothing(
        store_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = snapshot(store_copy)
    store_scheme = Scheme().id
    monkeypatch.setenv("FP_FAN_VALUE", str(other_fan_value()))
    with pytest.raises(SchemeMismatchError) as e:
        open_store(store_copy)
    msg = str(e.value)
    assert store_scheme in msg
    assert f"fan_value={other_fan_value()}" in msg
    assert "new --store" in msg
    assert snapshot(store_copy) == before


def test_changed_setting_in_a_config_file_is_refused(store_copy: Path, tmp_path: Path) -> None:
    cfg = tmp_path / "fp.toml"
    cfg.write_text(f"[fingerprint]\namp_min = {Scheme().amp_min + 1.5}\n")
    before = snapshot(store_copy)
    with pytest.raises(SchemeMismatchError, match="amp_min"):
        Store(load_settings(cfg, store=store_copy))
    assert snapshot(store_copy) == before


def test_same_value_as_the_store_is_fine(store_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FP_FAN_VALUE", str(Scheme().fan_value))
    with open_store(store_copy) as s:
        assert s.scheme.id == Scheme().id


@pytest.mark.parametrize("name", sorted(QUERY_ONLY_FIELDS))
def test_query_only_settings_apply_to_an_existing_store(
        name: str, store_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    changed = _changed(Scheme(), name)
    assert changed is not None
    value = getattr(changed, name)
    monkeypatch.setenv("FP_" + name.upper(), str(value))
    with open_store(store_copy) as s:
        assert s.scheme.id == Scheme().id
        assert getattr(s.scheme, name) == value


def test_query_with_another_scheme_is_refused(indexed: IndexedStore) -> None:
    with open_store(indexed.path, create=False) as s:
        r = Recognizer(s)
        other = Scheme().replace(fan_value=other_fan_value())
        fpr = Fingerprint(np.arange(100, dtype=np.uint32), np.arange(100, dtype=np.uint32),
                          other.id, 3.0)
        with pytest.raises(SchemeMismatchError) as e:
            r.recognize_fingerprint(fpr)
        assert other.id in str(e.value) and s.scheme.id in str(e.value)
        # The same landmarks under the store's scheme are answered.
        same = Fingerprint(fpr.hashes, fpr.offsets, s.scheme.id, 3.0)
        assert r.recognize_fingerprint(same).error is None


def test_catalog_and_index_from_different_stores(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with open_store(tmp_path / "a") as s:
        s.record_scheme()
    monkeypatch.setenv("FP_FAN_VALUE", str(other_fan_value()))
    with open_store(tmp_path / "b") as s:
        s.record_scheme()
    monkeypatch.delenv("FP_FAN_VALUE")
    (tmp_path / "a" / "catalog.sqlite3").replace(tmp_path / "mixed-catalog")
    (tmp_path / "b" / "catalog.sqlite3").rename(tmp_path / "a" / "catalog.sqlite3")
    with pytest.raises(StoreError, match="disagree"):
        open_store(tmp_path / "a")


def test_missing_store_without_create(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no fp store") as e:
        open_store(tmp_path / "nothing", create=False)
    assert str(tmp_path / "nothing") in str(e.value)
    assert not (tmp_path / "nothing").exists()


def test_status(indexed: IndexedStore) -> None:
    with open_store(indexed.path, create=False) as s:
        st = s.status()
        songs = s.catalog.list()
        assert st.songs == len(indexed.songs) == len(songs)
        assert st.pending == 0
        assert st.postings == sum(x.postings for x in songs) == s.index.stats().postings
        assert st.audio_hours == pytest.approx(sum(x.duration_s for x in songs) / 3600, abs=1e-3)
        assert st.store_bytes >= s.index.stats().bytes > 0
        assert st.scheme == s.scheme.id
        assert st.backend == "embedded"
        assert set(st.to_dict()) >= {"songs", "postings", "audio_hours", "store_bytes", "scheme"}


def test_remove(store_copy: Path) -> None:
    with open_store(store_copy) as s:
        songs = s.catalog.list()
        gone = songs[:2]
        removed = s.remove(gone)
        assert removed == sum(x.postings for x in gone)
        assert s.index.song_ids() == {x.song_id for x in songs[2:]}
        assert s.catalog.all_ids() == {x.song_id for x in songs[2:]}
        assert s.status().postings == s.index.stats().postings
        assert s.remove([]) == 0


def test_recover_drops_pending_songs_and_orphaned_postings(store_copy: Path) -> None:
    with open_store(store_copy) as s:
        done = s.catalog.all_ids()
        before = s.index.stats().postings
        s.index.begin_writing()
        pending = s.catalog.add_pending("half", "f" * 40, None, 1.0, s.scheme.id)
        s.index.add(pending, np.arange(50, dtype=np.uint32), np.arange(50, dtype=np.uint32))
        s.index.add(4242, np.arange(30, dtype=np.uint32), np.arange(30, dtype=np.uint32))  # no row
        s.index.commit()
        assert s.index.stats().postings == before + 80
    with open_store(store_copy) as s:
        recovered = s.recover()
        assert [x.song_id for x in recovered] == [pending]
        assert s.index.song_ids() == done == s.catalog.all_ids()
        assert s.index.stats().postings == before
        assert s.recover() == []


def test_record_scheme_rereads_the_scheme_under_the_writer_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two writers open a new store; the second must not overwrite the first's scheme."""
    from fp.errors import SchemeMismatchError
    from fp.scheme import Scheme
    from fp.settings import load_settings
    from fp.store import Store

    first = Store(load_settings(store=tmp_path / "s"))
    monkeypatch.setenv("FP_FAN_VALUE", str(Scheme().fan_value + 1))
    second = Store(load_settings(store=tmp_path / "s"))  # no scheme recorded yet either
    first.record_scheme()
    first.close()
    with pytest.raises(SchemeMismatchError):
        second.record_scheme()
    second.close()
    monkeypatch.delenv("FP_FAN_VALUE")
    with Store(load_settings(store=tmp_path / "s")) as again:
        assert again.scheme.id == Scheme().id
