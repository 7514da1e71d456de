"""DITA import for the front ends: ``import_dita`` converts a map into a library folder.

In: a map's path, the output folder and the ``--map`` options as given. Out: the
``Conversion`` (the folder is written); a bad option, map or folder is an ``InputError``.
No repository is involved: the folder written is then loaded by ``import`` like any other.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from content_engine.core.dita import Conversion, Finding, parse_mapping
from content_engine.library.dita import import_dita as _import_dita

__all__ = ["Conversion", "Finding", "import_dita"]


def import_dita(map_path: Path, out: Path, mappings: Sequence[str]) -> Conversion:
    """Convert ``map_path`` into the library folder ``out``, profiling mapped by ``mappings``
    (``audience=role``, ...)."""
    return _import_dita(map_path, out, parse_mapping(mappings))
