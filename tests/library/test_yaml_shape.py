"""A YAML document let through without reading its events would have passed that reading.

``surely_in_shape`` tells from a text's characters that it has no alias, nests no deeper than
the limit and holds no more values than the limit. Over documents made of YAML's indicators,
with small limits so that the bound is often close, whatever it lets through must pass the
event check; and whatever it holds back is still checked.
"""

from __future__ import annotations

import contextlib

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from content_engine.core.errors import LibraryFormatError
from content_engine.library.limits import FolderLimits
from content_engine.library.yamlread import _check_shape, safe_load, surely_in_shape

PIECES = st.sampled_from(
    ["[", "]", "{", "}", "-", "- ", ":", ": ", "? ", ",", " ", "  ", "\n", "a", "1", "'x'", '"y"',
     "&a ", "*a", "!!map ", "!!seq ", "#c\n", "---\n", "|\n", ">\n"]
)  # fmt: skip


@settings(max_examples=1500, deadline=None)
@given(
    pieces=st.lists(PIECES, max_size=30),
    depth=st.integers(1, 6),
    nodes=st.integers(1, 40),
)
def test_a_text_let_through_passes_the_event_check(
    pieces: list[str], depth: int, nodes: int
) -> None:
    text = "".join(pieces)
    limits = FolderLimits(max_yaml_depth=depth, max_yaml_nodes=nodes)
    if not surely_in_shape(text, limits):
        return
    with contextlib.suppress(yaml.YAMLError):  # not YAML at all: refused as before
        _check_shape(text, "f.yaml", limits, yaml.SafeLoader, 0)


@pytest.mark.parametrize(
    "text",
    ["a: &x [1]\nb: *x\n", "a: " + "[" * 70 + "]" * 70 + "\n", "- " * 70 + "x\n"],
)
def test_aliases_and_deep_nesting_are_still_refused(text: str) -> None:
    assert not surely_in_shape(text, FolderLimits())
    with pytest.raises(LibraryFormatError, match=r"alias|nested"):
        safe_load(text, "f.yaml", FolderLimits())


def test_front_matter_is_let_through() -> None:
    text = 'locale: "de"\nsegments: ["installer-partner"]\nvalid_from: 2026-01-01\npriority: 2\n'
    assert surely_in_shape(text, FolderLimits())
    assert safe_load(text, "f.yaml", FolderLimits())["segments"] == ["installer-partner"]
