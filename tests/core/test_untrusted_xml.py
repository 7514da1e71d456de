"""The shared parser for outside XML keeps its safe options whatever a caller adds."""

from __future__ import annotations

import pytest
from lxml import etree

from content_engine.core.markup.untrusted import untrusted_parser

SAFE = {
    "resolve_entities": True,
    "no_network": False,
    "load_dtd": True,
    "dtd_validation": True,
    "huge_tree": True,
}


@pytest.mark.parametrize(("option", "unsafe"), SAFE.items())
def test_a_caller_cannot_take_a_safe_option_back(option: str, unsafe: bool) -> None:
    with pytest.raises(TypeError):
        untrusted_parser(**{option: unsafe})


def test_entities_stay_unexpanded_and_nothing_is_read() -> None:
    doc = (
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
        b'<!ENTITY f SYSTEM "file:///etc/hostname">]><r>&b;&f;</r>'
    )
    root = etree.fromstring(doc, untrusted_parser(remove_comments=True))
    assert "aaaaaaaaaa" not in etree.tostring(root, encoding="unicode").replace("&a;", "")
    assert root.text is None  # the references stay references: no text was expanded or read
