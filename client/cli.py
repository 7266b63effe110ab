"""``fp-client``: name the song (and the position in it) from audio files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from fp.commandline import (
    CatalogOpt,
    ConfigOpt,
    IndexOpt,
    JsonOpt,
    StoreOpt,
    err,
    reports_errors,
    settings_from,
)
from fp.recognize import Recognizer
from fp.results import Recognition, format_position
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
