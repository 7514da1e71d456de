"""``batch``: render a publication once per line of a JSON-lines file, over worker processes
(``--workers``) or over a task queue and the ``worker``s serving it (``--queue``).

In: a publication id, the contexts file and an output folder. Out: one file per good line,
``OUT/failures.jsonl`` listing the bad ones, a progress bar and a summary on stderr; exit 1
if any line failed.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from content_engine import ContentEngineError, Settings
from content_engine.cli.errors import engine_for, fail
from content_engine.cli.options import (
    DbOption,
    PdfVariantOption,
    SourcesOption,
    StrictOption,
    with_pdf_variant,
)
from content_engine.engine.batch import EXTENSIONS, BatchReport, run_batch
from content_engine.engine.campaign import run_campaign
from content_engine.files.userfiles import MAX_CONTEXTS_BYTES, read_regular


def batch(
    publication: Annotated[str, typer.Argument(help="Publication id.")],
    contexts: Annotated[
        Path, typer.Option("--contexts", help="JSON lines: a context per line.", exists=False)
    ],
    out: Annotated[Path, typer.Option("--out", help="Folder for the outputs.")],
    format: Annotated[
        str, typer.Option("--format", "-f", help="pdf, pdf-a, html, json or fragment.")
    ] = "pdf",
    pdf_variant: PdfVariantOption = None,
    workers: Annotated[int, typer.Option(help="Worker processes.", min=1, max=64)] = 1,
    queue: Annotated[
        str | None,
        typer.Option(
            "--queue",
            help="Broker URL (redis://... or amqp://...): one task per line on that queue, "
            "rendered by `content-engine worker`s; only missing outputs are rendered.",
        ),
    ] = None,
    strict: StrictOption = False,
    db: DbOption = None,
    sources: SourcesOption = None,
) -> None:
    """Render a publication once per context line, with a progress bar; bad lines are reported
    (and listed in OUT/failures.jsonl) while the rest is still done."""
    format = with_pdf_variant(format, pdf_variant)
    if format not in EXTENSIONS:
        fail(f"unknown format {format!r}: use one of {', '.join(EXTENSIONS)}")
    settings = Settings.from_env(db_url=db, sources=sources)
    with engine_for(db, sources) as engine:
        engine.document_plan(publication)  # unknown publication: exit 2 before any work
    lines = _read_lines(contexts)
    with typer.progressbar(length=1, label="rendering", file=sys.stderr) as bar:

        def progress(done: int, total: int) -> None:
            bar.length = max(total, 1)
            bar.update(done - bar.pos)

        try:
            if queue is None:
                report = run_batch(
                    settings,
                    publication,
                    iter(lines),
                    fmt=format,
                    out_dir=out,
                    workers=workers,
                    strict=strict,
                    on_progress=progress,
                )
            else:
                report = run_campaign(
                    publication,
                    iter(lines),
                    fmt=format,
                    out_dir=out,
                    queue_url=queue,
                    strict=strict,
                    on_progress=progress,
                )
        except ContentEngineError as exc:
            fail(exc.message, exc.exit_code)
        except OSError as exc:
            fail(f"cannot write to {out}: {exc.strerror}", 1)
    _report(report, out)
    if report.failures:
        raise typer.Exit(1)


def _read_lines(contexts: Path) -> list[str]:
    try:
        data = read_regular(contexts, limit=MAX_CONTEXTS_BYTES, what="contexts file")
        # Lines end at "\n" only: splitlines() would also split at U+2028 and the like, which
        # JSON allows raw inside strings, and one reader's line would become two bad ones.
        return data.decode("utf-8").split("\n")
    except ContentEngineError as exc:
        fail(exc.message, exc.exit_code)
    except UnicodeDecodeError as exc:
        fail(f"cannot read {contexts}: {exc}")


def _report(report: BatchReport, out: Path) -> None:
    """``OUT/failures.jsonl``, then a line per failure and warning and the summary on stderr."""
    failures = out / "failures.jsonl"
    with failures.open("w", encoding="utf-8") as fh:
        for failure in report.failures:
            fh.write(json.dumps(failure.__dict__, ensure_ascii=False) + "\n")
            typer.echo(f"line {failure.line}: {failure.code}: {failure.message}", err=True)
    for warning in report.warnings:
        typer.echo(f"line {warning.line}: warning: {warning.message}", err=True)
    typer.echo(f"{report.summary()} in {out}", err=True)
