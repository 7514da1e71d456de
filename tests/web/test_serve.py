"""``content-engine serve`` as a real process on a real port, reached over HTTP.

The database gets the sample library and a reader key through the CLI, as an operator would
set it up; every server started here is terminated in a ``finally``.
"""

from __future__ import annotations

from pathlib import Path

import httpx2
import pytest

from tests.support.engine_factory import SAMPLE
from tests.support.servers import cli, serve

pytestmark = pytest.mark.slow

BLOCK = "/v1/blocks/snippet.hotline"


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    cli("import", str(SAMPLE), "--db", url, cwd=tmp_path)
    return url


def test_serve_checks_keys_over_http(db_url: str, tmp_path: Path) -> None:
    created = cli("keys", "create", "--role", "reader", "--db", db_url, cwd=tmp_path)
    key = created.stdout.strip()
    assert key.startswith("ce_") and "\n" not in key
    with serve(db_url, tmp_path) as server, httpx2.Client(base_url=server.url) as http:
        ok = http.get(BLOCK, params={"locale": "en"}, headers={"Authorization": f"Bearer {key}"})
        assert ok.status_code == 200, ok.text
        assert ok.headers["content-type"].startswith("text/html")
        assert ok.text.startswith("<")
        refused = http.get(BLOCK, params={"locale": "en"})
        assert refused.status_code == 401
        assert refused.json()["error"]["code"] == "unauthorized"
        assert "OPEN ACCESS" not in server.log()
    assert key not in server.log()


def test_serve_open_warns_loudly_and_needs_no_key(db_url: str, tmp_path: Path) -> None:
    with serve(db_url, tmp_path, "--open") as server, httpx2.Client(base_url=server.url) as http:
        response = http.get(BLOCK, params={"locale": "en"})
        assert response.status_code == 200, response.text
        assert response.text.startswith("<")
        # Editors' routes too: without keys every caller is admin.
        assert http.get("/v1/lint").status_code == 200
        log = server.log()
    assert "WARNING: --open: no API keys are checked" in log
    assert "Never expose this server" in log


@pytest.mark.parametrize("url", ["ftp://cdn.example", "https://cdn.example/?x=1", "cdn.example"])
def test_serve_refuses_a_public_url_that_is_not_plain_http(
    db_url: str, tmp_path: Path, url: str
) -> None:
    from tests.support.servers import run_cli

    result = run_cli("serve", "--public-url", url, "--db", db_url, cwd=tmp_path, timeout=60)
    assert result.returncode == 2
    assert "--public-url must be an http:// or https:// URL" in result.stderr
