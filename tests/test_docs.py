"""The reference in ``docs/`` stays true to the code (the way Datasette's docs test does).

- ``docs/cli.md``: every command of the typer app has a section, every option of a command is
  in its section, and every ``--option`` the page names (tables, synopses, examples, prose)
  is an option of the command it is given to.
- ``docs/http.md``: every ``METHOD /path`` named in the docs is a route of the app, every
  ``/v1`` route is documented, and the ``curl`` examples run against a real server with the
  status they state (``# 412: ...`` above a command), else a success.
- The reference pages' ``content-engine`` examples run against the sample library and exit 0;
  output they show is what the command prints; the filter table prints what it says.
- Every page: JSON examples parse (contexts and request bodies validate too), the component
  and publication ids the examples use exist in ``components/``, relative links resolve.
"""

from __future__ import annotations

import html
import itertools
import json
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import fastapi.routing
import httpx2
import pytest
import typer.main
from fastapi import FastAPI
from fastapi.routing import APIRoute

from content_engine.cli import app as cli_app
from content_engine.cli import main
from content_engine.core.models import parse_context
from content_engine.core.templates.formatting import FILTERS
from content_engine.library import load_library
from content_engine.web import create_app
from content_engine.web.schemas import (
    BlockOut,
    BlocksIn,
    ComponentIn,
    PublicationIn,
    RenderIn,
    VariantIn,
)
from tests.support.engine_factory import ROOT, SAMPLE, make_engine, write_files
from tests.support.servers import serve

DOCS = ROOT / "docs"
PAGES = sorted(DOCS.glob("*.md"))
# The reference pages. ``security.md`` is written section by section with the checks it
# describes and kept true by their tests; JSON and links are checked on every page.
REFERENCE = [DOCS / name for name in ("README.md", "library.md", "selection.md", "bodies.md")]
REFERENCE += [DOCS / "cli.md", DOCS / "http.md"]

# Options that other work is adding now. Each is excused only while the app lacks it: once it
# lands it is checked like any other (documented where it exists, nowhere else).
BEING_ADDED: dict[tuple[str, ...], frozenset[str]] = {
    (): frozenset({"--version"}),
    ("render",): frozenset({"--strict"}),
    ("block",): frozenset({"--strict"}),
    ("explain",): frozenset({"--strict"}),
    ("batch",): frozenset({"--strict"}),
}
# Ids the examples create themselves (over HTTP) or name to show an error.
MADE_BY_EXAMPLES = frozenset({"snippet.opening-hours", "flyer.hp200", "product.hp900"})


def text(page: Path) -> str:
    return page.read_text(encoding="utf-8")


# --- markdown ------------------------------------------------------------------------------

_FENCE = re.compile(r"^```([^\n]*)\n(.*?)^```", re.M | re.S)
_HEADING = re.compile(r"^(#{1,6}) (.+)$", re.M)


@dataclass(frozen=True)
class Block:
    lang: str
    code: str


def code_blocks(markdown: str) -> list[Block]:
    return [Block(m.group(1).strip(), m.group(2)) for m in _FENCE.finditer(markdown)]


def prose(markdown: str) -> str:
    """The page without its code blocks (a ``#`` line in a block is no heading)."""
    return _FENCE.sub("", markdown)


def sections(markdown: str, level: int) -> dict[str, str]:
    """Heading text → everything up to the next heading of this level or a higher one."""
    found: dict[str, str] = {}
    spans = [
        (m.start(), m.end(), len(m.group(1)), m.group(2).strip())
        for m in _HEADING.finditer(prose_positions(markdown))
    ]
    for i, (_, end, depth, title) in enumerate(spans):
        if depth != level:
            continue
        stop = next((s for s, _, d, _ in spans[i + 1 :] if d <= level), len(markdown))
        found[title] = markdown[end:stop]
    return found


def prose_positions(markdown: str) -> str:
    """The page with code blocks blanked out but every offset kept."""
    return _FENCE.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), markdown)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    plain = heading.strip().lower().replace("`", "")
    return re.sub(r"[^\w\- ]", "", plain).replace(" ", "-")


# --- the CLI -------------------------------------------------------------------------------

COMMAND_HEADING = re.compile(r"^`content-engine((?: [a-z][a-z-]*)*)`$")
OPTION = re.compile(r"(?<![\w-])(--[a-z][a-z0-9-]*|-[a-z])(?![\w-])")


def commands() -> dict[tuple[str, ...], Any]:
    """Every command of the typer app by its path (``()`` is ``content-engine`` itself)."""
    found: dict[tuple[str, ...], Any] = {}

    def walk(command: Any, path: tuple[str, ...]) -> None:
        found[path] = command
        for name, sub in (getattr(command, "commands", None) or {}).items():
            walk(sub, (*path, name))

    walk(typer.main.get_command(cli_app), ())
    return found


COMMANDS = commands()


def options_of(path: tuple[str, ...]) -> frozenset[str]:
    """The options a command takes, ``--help`` included (click adds it to every command)."""
    command = COMMANDS[path]
    names = {"--help"}
    for param in command.params:
        if param.param_type_name == "option":
            names.update(param.opts, param.secondary_opts)
    return frozenset(names)


def excused(path: tuple[str, ...]) -> frozenset[str]:
    return frozenset(o for o in BEING_ADDED.get(path, ()) if o not in options_of(path))


def is_leaf(path: tuple[str, ...]) -> bool:
    return not getattr(COMMANDS[path], "commands", None)


# Groups of commands: no options of their own, their commands have the sections.
GROUPS = frozenset({("keys",), ("receipts",), ("samples",), ("xliff",), ("feedback",)})
# Commands that open no repository, so take no ``--db``.
NO_REPOSITORY = frozenset({("samples", "crm"), ("import-dita",)})


def common_options(path: tuple[str, ...]) -> set[str]:
    return COMMON - {"--db"} if path in NO_REPOSITORY else COMMON


CLI_MD = text(DOCS / "cli.md")


def table_options(section: str) -> set[str]:
    """Options named in the first cell of the section's table rows."""
    found: set[str] = set()
    for line in section.splitlines():
        if line.startswith("| `-"):
            found.update(OPTION.findall(line.split("|")[1]))
    return found


def command_sections() -> dict[tuple[str, ...], str]:
    found = {}
    for title, body in sections(CLI_MD, 3).items():
        match = COMMAND_HEADING.match(title)
        if match:
            found[tuple(match.group(1).split())] = body
    return found


SECTIONS = command_sections()
COMMON = table_options(sections(CLI_MD, 2)["How every command behaves"])
READER = table_options(sections(CLI_MD, 2)["Reader options"])


def documented_options(path: tuple[str, ...]) -> set[str]:
    body = SECTIONS[path]
    found = table_options(body)
    if is_leaf(path):
        found |= common_options(path)
    if "(#reader-options)" in body:
        found |= READER
    return found


@dataclass(frozen=True)
class Invocation:
    """``content-engine ...`` as the page writes it: the command's path and the rest."""

    path: tuple[str, ...]
    args: list[str]
    line: str


def invocation(line: str) -> Invocation | None:
    found = re.search(r"content-engine((?:\s+[^\s#)]+)*)", line)
    if found is None:
        return None
    words = shlex.split(found.group(1).replace("[", " ").replace("]", " "))
    path: tuple[str, ...] = ()
    while words and (*path, words[0]) in COMMANDS:
        path = (*path, words.pop(0))
    return Invocation(path, words, line)


def invocations(markdown: str, *, langs: tuple[str, ...]) -> Iterator[Invocation]:
    for block in code_blocks(markdown):
        if block.lang not in langs:
            continue
        for line in block.code.splitlines():
            if line.lstrip().startswith("#"):
                continue
            found = invocation(line)
            if found is not None:
                yield found


def test_every_command_has_a_section_and_every_section_a_command() -> None:
    assert len(SECTIONS) >= 12, "the page's command headings were not found"
    assert set(SECTIONS) == set(COMMANDS) - GROUPS, (
        "documented but not in the app: "
        f"{sorted(set(SECTIONS) - set(COMMANDS))}; in the app but not documented: "
        f"{sorted(set(COMMANDS) - set(SECTIONS) - GROUPS)}"
    )


@pytest.mark.parametrize("path", sorted(SECTIONS), ids=lambda p: " ".join(p) or "content-engine")
def test_a_commands_section_names_exactly_its_options(path: tuple[str, ...]) -> None:
    documented, actual = documented_options(path), options_of(path)
    assert documented - actual <= excused(path), f"not options: {documented - actual}"
    assert actual <= documented, f"options not documented: {sorted(actual - documented)}"


def test_common_and_reader_options_are_what_those_commands_take() -> None:
    assert {"--db", "--help"} <= COMMON
    leaves = [p for p in COMMANDS if is_leaf(p)]
    assert all(options_of(p) >= common_options(p) for p in leaves)
    assert all("--db" not in options_of(p) for p in NO_REPOSITORY)
    for path in (("render",), ("block",), ("explain",)):
        assert READER - options_of(path) <= excused(path)
        assert "(#reader-options)" in SECTIONS[path]


def test_every_option_in_synopses_and_examples_belongs_to_its_command() -> None:
    checked = 0
    for call in invocations(CLI_MD, langs=("", "sh")):
        named = set(OPTION.findall(" ".join(call.args)))
        allowed = options_of(call.path) | excused(call.path)
        assert named <= allowed, f"{call.line!r}: {sorted(named - allowed)} unknown"
        checked += 1
    assert checked >= 25


def test_every_option_the_page_names_is_an_option_somewhere() -> None:
    known = set().union(*(options_of(p) | excused(p) for p in COMMANDS))
    named = set(OPTION.findall(prose(CLI_MD))) | set(OPTION.findall(CLI_MD))
    # "-o" and "-f" are short options; a lone "-" word in prose is none.
    assert {o for o in named if o.startswith("--")} <= known
    assert len(named) >= 20


def test_the_reference_docs_name_only_options_that_exist() -> None:
    """The other pages mention CLI options too (``--preview``, ``--at``): they must exist."""
    known = set().union(*(options_of(p) | excused(p) for p in COMMANDS))
    for page in REFERENCE:
        for call in invocations(text(page), langs=("sh",)):
            named = set(OPTION.findall(" ".join(call.args)))
            assert named <= options_of(call.path) | excused(call.path), (page.name, call.line)
        mentioned = {o for o in OPTION.findall(prose(text(page))) if o.startswith("--")}
        assert mentioned <= known, (page.name, sorted(mentioned - known))


def runnable(call: Invocation, out: Path) -> list[str]:
    """The example's argv with its output paths moved into ``out``."""
    args = [*call.path, *call.args]
    for i, arg in enumerate(args):
        if i and args[i - 1] in ("-o", "--output", "--out"):
            args[i] = str(out / Path(arg).name)
    if call.path == ("export",):
        args[1] = str(out / args[1])
    return args


@pytest.mark.slow
def test_the_cli_examples_of_every_page_run_on_the_sample_library(
    db_url: str,
    tmp_path: Path,
    capsysbinary: pytest.CaptureFixture[bytes],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(ROOT)  # examples name components/ and docs/examples/ from the checkout
    assert main(["import", str(SAMPLE), "--db", db_url]) == 0
    ran = 0
    for call in (c for page in REFERENCE for c in invocations(text(page), langs=("sh",))):
        # serve and worker run until stopped and batch starts worker processes: their examples
        # are checked for their options above, and the commands have tests of their own.
        skipped = (("serve",), ("batch",), ("worker",))
        if call.path[:1] in skipped or not call.line.startswith("content-"):
            continue
        capsysbinary.readouterr()
        db = [] if call.path in NO_REPOSITORY else ["--db", db_url]
        code = main([*runnable(call, tmp_path), *db])
        _, err = capsysbinary.readouterr()
        assert code == 0, f"{call.line}\n{err.decode()}"
        ran += 1
    assert ran >= 15


def output_examples(markdown: str) -> Iterator[tuple[Invocation, str]]:
    """A ``sh`` block of one command followed straight away by a plain block: its output."""
    fences = list(_FENCE.finditer(markdown))
    for command, output in itertools.pairwise(fences):
        if command.group(1).strip() != "sh" or output.group(1).strip():
            continue
        if markdown[command.end() : output.start()].strip():
            continue
        lines = [line for line in command.group(2).splitlines() if line.strip()]
        call = invocation(lines[0]) if len(lines) == 1 else None
        if call is not None:
            yield call, output.group(2)


def test_printed_outputs_are_what_the_command_prints(
    db_url: str, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    """Shown output, line by line and in order; a ``...`` line stands for lines left out."""
    assert main(["import", str(SAMPLE), "--db", db_url]) == 0
    examples = [example for page in REFERENCE for example in output_examples(text(page))]
    assert examples, "no command with its output was found"
    for call, shown in examples:
        capsysbinary.readouterr()
        assert main([*call.path, *call.args, "--db", db_url]) == 0, call.line
        printed = capsysbinary.readouterr().out.decode().splitlines()
        position = 0
        for line in shown.splitlines():
            if line.strip() == "...":
                continue
            assert line in printed[position:], f"{call.line}: {line!r} not printed (in order)"
            position = printed.index(line, position) + 1


FILTER_ROW = re.compile(r"^\| `(\w+)[^|]*\| `(\{\{.*?\}\})` \| `([^`]+)`", re.M)


def test_the_filter_examples_print_what_the_table_says(db_url: str, tmp_path: Path) -> None:
    """The table of filters in bodies.md, rendered through a library for a de-AT reader."""
    rows = [
        (name, expression.replace("\\|", "|"), shown)
        for name, expression, shown in FILTER_ROW.findall(text(DOCS / "bodies.md"))
    ]
    assert {name for name, _, _ in rows} == set(FILTERS), "every filter has its example"
    body = "".join(f'<p id="f{i}">{expression}</p>\n' for i, (_, expression, _) in enumerate(rows))
    library = write_files(
        tmp_path / "library",
        {
            "library.yaml": "default_locale: en\nlocales: [de-AT]\nroles: [service-agent]\n",
            "snippets/doc.filters/component.yaml": "type: snippet\n",
            "snippets/doc.filters/default.html": body,
        },
    )
    example = json.loads(text(DOCS / "examples" / "service-call.json"))
    context = parse_context({**example, "at": "2026-11-23T10:00:00Z"})
    with make_engine(db_url) as engine:
        engine.import_library(library)
        block = engine.block("doc.filters", context)
    assert block.warnings == []
    printed = dict(re.findall(r'<p id="f(\d+)">(.*?)</p>', block.html))
    for i, (name, expression, shown) in enumerate(rows):
        # CLDR puts no-break spaces where the table shows plain ones.
        got = html.unescape(printed[str(i)]).replace("\xa0", " ").replace("\u202f", " ")
        assert got == shown, f"{name}: {expression} prints {got!r}, the table says {shown!r}"


# --- HTTP ----------------------------------------------------------------------------------

ROUTE = re.compile(r"\b(GET|POST|PUT|DELETE|PATCH) (/[A-Za-z0-9_.{}/-]*)")
HTTP_MD = text(DOCS / "http.md")


def shape(path: str) -> str:
    """A route path with its parameter names left out: ``/v1/x/{}``."""
    return re.sub(r"\{[^}]*\}", "{}", path.rstrip(".,;:"))


def app_routes(app: FastAPI) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    """(every route, the API's own routes) as (method, shape)."""
    # Since FastAPI 0.137 included routers are opaque in app.routes (see test_auth_matrix).
    iterate = getattr(fastapi.routing, "iter_route_contexts", None)
    every, api = set(), set()
    contexts: list[Any] = list(iterate(app.routes) if iterate else app.routes)
    for context in contexts:
        for method in getattr(context, "methods", None) or ():
            every.add((method, shape(context.path)))
            route = getattr(context, "original_route", context)
            if isinstance(route, APIRoute) and context.include_in_schema:
                api.add((method, shape(context.path)))
    return every, api


@pytest.fixture
def routes(db_url: str) -> Iterator[tuple[set[tuple[str, str]], set[tuple[str, str]]]]:
    with make_engine(db_url) as engine:  # as tests/web/conftest.py builds its app
        yield app_routes(create_app(engine.settings, engine=engine))


def test_every_route_the_docs_name_exists(
    routes: tuple[set[tuple[str, str]], set[tuple[str, str]]],
) -> None:
    every, _ = routes
    named = 0
    for page in REFERENCE:
        for method, path in ROUTE.findall(text(page)):
            assert (method, shape(path)) in every, f"{page.name}: {method} {path} is no route"
            named += 1
    assert named >= 25


def test_every_api_route_is_documented(
    routes: tuple[set[tuple[str, str]], set[tuple[str, str]]],
) -> None:
    _, api = routes
    documented = {(m, shape(p)) for m, p in ROUTE.findall(HTTP_MD)}
    assert len(api) >= 20
    missing = {r for r in api if r[1].startswith(("/v1/", "/healthz"))} - documented
    assert not missing, f"routes missing from docs/http.md: {sorted(missing)}"


@dataclass(frozen=True)
class Curl:
    """A ``curl`` example: what it sends and the status the page says it gets."""

    method: str
    url: str
    headers: dict[str, str]
    data: str | None
    expect: int | None
    source: str


def curl_examples(markdown: str) -> list[Curl]:
    found = []
    for block in code_blocks(markdown):
        if block.lang != "sh":
            continue
        expect: int | None = None
        lines = iter(block.code.replace("\\\n", " ").splitlines())
        for line in lines:
            stated = re.match(r"#\s*(\d{3})\b", line.strip())
            if stated:
                expect = int(stated.group(1))
            elif line.startswith("curl "):
                found.append(parse_curl(line, expect))
                expect = None
    return found


def parse_curl(line: str, expect: int | None) -> Curl:
    """The few curl options the examples use; any other is a test failure, not a guess."""
    words = shlex.split(line)[1:]
    method, url, headers, data = None, None, {}, None
    while words:
        word = words.pop(0)
        if word == "-H":
            name, _, value = words.pop(0).partition(":")
            headers[name.strip()] = value.strip()
        elif word == "-d":
            data = words.pop(0)
        elif word == "-X":
            method = words.pop(0)
        elif word == "-o":
            words.pop(0)
        elif word == "-i":
            pass
        elif word.startswith("-"):
            raise AssertionError(f"{line!r}: curl option {word} is not understood by this test")
        else:
            assert url is None, f"{line!r}: two URLs"
            url = word
    assert url is not None, line
    return Curl(method or ("POST" if data else "GET"), url, headers, data, expect, line)


def expand(value: str, variables: dict[str, str]) -> str:
    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        assert name in variables, f"the examples use ${name}, which nothing set"
        return variables[name]

    return re.sub(r"\$([A-Za-z_]+)", one, value)


@pytest.mark.slow
def test_the_curl_examples_answer_as_the_page_says(sample_db_url: str, tmp_path: Path) -> None:
    db_url = sample_db_url
    examples = curl_examples(HTTP_MD)
    assert len(examples) >= 20
    with make_engine(db_url) as engine:
        variables = {
            role.upper(): engine.repository.create_key(role, "docs")[1]
            for role in ("reader", "agent", "editor", "admin")
        }
    etags: dict[str, str] = {}
    with serve(db_url, tmp_path) as server, httpx2.Client(timeout=60) as client:
        variables["api"] = server.url
        for example in examples:
            url = expand(example.url, variables)
            variables["etag"] = etags.get(url, "")
            response = client.request(
                example.method,
                url,
                headers={k: expand(v, variables) for k, v in example.headers.items()},
                content=example.data.encode() if example.data is not None else None,
            )
            if example.expect is None:
                assert response.status_code < 300, f"{example.source}\n{response.text}"
            else:
                assert response.status_code == example.expect, (example.source, response.text)
            if response.status_code >= 400:
                assert set(response.json()) == {"error"}, response.text
            if "etag" in response.headers:
                etags[url] = response.headers["etag"]
            if "x-render-id" in response.headers:
                variables["render_id"] = response.headers["x-render-id"]


# --- every page: JSON, ids, links ----------------------------------------------------------


def json_values(markdown: str) -> Iterator[Any]:
    """Every JSON example: ``json`` blocks (one value, or one per line) and curl bodies."""
    for block in code_blocks(markdown):
        if block.lang == "json":
            try:
                yield json.loads(block.code)
            except json.JSONDecodeError:
                for line in block.code.splitlines():
                    if line.strip():
                        yield json.loads(line)  # a JSON-lines example; fails if neither
    for example in curl_examples(markdown):
        if example.data is not None:
            yield json.loads(example.data)


# A request body (or a block answer) is recognised by its keys and validated by its model.
BODIES = (
    ({"component", "variant", "html"}, BlockOut),
    ({"publication"}, RenderIn),
    ({"components"}, BlocksIn),
    ({"body"}, VariantIn),
    ({"slots"}, PublicationIn),
    ({"type", "folder"}, ComponentIn),
)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_json_examples_parse_and_contexts_validate(page: Path) -> None:
    for value in json_values(text(page)):
        if not isinstance(value, dict):
            continue
        if "locale" in value and "html" not in value:  # a context, not a block's answer
            parse_context(value)
        if isinstance(value.get("context"), dict):
            parse_context(value["context"])
        for keys, model in BODIES:
            if keys <= set(value):
                model.model_validate(value)


def test_the_docs_have_json_examples() -> None:
    assert sum(1 for page in PAGES for _ in json_values(text(page))) >= 15


SAMPLE_LIBRARY = load_library(SAMPLE)
COMPONENT_REFS = (
    re.compile(r"content-engine (?:block|explain) ([a-z0-9][a-z0-9._-]*)"),
    re.compile(r"<ce-include component=\"([a-z0-9][a-z0-9._-]*)\""),
    re.compile(r"/v1/(?:blocks|explain|components)/([a-z0-9][a-z0-9._-]*)"),
    re.compile(r"\{component: ([a-z0-9][a-z0-9._-]*)"),
    re.compile(r"\"component\": \"([a-z0-9][a-z0-9._-]*)\""),
)
PUBLICATION_REFS = (
    re.compile(r"content-engine (?:render|coverage|batch) ([a-z0-9][a-z0-9._-]*)"),
    re.compile(r"\"publication\": \"([a-z0-9][a-z0-9._-]*)\""),
    re.compile(r"/v1/(?:coverage|publications)/([a-z0-9][a-z0-9._-]*)"),
)
DOTTED = re.compile(r"`([a-z0-9-]+(?:\.[a-z0-9-]+)+)`")
# Dotted paths into a context's data (`product.model`) look like ids of the product family.
DATA_PATH = re.compile(r"^(?:customer|product|context)\.[a-z0-9-]+$")


def referenced_ids(markdown: str) -> tuple[set[str], set[str]]:
    components = {i for r in COMPONENT_REFS for i in r.findall(markdown)}
    for value in json_values(markdown):
        if isinstance(value, dict) and isinstance(value.get("components"), list):
            components.update(value["components"])
    publications = {i for r in PUBLICATION_REFS for i in r.findall(markdown)}
    # An id in backticks in the prose (`legal.warranty`), told from file names by its first part.
    families = {i.split(".")[0] for i in (*SAMPLE_LIBRARY.components, *SAMPLE_LIBRARY.publications)}
    for token in DOTTED.findall(markdown):
        if DATA_PATH.match(token) or token.endswith((".yaml", ".html", ".json")):
            continue
        if token.split(".")[0] in families:
            (publications if token in SAMPLE_LIBRARY.publications else components).add(token)
    return components, publications


def test_the_ids_the_examples_use_exist_in_the_sample_library() -> None:
    all_components: set[str] = set()
    all_publications: set[str] = set()
    for page in [*REFERENCE, ROOT / "README.md"]:
        components, publications = referenced_ids(text(page))
        unknown_c = components - set(SAMPLE_LIBRARY.components) - MADE_BY_EXAMPLES
        unknown_p = publications - set(SAMPLE_LIBRARY.publications) - MADE_BY_EXAMPLES
        assert not unknown_c, f"{page.name}: unknown components {sorted(unknown_c)}"
        assert not unknown_p, f"{page.name}: unknown publications {sorted(unknown_p)}"
        all_components |= components
        all_publications |= publications
    assert len(all_components - MADE_BY_EXAMPLES) >= 12
    assert set(SAMPLE_LIBRARY.publications) <= all_publications


def test_the_ids_made_by_examples_are_not_in_the_sample_library() -> None:
    """Else an example that creates one would meet a conflict, and a typo could hide here."""
    assert not MADE_BY_EXAMPLES & (
        set(SAMPLE_LIBRARY.components) | set(SAMPLE_LIBRARY.publications)
    )


LINK = re.compile(r"\]\(([^)\s]+)\)")


@pytest.mark.parametrize("page", [*PAGES, ROOT / "README.md"], ids=lambda p: p.name)
def test_relative_links_and_anchors_resolve(page: Path) -> None:
    for target in LINK.findall(prose(text(page))):
        if re.match(r"[a-z]+:", target):
            continue
        file, _, anchor = target.partition("#")
        linked = (page.parent / file).resolve() if file else page
        assert linked.exists(), f"{page.name}: {target} does not exist"
        if anchor:
            headings = {slug(m.group(2)) for m in _HEADING.finditer(prose(text(linked)))}
            assert anchor in headings, f"{page.name}: no heading #{anchor} in {linked.name}"


def test_the_readme_points_into_docs_not_outside_the_checkout() -> None:
    readme = text(ROOT / "README.md")
    assert "../shared" not in readme
    assert "](docs/README.md)" in readme
    index = text(DOCS / "README.md")
    for page in PAGES:
        if page.name != "README.md":
            assert f"]({page.name})" in index, f"docs/README.md does not list {page.name}"


# --- README's layout table is the tree -----------------------------------------------------

LAYOUT_ROW = re.compile(r"^\| `(content_engine/[\w/]*)` \| (\w+) \| .* \| (.*) \|$", re.M)


def layout_table() -> dict[str, set[str]]:
    """README's package rows: folder -> the modules it lists."""
    layout = sections((ROOT / "README.md").read_text(encoding="utf-8"), 2)["Layout"]
    return {
        folder: set(re.findall(r"`(\w+)`", modules))
        for folder, _, modules in LAYOUT_ROW.findall(layout)
    }


def package_tree() -> dict[str, set[str]]:
    """Every package of ``content_engine`` (migrations aside) -> its modules."""
    tree = {}
    for init in sorted((ROOT / "content_engine").rglob("__init__.py")):
        folder = init.parent
        if "migrations" in folder.parts:
            continue
        name = folder.relative_to(ROOT).as_posix() + "/"
        tree[name] = {p.stem for p in folder.glob("*.py") if p.name != "__init__.py"}
    return tree


def test_readme_layout_lists_every_package_and_module() -> None:
    table, tree = layout_table(), package_tree()
    assert len(tree) >= 10  # the walk itself found the packages
    assert table.keys() == tree.keys()
    for folder, modules in tree.items():
        assert table[folder] == modules, folder


def test_every_file_the_docs_name_exists() -> None:
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    named = {
        path
        for page in pages
        for path in re.findall(r"\b((?:content_engine|tests)/[\w/]+\.py)\b", text(page))
    }
    assert len(named) >= 5  # the pages do name files
    assert sorted(p for p in named if not (ROOT / p).is_file()) == []
