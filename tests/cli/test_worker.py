"""``worker`` and ``batch --queue`` when the broker is not there or the URL is wrong: one line,
no traceback, the exit code of the error family; no broker needed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from content_engine.cli import main

# Nothing listens on port 1 of the loopback.
UNREACHABLE = ["redis://127.0.0.1:1/0", "amqp://guest:secret@127.0.0.1:1//"]


@pytest.mark.parametrize("url", UNREACHABLE)
def test_an_unreachable_broker_is_one_line_and_exit_1(
    url: str, db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["worker", "--queue", url, "--db", db_url]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: cannot reach the queue at ") and err.count("\n") == 1, err
    assert "secret" not in err and "Traceback" not in err


def test_batch_on_an_unreachable_broker_renders_nothing(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.support.brokers import write_letter_library

    assert main(["import", str(write_letter_library(tmp_path / "lib")), "--db", db_url]) == 0
    contexts = tmp_path / "c.jsonl"
    contexts.write_text(json.dumps({"locale": "en"}) + "\n")
    out = tmp_path / "out"
    args = ["batch", "letter", "--contexts", str(contexts), "--out", str(out), "-f", "html"]
    capsys.readouterr()
    assert main([*args, "--queue", UNREACHABLE[0], "--db", db_url]) == 1
    err = capsys.readouterr().err
    assert "error: cannot reach the queue at redis://127.0.0.1:1/0" in err
    assert "Traceback" not in err and not list(out.glob("*.html"))


@pytest.mark.parametrize("url", ["http://127.0.0.1/", "127.0.0.1:6379", "sqs://x"])
def test_a_url_that_is_no_broker_is_bad_input(
    url: str, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["worker", "--queue", url, "--db", db_url]) == 2
    assert "must start with redis://" in capsys.readouterr().err
