"""``xliff export``, ``xliff import``, ``xliff pseudo`` and ``xliff stale``: translation exchange.

In: a locale (and optionally a publication), or an XLIFF file a translator sent back. Out: an
XLIFF 2.1 or 1.2 file of what is missing or stale for the locale; the review working copies an
import stored; the stale translations. All of it is ``engine.translations`` (CONTRACT 10).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer

from content_engine.cli.errors import engine_for
from content_engine.cli.options import DbOption
from content_engine.cli.output import dump_json, write_output
from content_engine.core.xliff.exchange import MAX_XLIFF_BYTES
from content_engine.core.xliff.pseudo import PSEUDO_LOCALE
from content_engine.files.userfiles import read_regular

LocaleOption = Annotated[str, typer.Option("--locale", "-l", help="The locale to translate into.")]
PublicationOption = Annotated[
    str | None, typer.Option("--publication", "-p", help="Only what this publication uses.")
]
OutFile = Annotated[
    Path | None, typer.Option("--output", "-o", help="Write the XLIFF here (default: stdout).")
]
XliffVersion = Annotated[
    Literal["2.1", "1.2"],
    typer.Option("--xliff-version", help="2.1 (default), or 1.2 for older tools."),
]


def export(
    locale: LocaleOption,
    publication: PublicationOption = None,
    stale_only: Annotated[
        bool, typer.Option("--stale-only", help="Only translations whose source moved on.")
    ] = False,
    xliff_version: XliffVersion = "2.1",
    output: OutFile = None,
    db: DbOption = None,
) -> None:
    """Write XLIFF of every variant missing or stale for LOCALE (one unit per variant)."""
    with engine_for(db) as engine:
        data, count = engine.translations.export(
            locale, publication=publication, stale_only=stale_only, version=xliff_version
        )
    write_output(data, output)
    typer.echo(f"{count} unit{'' if count == 1 else 's'} to translate into {locale}", err=True)


def pseudo(
    locale: Annotated[
        str, typer.Option("--locale", "-l", help="The pseudo-locale's tag.")
    ] = PSEUDO_LOCALE,
    publication: PublicationOption = None,
    xliff_version: XliffVersion = "2.1",
    output: OutFile = None,
    db: DbOption = None,
) -> None:
    """Write XLIFF whose targets are pseudo-localised (accented, ~35 % longer), to import and
    preview before real translations arrive."""
    with engine_for(db) as engine:
        data, count = engine.translations.export(
            locale, publication=publication, version=xliff_version, pseudo=True
        )
    write_output(data, output)
    typer.echo(f"{count} pseudo-localised unit{'' if count == 1 else 's'} ({locale})", err=True)


def import_(
    file: Annotated[Path, typer.Argument(help="An XLIFF 2.x or 1.2 file with targets.")],
    locale: Annotated[
        str | None, typer.Option("--locale", "-l", help="Refuse a file for another locale.")
    ] = None,
    db: DbOption = None,
) -> None:
    """Store each translated unit as a review working copy (live text stays as it is)."""
    data = read_regular(file, limit=MAX_XLIFF_BYTES, what="XLIFF file")
    with engine_for(db) as engine:
        result = engine.translations.import_xliff(data, locale=locale)
    for name, version in result.saved.items():
        typer.echo(f"review {name} v{version}")
    for unit in result.untranslated:
        typer.echo(f"skipped {unit}: no target yet", err=True)
    typer.echo(
        f"{len(result.saved)} review cop{'y' if len(result.saved) == 1 else 'ies'} stored; "
        "publish them to make them live",
        err=True,
    )


def stale(
    locale: Annotated[str | None, typer.Option("--locale", "-l", help="Only this locale.")] = None,
    format: Annotated[str, typer.Option("--format", "-f", help="text or json.")] = "text",
    db: DbOption = None,
) -> None:
    """List the translations whose source has a newer live version."""
    with engine_for(db) as engine:
        found = engine.translations.stale(locale)
    if format == "json":
        rows = [s.__dict__ for s in found]
        write_output(dump_json(rows), None)
        return
    for s in found:
        typer.echo(f"{s.component}/{s.variant} ({s.locale}): {s.source} v{s.recorded} -> v{s.live}")
    typer.echo(f"{len(found)} stale translation{'' if len(found) == 1 else 's'}", err=True)


def sync(
    component: Annotated[str, typer.Argument(help="Component id.")],
    key: Annotated[str, typer.Argument(help="The translation's variant key.")],
    expected_version: Annotated[
        int, typer.Option("--expected-version", help="The version you checked (conflict check).")
    ],
    db: DbOption = None,
) -> None:
    """Mark a translation in sync with its source's live version (no new translation needed)."""
    with engine_for(db) as engine:
        saved = engine.translations.mark_in_sync(component, key, expected_version=expected_version)
    origin = saved.translated_from
    assert origin is not None
    typer.echo(
        f"{component}/{key} v{saved.version} in sync with {origin.variant} v{origin.version}"
    )
