"""The typer app: every command registered under its name, and ``main(argv)`` to run it.

In: argv. Out: an exit code. Whatever escapes a command still ends as one line on stderr
(``errors``); the commands themselves live in ``library``, ``documents``, ``serve``, ``keys``,
``receipts``, ``feedback``, ``batch``, ``worker``, ``samples`` and ``xliff``, in the order
``--help`` lists them.
"""

from __future__ import annotations

from typing import Annotated

import typer

try:  # typer vendors click since 0.2x; older releases use click itself
    from typer._click.exceptions import ClickException
except ImportError:  # pragma: no cover
    from click import ClickException  # type: ignore[assignment]

from content_engine.cli import (
    batch,
    dita,
    documents,
    feedback,
    keys,
    library,
    receipts,
    samples,
    serve,
    worker,
    xliff,
)
from content_engine.cli.errors import domain_error, one_line

app = typer.Typer(
    name="content-engine",
    help="Assemble personalized documents from a component library.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("import")(library.import_)
app.command("export")(library.export)
app.command("render")(documents.render)
app.command("block")(documents.block)
app.command("explain")(documents.explain)
app.command("lint", help=library.LINT_HELP)(library.lint)
app.command("coverage")(library.coverage)
app.command("import-dita")(dita.import_dita)
app.command("serve", epilog=serve.EPILOG)(serve.serve)

keys_app = typer.Typer(help="API keys: create, list, revoke.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
keys_app.command("create")(keys.create)
keys_app.command("list")(keys.list_)
keys_app.command("revoke")(keys.revoke)

receipts_app = typer.Typer(help="Render receipts: purge their personal data.", no_args_is_help=True)
app.add_typer(receipts_app, name="receipts")
receipts_app.command("purge")(receipts.purge)

feedback_app = typer.Typer(
    help="Feedback and experiments: reports, answers, signing keys.", no_args_is_help=True
)
app.add_typer(feedback_app, name="feedback")
feedback_app.command("report")(feedback.report)
feedback_app.command("answer")(feedback.answer)
feedback_app.command("rotate-key")(feedback.rotate_key)

app.command("batch")(batch.batch)
app.command("worker")(worker.worker)

samples_app = typer.Typer(help="Sample data for the sample library.", no_args_is_help=True)
app.add_typer(samples_app, name="samples")
samples_app.command("crm")(samples.crm)
samples_app.command("feedback")(samples.feedback)

xliff_app = typer.Typer(
    help="Translations: XLIFF export and import, pseudo-localisation, drift.",
    no_args_is_help=True,
)
app.add_typer(xliff_app, name="xliff")
xliff_app.command("export")(xliff.export)
xliff_app.command("import")(xliff.import_)
xliff_app.command("pseudo")(xliff.pseudo)
xliff_app.command("stale")(xliff.stale)
xliff_app.command("sync")(xliff.sync)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            typer.echo(f"content-engine {version('content-engine')}")
        except PackageNotFoundError:  # run from a checkout that was never installed
            typer.echo("content-engine (not installed)")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Assemble personalized documents from a component library."""


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit code instead of exiting (for tests and embedding).

    Whatever escapes a command still ends as one line: a traceback is for developers, and
    a bad option must never look like a crash.
    """
    try:
        # Without standalone mode click returns the code of a ``typer.Exit`` instead of exiting.
        result = app(args=argv, prog_name="content-engine", standalone_mode=False)
    except typer.Exit as exc:
        return exc.exit_code
    except ClickException as exc:
        typer.echo(f"error: {exc.format_message()}", err=True)
        return 2
    except typer.Abort:
        typer.echo("error: aborted", err=True)
        return 1
    except Exception as exc:
        error = domain_error(exc)
        if error is not None:
            typer.echo(f"error: {one_line(error.message)}", err=True)
            return error.exit_code
        typer.echo(f"error: internal error ({type(exc).__name__}: {one_line(str(exc))})", err=True)
        return 1
    return result if isinstance(result, int) else 0
