"""The options several commands share, as typer annotations.

A setting's flag (``--db``, ``--refresh``, ``--open``) is built from its one declaration in
``content_engine.settings``: its name, help, default and range come from there, and the
value given goes back to ``Settings.from_env``, which reads the environment when it is not.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from content_engine.cli.errors import fail
from content_engine.settings import DB, SOURCES, Option


def setting_flag(option: Option[Any], **more: Any) -> Any:
    """The typer option for a setting's CLI flag; ``None`` when not given, so that
    ``Settings.from_env`` falls back to the environment (one parser, one error message).
    ``more`` goes to ``typer.Option`` (a metavar, an optional value)."""
    if option.flag is None:
        raise ValueError(f"the setting {option.name} has no CLI flag")
    notes = [] if isinstance(option.default, bool) else [f"Default {option.shown_default}"]
    notes += [f"env {option.env}"] if option.cli_reads_env else []
    said = "; ".join(notes)
    low, high = option.kind.bounds or (None, None)
    return typer.Option(
        option.flag,
        help=f"{option.help} {said}." if said else option.help,
        show_default=False,
        min=low,
        max=high,
        **more,
    )


DbOption = Annotated[str | None, setting_flag(DB)]
SourcesOption = Annotated[str | None, setting_flag(SOURCES)]
OutOption = Annotated[
    Path | None,
    typer.Option(
        "-o",
        "--output",
        help="Write to FILE instead of stdout. Its folder must exist (it is not created).",
    ),
]
Preview = Annotated[bool, typer.Option("--preview", help="Include drafts and variants in review.")]
StrictOption = Annotated[
    bool,
    typer.Option(
        "--strict",
        help="Refuse (exit 2) a role, region, segment or channel the library does not know, "
        "instead of warning that it matched nothing.",
    ),
]

#: ``--pdf-variant`` -> the format that renders it (``content_engine.rendering.pdf``).
PDF_VARIANT_FORMATS = {"ua-1": "pdf", "a-3b": "pdf-a"}
PdfVariantOption = Annotated[
    str | None,
    typer.Option(
        "--pdf-variant",
        help="ua-1 (tagged PDF/UA-1, the default) or a-3b (PDF/A-3b for archived copies, "
        "tagged too); only with --format pdf.",
    ),
]


def with_pdf_variant(format: str, variant: str | None) -> str:
    """The format to render: ``pdf`` with ``--pdf-variant a-3b`` is ``pdf-a``. A variant
    that is unknown, or given with a format other than PDF, is bad input (exit 2)."""
    if variant is None:
        return format
    if variant not in PDF_VARIANT_FORMATS:
        known = ", ".join(PDF_VARIANT_FORMATS)
        fail(f"unknown PDF variant {variant!r}; use one of {known}")
    if format not in PDF_VARIANT_FORMATS.values():
        fail(f"--pdf-variant needs --format pdf, not {format!r}")
    return PDF_VARIANT_FORMATS[variant]
