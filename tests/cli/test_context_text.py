"""CLI context files the store could not keep: exit 2 with one line, in a real process.

A context file is read with the same check as HTTP bodies and batch lines (``storable``): a
file nested 100,000 deep, NUL, lone surrogates and NaN are bad input, never a traceback.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.servers import run_cli

pytestmark = pytest.mark.slow

DEEP = 100_000
CASES = {
    "nested [": "[" * DEEP + "]" * DEEP,
    "nested objects, NUL at the bottom": (
        '{"locale": "de", "customer": ' + '{"a": ' * DEEP + '"\\u0000"' + "}" * DEEP + "}"
    ),
    "unclosed [": "[" * DEEP,
    "lone surrogate": '{"locale": "de", "customer": {"name": "x\\ud800y"}}',
    "NUL in a key": '{"locale": "de", "customer": {"a\\u0000": 1}}',
    "NaN": '{"locale": "de", "customer": {"n": NaN}}',
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_unstorable_context_files_exit_2_with_one_line(
    sample_db: tuple[str, Path], name: str
) -> None:
    url, home = sample_db
    path = home / "context.json"
    path.write_text(CASES[name], encoding="utf-8")
    result = run_cli("block", "snippet.hotline", "--context", str(path), "--db", url, cwd=home)
    assert result.returncode == 2, (name, result.stderr[-2000:])
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("error: "), result.stderr[:500]
    assert result.stderr.count("\n") == 1, result.stderr[:500]
    assert result.stdout == ""
