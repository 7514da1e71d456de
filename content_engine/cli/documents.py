"""The commands that assemble for one reader: ``render``, ``block`` and ``explain``.

In: an id and the reader options. Out: the rendered document, the block's fragment (or JSON),
or the trace of every variant judged, on stdout or ``-o FILE``.
"""

from __future__ import annotations

from typing import Annotated

import typer

from content_engine import Selection
from content_engine.cli.errors import engine_for, fail, warn
from content_engine.cli.options import (
    DbOption,
    OutOption,
    PdfVariantOption,
    Preview,
    SourcesOption,
    with_pdf_variant,
)
from content_engine.cli.output import dump_json, write_output
from content_engine.cli.reader import ReaderOptions, takes_reader
from content_engine.core.selection import VariantTrace


@takes_reader
def render(
    publication: Annotated[str, typer.Argument(help="Publication id.")],
    reader: ReaderOptions,
    format: Annotated[
        str, typer.Option("--format", "-f", help="html, pdf, pdf-a, json or fragment.")
    ] = "html",
    pdf_variant: PdfVariantOption = None,
    output: OutOption = None,
    preview: Preview = False,
    db: DbOption = None,
    sources: SourcesOption = None,
) -> None:
    """Assemble and render a publication for one reader."""
    format = with_pdf_variant(format, pdf_variant)
    with engine_for(db, sources) as engine:
        ctx = reader.build()
        result = engine.render(
            publication, ctx, format=format, preview=preview, strict=reader.strict
        )
    warn(result.warnings)
    write_output(result.content, output, binary=format.startswith("pdf"))


@takes_reader
def block(
    component: Annotated[str, typer.Argument(help="Component id.")],
    reader: ReaderOptions,
    format: Annotated[str, typer.Option("--format", "-f", help="html or json.")] = "html",
    output: OutOption = None,
    preview: Preview = False,
    db: DbOption = None,
    sources: SourcesOption = None,
) -> None:
    """The assembled fragment of one component."""
    if format not in ("html", "json"):
        fail(f"unknown format {format!r} for block: use html or json")
    with engine_for(db, sources) as engine:
        ctx = reader.build()
        result = engine.block(component, ctx, preview=preview, strict=reader.strict)
    warn(result.warnings)
    if format == "json":
        data = result.model_dump(mode="json", include={"component", "variant", "version", "locale"})
        data |= {"html": result.html, "warnings": result.warnings}
        write_output(dump_json(data), output)
    else:
        write_output(result.html.encode() + b"\n", output)


@takes_reader
def explain(
    component: Annotated[str, typer.Argument(help="Component id.")],
    reader: ReaderOptions,
    format: Annotated[str, typer.Option("--format", "-f", help="text or json.")] = "text",
    output: OutOption = None,
    preview: Preview = False,
    db: DbOption = None,
    sources: SourcesOption = None,
) -> None:
    """Every variant, whether it matched, why not, and the winner."""
    if format not in ("text", "json"):
        fail(f"unknown format {format!r} for explain: use text or json")
    with engine_for(db, sources) as engine:
        ctx = reader.build()
        selection = engine.explain(component, ctx, preview=preview, strict=reader.strict)
    warn(selection.warnings)
    if format == "json":
        write_output(dump_json(selection.model_dump(mode="json")), output)
        return
    write_output(explain_text(selection, ctx.locale).encode(), output)


def explain_text(selection: Selection, locale: str) -> str:
    """The trace as lines: ``*`` the winner, ``+`` another candidate, ``-`` ruled out (why);
    each variant with the version judged and, unless that is simply the live one, its live
    version and working copy; the experiment arm drawn, if any; then every data source
    asked, by which lookup key. The region
    line says where the region came from."""
    lines = [
        f"component {selection.component} for {locale}",
        f"chain: {' > '.join(selection.chain)}",
        f"segments: {', '.join(selection.segments) or '-'}",
        _region(selection),
    ]
    for v in selection.variants:
        mark = "*" if v.key == selection.winner else ("+" if v.candidate else "-")
        rank = f"  rank {v.rank}" if v.rank else ""
        lines.append(f" {mark} {v.key} v{v.version}{_roles(v)}{rank}")
        lines += [f"     {reason}" for reason in v.reasons]
    lines.append(f"winner: {selection.winner or 'none'}")
    drawn = selection.experiment
    if drawn is not None:
        arms = ", ".join(f"{a.key} (weight {a.weight:g})" for a in drawn.arms)
        how = "no reader id: the first arm" if drawn.by == "none" else f"drawn by {drawn.by}"
        lines.append(f"experiment {drawn.experiment}: arm {drawn.arm}, {how}; arms {arms}")
    if selection.ambiguous:
        lines.append(f"ambiguous: {', '.join(selection.ambiguous)} tie; the key decided")
    for s in selection.sources:
        cached = ", from the cache" if s.cache_hit else ""
        lines.append(f"source {s.source} by {s.key}: {s.outcome} in {s.seconds:.3f} s{cached}")
    return "\n".join(lines) + "\n"


def _region(selection: Selection) -> str:
    """``region: CH, from the context`` (or ``from the network``); ``region: -`` for none."""
    region = selection.context.region
    return f"region: {region}, from the {selection.region_source}" if region else "region: -"


def _roles(trace: VariantTrace) -> str:
    """``  (live v5, working v6)``; nothing for a live version without a working copy."""
    if trace.live == trace.version and trace.working is None:
        return ""
    live = f"live v{trace.live}" if trace.live else "live none"
    return f"  ({live}, working v{trace.working})" if trace.working else f"  ({live})"
