"""Validators anchored with ``$`` are used with ``fullmatch``: ``$`` also matches before a final
newline, so ``^[a-z]+$`` with ``.match`` let ``"abc\\n"`` through as a safe name.

Pydantic's ``pattern=`` runs Rust's regex, whose ``$`` is the end of the text: those are fine.
Every call of Python's ``re`` on a ``$``-anchored pattern in the package is found here, and must
be a ``fullmatch``; then the validators themselves are tried with a trailing newline.
"""

from __future__ import annotations

import ast

import pytest
from hypothesis import given
from hypothesis import strategies as st

from content_engine.core import models
from content_engine.core.errors import InvalidContext
from content_engine.core.locales import normalize_tag
from content_engine.rendering import html
from tests.support.engine_factory import ROOT

PACKAGE = ROOT / "content_engine"


def _anchored(node: ast.AST | None) -> bool:
    return (
        isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.endswith("$")
    )


def _anchored_names(trees: list[ast.Module]) -> set[str]:
    """Names bound to a ``$``-anchored pattern or to ``re.compile`` of one, anywhere."""
    names: set[str] = set()
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target, value = node.targets[0], node.value
                if isinstance(value, ast.Call) and value.args:
                    value = value.args[0] if _is_re(value.func, "compile") else value
                if isinstance(target, ast.Name) and (
                    _anchored(value) or (isinstance(value, ast.Name) and value.id in names)
                ):
                    names.add(target.id)
    return names


def _is_re(func: ast.expr, *attrs: str) -> bool:
    return (
        isinstance(func, ast.Attribute)
        and func.attr in attrs
        and isinstance(func.value, ast.Name)
        and func.value.id == "re"
    )


def partial_matches(sources: dict[str, str]) -> list[str]:
    """``file:line`` of every ``re`` call that lets a ``$``-anchored pattern match a prefix."""
    trees = {name: ast.parse(text) for name, text in sources.items()}
    names = _anchored_names(list(trees.values()))
    names |= _anchored_names(list(trees.values()))  # twice: aliases of aliases
    found = []
    for name, tree in trees.items():
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            if _is_re(func, "match", "search") and node.args:
                first = node.args[0]
                if _anchored(first) or (isinstance(first, ast.Name) and first.id in names):
                    found.append(f"{name}:{node.lineno}")
            elif (
                isinstance(func, ast.Attribute)
                and func.attr in ("match", "search")
                and isinstance(func.value, ast.Name)
                and func.value.id in names
            ):
                found.append(f"{name}:{node.lineno}")
    return found


def package_sources() -> dict[str, str]:
    return {
        str(path.relative_to(ROOT)): path.read_text(encoding="utf-8")
        for path in sorted(PACKAGE.rglob("*.py"))
    }


def test_no_anchored_pattern_is_used_with_match_or_search() -> None:
    sources = package_sources()
    assert len(sources) > 20
    assert partial_matches(sources) == []


def test_the_scan_finds_what_it_looks_for() -> None:
    """The scan itself must be able to fail: each way of writing the bug is found."""
    sources = {
        "a.py": 'import re\nX = re.compile(r"^a$")\nY = "^b$"\nX.match(s)\nre.match(Y, s)\n',
        "b.py": 'import re\nZ = re.compile(Y)\nZ.search(s)\nre.search(r"^c$", s)\nX.fullmatch(s)\n',
    }
    assert partial_matches(sources) == ["a.py:4", "a.py:5", "b.py:3", "b.py:4"]


NAMES = st.from_regex(r"[a-z0-9][a-z0-9._-]{0,20}", fullmatch=True)
ENDINGS = st.sampled_from(["\n", "\r\n", "\x00", " "])


@given(name=NAMES, ending=ENDINGS)
def test_ids_theme_names_and_tags_refuse_a_trailing_newline(name: str, ending: str) -> None:
    assert models.is_valid_id(name)
    assert not models.is_valid_id(name + ending)
    assert not html._THEME_NAME.fullmatch(name + ending)


@pytest.mark.parametrize("tag", ["de\nAT", "de-\n", "de-AT\x00"])
def test_locale_tags_refuse_inner_control_characters(tag: str) -> None:
    with pytest.raises(InvalidContext):
        normalize_tag(tag)
