"""``fp-client``: name the song (and the position in it) from audio files."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from fp.commandline import (
    CatalogOpt,
    ConfigOpt,
    IndexOpt,
    JsonOpt,
    StoreOpt,
    err,
    progress_bar,
    reports_errors,
    settings_from,
)
from fp.degrade import CONDITIONS
from fp.recognize import Recognizer
from fp.results import Recognition, format_position
from fp.settings import load_settings
from fp.store import Store

app = typer.Typer(
    help="Recognise songs from audio clips against an fp store.",
    no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """Recognise songs from audio clips against an fp store."""


@app.command()
@reports_errors
def recognize(
    files: Annotated[list[Path], typer.Argument(help="Audio files (any format ffmpeg reads).")],
    json_out: JsonOpt = False,
    top: Annotated[int | None, typer.Option(min=1, max=100, envvar="FP_TOP",
                                            help="Matches to report per file [default: 5].")] = None,
    min_score: Annotated[float | None, typer.Option(
        envvar="FP_MIN_SCORE", help="Score below which the answer is 'no match'.")] = None,
    store: StoreOpt = None, index: IndexOpt = None, catalog: CatalogOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Recognise each FILE: one line per file (one JSON object per line with --json).

    Exit code 0 when every file was read (matched or not), 1 when any could not be.
    """
    settings = settings_from(config, store, index, catalog, top=top, min_score=min_score)
    failed = 0
    with Store(settings, create=False) as s:
        recognizer = Recognizer(s, top=settings.top, min_score=settings.min_score)
        for f in files:
            rec = recognizer.recognize_file(f)
            failed += rec.error is not None
            if json_out:
                print(json.dumps(rec.to_dict()), flush=True)
            else:
                _print_human(rec)
    if failed:
        raise typer.Exit(1)


@app.command()
@reports_errors
def evaluate(
    folder: Annotated[Path, typer.Argument(help="A folder of audio to evaluate on.")],
    secs: Annotated[str, typer.Option(help="Clip lengths in seconds.")] = "1,2,3,5",
    clips: Annotated[int, typer.Option(
        min=1, help="Clips per indexed track, length and condition.")] = 4,
    negatives: Annotated[int, typer.Option(min=0, help="Tracks held out (never indexed).")] = 9,
    negative_clips: Annotated[int, typer.Option(
        min=1, help="Clips per held-out track, length and condition.")] = 8,
    padding: Annotated[float, typer.Option(
        min=0, help="Clips start at least this many seconds from either end.")] = 10.0,
    seed: Annotated[int, typer.Option(help="Seed for the split, positions and noise.")] = 42,
    conditions: Annotated[str, typer.Option(
        help="Comma-separated, or 'all': " + ", ".join(CONDITIONS))] = "all",
    out: Annotated[Path, typer.Option(
        help="Folder for evaluation.json/.md and the plots.")] = Path("evaluation"),
    jobs: Annotated[int | None, typer.Option("--jobs", "-j", min=1, help="Ingest processes.")] = None,
    store: Annotated[Path | None, typer.Option(
        help="Store to index into and keep [default: a temporary one, deleted afterwards].")] = None,
) -> None:
    """Index FOLDER (minus held-out tracks), recognise degraded clips, report accuracy.

    Prints the table (condition x clip length: top-1 accuracy, offset accuracy, false
    positives on held-out tracks, recognition time) and writes it as JSON and Markdown
    with two PNG plots into --out. Deterministic for a given --seed.
    """
    from fp.evalreport import markdown, write_report
    from fp.evaluation import EvalConfig, clip_count, split_tracks, summarize
    from fp.evaluation import evaluate as run_eval
    from fp.ingest import discover, file_sha1
    from fp.ingest import ingest as run_ingest

    try:
        lengths = tuple(float(x) for x in secs.split(",") if x.strip())
    except ValueError:
        raise typer.BadParameter(f"not comma-separated seconds: {secs!r}",
                                 param_hint="'--secs'") from None
    config = EvalConfig(
        secs=lengths, clips=clips,
        negative_clips=negative_clips, padding_s=padding, seed=seed,
        conditions=tuple(CONDITIONS) if conditions == "all" else tuple(
            c.strip() for c in conditions.split(",") if c.strip()),
    )
    files = discover([folder])
    indexed, held = split_tracks(files, negatives, seed)
    console = Console(stderr=True)
    with tempfile.TemporaryDirectory(prefix="fp-eval-") as tmp:
        settings = load_settings(store=store or Path(tmp) / "store", jobs=jobs)
        with Store(settings) as s:
            console.print(f"indexing {len(indexed)} tracks ({len(held)} held out) into {settings.store}")
            run_ingest(s, indexed, jobs=settings.jobs)
            ids = {}
            for f in indexed:
                song = s.catalog.by_sha1(file_sha1(f))
                if song is not None and song.state == "done":
                    ids[f] = song.song_id
            recognizer = Recognizer(s, top=1)
            total = clip_count(config, len(ids), len(held))
            with progress_bar(console, "evaluate") as bar:
                task = bar.add_task("clips", total=total)
                outcomes = run_eval(recognizer, ids, held, config,
                                    progress=lambda n: bar.advance(task, n))
            scheme = s.scheme.id
    rows = summarize(outcomes)
    meta = {"corpus": str(folder), "indexed_tracks": len(ids), "held_out_tracks": len(held),
            "clips_per_track": clips, "negative_clips_per_track": negative_clips,
            "seed": seed, "padding_s": padding, "scheme": scheme}
    print(markdown(rows, meta))
    for p in write_report(rows, meta, out):
        err(f"wrote {p}")


def _print_human(rec: Recognition) -> None:
    if rec.error:
        err(f"error: {rec.error}")
        return
    best = rec.best
    if best is None:
        print(f"{rec.file}: no match", flush=True)
        return
    print(f"{rec.file}: {best.song_name}  at {format_position(best.offset_seconds)}  "
          f"(score {best.score:.1f}, {best.hashes_matched_in_input} hashes matched)", flush=True)


def main() -> None:
    app(prog_name="fp-client")


if __name__ == "__main__":
    main()
