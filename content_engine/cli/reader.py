"""Who is reading: the reader options (``--locale``, ``--role``, ``--context FILE``, ...) in,
one ``Context`` out.

``render``, ``block`` and ``explain`` take these options once, as one ``reader`` argument
(``takes_reader``); ``ReaderOptions.build`` merges them with a context file.
"""

from __future__ import annotations

import functools
import inspect
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from content_engine import Context, InputError, UnstorableText, parse_context
from content_engine.cli.options import StrictOption
from content_engine.core.storable import load_json
from content_engine.files.userfiles import MAX_CONTEXT_BYTES, read_regular

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
ReaderId = Annotated[
    str | None,
    typer.Option("--reader-id", help="Who is reading: draws their experiment arms."),
]
Lookup = Annotated[
    list[str] | None,
    typer.Option(
        "--lookup",
        help="A lookup key for the data sources, NAME=VALUE, e.g. serial=HP200-0042 "
        "(repeatable; overrides the file's).",
    ),
]


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
    lookup: list[str] | None = None
    strict: bool = False
    reader_id: str | None = None

    def build(self) -> Context:
        """Merge ``--context FILE`` with the options: options override, segments add up."""
        data: dict[str, Any] = {}
        if self.context is not None:
            data = _read_context_file(self.context)
        for key in ("locale", "role", "region", "channel", "at", "reader_id"):
            if (value := getattr(self, key)) is not None:
                data[key] = value
        if self.segment:
            existing = data.get("segments") or []
            data["segments"] = (
                [*existing, *self.segment] if isinstance(existing, list) else existing
            )
        if self.lookup:
            given = data.get("lookup")
            data["lookup"] = {**(given if isinstance(given, dict) else {}), **_lookups(self.lookup)}
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
    "lookup": Lookup,
    "strict": StrictOption,
    "reader_id": ReaderId,
}


def _lookups(given: list[str]) -> dict[str, str]:
    """``--lookup NAME=VALUE`` options as a mapping; the same name twice is refused."""
    found: dict[str, str] = {}
    for item in given:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise InputError("--lookup takes NAME=VALUE, e.g. serial=HP200-0042")
        if name in found:
            raise InputError(f"--lookup {name} is given twice")
        found[name] = value
    return found


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


def takes_reader(fn: Callable[..., None]) -> Callable[..., None]:
    """A command that takes the reader options once, as one ``reader`` argument.

    Typer reads options from a function's signature, so the wrapper shows the command's own
    parameters plus ``READER_OPTIONS`` and folds the latter into a ``ReaderOptions``.
    """
    own = [
        p for p in inspect.signature(fn, eval_str=True).parameters.values() if p.name != "reader"
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
    return command
