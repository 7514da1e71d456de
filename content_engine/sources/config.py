"""Read a data-sources file: YAML in, checked source specifications out.

In: the path of the sources file, the environment (a mapping) and the ``SourcesLimits``. Out: a
``SourcesConfig`` (the deadline and one ``SourceSpec`` per source, ``${NAME}`` filled in), or a
``SourcesConfigError`` naming the file, line and column: bad YAML, an unknown kind or key, a
missing one, ``from`` naming no source or forming a cycle, an unknown ``${VAR}``, a file over the
size bound. A relative path, a ``file`` source's or a SQLite URL's, is relative to the sources
file. The file holds connection details, so values read from the environment appear in no
error: the document is checked before they are filled in, and a check after that (a URL's
scheme) names the key, never the value.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import make_url
from sqlalchemy import text as sql_text
from sqlalchemy.exc import ArgumentError

from content_engine.core.errors import LibraryFormatError, SourcesConfigError
from content_engine.core.lookups import MissingVariable, find_cycle, substitute, variables
from content_engine.files.regular import Unreadable, read_regular_file
from content_engine.library.limits import FolderLimits
from content_engine.library.yamlerrors import first_error, locate
from content_engine.library.yamlread import safe_load
from content_engine.sources.limits import DEFAULT_LIMITS, SourcesLimits

__all__ = ["SourceSpec", "SourcesConfig", "load_config"]

_NAME = r"^[a-z_][a-z0-9_]{0,63}$"
_KEY = r"^[A-Za-z_][A-Za-z0-9_]{0,63}$"
_FROM = r"^[a-z_][a-z0-9_]{0,63}\.[A-Za-z_][A-Za-z0-9_]{0,63}$"
# The keys whose values may read the environment: the connection details.
_ENV_KEYS = ("url", "path", "headers")
_KINDS = ("sql", "http", "file")
_VARIABLE = re.compile(r"\$\{[^}]*\}")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


class _Common(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, strict=True)

    key: Annotated[str, Field(pattern=_KEY)]
    from_: Annotated[str | None, Field(alias="from", pattern=_FROM)] = None
    timeout: Annotated[float, Field(gt=0)] = 1.0
    cache_ttl: Annotated[float, Field(ge=0)] = 0.0
    required: bool = False
    many: bool = False


class _Sql(_Common):
    kind: Literal["sql"]
    url: Annotated[str, Field(min_length=1, max_length=4096)]
    query: Annotated[str, Field(min_length=1, max_length=20_000)]
    max_rows: Annotated[int, Field(ge=1)] | None = None
    # Asked in bulk (a batch): ``... WHERE serial IN :serial``, the key bound as a list, and
    # the column of each row that holds its key (default: the key's name).
    bulk_query: Annotated[str, Field(min_length=1, max_length=20_000)] | None = None
    bulk_key: Annotated[str, Field(pattern=_KEY)] | None = None


class _Http(_Common):
    kind: Literal["http"]
    url: Annotated[str, Field(min_length=1, max_length=4096)]
    headers: dict[Annotated[str, Field(pattern=r"^[A-Za-z0-9-]{1,64}$")], str] = {}
    retries: Annotated[int, Field(ge=0, le=5)] = 2


class _File(_Common):
    kind: Literal["file"]
    path: Annotated[str, Field(min_length=1, max_length=4096)]


class _Document(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    deadline: Annotated[float, Field(gt=0)] = 2.0
    sources: dict[
        Annotated[str, Field(pattern=_NAME)],
        Annotated[_Sql | _Http | _File, Field(discriminator="kind")],
    ]


@dataclass(frozen=True)
class SourceSpec:
    """One source, ready to ask. ``url``, ``headers`` and ``path`` may hold secrets from the
    environment: they are left out of ``repr`` and never put into an error or a receipt."""

    name: str
    kind: Literal["sql", "http", "file"]
    key: str
    depends_on: str | None  # the source ``from`` reads
    from_field: str | None  # ... and the field of its answer
    timeout: float
    cache_ttl: float
    negative_ttl: float
    required: bool
    many: bool
    query: str = ""
    max_rows: int = 1
    bulk_query: str = ""  # none: asked in bulk, the source is asked once per key
    bulk_key: str = ""
    retries: int = 0
    url: str = field(default="", repr=False)
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    path: Path | None = field(default=None, repr=False)


@dataclass(frozen=True)
class SourcesConfig:
    """The sources file: one deadline for all lookups of a request, and the sources by name."""

    file: str
    deadline: float
    sources: Mapping[str, SourceSpec]


def load_config(
    path: str | os.PathLike[str],
    environ: Mapping[str, str],
    limits: SourcesLimits = DEFAULT_LIMITS,
) -> SourcesConfig:
    """The checked sources file at ``path``, or a ``SourcesConfigError`` at its place."""
    file = os.fspath(path)
    try:
        raw = read_regular_file(file, limit=limits.max_config_bytes)
    except FileNotFoundError:
        raise SourcesConfigError("no such file", file=file) from None
    except Unreadable as exc:
        raise SourcesConfigError(exc.reason, file=file) from None
    except OSError as exc:
        raise SourcesConfigError(f"cannot be read: {exc.strerror}", file=file) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise SourcesConfigError("not UTF-8 text", file=file) from None
    data = _parse(text, file, limits)
    try:
        document = _Document.model_validate(data)
    except ValidationError as exc:
        loc, message = first_error(exc)
        if len(loc) > 2 and loc[0] == "sources" and loc[2] in _KINDS:  # the union's branch
            message = message.replace(f"sources.{loc[1]}.{loc[2]}", f"sources.{loc[1]}", 1)
            loc = (*loc[:2], *loc[3:])
        raise _at(message, file, text, loc) from None
    if len(document.sources) > limits.max_sources:
        raise _at(f"over {limits.max_sources} sources", file, text, ("sources",))
    _check_bounds(document, file, text, limits)
    _check_from(document, file, text)
    base = Path(file).resolve().parent
    specs = {
        name: _spec(name, source, data["sources"][name], base, environ, file, text, limits)
        for name, source in document.sources.items()
    }
    return SourcesConfig(file=file, deadline=document.deadline, sources=specs)


def _parse(text: str, file: str, limits: SourcesLimits) -> dict[str, Any]:
    shape = FolderLimits(max_yaml_depth=limits.max_yaml_depth, max_yaml_nodes=limits.max_yaml_nodes)
    try:
        data = safe_load(text, file, shape)
    except LibraryFormatError as exc:
        where = ":".join(str(p) for p in (exc.file, exc.line, exc.column) if p is not None)
        message = exc.message.removeprefix(f"{where}: ").replace("library files", "this file")
        raise SourcesConfigError(message, file=file, line=exc.line, column=exc.column) from None
    if not isinstance(data, dict):
        raise SourcesConfigError("expected a mapping with 'sources'", file=file, line=1, column=1)
    _refuse_duplicates(yaml.compose(text, Loader=yaml.SafeLoader), file)
    return data


def _refuse_duplicates(node: yaml.Node | None, file: str) -> None:
    """A key given twice in one mapping is refused: YAML would silently keep the last."""
    stack = [node] if node is not None else []
    while stack:
        current = stack.pop()
        if isinstance(current, yaml.MappingNode):
            seen: set[str] = set()
            for key, value in current.value:
                if isinstance(key, yaml.ScalarNode):
                    if key.value in seen:
                        mark = key.start_mark
                        message = f"key {key.value!r} given twice"
                        raise SourcesConfigError(
                            message, file=file, line=mark.line + 1, column=mark.column + 1
                        )
                    seen.add(key.value)
                stack.append(value)
        elif isinstance(current, yaml.SequenceNode):
            stack.extend(current.value)


def _at(message: str, file: str, text: str, loc: tuple[str | int, ...]) -> SourcesConfigError:
    line, column = locate(text, loc) or (None, None)
    return SourcesConfigError(message, file=file, line=line, column=column)


def _check_bounds(document: _Document, file: str, text: str, limits: SourcesLimits) -> None:
    if document.deadline > limits.max_deadline:
        raise _at(f"deadline: at most {limits.max_deadline:g} seconds", file, text, ("deadline",))
    for name, source in document.sources.items():
        bounds: list[tuple[str, float, float]] = [
            ("timeout", source.timeout, limits.max_timeout),
            ("cache_ttl", source.cache_ttl, limits.max_cache_ttl),
        ]
        if isinstance(source, _Sql) and source.max_rows is not None:
            bounds.append(("max_rows", source.max_rows, limits.max_rows))
        for key, value, most in bounds:
            if value > most:
                message = f"sources.{name}.{key}: at most {most:g}"
                raise _at(message, file, text, ("sources", name, key))


def _check_from(document: _Document, file: str, text: str) -> None:
    depends_on: dict[str, str | None] = {}
    for name, source in document.sources.items():
        if source.from_ is None:
            depends_on[name] = None
            continue
        upstream = source.from_.partition(".")[0]
        where = ("sources", name, "from")
        other = document.sources.get(upstream)
        if other is None:
            raise _at(f"sources.{name}.from: no source named {upstream!r}", file, text, where)
        if other.many:
            message = f"sources.{name}.from: {upstream!r} answers many rows, not one value"
            raise _at(message, file, text, where)
        depends_on[name] = upstream
    cycle = find_cycle(depends_on)
    if cycle is not None:
        message = f"sources.{cycle[0]}.from: a cycle of sources: {' -> '.join(cycle)}"
        raise _at(message, file, text, ("sources", cycle[0], "from"))


def _spec(
    name: str,
    source: _Sql | _Http | _File,
    raw: dict[str, Any],
    base: Path,
    environ: Mapping[str, str],
    file: str,
    text: str,
    limits: SourcesLimits,
) -> SourceSpec:
    _refuse_variables_outside(name, raw, file, text)

    def filled(value: str, *loc: str) -> str:
        try:
            return substitute(value, environ)
        except MissingVariable as exc:
            message = f"sources.{name}.{'.'.join(loc)}: no environment variable ${{{exc.name}}}"
            raise _at(message, file, text, ("sources", name, *loc)) from None

    upstream, _, field_name = (source.from_ or "").partition(".")
    common: dict[str, Any] = {
        "name": name,
        "kind": source.kind,
        "key": source.key,
        "depends_on": upstream or None,
        "from_field": field_name or None,
        "timeout": source.timeout,
        "cache_ttl": source.cache_ttl,
        "negative_ttl": min(source.cache_ttl, limits.negative_ttl),
        "required": source.required,
        "many": source.many,
    }
    if isinstance(source, _Sql):
        rows = source.max_rows or limits.default_rows
        url = filled(source.url, "url")
        if not url.startswith(("sqlite:", "sqlite+", "postgresql:", "postgresql+")):
            message = f"sources.{name}.url: an sql source's database is SQLite or PostgreSQL"
            raise _at(message, file, text, ("sources", name, "url"))
        _check_binds(name, "query", source.query, source.key, file, text)
        bulk_query, bulk_key = "", ""
        if source.bulk_query is not None:
            _check_binds(name, "bulk_query", source.bulk_query, source.key, file, text)
            if re.search(rf"\(\s*:{source.key}\s*\)", source.bulk_query):
                message = (
                    f"sources.{name}.bulk_query: write IN :{source.key}, without parentheses"
                    " (the list of keys brings its own)"
                )
                raise _at(message, file, text, ("sources", name, "bulk_query"))
            bulk_query, bulk_key = source.bulk_query, source.bulk_key or source.key
        elif source.bulk_key is not None:
            message = f"sources.{name}.bulk_key: there is no bulk_query to read it from"
            raise _at(message, file, text, ("sources", name, "bulk_key"))
        return SourceSpec(
            **common,
            url=_anchored(url, base),
            query=source.query,
            max_rows=rows,
            bulk_query=bulk_query,
            bulk_key=bulk_key,
        )
    if isinstance(source, _Http):
        url = filled(source.url, "url")
        if not url.lower().startswith(("http://", "https://")):
            message = f"sources.{name}.url: an http source's URL starts with http:// or https://"
            raise _at(message, file, text, ("sources", name, "url"))
        _check_placeholders(name, source, file, text)
        headers = {key: filled(value, "headers", key) for key, value in source.headers.items()}
        return SourceSpec(**common, url=url, headers=headers, retries=source.retries)
    return SourceSpec(**common, path=base / filled(source.path, "path"))


def _check_binds(name: str, key: str, query: str, bound: str, file: str, text: str) -> None:
    """A query binds exactly the source's key: no value ever reaches it any other way."""
    binds = set(sql_text(query).compile().params)
    if binds != {bound}:
        message = (
            f"sources.{name}.{key}: the query binds exactly :{bound}, its key"
            f" (it binds {', '.join(':' + b for b in sorted(binds)) or 'nothing'})"
        )
        raise _at(message, file, text, ("sources", name, key))


def _anchored(url: str, base: Path) -> str:
    """A SQLite URL with a relative path (``sqlite:///crm.sqlite``) names a file beside the
    sources file, as a ``file`` source's path does: not one in whatever folder the command or
    server happens to start in."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        return url  # the source says what is wrong with it when it is built
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return url
    if database.startswith("file:") or os.path.isabs(database):
        return url
    return parsed.set(database=str(base / database)).render_as_string(hide_password=False)


def _refuse_variables_outside(name: str, raw: dict[str, Any], file: str, text: str) -> None:
    for key, value in raw.items():
        if key not in _ENV_KEYS and isinstance(value, str) and variables(value):
            message = f"sources.{name}.{key}: ${{...}} is read only in {', '.join(_ENV_KEYS)}"
            raise _at(message, file, text, ("sources", name, key))


def _check_placeholders(name: str, source: _Http, file: str, text: str) -> None:
    """The URL template names its key as ``{key}``, and nothing else in braces."""
    template = _VARIABLE.sub("", source.url)
    named = set(_PLACEHOLDER.findall(template))
    if named != {source.key}:
        others = ", ".join("{" + n + "}" for n in sorted(named - {source.key}))
        message = f"sources.{name}.url: the URL takes the key as {{{source.key}}}" + (
            f", and nothing else in braces (not {others})" if others else ""
        )
        raise _at(message, file, text, ("sources", name, "url"))
