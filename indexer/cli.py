"""``fp-indexer``: put songs into a store, list them, inspect it, take songs out."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import TextColumn
from rich.table import Table

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
from fp.errors import ConfigError
from fp.ingest import AUDIO_EXTENSIONS, FileEvent, IngestReport
from fp.ingest import ingest as run_ingest
from fp.store import Store

app = typer.Typer(
    help="Fingerprint audio into an fp store, and manage what is in it.",
    no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
)


class NameFrom(str, Enum):
    filename = "filename"
    tags = "tags"


@app.command()
@reports_errors
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Audio files or folders (searched recursively).")],
    ext: Annotated[str | None, typer.Option(help="Comma-separated extensions to take, e.g. mp3,ogg.")] = None,
    jobs: Annotated[int | None, typer.Option("--jobs", "-j", min=1, envvar="FP_JOBS",
                                             help="Decoding processes [default: CPU cores].")] = None,
    limit: Annotated[float | None, typer.Option(
        "--limit", min=0, envvar="FP_LIMIT",
        help="Fingerprint only the first SECONDS of each file (0: all).")] = None,
    name_from: Annotated[NameFrom, typer.Option(
        help="Song names from the file name, or 'Artist - Title' tags when present.")] = NameFrom.filename,
    json_out: JsonOpt = False,
    store: StoreOpt = None, index: IndexOpt = None, catalog: CatalogOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Fingerprint every audio file under PATHS; already indexed files are skipped."""
    settings = settings_from(config, store, index, catalog, jobs=jobs, limit_s=limit)
    extensions = AUDIO_EXTENSIONS
    if ext:
        extensions = frozenset(e.strip().lower().lstrip(".") for e in ext.split(",") if e.strip())
        if not extensions:
            raise ConfigError("--ext names no extension")
    console = Console(stderr=True)
    show_bar = console.is_terminal and not json_out
    with Store(settings) as s, progress_bar(
        console, "ingest", TextColumn("{task.fields[hours]:.2f} h audio"),
        TextColumn("{task.fields[postings]:,} postings"), enabled=show_bar,
    ) as bar:
        task = bar.add_task("ingest", total=None, hours=0.0, postings=0)
        totals = {"audio": 0.0, "postings": 0}

        def on_start(n: int) -> None:
            bar.update(task, total=n)

        def on_file(e: FileEvent) -> None:
            totals["audio"] += e.audio_s
            totals["postings"] += e.postings
            bar.update(task, advance=1, hours=totals["audio"] / 3600, postings=totals["postings"])
            if e.status == "failed":
                bar.console.print(f"[red]skipped[/red] {e.message}", markup=True, highlight=False)
            elif not show_bar and not json_out and e.status == "indexed":
                err(f"indexed {e.path} ({e.audio_s:.1f} s, {e.postings} postings)")

        report = run_ingest(s, paths, jobs=settings.jobs, limit_s=settings.limit_s,
                            extensions=extensions, name_from=name_from.value,
                            progress=on_file, on_start=on_start)
    _print_report(report, json_out)
    if report.files == 0:
        err("warning: no audio files found (extensions: " + ",".join(sorted(extensions)) + ")")
    if report.failed:
        raise typer.Exit(1)  # the others are indexed; exit 1 says some files were not


def _print_report(r: IngestReport, json_out: bool) -> None:
    if json_out:
        print(json.dumps(r.to_dict()))
        return
    rate = r.audio_s / r.wall_s if r.wall_s else 0.0
    print(f"{r.indexed} indexed, {r.skipped} already indexed, {len(r.failed)} failed "
          f"(of {r.files} files); {r.audio_s / 3600:.2f} h of audio, {r.postings:,} postings "
          f"in {r.wall_s:.1f} s ({rate:.0f}x realtime)")
    if r.recovered:
        print(f"cleaned up {r.recovered} song(s) left half-written by an interrupted run")


@app.command("list")
@reports_errors
def list_songs(
    json_out: JsonOpt = False,
    store: StoreOpt = None, index: IndexOpt = None, catalog: CatalogOpt = None,
    config: ConfigOpt = None,
) -> None:
    """List indexed songs: id, name, duration, postings, sha1."""
    settings = settings_from(config, store, index, catalog)
    with Store(settings, create=False) as s:
        songs = s.catalog.list()
    if json_out:
        for song in songs:
            print(json.dumps(song.to_dict()))
        return
    table = Table("id", "name", "duration", "postings", "sha1", box=None)
    for song in songs:
        table.add_row(str(song.song_id), song.song_name, f"{song.duration_s:.1f} s",
                      f"{song.postings:,}", song.file_sha1)
    Console().print(table)
    print(f"{len(songs)} songs")


@app.command()
@reports_errors
def status(
    json_out: JsonOpt = False,
    store: StoreOpt = None, index: IndexOpt = None, catalog: CatalogOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Songs, postings, hours of audio, store size and fingerprint scheme."""
    settings = settings_from(config, store, index, catalog)
    with Store(settings, create=False) as s:
        st = s.status()
        scheme = s.scheme.to_dict()
    if json_out:
        print(json.dumps({**st.to_dict(), "scheme_parameters": scheme}))
        return
    print(f"store      {st.location}")
    print(f"songs      {st.songs}" + (f" (+{st.pending} pending)" if st.pending else ""))
    print(f"postings   {st.postings:,}")
    print(f"audio      {st.audio_hours:.2f} h")
    print(f"size       {st.store_bytes / 1e6:.2f} MB"
          + (f" ({st.store_bytes / 1e6 / st.audio_hours:.2f} MB/h)" if st.audio_hours else ""))
    print(f"index      {st.backend}" + (f", {st.shards} shards" if st.shards > 1 else ""))
    print(f"scheme     {st.scheme}")


@app.command()
@reports_errors
def remove(
    songs: Annotated[list[str], typer.Argument(help="Song ids, sha1s or exact names.")],
    store: StoreOpt = None, index: IndexOpt = None, catalog: CatalogOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Remove songs and their postings from the store."""
    settings = settings_from(config, store, index, catalog)
    with Store(settings, create=False) as s:
        found = {}
        for ref in songs:
            song = s.catalog.resolve(ref)  # all resolved before anything is removed
            found[song.song_id] = song
        postings = s.remove(list(found.values()))
    for song in found.values():
        print(f"removed {song.song_id} {song.song_name}")
    print(f"{len(found)} song(s), {postings:,} postings removed")


def main() -> None:
    app(prog_name="fp-indexer")


if __name__ == "__main__":
    main()
