"""DITA 1.3 to a library: a map and its topics in, a ``Library`` model and a list of what could
not be carried over out. Pure: the files are handed in by a ``read`` callable.

The modules, in the order a conversion runs: ``source`` (the safe XML parser, hrefs kept inside
the map's folder, the ``Finding`` list), ``profiling`` (``--map audience=role`` and DITA's
filtering rules as inline conditions), ``body`` (a topic or a conref target to an XHTML body)
and ``convert`` (the map: keys, topicrefs in order, components and the publication).
"""

from __future__ import annotations

from content_engine.core.dita.convert import Conversion, convert_map
from content_engine.core.dita.profiling import PROFILING_ATTRIBUTES, parse_mapping
from content_engine.core.dita.source import Finding, MissingFile

__all__ = [
    "PROFILING_ATTRIBUTES",
    "Conversion",
    "Finding",
    "MissingFile",
    "convert_map",
    "parse_mapping",
]
