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
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    conds = list(dict.fromkeys(r["condition"] for r in rows))
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for c in conds:
        rs = sorted((r for r in rows if r["condition"] == c and r["top1"] is not None),
                    key=lambda r: r["secs"])
        ax.plot([r["secs"] for r in rs], [100 * r["top1"] for r in rs], marker="o", label=c)
    ax.set(xlabel="clip length (s)", ylabel="top-1 accuracy (%)", ylim=(0, 101),
           title="Recognition accuracy by clip length")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    acc = out / "accuracy.png"
    fig.tight_layout()
    fig.savefig(acc, dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for c in conds:
        rs = sorted((r for r in rows if r["condition"] == c and r["median_ms"] is not None),
                    key=lambda r: r["secs"])
        xs = [r["secs"] for r in rs]
        ax.plot(xs, [r["median_ms"] for r in rs], marker="o", label=f"{c} (median)")
    ax.set(xlabel="clip length (s)", ylabel="recognition time (ms)",
           title="Matching time by clip length (fingerprint + lookup + vote)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    tim = out / "timing.png"
    fig.tight_layout()
    fig.savefig(tim, dpi=110)
    plt.close(fig)
    return [acc, tim]
