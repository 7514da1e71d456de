"""A worker's checks of a task message, one by one and without a broker: a message is what
anyone who can write to the broker sent, so each field is checked before anything is written."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from content_engine.cli import main
from content_engine.engine import batch
from content_engine.engine.campaign import MARKER, render_task
from content_engine.settings import Settings
from tests.support.brokers import write_letter_library

CAMPAIGN = "0123456789abcdef" * 2


@pytest.fixture
def out(tmp_path: Path) -> Path:
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / MARKER).write_text(CAMPAIGN + "\n")
    return folder


@pytest.fixture
def message(out: Path) -> dict[str, Any]:
    return {
        "campaign": CAMPAIGN, "out_dir": str(out), "output": "anna.html", "publication": "letter",
        "line": 3, "context": {"locale": "en", "customer": {"name": "Anna"}}, "format": "html",
        "strict": False,
    }  # fmt: skip


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[None]:
    """The engine a worker's render process has (``batch._start_worker``), on a fresh library."""
    url = f"sqlite:///{tmp_path / 'ce.db'}"
    assert main(["import", str(write_letter_library(tmp_path / "lib")), "--db", url]) == 0
    batch._start_worker(Settings(db_url=url))
    yield
    batch._worker_engine.close()
    batch._worker_engine = None


def test_a_good_task_is_written_once_then_found_there(
    engine: None, out: Path, message: dict[str, Any]
) -> None:
    first = render_task(**message)
    assert first == {
        "line": 3, "code": None, "message": str(out / "anna.html"), "warnings": [], "kept": False
    }  # fmt: skip
    assert "<p>Hello Anna.</p>" in (out / "anna.html").read_text()
    assert not list(out.glob("*.part"))
    again = render_task(**message)
    assert again["kept"] is True and again["code"] is None


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"output": "../anna.html"}, "not a safe file name"),
        ({"output": "/tmp/anna.html"}, "not a safe file name"),
        ({"output": "sub/anna.html"}, "not a safe file name"),
        ({"output": ".campaign.html"}, "not a safe file name"),
        ({"output": "anna.pdf"}, "not a safe file name"),  # not the format's extension
        ({"output": "anna\n.html"}, "not a safe file name"),
        ({"out_dir": "relative/out"}, "not an absolute path"),
        ({"out_dir": "/tmp/a\x00b"}, "not the folder of campaign"),
        ({"campaign": "f" * 32}, "not the folder of campaign"),
        ({"campaign": "../../etc"}, "campaign: String should match pattern"),
        ({"format": "exe"}, "format: Input should be"),
        ({"line": True}, "line: Input should be a valid integer"),
        ({"line": 0}, "line: Input should be greater than or equal to 1"),
        ({"strict": "yes"}, "strict: Input should be a valid boolean"),
        ({"extra": 1}, "extra: Extra inputs are not permitted"),
        ({"context": {"locale": "en", "shoe": 42}}, "invalid context"),
        ({"context": {"locale": "en", "customer": {"name": "a\u0000b"}}}, "NUL"),
    ],
)
def test_a_forged_field_is_refused_and_nothing_is_written(
    out: Path, message: dict[str, Any], change: dict[str, Any], reason: str
) -> None:
    outcome = render_task(**{**message, **change})
    assert outcome["code"] in ("bad_task", "invalid_context", "unstorable_text"), outcome
    assert reason in outcome["message"], outcome["message"]
    assert sorted(p.name for p in out.iterdir()) == [MARKER]


def test_the_marker_must_be_a_regular_file_naming_the_campaign(
    out: Path, message: dict[str, Any]
) -> None:
    (out / MARKER).unlink()
    (out / MARKER).mkdir()
    assert "campaign marker" in render_task(**message)["message"]
    (out / MARKER).rmdir()
    os.mkfifo(out / MARKER)  # would block a plain open() for ever
    assert "campaign marker" in render_task(**message)["message"]
    assert not (out / "anna.html").exists()


def test_positional_arguments_and_missing_fields_are_refused(message: dict[str, Any]) -> None:
    assert render_task("x", **message)["message"] == "a task takes keyword arguments only"
    del message["context"]
    outcome = render_task(**message)
    assert outcome == {
        "line": 3,
        "code": "bad_task",
        "message": "bad task: context: Field required",
        "warnings": [],
        "kept": False,
    }
