"""Settings: one declaration per option (``settings.OPTIONS``) read by everything else.

``docs/settings.md`` lists exactly the declared options, with the same variable, flag,
default, values and help (both ways); ``Settings.from_env`` reads each, a flag's value wins,
a bad value is one line naming the variable; the CLI's flags and ``serve --help`` say what the
declaration says; ``serve`` hands its settings to its workers; the app honours
``max_body_bytes`` and ``open_access``.
"""

from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path
from typing import Any

import pytest
import typer.main
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from content_engine.cli import app as cli_app
from content_engine.cli import main
from content_engine.core.errors import InputError
from content_engine.settings import (
    EVENT_LOOP,
    LOG_FORMAT,
    OPEN_ACCESS,
    OPTIONS,
    REFRESH,
    Option,
    Settings,
)
from content_engine.web import create_app
from tests.support.engine_factory import ROOT, SAMPLE, make_engine

SETTINGS_MD = ROOT / "docs" / "settings.md"
ROW = re.compile(r"^\| `([a-z_]+)` \|(.*)\|$", re.M)


def documented() -> dict[str, list[str]]:
    """Setting name → the other cells of its row, backticks taken out."""
    text = SETTINGS_MD.read_text(encoding="utf-8")
    return {
        name: [cell.strip().replace("`", "") for cell in rest.split("|")]
        for name, rest in ROW.findall(text)
    }


def row_of(option: Option[Any]) -> list[str]:
    return [
        option.env,
        option.flag or "-",
        option.shown_default,
        option.kind.wants,
        option.help,
    ]


def test_the_docs_table_is_the_declaration_both_ways() -> None:
    rows = documented()
    declared = {option.name: option for option in OPTIONS}
    assert set(rows) == set(declared), (
        f"documented, not declared: {sorted(set(rows) - set(declared))}; "
        f"declared, not documented: {sorted(set(declared) - set(rows))}"
    )
    for name, cells in rows.items():
        assert cells == row_of(declared[name]), name


def test_every_option_is_a_field_of_settings_with_its_default() -> None:
    fields = {f.name: f for f in dataclasses.fields(Settings)}
    assert {option.name for option in OPTIONS} == set(fields) - {"limits"}
    for option in OPTIONS:
        assert fields[option.name].default == option.default, option.name
    assert len({option.env for option in OPTIONS}) == len(OPTIONS)


def test_the_environment_is_read_and_empty_means_unset() -> None:
    assert Settings.from_env({}) == Settings()
    assert Settings.from_env({option.env: "" for option in OPTIONS}) == Settings()
    env = {
        "CONTENT_ENGINE_DB": "sqlite:///x.db",
        "CONTENT_ENGINE_HOME": "/srv/ce",
        "CONTENT_ENGINE_SQLITE_TIMEOUT": "2.5",
        "CONTENT_ENGINE_REFRESH": "0",
        "CONTENT_ENGINE_OPEN": "1",
        "CONTENT_ENGINE_MAX_BODY_BYTES": "4096",
    }
    settings = Settings.from_env(env)
    assert settings == Settings(
        db_url="sqlite:///x.db",
        home=Path("/srv/ce"),
        sqlite_timeout=2.5,
        refresh=0.0,
        open_access=True,
        max_body_bytes=4096,
    )
    assert Settings.from_env(settings.as_environ()) == settings  # what serve's workers read


def test_a_flags_value_wins_over_the_environment() -> None:
    env = {"CONTENT_ENGINE_DB": "sqlite:///env.db", "CONTENT_ENGINE_REFRESH": "3"}
    given = Settings.from_env(env, db_url="sqlite:///flag.db", refresh=0.0, open_access=False)
    assert (given.db_url, given.refresh, given.open_access) == ("sqlite:///flag.db", 0.0, False)
    absent = Settings.from_env(env, db_url=None, refresh=None)
    assert (absent.db_url, absent.refresh) == ("sqlite:///env.db", 3.0)
    with pytest.raises(TypeError, match="not options: dburl"):
        Settings.from_env(env, dburl="sqlite:///typo.db")


@pytest.mark.parametrize(
    ("env", "raw", "wants"),
    [
        ("CONTENT_ENGINE_SQLITE_TIMEOUT", "soon", "a number of seconds from 0 to 86400"),
        ("CONTENT_ENGINE_REFRESH", "-1", "a number of seconds from 0 to 86400"),
        ("CONTENT_ENGINE_REFRESH", "nan", "a number of seconds from 0 to 86400"),
        ("CONTENT_ENGINE_OPEN", "yes", "1 (on) or 0 (off)"),
        ("CONTENT_ENGINE_MAX_BODY_BYTES", "0", "a whole number of bytes from 1 to 1073741824"),
        ("CONTENT_ENGINE_MAX_BODY_BYTES", "2M", "a whole number of bytes from 1 to 1073741824"),
        ("CONTENT_ENGINE_EVENT_LOOP", "UVLOOP", "auto, asyncio or uvloop"),
        ("CONTENT_ENGINE_LOG_FORMAT", "json ", "text or json"),
    ],
)
def test_a_bad_value_is_one_line_naming_the_variable(
    env: str, raw: str, wants: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with pytest.raises(InputError) as raised:
        Settings.from_env({env: raw})
    assert raised.value.message == f"{env} must be {wants}, not {raw!r}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(env, raw)
        assert main(["import", str(SAMPLE), "--db", f"sqlite:///{tmp_path / 'x.db'}"]) == 2
    assert capsys.readouterr().err == f"error: {env} must be {wants}, not {raw!r}\n"


CHOICES = {EVENT_LOOP: ("auto", "asyncio", "uvloop"), LOG_FORMAT: ("text", "json")}


@given(option=st.sampled_from(sorted(CHOICES, key=lambda o: o.name)), raw=st.text(max_size=300))
@settings(max_examples=150, deadline=None)
def test_a_choice_takes_exactly_its_values(option: Option[str], raw: str) -> None:
    """Any other text (another case, spaces, NUL, a lone surrogate, long) is one line naming
    the variable; only an exact choice passes."""
    env = {option.env: raw}
    if raw in CHOICES[option] or raw == "":
        Settings.from_env(env)
        return
    with pytest.raises(InputError) as raised:
        Settings.from_env(env)
    assert raised.value.message == f"{option.env} must be {option.kind.wants}, not {raw!r}"


def command(*path: str) -> Any:
    found = typer.main.get_command(cli_app)
    for name in path:
        found = found.commands[name]
    return found


def flag_help(path: tuple[str, ...], flag: str) -> str:
    (param,) = [p for p in command(*path).params if flag in p.opts]
    return " ".join(str(param.help).split())


def test_the_flags_say_what_the_declaration_says() -> None:
    for option in (o for o in OPTIONS if o.flag):
        shown = flag_help(("serve",), option.flag or "")
        assert shown.startswith(option.help), option.name
        assert (option.env in shown) is option.cli_reads_env, option.name
    assert flag_help(("import",), "--db") == flag_help(("serve",), "--db")
    refresh = next(p for p in command("serve").params if "--refresh" in p.opts)
    assert (refresh.min, refresh.max) == REFRESH.kind.bounds


def test_serve_help_ends_with_the_settings_it_reads_from_the_environment_only() -> None:
    epilog = " ".join(str(command("serve").epilog).split())
    for option in OPTIONS:
        assert (option.env in epilog) is (option.flag is None), option.name
        if option.flag is None:
            assert option.help in epilog


def test_serve_hands_its_settings_to_the_workers(
    db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import uvicorn

    for option in OPTIONS:  # restored after the test, whatever serve wrote
        monkeypatch.setenv(option.env, "")
    monkeypatch.setenv(OPEN_ACCESS.env, "1")  # left in the environment: does not open serve
    monkeypatch.setenv("CONTENT_ENGINE_SQLITE_TIMEOUT", "7")
    ran: list[str] = []
    monkeypatch.setattr(uvicorn, "run", lambda target, **_: ran.append(target))
    assert main(["serve", "--db", db_url, "--refresh", "0"]) == 0
    assert ran == ["content_engine.web.app:app_from_env"]
    workers = Settings.from_env(os.environ)
    assert (workers.db_url, workers.refresh, workers.sqlite_timeout) == (db_url, 0.0, 7.0)
    assert workers.open_access is False
    assert "WARNING" not in capsys.readouterr().err


def test_the_app_refuses_a_body_over_max_body_bytes(db_url: str) -> None:
    with make_engine(db_url) as engine:
        settings = dataclasses.replace(engine.settings, max_body_bytes=100)
        with TestClient(create_app(settings, engine=engine)) as client:
            response = client.post("/v1/blocks", content=b"{" + b" " * 200 + b"}")
    assert response.status_code == 413
    assert response.json()["error"]["message"] == "the request body is over 100 bytes"


@pytest.mark.parametrize("open_access", [False, True])
def test_the_app_is_open_when_the_settings_say_so(db_url: str, open_access: bool) -> None:
    with make_engine(db_url) as engine:
        settings = dataclasses.replace(engine.settings, open_access=open_access)
        with TestClient(create_app(settings, engine=engine)) as client:
            response = client.get("/v1/lint")
    assert response.status_code == (200 if open_access else 401)
