"""The one parser for XML from outside: bodies, XLIFF files, DITA topics and maps.

Every reader of such XML takes its parser from here, so what makes parsing safe is decided
once: no entity expanded (billion laughs, external entities), no DTD loaded, nothing fetched
from the network, and libxml2's own bounds on depth and text size kept (``huge_tree`` off).
A caller may add options (dropping comments, say) but cannot take one of these back: passing
one of them again is a ``TypeError``.
"""

from __future__ import annotations

from typing import Any

from lxml import etree

__all__ = ["untrusted_parser"]


def untrusted_parser(**options: Any) -> etree.XMLParser:
    """A parser for XML nobody vouches for, with ``options`` added to the safe ones."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        **options,
    )
