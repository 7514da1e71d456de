"""The commands about the library as a whole: ``import``, ``export``, ``lint``, ``coverage``.

In: a folder or a publication id. Out: the import's summary, the exported folder, the
problems found (exit 1 on an error) or the coverage rows (exit 1 on a gap with ``--strict``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from content_engine import Engine
from content_engine.cli.errors import engine_for, fail, warn
from content_engine.cli.options import DbOption
from content_engine.cli.output import dump_json, write_output
from content_engine.core.lint import WARNINGS


def import_(
    path: Annotated[Path, typer.Argument(help="The library folder.")], db: DbOption = None
) -> None:
    """Load a library folder into the repository (all or nothing)."""
    if not path.is_dir():
        fail(f"{path}: not a folder")
    with engine_for(db) as engine:
        report = engine.import_library(path)
    warn(report.warnings)
    typer.echo(report.summary(), err=True)


def export(
    path: Annotated[Path, typer.Argument(help="The folder to write.")],
    working: Annotated[
        bool,
        typer.Option(
            "--working",
            help="Write each variant's working copy (draft or review) where it has one, "
            "instead of the live version readers get.",
        ),
    ] = False,
    db: DbOption = None,
) -> None:
    """Write the repository's library back out as files: the live versions readers get."""
    with engine_for(db) as engine:
        library = engine.export_library(path, working=working)
    typer.echo(f"exported {len(library.components)} components to {path}", err=True)


LINT_HELP = (
    "Problems in the library; exit 1 if any is an error, ambiguous variants included. "
    "Warnings never fail lint; they are: "
    + "; ".join(f"{code}: {what}" for code, what in WARNINGS.items())
    + "."
)


def lint(
    path: Annotated[
        Path | None, typer.Argument(help="Lint this folder instead of the repository.")
    ] = None,
    format: Annotated[str, typer.Option("--format", "-f", help="text or json.")] = "text",
    db: DbOption = None,
) -> None:
    with engine_for(db) as engine:
        if path is None and _is_empty(engine):
            fail(
                "nothing was imported: the repository is empty; "
                "run `content-engine import FOLDER` first (or lint a folder: lint FOLDER)",
                1,
            )
        problems = engine.lint(path)
    if format == "json":
        write_output(dump_json([p.model_dump(exclude_none=True) for p in problems]), None)
    else:
        for problem in problems:
            typer.echo(f"{problem.severity}: {problem}")
        errors = sum(p.severity == "error" for p in problems)
        warnings = len(problems) - errors
        typer.echo(
            f"{errors} errors, {warnings} warnings"
            + (f" (warnings do not fail lint: {', '.join(WARNINGS)})" if warnings else ""),
            err=True,
        )
    if any(p.severity == "error" for p in problems):
        raise typer.Exit(1)


def _is_empty(engine: Engine) -> bool:
    library = engine.library()
    return not (library.components or library.publications)


def coverage(
    publication: Annotated[str, typer.Argument(help="Publication id.")],
    format: Annotated[str, typer.Option("--format", "-f", help="text or json.")] = "text",
    strict: Annotated[bool, typer.Option("--strict", help="Exit 1 if any row has a gap.")] = False,
    db: DbOption = None,
) -> None:
    """For each locale × role × region group: do the required slots resolve?"""
    with engine_for(db) as engine:
        report = engine.coverage(publication)
    if format == "json":
        write_output(dump_json(report.model_dump(mode="json")), None)
    else:
        for row in report.rows:
            status = "ok  " if row.covered else "GAP "
            line = f"{status}{row.locale:<8} {row.role or '-':<14} {row.region_group or '-':<8}"
            gaps = "; ".join(f"{g.component} in {','.join(g.regions)}" for g in row.gaps)
            falls = ", ".join(f"{f.component}<{f.locale}" for f in row.fallbacks)
            stale = ", ".join(f"{s.component}/{s.variant}" for s in row.stale)
            typer.echo(
                line
                + (f"  missing: {gaps}" if gaps else "")
                + (f"  fallback: {falls}" if falls else "")
                + (f"  stale: {stale}" if stale else "")
            )
    if strict and not report.covered:
        raise typer.Exit(1)
