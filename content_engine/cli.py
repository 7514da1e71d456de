"""The ``content-engine`` command: a thin adapter from argv to one engine call.

Errors become one line on stderr and an exit code (2 bad input, 1 failed render, lint
problems or an unavailable database or disk), never a traceback; results go to stdout or
``-o FILE``. ``main(argv)`` can be called from tests.
"""

from __future__ import annotations

import functools
import inspect
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

try:  # typer vendors click since 0.2x; older releases use click itself
    from typer._click.exceptions import ClickException
except ImportError:  # pragma: no cover
    from click import ClickException  # type: ignore[assignment]

from content_engine import Engine, Settings
from content_engine.core.errors import ContentEngineError, InputError, UnstorableText
from content_engine.core.lint import WARNINGS
from content_engine.core.models import Context, parse_context
from content_engine.core.storable import load_json
from content_engine.files.userfiles import (
    MAX_CONTEXT_BYTES,
    MAX_CONTEXTS_BYTES,
    os_error,
    read_regular,
    write_file,
)
from content_engine.store.faults import fault_of

app = typer.Typer(
    name="content-engine",
    help="Assemble personalized documents from a component library.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

DbOption = Annotated[
    str | None,
    typer.Option("--db", envvar="CONTENT_ENGINE_DB", help="Database URL.", show_default=False),
]
OutOption = Annotated[
    Path | None,
    typer.Option(
        "-o",
        "--output",
        help="Write to FILE instead of stdout. Its folder must exist (it is not created).",
    ),
]
Locale = Annotated[str | None, typer.Option("--locale", help="BCP 47 locale, e.g. de-AT.")]
Segment = Annotated[
    list[str] | None, typer.Option("--segment", help="A segment (repeatable; adds to the file's).")
]
Role = Annotated[str | None, typer.Option("--role", help="The reader's role.")]
Region = Annotated[str | None, typer.Option("--region", help="ISO 3166 region code, e.g. AT.")]
Channel = Annotated[str | None, typer.Option("--channel", help="web, print, ...")]
ContextFile = Annotated[
    Path | None, typer.Option("--context", help="Context JSON file; options override it.")
]
At = Annotated[str | None, typer.Option("--at", help="ISO 8601 time to render for.")]
Preview = Annotated[bool, typer.Option("--preview", help="Include drafts and variants in review.")]
StrictOption = Annotated[
    bool,
    typer.Option(
        "--strict",
        help="Refuse (exit 2) a role, region, segment or channel the library does not know, "
        "instead of warning that it matched nothing.",
    ),
]


def fail(message: str, code: int = 2) -> NoReturn:
    typer.echo(f"error: {_one_line(message)}", err=True)
    raise typer.Exit(code)


def warn(messages: list[str]) -> None:
    for message in messages:
        typer.echo(f"warning: {message}", err=True)


def domain_error(exc: BaseException) -> ContentEngineError | None:
    """The one map from what an engine call may raise to a line and an exit code: domain
    errors as they are, OS errors by ``os_error``, database faults by the store's map."""
    if isinstance(exc, ContentEngineError):
        return exc
    if isinstance(exc, OSError):
        return os_error(exc)
    return fault_of(exc)


@contextmanager
def engine_for(db: str | None) -> Iterator[Engine]:
    """Open the engine and turn every domain error, database fault and OS error met while
    using it into one line and its exit code."""
    try:
        with Engine(Settings.from_env(db_url=db)) as engine:
            yield engine
    except Exception as exc:
        error = domain_error(exc)
        if error is None:
            raise
        fail(error.message, error.exit_code)


@dataclass(frozen=True)
class ReaderOptions:
    """The options that say who is reading, shared by render, block and explain."""

    locale: str | None = None
    segment: list[str] | None = None
    role: str | None = None
    region: str | None = None
    channel: str | None = None
    context: Path | None = None
    at: str | None = None
    strict: bool = False

    def build(self) -> Context:
        """Merge ``--context FILE`` with the options: options override, segments add up."""
        data: dict[str, Any] = {}
        if self.context is not None:
            data = _read_context_file(self.context)
        for key in ("locale", "role", "region", "channel", "at"):
            if (value := getattr(self, key)) is not None:
                data[key] = value
        if self.segment:
            existing = data.get("segments") or []
            data["segments"] = (
                [*existing, *self.segment] if isinstance(existing, list) else existing
            )
        if "locale" not in data:
            raise InputError("a locale is required: give --locale or a context file with 'locale'")
        return parse_context(data)


READER_OPTIONS: dict[str, Any] = {
    "locale": Locale,
    "segment": Segment,
    "role": Role,
    "region": Region,
    "channel": Channel,
    "context": ContextFile,
    "at": At,
    "strict": StrictOption,
}


def _read_context_file(path: Path) -> dict[str, Any]:
    try:
        text = read_regular(path, limit=MAX_CONTEXT_BYTES, what="context file").decode("utf-8")
        data = load_json(text)
    except UnstorableText as exc:
        raise UnstorableText(f"{path}: {exc.message}") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"cannot read context file {path}: {exc}") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}:{exc.lineno}:{exc.colno}: {exc.msg}") from None
    except RecursionError:
        raise InputError(f"{path}: the JSON is nested too deeply") from None
    if not isinstance(data, dict):
        raise InputError(f"{path}: the context must be a JSON object")
    return data


def reader_command(name: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Register a command that takes the reader options once, as one ``reader`` argument.

    Typer reads options from a function's signature, so the wrapper shows the command's own
    parameters plus ``READER_OPTIONS`` and folds the latter into a ``ReaderOptions``.
    """

    def register(fn: Callable[..., None]) -> Callable[..., None]:
        own = [
            p
            for p in inspect.signature(fn, eval_str=True).parameters.values()
            if p.name != "reader"
        ]
        added = [
            inspect.Parameter(
                n,
                inspect.Parameter.POSITIONAL_OR_KEYWORD,
                default=getattr(ReaderOptions, n, None),
                annotation=a,
            )
            for n, a in READER_OPTIONS.items()
        ]

        @functools.wraps(fn)
        def command(**kwargs: Any) -> None:
            reader = ReaderOptions(**{n: kwargs.pop(n) for n in READER_OPTIONS})
            fn(reader=reader, **kwargs)

        # The command's arguments, then who is reading, then the command's own options.
        params = [*own[:1], *added, *own[1:]]
        del command.__wrapped__
        command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        command.__annotations__ = {p.name: p.annotation for p in params}
        app.command(name)(command)
        return command

    return register


def write_output(content: bytes, output: Path | None, *, binary: bool = False) -> None:
    """``content`` to ``-o FILE`` (in a folder that exists) or to stdout."""
    if output is not None:
        try:
            write_file(output, content)
        except ContentEngineError as exc:
            fail(exc.message, exc.exit_code)
        return
    if binary and sys.stdout.isatty():
        fail("refusing to write a PDF to a terminal; use -o FILE")
    try:
        sys.stdout.buffer.write(content)
        sys.stdout.flush()
    except OSError as exc:  # /dev/full, a closed pipe
        error = os_error(exc, "standard output", "write to")
        fail(error.message, error.exit_code)


def dump_json(data: Any) -> bytes:
    return (json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n").encode()


# --- commands ----------------------------------------------------------------------------------


@app.command("import")
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


@app.command("export")
def export(
    path: Annotated[Path, typer.Argument(help="The folder to write.")], db: DbOption = None
) -> None:
    """Write the repository's library back out as files."""
    with engine_for(db) as engine:
        library = engine.export_library(path)
    typer.echo(f"exported {len(library.components)} components to {path}", err=True)


@reader_command("render")
def render(
    publication: Annotated[str, typer.Argument(help="Publication id.")],
    reader: ReaderOptions,
    format: Annotated[
        str, typer.Option("--format", "-f", help="html, pdf, json or fragment.")
    ] = "html",
    output: OutOption = None,
    preview: Preview = False,
    db: DbOption = None,
) -> None:
    """Assemble and render a publication for one reader."""
    with engine_for(db) as engine:
        ctx = reader.build()
        result = engine.render(
            publication, ctx, format=format, preview=preview, strict=reader.strict
        )
    warn(result.warnings)
    write_output(result.content, output, binary=format == "pdf")


@reader_command("block")
def block(
    component: Annotated[str, typer.Argument(help="Component id.")],
    reader: ReaderOptions,
    format: Annotated[str, typer.Option("--format", "-f", help="html or json.")] = "html",
    output: OutOption = None,
    preview: Preview = False,
    db: DbOption = None,
) -> None:
    """The assembled fragment of one component."""
    if format not in ("html", "json"):
        fail(f"unknown format {format!r} for block: use html or json")
    with engine_for(db) as engine:
        ctx = reader.build()
        result = engine.block(component, ctx, preview=preview, strict=reader.strict)
    warn(result.warnings)
    if format == "json":
        data = result.model_dump(mode="json", include={"component", "variant", "version", "locale"})
        data |= {"html": result.html, "warnings": result.warnings}
        write_output(dump_json(data), output)
    else:
        write_output(result.html.encode() + b"\n", output)


@reader_command("explain")
def explain_(
    component: Annotated[str, typer.Argument(help="Component id.")],
    reader: ReaderOptions,
    format: Annotated[str, typer.Option("--format", "-f", help="text or json.")] = "text",
    output: OutOption = None,
    preview: Preview = False,
    db: DbOption = None,
) -> None:
    """Every variant, whether it matched, why not, and the winner."""
    if format not in ("text", "json"):
        fail(f"unknown format {format!r} for explain: use text or json")
    with engine_for(db) as engine:
        ctx = reader.build()
        selection = engine.explain(component, ctx, preview=preview, strict=reader.strict)
    warn(selection.warnings)
    if format == "json":
        write_output(dump_json(selection.model_dump(mode="json")), output)
        return
    lines = [
        f"component {selection.component} for {ctx.locale}",
        f"chain: {' > '.join(selection.chain)}",
        f"segments: {', '.join(selection.segments) or '-'}",
    ]
    for v in selection.variants:
        mark = "*" if v.key == selection.winner else ("+" if v.candidate else "-")
        lines.append(f" {mark} {v.key} v{v.version}" + (f"  rank {v.rank}" if v.rank else ""))
        lines += [f"     {reason}" for reason in v.reasons]
    lines.append(f"winner: {selection.winner or 'none'}")
    if selection.ambiguous:
        lines.append(f"ambiguous: {', '.join(selection.ambiguous)} tie; the key decided")
    write_output(("\n".join(lines) + "\n").encode(), output)


LINT_HELP = (
    "Problems in the library; exit 1 if any is an error, ambiguous variants included. "
    "Warnings never fail lint; they are: "
    + "; ".join(f"{code}: {what}" for code, what in WARNINGS.items())
    + "."
)


@app.command(name="lint", help=LINT_HELP)
def lint_(
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


@app.command(name="coverage")
def coverage_(
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
            typer.echo(
                line
                + (f"  missing: {gaps}" if gaps else "")
                + (f"  fallback: {falls}" if falls else "")
            )
    if strict and not report.covered:
        raise typer.Exit(1)


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
            typer.echo(f"error: {_one_line(error.message)}", err=True)
            return error.exit_code
        typer.echo(f"error: internal error ({type(exc).__name__}: {_one_line(str(exc))})", err=True)
        return 1
    return result if isinstance(result, int) else 0


def _one_line(text: str) -> str:
    return " ".join(text.split()) or "no message"


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


# --- server and keys ---------------------------------------------------------------------------


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=0, max=65535)] = 8000,
    open_access: Annotated[
        bool, typer.Option("--open", help="No API keys: anyone is admin. Local development only.")
    ] = False,
    workers: Annotated[int, typer.Option(help="Worker processes.", min=1, max=64)] = 1,
    refresh: Annotated[
        float | None,
        typer.Option(
            envvar="CONTENT_ENGINE_REFRESH",
            help="Seconds before a change made by another process (another worker, the CLI) "
            "is served; 0 asks the database on every request. Default 0.5.",
            min=0,
            max=86_400,
            show_default=False,
        ),
    ] = None,
    db: DbOption = None,
) -> None:
    """Run the HTTP API (OpenAPI docs at /docs)."""
    import uvicorn

    if open_access:
        typer.secho(
            "WARNING: --open: no API keys are checked, every caller is admin. "
            "Never expose this server.",
            err=True,
            fg="red",
            bold=True,
        )
    try:
        settings = Settings.from_env(db_url=db)
        if refresh is not None:
            settings = replace(settings, refresh=refresh)
        with Engine(settings):  # migrate and check the database before binding the port
            pass
    except ContentEngineError as exc:
        fail(exc.message, exc.exit_code)
    typer.echo(
        f"content-engine on http://{host}:{port}/  (docs: http://{host}:{port}/docs)", err=True
    )
    # Workers are separate processes: they build their app from the environment.
    os.environ["CONTENT_ENGINE_DB"] = settings.db_url
    os.environ["CONTENT_ENGINE_OPEN"] = "1" if open_access else ""
    os.environ["CONTENT_ENGINE_REFRESH"] = str(settings.refresh)
    uvicorn.run(
        "content_engine.web.app:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        access_log=False,
    )


keys_app = typer.Typer(help="API keys: create, list, revoke.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")

RoleOption = Annotated[str, typer.Option("--role", help="reader, agent, editor or admin.")]


@keys_app.command("create")
def keys_create(
    role: RoleOption,
    name: Annotated[str, typer.Option(help="What the key is for.")] = "",
    db: DbOption = None,
) -> None:
    """Print a new key (shown once; only its hash is stored)."""
    from content_engine.store import ROLES

    if role not in ROLES:
        fail(f"unknown role {role!r}: use one of {', '.join(ROLES)}")
    with engine_for(db) as engine:
        info, secret = engine.repository.create_key(role, name)
    typer.echo(secret)
    typer.echo(
        f"created key {info.id} with role {info.role}; store it now, it is not kept", err=True
    )


@keys_app.command("list")
def keys_list(db: DbOption = None) -> None:
    """Every key: id, role, status, when created and last used (UTC, to the minute), name.

    Never the secret. "Last used" is written at most once a minute per key."""
    with engine_for(db) as engine:
        keys = engine.repository.list_keys()
    if not keys:
        typer.echo(
            "no API keys yet: create one with `content-engine keys create --role R`", err=True
        )
        return
    typer.echo(f"{'id':<12}  {'role':<7} {'status':<24} {'created':<16}  {'last used':<16}  name")
    for key in keys:
        revoked = f"revoked {key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "active"
        used = f"{key.last_used_at:%Y-%m-%d %H:%M}" if key.last_used_at else "never"
        typer.echo(
            f"{key.id}  {key.role:<7} {revoked:<24} {key.created_at:%Y-%m-%d %H:%M}  "
            f"{used:<16}  {key.name}"
        )


@keys_app.command("revoke")
def keys_revoke(
    key_id: Annotated[str, typer.Argument(help="The key's id (from keys list).")],
    db: DbOption = None,
) -> None:
    """Revoke a key: refused from now on (by running servers within their --refresh)."""
    with engine_for(db) as engine:
        info = engine.repository.revoke_key(key_id)
    typer.echo(f"revoked key {info.id} ({info.role})", err=True)


@app.command()
def batch(
    publication: Annotated[str, typer.Argument(help="Publication id.")],
    contexts: Annotated[
        Path, typer.Option("--contexts", help="JSON lines: a context per line.", exists=False)
    ],
    out: Annotated[Path, typer.Option("--out", help="Folder for the outputs.")],
    format: Annotated[
        str, typer.Option("--format", "-f", help="pdf, html, json or fragment.")
    ] = "pdf",
    workers: Annotated[int, typer.Option(help="Worker processes.", min=1, max=64)] = 1,
    strict: StrictOption = False,
    db: DbOption = None,
) -> None:
    """Render a publication once per context line, with a progress bar; bad lines are reported
    (and listed in OUT/failures.jsonl) while the rest is still done."""
    from content_engine.engine.batch import EXTENSIONS, run_batch

    if format not in EXTENSIONS:
        fail(f"unknown format {format!r}: use one of {', '.join(EXTENSIONS)}")
    settings = Settings.from_env(db_url=db)
    with engine_for(db) as engine:
        engine.document_plan(publication)  # unknown publication: exit 2 before any work
    try:
        data = read_regular(contexts, limit=MAX_CONTEXTS_BYTES, what="contexts file")
        # Lines end at "\n" only: splitlines() would also split at U+2028 and the like, which
        # JSON allows raw inside strings, and one reader's line would become two bad ones.
        lines = data.decode("utf-8").split("\n")
    except ContentEngineError as exc:
        fail(exc.message, exc.exit_code)
    except UnicodeDecodeError as exc:
        fail(f"cannot read {contexts}: {exc}")
    with typer.progressbar(length=1, label="rendering", file=sys.stderr) as bar:

        def progress(done: int, total: int) -> None:
            bar.length = max(total, 1)
            bar.update(done - bar.pos)

        try:
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
        except ContentEngineError as exc:
            fail(exc.message, exc.exit_code)
    failures = out / "failures.jsonl"
    with failures.open("w", encoding="utf-8") as fh:
        for failure in report.failures:
            fh.write(json.dumps(failure.__dict__, ensure_ascii=False) + "\n")
            typer.echo(f"line {failure.line}: {failure.code}: {failure.message}", err=True)
    for warning in report.warnings:
        typer.echo(f"line {warning.line}: warning: {warning.message}", err=True)
    typer.echo(f"{report.summary()} in {out}", err=True)
    if report.failures:
        raise typer.Exit(1)
