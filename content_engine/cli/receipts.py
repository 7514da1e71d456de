"""``receipts purge``: drop the personal data of render receipts (retention, erasure requests).

In: how old (``--older-than DAYS``, default the retention in force), whose (``--customer ID``)
and whether only to count (``--dry-run``). Out: how many receipts were purged (or would be) on
stdout, as a number, and a line saying so on stderr.
"""

from __future__ import annotations

from typing import Annotated

import typer

from content_engine.cli.errors import engine_for
from content_engine.cli.options import DbOption
from content_engine.engine import PurgeRequest


def purge(
    older_than: Annotated[
        int | None,
        typer.Option(
            "--older-than",
            metavar="DAYS",
            min=0,
            max=36_500,
            help="Purge receipts created more than DAYS days ago. Default: the retention in "
            "force (receipts_retain_days), unless --customer is given.",
        ),
    ] = None,
    customer: Annotated[
        str | None,
        typer.Option(
            "--customer",
            metavar="ID",
            help="Purge every receipt concerning this customer id, serial or other lookup "
            "value, whatever its age (an erasure request); with --older-than, only older ones.",
        ),
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Count the receipts a purge would change; change none."),
    ] = False,
    db: DbOption = None,
) -> None:
    """Drop the personal data (customer, product, data, lookup) of render receipts.

    What a purge keeps (publication, versions, output digest, locale, role, region, segments,
    channel, time) stays readable for audit; a purged receipt is never replayed."""
    request = PurgeRequest(older_than_days=older_than, customer=customer, dry_run=dry_run)
    with engine_for(db) as engine:
        count = engine.retention.purge(request)
    typer.echo(str(count))
    verb = "would purge" if dry_run else "purged"
    typer.echo(f"{verb} the personal data of {count} render receipt(s)", err=True)
