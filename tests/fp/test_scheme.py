"""fp.scheme: one object with every hash-changing parameter, and a stable id."""

from __future__ import annotations

import dataclasses
import json
import re

import pytest

from fp.errors import ConfigError, SchemeMismatchError
from fp.scheme import ALGORITHM_VERSION, QUERY_ONLY_FIELDS, SCHEME_FIELDS, Scheme, check_same_scheme


def _changed(scheme: Scheme, name: str) -> Scheme | None:
    """A valid scheme differing from `scheme` in field `name` only, if one is easy to make."""
    value = getattr(scheme, name)
    candidates: list[object]
    if isinstance(value, bool):
        candidates = [not value]
    elif isinstance(value, int):
        candidates = [value + 1, value - 1, value * 2, value // 2]
    elif isinstance(value, float):
        candidates = [value * 0.9, value * 1.1, value + 0.5, value - 0.5]
    else:
        return None
    for v in candidates:
        try:
            return scheme.replace(**{name: v})
        except ConfigError:
            continue
    return None


def test_default_scheme_is_valid_and_identified() -> None:
    s = Scheme()
    assert s.version == ALGORITHM_VERSION
    assert re.fullmatch(rf"fp{ALGORITHM_VERSION}-[0-9a-f]{{8}}", s.id)
    assert s.hash_bits <= 32
    assert s.hop >= 1
    assert s.frame_seconds == pytest.approx(s.hop / s.sample_rate)
    assert 1 <= s.min_bin < s.max_bin <= s.n_fft // 2
    assert s.max_bin < (1 << s.freq_bits)


def test_id_is_deterministic() -> None:
    assert Scheme().id == Scheme().id
    assert Scheme.from_json(json.dumps(Scheme().to_dict())).id == Scheme().id


@pytest.mark.parametrize("name", [f for f in SCHEME_FIELDS if f not in QUERY_ONLY_FIELDS])
def test_every_hash_changing_field_changes_the_id(name: str) -> None:
    base = Scheme()
    other = _changed(base, name)
    if other is None:
        pytest.skip(f"no simple valid variation of {name}")
    assert other.id != base.id


@pytest.mark.parametrize("name", sorted(QUERY_ONLY_FIELDS))
def test_query_only_fields_leave_the_id_alone(name: str) -> None:
    base = Scheme()
    other = _changed(base, name)
    assert other is not None
    assert other.id == base.id
    assert name not in json.loads(base.canonical_json())


def test_round_trip_through_json() -> None:
    s = Scheme().replace(fan_value=Scheme().fan_value + 1)
    back = Scheme.from_json(json.dumps(s.to_dict()))
    assert back == s
    assert back.id == s.id
    assert set(s.to_dict()) == {f.name for f in dataclasses.fields(Scheme)}


def test_unknown_parameter_is_refused() -> None:
    with pytest.raises(ConfigError, match="nonsense"):
        Scheme.from_dict({**Scheme().to_dict(), "nonsense": 1})


@pytest.mark.parametrize("changes", [
    {"n_fft": 1000},               # not a power of two
    {"overlap_ratio": 1.0},
    {"sample_rate": 1000},
    {"fan_value": 0},
    {"min_dt": 0},
    {"version": ALGORITHM_VERSION + 1},
    {"freq_bits": 20, "dfreq_bits": 10, "dt_bits": 10},  # over 32 bits
])
def test_invalid_schemes_are_refused_with_a_message(changes: dict) -> None:
    with pytest.raises(ConfigError, match="invalid fingerprint scheme"):
        Scheme(**changes)


def test_max_dt_must_fit_the_dt_bits() -> None:
    s = Scheme()
    with pytest.raises(ConfigError):
        s.replace(max_dt=1 << s.dt_bits)


def test_check_same_scheme() -> None:
    a = Scheme()
    b = _changed(a, "fan_value")
    assert b is not None
    check_same_scheme(a, a.id)
    check_same_scheme(a.id, Scheme())
    with pytest.raises(SchemeMismatchError) as e:
        check_same_scheme(a, b)
    assert a.id in str(e.value) and b.id in str(e.value)
