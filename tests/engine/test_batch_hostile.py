"""Hostile batch lines: each is one failed line, never the end of the batch.

A line of 100,000 ``[`` killed the whole batch with a traceback; an id ``"abc\\n"`` passed the
safe-name check (``$`` matches before a final newline). Lines come from hypothesis as well as
from the cases of the report, and a real ``batch`` process runs the worst of them.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from content_engine.engine.batch import Failure, Job, read_jobs
from tests.support.engine_factory import SAMPLE
from tests.support.servers import cli, run_cli

SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,100}")
JSONISH = st.text(st.sampled_from('[]{}":,0123456789.-eE\\ntrufalsn u\x00\ud800'), max_size=60)


@settings(max_examples=500)
@given(st.lists(st.text() | JSONISH, max_size=8))
def test_every_line_is_a_job_or_a_failure_whatever_it_holds(lines: list[str]) -> None:
    items = list(read_jobs(iter(lines)))
    assert len(items) == sum(1 for line in lines if line.strip())
    assert all(isinstance(item, Job | Failure) for item in items)


@settings(max_examples=60, deadline=None)
@given(levels=st.integers(1_000, 200_000), opener=st.sampled_from(["[", '{"a":', '{"context":[']))
def test_a_line_nested_past_any_limit_is_one_failure(levels: int, opener: str) -> None:
    good = json.dumps({"locale": "en"})
    items = list(read_jobs(iter([good, opener * levels, good])))
    assert [type(i) for i in items] == [Job, Failure, Job]
    failure = items[1]
    assert isinstance(failure, Failure) and failure.line == 2


@given(
    st.text(max_size=20).filter(lambda t: not SAFE_ID.fullmatch(t))
    | st.builds(
        lambda a, b: a + b,
        st.from_regex(SAFE_ID, fullmatch=True),
        st.sampled_from(["\n", "\r", "\r\n", "\x00", "\ud800", " ", "/", "\u2028", "\t"]),
    )
)
def test_only_safe_file_names_are_ids(wanted: str) -> None:
    line = json.dumps({"id": wanted, "context": {"locale": "en"}})
    [item] = read_jobs(iter([line]))
    # A NUL or lone surrogate is refused with the whole line, before the id is looked at.
    assert isinstance(item, Failure), (wanted, item)
    assert item.code in ("bad_id", "unstorable_text"), (wanted, item)


@given(st.from_regex(SAFE_ID, fullmatch=True))
def test_safe_ids_name_the_output(wanted: str) -> None:
    [item] = read_jobs(iter([json.dumps({"id": wanted, "context": {"locale": "en"}})]))
    assert isinstance(item, Job) and item.name == wanted


@pytest.mark.slow
def test_a_real_batch_renders_the_good_lines_around_hostile_ones(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    cli("import", str(SAMPLE), "--db", url, cwd=tmp_path)
    lines = [
        json.dumps({"id": "first", "context": {"locale": "en", "customer": {"name": "Anna"}}}),
        "[" * 100_000,
        '{"locale": "en", "customer": ' + '{"a": ' * 100_000 + "1" + "}" * 100_000 + "}",
        json.dumps({"id": "abc\n", "context": {"locale": "en"}}),
        json.dumps({"locale": "en", "customer": {"name": "x\ud800y"}}),
        '{"locale": "en", "customer": {"n": NaN}}',
        json.dumps({"locale": "en", "customer": {"k\x00": 1}}),
        # A raw U+2028 inside a string is JSON: the line must stay one line.
        json.dumps(
            {"id": "sep", "context": {"locale": "en", "customer": {"name": "a\u2028b"}}},
            ensure_ascii=False,
        ),
        json.dumps({"id": "last", "context": {"locale": "de"}}),
    ]
    contexts = tmp_path / "c.jsonl"
    contexts.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    result = run_cli(
        "batch",
        "service.sheet",
        "--contexts",
        str(contexts),
        "--out",
        str(out),
        "--format",
        "html",
        "--db",
        url,
        cwd=tmp_path,
    )
    assert result.returncode == 1, result.stderr  # some lines failed, the rest was done
    assert "Traceback" not in result.stderr
    assert sorted(p.name for p in out.glob("*.html")) == ["first.html", "last.html", "sep.html"]
    failures = [json.loads(line) for line in (out / "failures.jsonl").read_text().splitlines()]
    assert [(f["line"], f["code"]) for f in failures] == [
        (2, "unstorable_text"),
        (3, "unstorable_text"),
        (4, "bad_id"),
        (5, "unstorable_text"),
        (6, "unstorable_text"),
        (7, "unstorable_text"),
    ]
    assert "3 written, 6 failed" in result.stderr
