"""``samples crm``: write the sample CRM that the sample library's service sheet and renewal
letter read, with a sources file ready for ``--sources`` and the renewal campaign's ``batch``
lines.

In: a folder, how many customers, the day counted as today. Out: the files written (named on
standard error) and a one-line summary; no repository is opened, so ``--db`` has no place here.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated

import typer

from content_engine.cli.errors import engine_for, fail
from content_engine.cli.options import DbOption
from content_engine.engine import seed_feedback, write_sample_crm


def crm(
    out: Annotated[Path, typer.Option("--out", help="Folder for the files (created if missing).")],
    customers: Annotated[int, typer.Option("--customers", help="How many customers.")] = 1000,
    today: Annotated[
        str | None,
        typer.Option(
            "--today",
            help="The day contract end dates are counted from (YYYY-MM-DD). Default: today"
            " (UTC, as SQLite counts the days left).",
        ),
    ] = None,
) -> None:
    """Write a sample CRM (SQLite), a CSV of its contracts, a sources file reading both and
    the batch lines of the renewal letters due."""
    day = _day(today) if today is not None else datetime.now(UTC).date()
    written = write_sample_crm(out, customers, day)
    for path in (written.database, written.contracts, written.sources, written.renewals):
        typer.echo(f"wrote {path}", err=True)
    summary = (
        f"{written.customers} customers, {written.installations} installations,"
        f" {written.renewals_due} contracts ending within 90 days of {day.isoformat()}"
    )
    if written.tour_serial is not None:
        summary += f"; try --sources {written.sources} --lookup serial={written.tour_serial}"
    typer.echo(summary, err=True)


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        fail(f"--today: a date as YYYY-MM-DD, not {text!r}")


def feedback(
    readers: Annotated[int, typer.Option("--readers", min=1, max=100_000)] = 1_000,
    seed: Annotated[int, typer.Option("--seed", help="The same seed, the same answers.")] = 16,
    db: DbOption = None,
) -> None:
    """Simulate readers of the sample library's experiment (promo.hp200.cta): each is shown
    their arm, about a third answer NPS and CSAT, so ``feedback report`` shows something.
    Adds nothing when the component has feedback already."""
    with engine_for(db) as engine:
        done = seed_feedback(engine, readers, seed)
    if done.skipped:
        typer.echo("sample feedback is there already; nothing added", err=True)
    else:
        typer.echo(
            f"{done.readers} readers shown the experiment, {done.answers} answered", err=True
        )
