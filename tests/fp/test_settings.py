"""fp.settings: defaults < config file < environment < flags."""

from __future__ import annotations

from pathlib import Path

import pytest

from fp.errors import ConfigError
from fp.scheme import Scheme
from fp.settings import default_store, load_settings


def test_defaults(_test_env: Path) -> None:
    s = load_settings()
    assert s.store == _test_env / "fp"  # $XDG_DATA_HOME/fp
    assert s.index is None and s.catalog is None
    assert s.scheme_overrides == {}
    assert s.requested_scheme() == Scheme()
    assert s.limit_s is None
    assert s.jobs >= 1


def test_default_store_without_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert default_store() == tmp_path / ".local" / "share" / "fp"


def test_layers(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fan = Scheme().fan_value
    cfg = tmp_path / "fp.toml"
    cfg.write_text(
        f'store = "{tmp_path / "from-file"}"\n'
        f"[fingerprint]\nfan_value = {fan + 1}\namp_min = 3.5\n"
        "[ingest]\njobs = 3\nlimit = 30\n"
        "[match]\nmin_score = 9.5\ntop = 7\n"
    )
    s = load_settings(cfg)
    assert s.store == tmp_path / "from-file"
    assert s.scheme_overrides == {"fan_value": fan + 1, "amp_min": 3.5}
    assert (s.jobs, s.limit_s, s.min_score, s.top) == (3, 30.0, 9.5, 7)

    # The environment beats the file ...
    monkeypatch.setenv("FP_CONFIG", str(cfg))
    monkeypatch.setenv("FP_STORE", str(tmp_path / "from-env"))
    monkeypatch.setenv("FP_FAN_VALUE", str(fan + 2))
    monkeypatch.setenv("FP_JOBS", "2")
    s = load_settings()
    assert s.store == tmp_path / "from-env"
    assert s.scheme_overrides["fan_value"] == fan + 2
    assert s.scheme_overrides["amp_min"] == 3.5
    assert s.jobs == 2
    assert s.requested_scheme().fan_value == fan + 2

    # ... and flags beat the environment; None means "flag not given".
    s = load_settings(store=tmp_path / "from-flag", jobs=1, limit_s=None)
    assert s.store == tmp_path / "from-flag"
    assert s.jobs == 1
    assert s.limit_s == 30.0


def test_seed_system_knob_names(tmp_path: Path) -> None:
    cfg = tmp_path / "fp.toml"
    cfg.write_text("[fingerprint]\npeak_neighborhood_size = 15\ndefault_fan_value = 5\n")
    s = load_settings(cfg)
    assert s.scheme_overrides == {"peak_neighborhood": 15, "fan_value": 5}


def test_limit_zero_means_everything(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FP_LIMIT", "0")
    assert load_settings().limit_s is None
    assert load_settings(limit_s=12).limit_s == 12.0


@pytest.mark.parametrize("text, match", [
    ("bogus = 1\n", "bogus"),
    ("[fingerprint]\nno_such_knob = 1\n", "no_such_knob"),
    ("[ingest]\nturbo = true\n", "turbo"),
    ("[fingerprint]\nn_fft = 1000\n", "n_fft"),
    ("this is = = not toml", "fp.toml"),
])
def test_bad_config_files(tmp_path: Path, text: str, match: str) -> None:
    cfg = tmp_path / "fp.toml"
    cfg.write_text(text)
    with pytest.raises(ConfigError, match=match):
        load_settings(cfg)


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "nope.toml")


def test_bad_environment_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FP_FAN_VALUE", "lots")
    with pytest.raises(ConfigError, match=r"FP_FAN_VALUE|fan_value"):
        load_settings()
    monkeypatch.delenv("FP_FAN_VALUE")
    monkeypatch.setenv("FP_JOBS", "0")
    with pytest.raises(ConfigError, match="jobs"):
        load_settings()


def test_unknown_flag() -> None:
    with pytest.raises(ConfigError, match="warp"):
        load_settings(warp=9)
