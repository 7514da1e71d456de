"""Property-based requests from the OpenAPI schema: no 5xx, and responses match the schema.

Schemathesis generates requests for every operation of ``/openapi.json``, valid ones and ones
that break the schema, and sends them as admin to an app on a fresh SQLite database with the
sample library. A module-level tally prints operations, examples and failures at the end.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hypothesis.core
import hypothesis.vendor.pretty
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.errors import FailureGroup
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import response_schema_conformance

from content_engine.settings import Settings
from content_engine.web import create_app
from content_engine.web.errors import ApiError
from content_engine.web.library_api import expected_version
from tests.support.apps import Api

# Importing schemathesis swaps Hypothesis' pretty-printer for one that prints nothing (a speed-up
# for its own runs), which blanks "Failing test case: ..." in every other property test of the
# session. Put Hypothesis' own back; schemathesis patches only once per process.
hypothesis.core.RepresentationPrinter = hypothesis.vendor.pretty.RepresentationPrinter  # type: ignore[misc]

MAX_EXAMPLES = 15  # per operation and generation mode
BUDGET_SECONDS = 75.0  # for the whole module; examples past it are counted, not sent
CHECKS = [not_a_server_error, response_schema_conformance]

# Ids from the sample library: with random ids nearly every request stops at a 404, so each
# operation with path parameters is also run with these ("sample" mode) to reach the handlers.
SAMPLE_PATH = {
    "component": "snippet.hotline",
    "component_id": "snippet.hotline",
    "key": "default",
    "publication_id": "service.sheet",
}


def _constrained(param: dict[str, Any]) -> bool:
    """Whether a parameter's schema rules out some value (more than "any string or none")."""
    schema = {k: v for k, v in param.get("schema", {}).items() if k not in ("title", "description")}
    anything = ({"type": "string"}, {"anyOf": [{"type": "string"}, {"type": "null"}]})
    return schema not in anything


def _cases() -> list[tuple[str, str, str]]:
    """(mode, method, path) for every operation of the schema; building the app opens nothing."""
    cases = []
    paths = create_app(Settings(db_url="sqlite://")).openapi()["paths"]
    for path, item in paths.items():
        for method, operation in item.items():
            params = operation.get("parameters", [])
            cases.append(("positive", method.upper(), path))
            # An operation without parameters or body has nothing to make invalid: Hypothesis
            # would stop with Unsatisfiable. Nor has one whose parameters are all any string
            # (the public asset route: any hash and path is a request it answers, with 404), nor
            # a raw body without a schema (an asset upload: any bytes). That is all left out.
            body = operation.get("requestBody", {}).get("content", {})
            if any(_constrained(p) for p in params) or any("schema" in c for c in body.values()):
                cases.append(("negative", method.upper(), path))
            if any(p["in"] == "path" for p in params):
                cases.append(("sample", method.upper(), path))
    return cases


CASES = _cases()


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """SQLite only, whatever backends the suite runs on: this is about the HTTP layer."""
    return f"sqlite:///{tmp_path / 'schemathesis.db'}"


@dataclass
class Tally:
    started: float = field(default_factory=time.monotonic)
    operations: int = 0
    examples: int = 0
    over_budget: int = 0
    failures: list[str] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)

    @property
    def out_of_time(self) -> bool:
        return time.monotonic() - self.started > BUDGET_SECONDS

    def summary(self) -> str:
        statuses = ", ".join(f"{s}: {n}" for s, n in sorted(self.statuses.items()))
        return (
            f"schemathesis: {self.operations} operations, {self.examples} examples, "
            f"{len(self.failures)} failures, {self.over_budget} examples over the time budget, "
            f"{time.monotonic() - self.started:.1f} s (statuses {statuses})"
        )


@pytest.fixture(scope="module")
def tally(request: pytest.FixtureRequest) -> Iterator[Tally]:
    tally = Tally()
    yield tally
    # Shown even when the tests pass (output is otherwise captured).
    capture = request.config.pluginmanager.getplugin("capturemanager")
    reporter = request.config.pluginmanager.getplugin("terminalreporter")
    if capture is not None and reporter is not None:
        with capture.global_and_fixture_disabled():
            reporter.write_line("")
            reporter.write_line(tally.summary())


@pytest.fixture
def schema(api: Api) -> Iterator[Any]:
    app = api.client.app
    yield schemathesis.openapi.from_asgi("/openapi.json", app)
    # Schemathesis starts the app's lifespan in a thread of its own and keeps it until exit;
    # the engine belongs to the ``api`` fixture, so stop the lifespan before that closes it.
    asgi.shutdown_lifespans()


def _render_id(api: Api) -> str:
    response = api.client.post(
        "/v1/render",
        json={"publication": "service.sheet", "context": {"locale": "en"}},
        headers=api.auth("reader"),
    )
    assert response.status_code == 200, response.text
    return response.headers["x-render-id"]


@pytest.mark.parametrize(("mode", "method", "path"), CASES, ids=[" ".join(c) for c in CASES])
def test_operation_conforms_and_never_fails(
    api: Api, schema: Any, tally: Tally, mode: str, method: str, path: str
) -> None:
    operation = schema[path][method]
    admin = api.auth("admin")
    failures: dict[str, str] = {}
    fixed: dict[str, Any] = {}
    if mode == "positive":
        tally.operations += 1
    if mode == "sample":
        names = {p.name for p in operation.path_parameters}
        fixed["path_parameters"] = {k: v for k, v in SAMPLE_PATH.items() if k in names}
        if "render_id" in names:
            fixed["path_parameters"]["render_id"] = _render_id(api)
        if any(p.name.lower() == "if-match" for p in operation.headers):
            fixed["headers"] = {"If-Match": '"1"'}

    generation = schemathesis.GenerationMode.NEGATIVE
    if mode != "negative":
        generation = schemathesis.GenerationMode.POSITIVE
    strategy = operation.as_strategy(generation_mode=generation, **fixed)

    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,  # the same examples every run: a failure here reproduces
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case: schemathesis.Case) -> None:
        if tally.out_of_time:
            tally.over_budget += 1
            return
        tally.examples += 1
        try:
            response = case.call(headers=admin)
            tally.statuses[response.status_code] = tally.statuses.get(response.status_code, 0) + 1
            case.validate_response(response, checks=CHECKS, headers=admin)
        # A check's FailureGroup is a BaseExceptionGroup, not an Exception; the app raising is.
        except (FailureGroup, Exception) as exc:
            if isinstance(exc, FailureGroup):
                title = "; ".join(sorted({f"{f.title}: {f.message}" for f in exc.exceptions}))
            else:
                title = f"{type(exc).__name__}: {exc}"
            report = "\n".join([str(exc), *getattr(exc, "__notes__", [])])
            failures.setdefault(title.splitlines()[0] if title else "?", report)

    run()
    tally.failures += [f"{method} {path} ({mode}): {title}" for title in failures]
    assert not failures, "\n\n".join(failures.values())


@pytest.mark.parametrize(
    ("method", "url", "kwargs"),
    [
        # Found by the negative run: a number where a list of roles goes was a TypeError.
        (
            "PUT",
            "/v1/components/snippet.hotline/variants/default",
            {"json": {"body": "<p>x</p>", "conditions": {"roles": -73817}}},
        ),
        # Instants that exist in their own offset but not in UTC were an OverflowError.
        (
            "GET",
            "/v1/blocks/snippet.hotline",
            {"params": {"locale": "en", "at": "9999-12-31T23:00:00-05:00"}},
        ),
        (
            "POST",
            "/v1/render",
            {
                "json": {
                    "publication": "service.sheet",
                    "context": {"locale": "en", "at": "0001-01-01T00:00:00+05:00"},
                }
            },
        ),
        (
            "PUT",
            "/v1/components/snippet.hotline/variants/default",
            {"json": {"body": "<p>x</p>", "valid_until": "9999-12-31"}},
        ),
        # A version past the INTEGER column was an OverflowError in the driver.
        (
            "POST",
            "/v1/components/snippet.hotline/variants/default/rollback",
            {"json": {"version": 52239401685036723821273415680}},
        ),
        # Titles by locale tag were only checked inside the handler: a ValidationError there.
        (
            "PUT",
            "/v1/publications/service.sheet",
            {"json": {"title": "Service", "titles": {"Generated on {date}": "x"}}},
        ),
    ],
)
def test_bad_input_found_while_fuzzing_is_422(
    api: Api, method: str, url: str, kwargs: dict[str, Any]
) -> None:
    headers = {**api.auth("admin"), "If-Match": '"1"'}
    response = api.client.request(method, url, headers=headers, **kwargs)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] in ("invalid_request", "invalid_context")


def test_a_date_alone_ends_at_the_end_of_that_day(api: Api) -> None:
    """CONTRACT 1, for the API as for files (found while pinning the case above)."""
    response = api.client.put(
        "/v1/components/snippet.hotline/variants/default",
        json={"body": "<p>x</p>", "valid_from": "2027-04-01", "valid_until": "2027-04-30"},
        headers={**api.auth("editor"), "If-Match": '"1"'},
    )
    assert response.status_code == 200, response.text
    data = response.json()
    assert (data["valid_from"], data["valid_until"]) == (
        "2027-04-01T00:00:00Z",
        "2027-05-01T00:00:00Z",
    )


def test_if_match_with_a_digit_that_is_not_ascii_is_400() -> None:
    # "²" is a Latin-1 header byte and str.isdigit() says yes; int() says no. Called directly:
    # the test client re-encodes such a header before the app sees it.
    with pytest.raises(ApiError) as raised:
        expected_version('"\u00b2"', None, create=False)
    assert (raised.value.status, raised.value.code) == (400, "bad_if_match")
