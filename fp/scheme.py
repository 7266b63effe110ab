"""The fingerprint scheme: every parameter that changes the hashes, and its id.

Two stores (or a store and a query) can only be compared when their scheme ids
are equal. The id is the algorithm version plus a short hash of the canonical
parameters that change stored hashes, e.g. ``fp1-3f9a0c1e``; query-only parameters
(`QUERY_ONLY_FIELDS`) are left out, so tuning queries never invalidates a store.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, fields
from typing import Any

from .errors import ConfigError, SchemeMismatchError

ALGORITHM_VERSION = 1


@dataclass(frozen=True)
class Scheme:
    """Hash-changing parameters of the landmark fingerprint.

    The seed system's knobs map onto these: ``DEFAULT_FS`` -> ``sample_rate``,
    ``DEFAULT_WINDOW_SIZE`` -> ``n_fft``, ``DEFAULT_OVERLAP_RATIO`` -> ``overlap_ratio``,
    ``PEAK_NEIGHBORHOOD_SIZE`` -> ``peak_neighborhood``, ``DEFAULT_AMP_MIN`` ->
    ``amp_min``, ``DEFAULT_FAN_VALUE`` -> ``fan_value``, ``FINGERPRINT_REDUCTION`` ->
    the hash bit layout (``freq_bits`` + ``dfreq_bits`` + ``dt_bits``). The
    `QUERY_ONLY_FIELDS` shape query fingerprints only and are not part of `id`.
    """

    version: int = ALGORITHM_VERSION
    sample_rate: int = 8000
    n_fft: int = 1024
    overlap_ratio: float = 0.75
    # Local-maximum neighbourhood, in bins (frequency) and frames (time), full width.
    peak_neighborhood: int = 21
    peak_neighborhood_frames: int = 5
    # Peaks weaker than `amp_min` dB above the local spectral level, or below the
    # absolute `floor_db` (power in dB re. one unit of float sample), are ignored.
    amp_min: float = 6.0
    floor_db: float = -30.0
    # Width, in bins, of the moving average that estimates the local spectral level.
    level_bins: int = 41
    # Evenly spread peaks: at most `peaks_per_band` per (time block, frequency band).
    # Index: ~42 peaks/s x fan 2 = ~83 postings/s; many anchors with few pairs each
    # gave more independent evidence per posting than fewer anchors with fan 3.
    peak_block_frames: int = 16
    peak_bands: int = 4
    peaks_per_band: int = 8
    # Queries pick denser peaks and pair wider so they contain the indexed landmarks
    # (12 / 10 rather than 10 / 8: more short noisy and microphone clips found, for ~8%
    # more query time; query-only, so stores stay valid).
    query_peaks_per_band: int = 12
    fan_value: int = 2
    query_fan_value: int = 10
    # Queries are fingerprinted at this many sub-hop sample shifts (union of the
    # landmarks): a clip's frame grid is not the song's.
    query_shifts: int = 3
    # Target zone: a landmark pairs an anchor with a later peak in this window.
    min_dt: int = 1
    max_dt: int = 63
    max_dfreq: int = 63
    # Frequency range used, in Hz.
    min_freq: float = 80.0
    max_freq: float = 3800.0
    # Hash bit layout: anchor frequency | frequency difference | time difference.
    freq_bits: int = 9
    dfreq_bits: int = 7
    dt_bits: int = 6

    def __post_init__(self) -> None:
        problems = self._problems()
        if problems:
            raise ConfigError("invalid fingerprint scheme: " + "; ".join(problems))

    def _problems(self) -> list[str]:
        p = []
        if self.version != ALGORITHM_VERSION:
            p.append(f"algorithm version {self.version} is not supported by this fp "
                     f"(it computes version {ALGORITHM_VERSION})")
        if not 4000 <= self.sample_rate <= 48000:
            p.append("sample_rate must be within 4000..48000 Hz")
        if self.n_fft < 64 or self.n_fft & (self.n_fft - 1):
            p.append("n_fft must be a power of two >= 64")
        if not 0.0 <= self.overlap_ratio < 1.0:
            p.append("overlap_ratio must be within [0, 1)")
        if self.hop < 1:
            p.append("n_fft * (1 - overlap_ratio) must be at least one sample")
        if self.peak_neighborhood < 1 or self.peak_neighborhood_frames < 1:
            p.append("peak neighbourhoods must be at least 1")
        if min(self.fan_value, self.query_fan_value, self.peaks_per_band,
               self.query_peaks_per_band, self.peak_bands, self.peak_block_frames) < 1:
            p.append("fan values, peak counts, bands and block length must be at least 1")
        if not 1 <= self.query_shifts <= self.hop:
            p.append("query_shifts must be within 1..hop")
        if not 1 <= self.min_dt <= self.max_dt < (1 << self.dt_bits):
            p.append(f"need 1 <= min_dt <= max_dt < 2**dt_bits ({1 << self.dt_bits})")
        if not 0 < self.max_dfreq < (1 << (self.dfreq_bits - 1)):
            p.append(f"max_dfreq must be below 2**(dfreq_bits-1) ({1 << (self.dfreq_bits - 1)})")
        if not 0 <= self.min_freq < self.max_freq <= self.sample_rate / 2:
            p.append("need 0 <= min_freq < max_freq <= sample_rate/2")
        elif self.max_bin >= (1 << self.freq_bits):
            p.append(f"max_freq reaches bin {self.max_bin}, which needs more than "
                     f"freq_bits={self.freq_bits} bits")
        if self.hash_bits > 32:
            p.append("freq_bits + dfreq_bits + dt_bits must be at most 32")
        return p

    # Derived values ------------------------------------------------------------------
    @property
    def hop(self) -> int:
        """Samples between spectrogram frames."""
        return int(round(self.n_fft * (1.0 - self.overlap_ratio)))

    @property
    def frame_seconds(self) -> float:
        """Seconds per spectrogram frame (the unit of offsets)."""
        return self.hop / self.sample_rate

    @property
    def min_bin(self) -> int:
        return max(1, int(round(self.min_freq * self.n_fft / self.sample_rate)))

    @property
    def max_bin(self) -> int:
        return min(self.n_fft // 2, int(round(self.max_freq * self.n_fft / self.sample_rate)))

    @property
    def hash_bits(self) -> int:
        return self.freq_bits + self.dfreq_bits + self.dt_bits

    # Identity --------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def canonical_json(self) -> str:
        """JSON of the fields that change stored hashes (not `QUERY_ONLY_FIELDS`)."""
        stored = {k: v for k, v in self.to_dict().items() if k not in QUERY_ONLY_FIELDS}
        return json.dumps(stored, sort_keys=True, separators=(",", ":"))

    @property
    def id(self) -> str:
        """``fp<version>-<8 hex>``: equal for schemes whose stored hashes are equal."""
        digest = hashlib.sha1(self.canonical_json().encode()).hexdigest()[:8]
        return f"fp{self.version}-{digest}"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Scheme:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"unknown fingerprint scheme parameter(s): {', '.join(unknown)}")
        return cls(**data)

    @classmethod
    def from_json(cls, text: str) -> Scheme:
        return cls.from_dict(json.loads(text))

    def replace(self, **changes: Any) -> Scheme:
        return dataclasses.replace(self, **changes)


SCHEME_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Scheme) if f.name != "version")
# Fields that only shape query fingerprints; they are not part of `Scheme.id`.
QUERY_ONLY_FIELDS: frozenset[str] = frozenset(
    {"query_peaks_per_band", "query_fan_value", "query_shifts"}
)


def check_same_scheme(expected: Scheme | str, got: Scheme | str, what: str = "query") -> None:
    """Raise `SchemeMismatchError` unless two schemes (or scheme ids) are the same."""
    e = expected.id if isinstance(expected, Scheme) else expected
    g = got.id if isinstance(got, Scheme) else got
    if e != g:
        raise SchemeMismatchError(
            f"{what} was fingerprinted with scheme {g}, but the store uses scheme {e}; "
            "fingerprints of different schemes cannot be compared"
        )
