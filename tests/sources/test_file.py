"""``file`` sources: CSV and JSON beside the sources file, read the careful way, kept fresh."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from content_engine.core.errors import LookupNotFound, SourceUnavailable
from content_engine.sources import SourcesLimits
from tests.sources.conftest import MakeSources


def text(path: str, **options: Any) -> str:
    lines = "".join(f"    {k}: {json.dumps(v)}\n" for k, v in options.items())
    return f"sources:\n  rows:\n    kind: file\n    path: {json.dumps(path)}\n    key: id\n{lines}"


def ask(make_sources: MakeSources, source: str, value: str, **limits: Any) -> Any:
    sources = make_sources(source, limits=SourcesLimits(**limits))
    return sources.fetch({"id": value}, {"rows"}).values.get("rows")


def test_csv_one_row_and_many(make_sources: MakeSources, tmp_path: Path) -> None:
    (tmp_path / "rows.csv").write_text("\ufeffid,name\n1,one\n2,two\n1,uno\n", "utf-8")
    assert ask(make_sources, text("rows.csv", required=True), "1") == {"id": "1", "name": "one"}
    many = ask(make_sources, text("rows.csv", many=True), "1")
    assert many == [{"id": "1", "name": "one"}, {"id": "1", "name": "uno"}]
    assert ask(make_sources, text("rows.csv", many=True), "9") == []
    with pytest.raises(LookupNotFound):
        ask(make_sources, text("rows.csv", required=True, many=True), "9")


def test_json_keys_match_as_text(make_sources: MakeSources, tmp_path: Path) -> None:
    rows = [{"id": 42, "n": 1.5}, {"id": True, "n": 2}, {"id": None}, {"id": {"x": 1}}]
    (tmp_path / "rows.json").write_text(json.dumps(rows), "utf-8")
    assert ask(make_sources, text("rows.json"), "42") == {"id": 42, "n": 1.5}
    assert ask(make_sources, text("rows.json"), "true") == {"id": True, "n": 2}
    assert ask(make_sources, text("rows.json"), "None") is None


def test_a_changed_file_is_read_again(make_sources: MakeSources, tmp_path: Path) -> None:
    path = tmp_path / "rows.csv"
    path.write_text("id,name\n1,old\n", "utf-8")
    sources = make_sources(text("rows.csv"))
    assert sources.fetch({"id": "1"}, {"rows"}).values["rows"]["name"] == "old"
    path.write_text("id,name\n1,newer\n", "utf-8")
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 10**9))
    assert sources.fetch({"id": "1"}, {"rows"}).values["rows"]["name"] == "newer"


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("rows.json", b'{"id": 1}', "not a list of objects"),
        ("rows.json", b"[1, 2]", "not a list of objects"),
        ("rows.json", b"[{", "not valid JSON"),
        ("rows.json", b"[" * 200 + b"]" * 200, "nested deeper"),
        ("rows.json", b'[{"id": "a\\u0000"}]', "NUL"),
        ("rows.csv", b"id,name\n1,a,extra\n", "more fields than its header"),
        ("rows.csv", b"id,name\n\xff\xfe,x\n", "not valid CSV"),
        ("rows.csv", b"id,name\n1,x\n2," + b"y" * 2000 + b"\n", "over the limit of 1000 bytes"),
    ],
)
def test_a_bad_file_is_unavailable(
    make_sources: MakeSources, tmp_path: Path, name: str, content: bytes, reason: str
) -> None:
    (tmp_path / name).write_bytes(content)
    with pytest.raises(SourceUnavailable) as caught:
        ask(make_sources, text(name, required=True), "1", max_file_bytes=1000)
    assert reason in caught.value.details["reason"]


def test_a_missing_file_or_a_pipe(make_sources: MakeSources, tmp_path: Path) -> None:
    with pytest.raises(SourceUnavailable, match="the file cannot be read"):
        ask(make_sources, text("absent.csv", required=True), "1")
    os.mkfifo(tmp_path / "pipe.csv")
    started = time.monotonic()
    with pytest.raises(SourceUnavailable, match="a pipe"):
        ask(make_sources, text("pipe.csv", required=True), "1")
    assert time.monotonic() - started < 1.5


def test_the_path_is_relative_to_the_sources_file(
    make_sources: MakeSources, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "rows.csv").write_text("id,name\n1,one\n", "utf-8")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert ask(make_sources, text("data/rows.csv"), "1") == {"id": "1", "name": "one"}
