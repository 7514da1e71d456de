"""The workbench's own strings live in ``locales/``: all in the template, German in full."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from tests.support.engine_factory import ROOT

UI = ROOT / "content_engine" / "web" / "ui"
LOCALES = ROOT / "locales"
PLACEHOLDER = re.compile(r"\{(\w*)\}")


def ui_messages() -> list[str | tuple[str, ...]]:
    """Every message the workbench translates, found as ``pybabel extract`` finds them."""
    method_map = [("templates/**.html", "jinja2"), ("**.py", "python")]
    found: dict[str | tuple[str, ...], None] = {}
    for _file, _line, message, _comments, _context in extract_from_dir(UI, method_map):
        found[message] = None
    return list(found)


MESSAGES = ui_messages()


def catalog(path: Path) -> Catalog:
    with path.open("rb") as fh:
        return read_po(fh)


def first(message: str | tuple[str, ...]) -> str:
    return message if isinstance(message, str) else message[0]


def test_the_workbench_has_messages_to_translate() -> None:
    assert len(MESSAGES) > 150
    assert "Sign in" in MESSAGES and ("{n} variant", "{n} variants") in MESSAGES


@pytest.mark.parametrize(
    "path",
    [
        "messages.pot",
        "en/LC_MESSAGES/messages.po",
        "de/LC_MESSAGES/messages.po",
        "fr/LC_MESSAGES/messages.po",
    ],
)
def test_every_message_is_in_the_catalog(path: str) -> None:
    held = catalog(LOCALES / path)
    missing = [m for m in MESSAGES if first(m) not in held]
    assert not missing, f"run pybabel extract (babel.cfg) and add these to {path}: {missing}"


@pytest.mark.parametrize("language", ["de", "fr"])
def test_translations_are_complete_and_keep_their_placeholders(language: str) -> None:
    held = catalog(LOCALES / language / "LC_MESSAGES" / "messages.po")
    for message in MESSAGES:
        entry = held[first(message)]
        assert entry is not None
        forms = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        assert all(forms), f"{language}: no translation of {message!r}"
        wanted = set(
            PLACEHOLDER.findall(" ".join(message if isinstance(message, tuple) else [message]))
        )
        for form in forms:
            assert set(PLACEHOLDER.findall(form)) <= wanted, f"{language}: {form!r}"
            assert set(PLACEHOLDER.findall(form)) >= set(PLACEHOLDER.findall(first(message))) - {
                "n"
            }
