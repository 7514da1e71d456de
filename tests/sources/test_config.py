"""The sources file: every mistake named at its file, line and column; secrets in no error."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from content_engine.core.errors import SourcesConfigError
from content_engine.sources import Sources, SourcesLimits, load_config

Write = Callable[[str], Path]

GOOD = """\
deadline: 1.5
sources:
  installation:
    kind: sql
    url: ${CRM_DB_URL}
    query: "SELECT serial, customer_id FROM installations WHERE serial = :serial"
    key: serial
    timeout: 1
    cache_ttl: 60
    required: true
  customer:
    kind: http
    url: "http://127.0.0.1:9100/customers/{customer_id}"
    headers: {Authorization: "Bearer ${CRM_TOKEN}"}
    key: customer_id
    from: installation.customer_id
  contracts:
    kind: file
    path: data/contracts.csv
    key: customer_id
    from: customer.id
    many: true
"""
ENV = {"CRM_DB_URL": "sqlite:////srv/crm.db", "CRM_TOKEN": "tok-very-secret"}


def error_of(write: Write, text: str, environ: dict[str, str] | None = None, **limits: int) -> str:
    path = write(text)
    with pytest.raises(SourcesConfigError) as caught:
        load_config(path, ENV if environ is None else environ, SourcesLimits(**limits))
    error = caught.value
    assert error.code == "malformed_sources"
    assert error.file == str(path)
    return error.message.removeprefix(str(path))


def test_the_contract_example_loads(write_sources: Write) -> None:
    config = load_config(write_sources(GOOD), ENV)
    assert config.deadline == 1.5
    assert set(config.sources) == {"installation", "customer", "contracts"}
    customer = config.sources["customer"]
    assert customer.headers == {"Authorization": "Bearer tok-very-secret"}
    assert (customer.depends_on, customer.from_field) == ("installation", "customer_id")
    contracts = config.sources["contracts"]
    assert contracts.path is not None and contracts.path.parts[-2:] == ("data", "contracts.csv")
    assert contracts.path.is_absolute()
    installation = config.sources["installation"]
    assert installation.negative_ttl == 5.0 and installation.cache_ttl == 60
    assert installation.max_rows == 1000


def test_secrets_are_not_shown(write_sources: Write) -> None:
    sources = Sources.load(write_sources(GOOD), ENV)
    try:
        shown = repr(sources.config)
        assert "tok-very-secret" not in shown and "/srv/crm.db" not in shown
    finally:
        sources.close()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sources: [", r":1:11: while parsing a flow node"),
        ("sources:\n  a:\n    kind: ftp\n    key: k\n", r":2:3: sources\.a: Input tag 'ftp'"),
        ("sources:\n  a:\n    kind: file\n", r":2:3: sources\.a: missing key 'key'"),
        (
            "sources:\n  a:\n    kind: file\n    key: k\n    path: x.csv\n    colour: red\n",
            r":6:5: sources\.a: unknown key 'colour'",
        ),
        ("deadline: 1\n", r": missing key 'sources'"),
        ("sources:\n  Bad-Name:\n    kind: file\n", r":2:3: sources\.Bad-Name\.\[key\]"),
        ("- just\n- a list\n", r":1:1: expected a mapping"),
        ("deadline: 100\nsources: {}\n", r":1:1: deadline: at most 60 seconds"),
        ("deadline: -1\nsources: {}\n", r":1:1: deadline: Input should be greater than 0"),
        (
            "a: &x [1]\nb: *x\nsources: {}\n",
            r":2:4: YAML aliases \(\*name\) are not allowed in this file",
        ),
    ],
)
def test_malformed_files_are_named_at_their_place(
    write_sources: Write, text: str, expected: str
) -> None:
    assert re.match(expected, error_of(write_sources, text)), error_of(write_sources, text)


FILE = "    kind: file\n    path: x.csv\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "sources:\n  a:\n" + FILE + "    key: k\n    from: b.id\n"
            "  b:\n" + FILE + "    key: k\n    from: a.id\n",
            r":6:5: sources\.a\.from: a cycle of sources: a -> b -> a",
        ),
        (
            "sources:\n  a:\n" + FILE + "    key: k\n    from: a.id\n",
            r":6:5: sources\.a\.from: a cycle of sources: a -> a",
        ),
        (
            "sources:\n  a:\n" + FILE + "    key: k\n    from: nobody.id\n",
            r":6:5: sources\.a\.from: no source named 'nobody'",
        ),
        (
            "sources:\n  a:\n" + FILE + "    key: k\n    many: true\n"
            "  b:\n" + FILE + "    key: k\n    from: a.id\n",
            r":11:5: sources\.b\.from: 'a' answers many rows",
        ),
        (
            "sources:\n  a:\n" + FILE + "    key: k\n    from: nodot\n",
            r":6:5: sources\.a\.from: String should match pattern",
        ),
    ],
)
def test_from_chains_are_checked(write_sources: Write, text: str, expected: str) -> None:
    assert re.match(expected, error_of(write_sources, text))


def test_an_unknown_variable_is_named_and_no_value_shown(write_sources: Write) -> None:
    message = error_of(write_sources, GOOD, {"CRM_DB_URL": "sqlite:////srv/secret-crm.db"})
    assert re.match(
        r":14:15: sources\.customer\.headers\.Authorization: no environment "
        r"variable \$\{CRM_TOKEN\}",
        message,
    ), message
    assert "secret-crm" not in message


def test_a_variable_outside_the_connection_details_is_refused(write_sources: Write) -> None:
    text = GOOD.replace("WHERE serial = :serial", "WHERE serial = :serial AND x = '${CRM_TOKEN}'")
    message = error_of(write_sources, text)
    place = r":6:5: sources\.installation\.query: "
    assert re.match(place + r"\$\{\.\.\.\} is read only in url", message)
    assert "tok-very-secret" not in message


def test_a_bad_name_in_braces_is_not_a_variable(write_sources: Write) -> None:
    text = GOOD.replace("${CRM_TOKEN}", "${not a name}")
    assert "no environment variable ${not a name}" in error_of(write_sources, text)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://h/customers", r"takes the key as \{customer_id\}"),
        ("http://h/{customer_id}/{other}", r"nothing else in braces \(not \{other\}\)"),
        ("ftp://h/{customer_id}", r"starts with http:// or https://"),
    ],
)
def test_http_url_templates(write_sources: Write, url: str, expected: str) -> None:
    text = GOOD.replace("http://127.0.0.1:9100/customers/{customer_id}", url)
    message = error_of(write_sources, text)
    assert re.match(r":13:5: sources\.customer\.url: .*" + expected, message), message


def test_a_url_from_the_environment_is_checked_without_showing_it(write_sources: Write) -> None:
    text = GOOD.replace('"http://127.0.0.1:9100/customers/{customer_id}"', "${API}/{customer_id}")
    message = error_of(write_sources, text, ENV | {"API": "gopher://user:pw-secret@h"})
    assert "starts with http://" in message and "pw-secret" not in message


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("SELECT * FROM t", r"binds exactly :serial, its key \(it binds nothing\)"),
        ("SELECT * FROM t WHERE a = :serial AND b = :other", r"\(it binds :other, :serial\)"),
    ],
)
def test_sql_queries_bind_their_key_only(write_sources: Write, query: str, expected: str) -> None:
    text = GOOD.replace(
        "SELECT serial, customer_id FROM installations WHERE serial = :serial", query
    )
    message = error_of(write_sources, text)
    assert re.match(r":6:5: sources\.installation\.query: .*" + expected, message)


def test_sql_urls_are_sqlite_or_postgresql(write_sources: Write) -> None:
    message = error_of(write_sources, GOOD, ENV | {"CRM_DB_URL": "mysql://root:pw-secret@h/db"})
    assert re.match(r":5:5: sources\.installation\.url: .*SQLite or PostgreSQL", message)
    assert "pw-secret" not in message


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("timeout", "31", "at most 30"),
        ("max_rows", "100000", "at most 10000"),
        ("timeout", "0", "greater than 0"),
        ("timeout", "'1'", "valid number"),
    ],
)
def test_numbers_are_bounded(write_sources: Write, key: str, value: str, expected: str) -> None:
    text = GOOD.replace("    timeout: 1\n", f"    {key}: {value}\n")
    assert expected in error_of(write_sources, text)


def test_bounds_on_the_file(write_sources: Write, tmp_path: Path) -> None:
    assert "over 2 sources" in error_of(write_sources, GOOD, max_sources=2)
    assert "over the limit of 100 bytes" in error_of(write_sources, GOOD, max_config_bytes=100)
    deep = "sources: {}\nx: " + "[" * 40 + "]" * 40 + "\n"
    assert "nested over 16 levels deep" in error_of(write_sources, deep)
    path = write_sources("x")
    path.write_bytes(b"sources: {}\n\xff\xfe")
    with pytest.raises(SourcesConfigError, match="not UTF-8"):
        load_config(path, {})
    with pytest.raises(SourcesConfigError, match="no such file"):
        load_config(tmp_path / "missing.yaml", {})
    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)
    with pytest.raises(SourcesConfigError, match="a pipe"):
        load_config(fifo, {})


def test_a_key_given_twice_is_refused(write_sources: Write) -> None:
    text = GOOD.replace("    timeout: 1\n", "    cache_ttl: 1\n")
    assert re.match(r":9:5: key 'cache_ttl' given twice", error_of(write_sources, text))


def test_no_sources_at_all_is_fine(write_sources: Write) -> None:
    with Sources.load(write_sources("sources: {}\n"), {}) as sources:
        assert sources.names == frozenset()
        assert sources.fetch({"serial": "x"}, {"installation"}).values == {}


def test_a_relative_sqlite_path_is_beside_the_sources_file(
    write_sources: Write, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As a ``file`` source's path: the same file whatever folder the command starts in."""
    import sqlite3

    with sqlite3.connect(tmp_path / "crm.db") as db:
        db.execute("CREATE TABLE installations (serial TEXT, model TEXT)")
        db.execute("INSERT INTO installations VALUES ('HP200-0042', 'HP200')")
    db.close()
    query = "SELECT model FROM installations WHERE serial = :serial"
    path = write_sources(
        f"""\
        sources:
          rel: {{kind: sql, url: "sqlite:///crm.db", key: serial, query: "{query}"}}
          abs: {{kind: sql, url: "sqlite:////srv/crm.db", key: serial, query: "{query}"}}
          up: {{kind: sql, url: "sqlite+pysqlite:///../x/crm.db", key: serial, query: "{query}"}}
        """
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    config = load_config(path, {})
    assert config.sources["rel"].url == f"sqlite:///{tmp_path / 'crm.db'}"
    assert config.sources["abs"].url == "sqlite:////srv/crm.db"
    assert config.sources["up"].url == f"sqlite+pysqlite:///{tmp_path / '../x/crm.db'}"
    with Sources.load(path, {}) as sources:
        fetched = sources.fetch({"serial": "HP200-0042"}, {"rel"})
    assert fetched.values == {"rel": {"model": "HP200"}}
    assert not (elsewhere / "crm.db").exists()
