"""Writing an evaluation: a terminal table, JSON, Markdown and two PNG plots."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

Row = dict[str, Any]


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


def _ms(x: float | None) -> str:
    return "-" if x is None else f"{x:.1f}"


def markdown(rows: Sequence[Row], meta: dict[str, Any]) -> str:
    """The accuracy table (condition x clip length) and the detail table, as Markdown."""
    secs = sorted({r["secs"] for r in rows})
    conds = list(dict.fromkeys(r["condition"] for r in rows))
    cell = {(r["condition"], r["secs"]): r for r in rows}
    lines = [f"# fp evaluation: {meta.get('corpus', '')}", ""]
    lines += [f"- {k}: {v}" for k, v in meta.items() if k != "corpus"]
    lines += ["", "Top-1 accuracy (false positives on held-out tracks in brackets):", ""]
    lines.append("| condition | " + " | ".join(f"{s:g} s" for s in secs) + " |")
    lines.append("| --- |" + " --- |" * len(secs))
    for c in conds:
        cells = []
        for s in secs:
            r = cell.get((c, s))
            cells.append("-" if r is None else f"{_pct(r['top1'])} ({_pct(r['fp_rate'])})")
        lines.append(f"| {c} | " + " | ".join(cells) + " |")
    lines += ["", "| condition | clip s | clips | top-1 | offset ok | held-out clips | false pos. "
              "| median ms | p95 ms |", "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        lines.append(
            f"| {r['condition']} | {r['secs']:g} | {r['clips']} | {_pct(r['top1'])} | "
            f"{_pct(r['offset_ok'])} | {r['negative_clips']} | {r['false_positives']} | "
            f"{_ms(r['median_ms'])} | {_ms(r['p95_ms'])} |")
    return "\n".join(lines) + "\n"


def write_report(rows: Sequence[Row], meta: dict[str, Any], out: Path) -> list[Path]:
    """Write evaluation.json, evaluation.md, accuracy.png and timing.png into `out`."""
    out.mkdir(parents=True, exist_ok=True)
    written = [out / "evaluation.json", out / "evaluation.md"]
    written[0].write_text(json.dumps({"meta": meta, "rows": list(rows)}, indent=2))
    written[1].write_text(markdown(rows, meta))
    written += plot(rows, out)
    return written


def plot(rows: Sequence[Row], out: Path) -> list[Path]:
    """Accuracy vs clip length per condition; recognition time vs clip length."""
    acc = _plot_by_length(rows, "top1", 100.0, out / "accuracy.png", "top-1 accuracy (%)",
                          "Recognition accuracy by clip length", "lower right", ylim=(0, 101))
    tim = _plot_by_length(rows, "median_ms", 1.0, out / "timing.png", "median recognition time (ms)",
                          "Matching time by clip length (fingerprint + lookup + vote)", "upper left")
    return [acc, tim]


def _plot_by_length(rows: Sequence[Row], key: str, scale: float, path: Path, ylabel: str,
                    title: str, legend: str, ylim: tuple[float, float] | None = None) -> Path:
    """One line per condition: `key` (times `scale`) against clip length, saved as PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for c in dict.fromkeys(r["condition"] for r in rows):
        rs = sorted((r for r in rows if r["condition"] == c and r[key] is not None),
                    key=lambda r: r["secs"])
        ax.plot([r["secs"] for r in rs], [scale * r[key] for r in rs], marker="o", label=c)
    ax.set(xlabel="clip length (s)", ylabel=ylabel, title=title)
    if ylim:
        ax.set_ylim(*ylim)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc=legend)  # type: ignore[call-overload]
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
