"""fp.evalreport: the Markdown tables, and the JSON, Markdown and PNG files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fp.evalreport import markdown, plot, write_report
from fp.evaluation import Outcome, summarize

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
META = {"corpus": "/music", "indexed_tracks": 3, "held_out_tracks": 1, "seed": 42,
        "scheme": "v1-test"}


def o(condition: str, secs: float, negative: bool, hit: bool, ms: float) -> Outcome:
    return Outcome(condition, secs, "t.wav", negative, matched=hit, correct=hit and not negative,
                   offset_ok=hit and not negative, seconds=ms / 1000)


@pytest.fixture
def rows() -> list[dict]:
    """clean: 1 s 3/4 correct, 2 s 4/4; noise-0db: 1 s only, 1/4 correct, 1 of 8 held-out
    clips matched; mic: held-out clips only."""
    outcomes = [
        *[o("clean", 1.0, False, i < 3, 10.0) for i in range(4)],
        *[o("clean", 2.0, False, True, 20.0) for _ in range(4)],
        *[o("clean", 1.0, True, False, 10.0) for _ in range(8)],
        *[o("noise-0db", 1.0, False, i < 1, 30.0) for i in range(4)],
        *[o("noise-0db", 1.0, True, i < 1, 30.0) for i in range(8)],
        *[o("mic", 2.0, True, False, 5.0) for _ in range(2)],
    ]
    return summarize(outcomes)


def table_lines(md: str, first: str) -> list[str]:
    """The lines of the Markdown table whose header starts with `first`."""
    lines = md.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(first))
    out = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        out.append(line)
    return out


def test_markdown_accuracy_table(rows: list[dict]) -> None:
    md = markdown(rows, META)
    assert md.startswith("# fp evaluation: /music\n")
    for key in ("indexed_tracks: 3", "held_out_tracks: 1", "seed: 42", "scheme: v1-test"):
        assert f"- {key}" in md
    assert "- corpus" not in md
    header, rule, *body = table_lines(md, "| condition | 1 s")
    assert header == "| condition | 1 s | 2 s |"
    assert rule == "| --- | --- | --- |"
    assert body == [  # one row per condition, in order
        "| clean | 75.0% (0.0%) | 100.0% (-) |",
        "| noise-0db | 25.0% (12.5%) | - |",
        "| mic | - | - (0.0%) |",
    ]


def test_markdown_detail_table(rows: list[dict]) -> None:
    header, rule, *body = table_lines(markdown(rows, META), "| condition | clip s")
    assert header.count("|") == rule.count("|") == 10
    assert body == [
        "| clean | 1 | 4 | 75.0% | 100.0% | 8 | 0 | 10.0 | 10.0 |",
        "| clean | 2 | 4 | 100.0% | 100.0% | 0 | 0 | 20.0 | 20.0 |",
        "| noise-0db | 1 | 4 | 25.0% | 100.0% | 8 | 1 | 30.0 | 30.0 |",
        "| mic | 2 | 0 | - | - | 2 | 0 | 5.0 | 5.0 |",
    ]


def test_markdown_of_nothing() -> None:
    md = markdown([], {})
    assert "| condition |" in md and md.endswith("\n")


def test_write_report(rows: list[dict], tmp_path: Path) -> None:
    out = tmp_path / "reports" / "run-1"  # created, parents too
    written = write_report(rows, META, out)
    names = ["evaluation.json", "evaluation.md", "accuracy.png", "timing.png"]
    assert written == [out / n for n in names]
    assert sorted(p.name for p in out.iterdir()) == sorted(names)
    data = json.loads((out / "evaluation.json").read_text())
    assert data == {"meta": META, "rows": rows}
    assert (out / "evaluation.md").read_text() == markdown(rows, META)
    for png in written[2:]:
        assert png.stat().st_size > 1000
        assert png.read_bytes()[:8] == PNG_MAGIC
    # Writing again into the same folder replaces the files.
    write_report(rows[:1], META, out)
    assert json.loads((out / "evaluation.json").read_text())["rows"] == rows[:1]


def test_plot_skips_empty_cells(tmp_path: Path) -> None:
    rows = summarize([o("speed+2%", 3.0, True, False, 7.0)])  # top1 None
    acc, tim = plot(rows, tmp_path)
    assert acc.read_bytes()[:8] == PNG_MAGIC and tim.read_bytes()[:8] == PNG_MAGIC
