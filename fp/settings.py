"""Settings, layered: defaults < config file (TOML) < environment (FP_*) < CLI flags.

Config file (``--config PATH`` or ``FP_CONFIG``)::

    store = "~/.local/share/fp"          # FP_STORE
    index = ""                           # FP_INDEX   (empty: embedded, in the store)
    catalog = ""                         # FP_CATALOG (empty: SQLite, in the store)

    [fingerprint]                        # FP_<NAME>, e.g. FP_FAN_VALUE=4
    fan_value = 3                        # any `fp.scheme.Scheme` field, or the seed
    amp_min = 6.0                        # system's name for it (peak_neighborhood_size,
                                         # default_fan_value, ...); its hash reduction is
                                         # freq_bits + dfreq_bits + dt_bits
    [ingest]
    jobs = 2                             # FP_JOBS
    limit = 0                            # FP_LIMIT: seconds per file, 0 = all

    [match]
    min_score = 8.0                      # FP_MIN_SCORE
    top = 5                              # FP_TOP
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConfigError
from .scheme import SCHEME_FIELDS, Scheme

# The seed system's knob names, mapped onto fp's scheme fields.
SEED_ALIASES = {
    "peak_neighborhood_size": "peak_neighborhood",
    "default_fan_value": "fan_value",
    "default_amp_min": "amp_min",
    "default_overlap_ratio": "overlap_ratio",
    "default_window_size": "n_fft",
    "default_fs": "sample_rate",
}


def default_store() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "fp"


@dataclass
class Settings:
    store: Path = field(default_factory=default_store)
    index: str | None = None
    catalog: str | None = None
    scheme_overrides: dict[str, Any] = field(default_factory=dict)
    jobs: int = field(default_factory=lambda: os.cpu_count() or 1)
    limit_s: float | None = None
    min_score: float | None = None
    top: int = 5

    def requested_scheme(self) -> Scheme:
        """The scheme a new store would get: defaults plus explicit overrides."""
        return Scheme().replace(**self.scheme_overrides)


def _coerce(name: str, value: Any, kind: type) -> Any:
    try:
        if kind is bool:
            return str(value).lower() in ("1", "true", "yes", "on")
        return kind(value)
    except (TypeError, ValueError):
        raise ConfigError(f"setting {name}={value!r} is not a valid {kind.__name__}") from None


def _scheme_value(name: str, value: Any) -> tuple[str, Any]:
    field_name = SEED_ALIASES.get(name, name)
    if field_name not in SCHEME_FIELDS:
        raise ConfigError(f"unknown fingerprint setting {name!r}; known: {', '.join(SCHEME_FIELDS)}")
    kind = type(getattr(Scheme(), field_name))
    return field_name, _coerce(name, value, kind)


def load_settings(config: str | os.PathLike[str] | None = None, **cli: Any) -> Settings:
    """Build settings from the layers; `cli` holds flag values (None = not given)."""
    s = Settings()
    env = os.environ
    path = config or env.get("FP_CONFIG")
    if path:
        _apply_file(s, Path(path).expanduser())
    # Environment
    if env.get("FP_STORE"):
        s.store = Path(env["FP_STORE"])
    if "FP_INDEX" in env:
        s.index = env["FP_INDEX"] or None
    if "FP_CATALOG" in env:
        s.catalog = env["FP_CATALOG"] or None
    if env.get("FP_JOBS"):
        s.jobs = _coerce("FP_JOBS", env["FP_JOBS"], int)
    if env.get("FP_LIMIT"):
        s.limit_s = _coerce("FP_LIMIT", env["FP_LIMIT"], float)
    if env.get("FP_MIN_SCORE"):
        s.min_score = _coerce("FP_MIN_SCORE", env["FP_MIN_SCORE"], float)
    if env.get("FP_TOP"):
        s.top = _coerce("FP_TOP", env["FP_TOP"], int)
    for name in SCHEME_FIELDS:
        key = "FP_" + name.upper()
        if env.get(key):
            k, v = _scheme_value(name, env[key])
            s.scheme_overrides[k] = v
    # Flags
    for key, value in cli.items():
        if value is None:
            continue
        if key in ("store",):
            s.store = Path(value)
        elif key in ("index", "catalog"):
            setattr(s, key, value or None)
        elif key == "limit_s":
            s.limit_s = float(value)
        elif key in ("jobs", "top", "min_score"):
            setattr(s, key, value)
        else:
            raise ConfigError(f"unknown setting {key!r}")
    s.store = s.store.expanduser()
    if s.limit_s is not None and s.limit_s <= 0:
        s.limit_s = None
    if s.jobs < 1:
        raise ConfigError("jobs must be at least 1")
    s.requested_scheme()  # validate overrides early, with the scheme's own message
    return s


def _apply_file(s: Settings, path: Path) -> None:
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise ConfigError(f"config file {path}: {e}") from None
    sections = {"fingerprint", "ingest", "match"}
    for key, value in data.items():
        if key == "store":
            s.store = Path(str(value))
        elif key in ("index", "catalog"):
            setattr(s, key, str(value) or None)
        elif key == "fingerprint" and isinstance(value, dict):
            for name, v in value.items():
                k, coerced = _scheme_value(name, v)
                s.scheme_overrides[k] = coerced
        elif key == "ingest" and isinstance(value, dict):
            for name, v in value.items():
                if name == "jobs":
                    s.jobs = _coerce("ingest.jobs", v, int)
                elif name in ("limit", "fingerprint_limit"):
                    s.limit_s = _coerce("ingest.limit", v, float)
                else:
                    raise ConfigError(f"config file {path}: unknown setting ingest.{name}")
        elif key == "match" and isinstance(value, dict):
            for name, v in value.items():
                if name == "min_score":
                    s.min_score = _coerce("match.min_score", v, float)
                elif name == "top":
                    s.top = _coerce("match.top", v, int)
                else:
                    raise ConfigError(f"config file {path}: unknown setting match.{name}")
        else:
            raise ConfigError(f"config file {path}: unknown setting {key!r} "
                              f"(top level: store, index, catalog; tables: {', '.join(sorted(sections))})")
