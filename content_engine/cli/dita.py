"""``import-dita``: a DITA map and its topics in, a library folder out (CONTRACT 11).

In: the map, ``--out FOLDER`` and ``--map ATTRIBUTE=DIMENSION`` options. Out: the folder,
one ``warning:`` line on stderr per construct not carried over (file and line), a summary, and
with ``--report FILE`` the same findings as JSON.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from content_engine import ContentEngineError
from content_engine.cli.errors import fail, warn
from content_engine.cli.output import dump_json, write_output
from content_engine.engine.dita import import_dita as convert


def import_dita(
    ditamap: Annotated[Path, typer.Argument(metavar="MAP.ditamap", help="The DITA map.")],
    out: Annotated[Path, typer.Option("--out", help="The library folder to write.")],
    maps: Annotated[
        list[str] | None,
        typer.Option(
            "--map",
            metavar="ATTRIBUTE=DIMENSION",
            help="A profiling attribute as an inline condition: audience=role, "
            "platform=channel, otherprops=segment, ... (repeatable).",
        ),
    ] = None,
    report: Annotated[
        Path | None,
        typer.Option("--report", help="Also write what was not carried over as JSON here."),
    ] = None,
) -> None:
    """Convert a DITA map and its topics into a library folder that `import` loads."""
    try:
        conversion = convert(ditamap, out, maps or [])
    except ContentEngineError as exc:
        fail(exc.message, exc.exit_code)
    except OSError as exc:
        fail(f"{exc.filename or out}: {exc.strerror or exc}")
    warn([f"not carried over: {finding}" for finding in conversion.findings])
    if report is not None:
        write_output(
            dump_json(
                {
                    "publication": conversion.publication,
                    "topics": conversion.topics,
                    "components": len(conversion.library.components),
                    "not_carried_over": [f.as_dict() for f in conversion.findings],
                }
            ),
            report,
        )
    typer.echo(
        f"converted {conversion.topics} topics into {out}: "
        f"{len(conversion.library.components)} components, publication "
        f"{conversion.publication}; {len(conversion.findings)} constructs not carried over",
        err=True,
    )
