"""Every answer says ``X-Content-Type-Options: nosniff``: API, fast path, workbench, static
files, refusals and even an unexpected 500."""

from __future__ import annotations

import pytest

from tests.support.apps import Api

GETS = [
    "/static/ui.css",
    "/static/ui.js",
    "/static/nothing-here.css",
    "/healthz",
    "/openapi.json",
    "/v1/blocks/snippet.hotline?locale=en",
    "/v1/blocks/snippet.hotline?locale=en&locale=de",
    "/v1/blocks/nope?locale=en",
    "/v1/components",
    "/no/such/route",
    "/",
    "/sign-in",
]


@pytest.mark.parametrize("path", GETS)
def test_every_answer_says_nosniff(api: Api, path: str) -> None:
    for _ in range(3):  # the third GET of a block comes from the fast path
        response = api.client.get(path, headers=api.auth("editor"), follow_redirects=False)
        assert response.headers.get_list("x-content-type-options") == ["nosniff"], (
            path,
            response.status_code,
        )


def test_refusals_before_the_routes_say_nosniff(api: Api) -> None:
    repeated = api.client.get("/healthz", headers=[("Cookie", "a=1"), ("Cookie", "b=2")])
    assert repeated.status_code == 400
    too_large = api.client.post(
        "/v1/blocks", content=b"x" * (3 * 1024 * 1024), headers=api.auth("reader")
    )
    assert too_large.status_code == 413
    not_allowed = api.client.delete("/healthz")
    assert not_allowed.status_code == 405
    for response in (repeated, too_large, not_allowed):
        assert response.headers["x-content-type-options"] == "nosniff"


def test_an_unexpected_error_says_nosniff(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken() -> int:
        raise RuntimeError("a bug")

    monkeypatch.setattr(api.engine.repository, "revision", broken)
    response = api.client.get("/healthz")
    assert response.status_code == 500
    assert response.headers["x-content-type-options"] == "nosniff"
