"""What fp's command lines share: storage options, settings, and error handling.

Every command takes ``--store/--index/--catalog/--config`` (and their ``FP_*``
environment variables). An `FpError` becomes ``error: <message>`` on stderr with exit
code 1; usage errors exit 2 (Typer's own); Ctrl-C exits 130.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from .errors import FpError
from .settings import Settings, load_settings

StoreOpt = Annotated[Path | None, typer.Option(
    "--store", envvar="FP_STORE", show_envvar=True,
    help="Store folder for the embedded catalog and index [default: ~/.local/share/fp].")]
IndexOpt = Annotated[str | None, typer.Option(
    "--index", envvar="FP_INDEX", show_envvar=True,
    help="Index URL; unset: the embedded index inside the store.")]
CatalogOpt = Annotated[str | None, typer.Option(
    "--catalog", envvar="FP_CATALOG", show_envvar=True,
    help="Catalog DSN (sqlite:///PATH, postgresql://..., mysql://...); unset: in the store.")]
ConfigOpt = Annotated[Path | None, typer.Option(
    "--config", envvar="FP_CONFIG", show_envvar=True,
    help="TOML settings file (layered under environment and flags).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable JSON output.")]

F = TypeVar("F", bound=Callable[..., Any])


def settings_from(config: Path | None, store: Path | None, index: str | None,
                  catalog: str | None, **flags: Any) -> Settings:
    return load_settings(config, store=store, index=index, catalog=catalog, **flags)


def err(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def reports_errors(fn: F) -> F:
    """Turn fp's errors into a one-line message and exit code 1 (Ctrl-C: 130)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except FpError as e:
            err(f"error: {e}")
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            err("interrupted")
            raise typer.Exit(130) from None

    return wrapper  # type: ignore[return-value]


def progress_bar(console: Console, label: str, *columns: ProgressColumn | str,
                 enabled: bool = True) -> Progress:
    """A bar with count, `columns`, elapsed time and ETA; drawn only on a terminal."""
    return Progress(
        TextColumn(f"[bold]{label}"), BarColumn(), MofNCompleteColumn(), *columns,
        TimeElapsedColumn(), TimeRemainingColumn(),
        console=console, disable=not (enabled and console.is_terminal),
    )
