"""Library folders ↔ ``Library`` models: the files an author edits, and what the engine reads.

In: a folder laid out as CONTRACT section 2 describes: ``library.yaml``, component folders
(``<any/sub/folders>/<component-id>/component.yaml`` beside ``<variant-key>.html`` files),
``publications/<publication-id>.yaml``, and the raw files under ``assets/`` and ``renderers/``.
Out: a validated ``Library``. Every problem is a ``LibraryFormatError`` naming the file, and the
line and column when the problem has a place (``c/x/de.html:3:9: unknown front-matter key``).

The folder is untrusted input: every file is read through one reader (``folder.Folder``) that
follows no symlink out of the folder, opens no FIFO or device and bounds each file and the
whole library (``FolderLimits``); YAML is read without aliases and with bounded nesting.
Names (component and publication ids, variant keys, folders) follow ``core.names``, the rule
the API applies too. ``write_library`` is the inverse and never leaves half a library behind.

The modules, in the order a load runs: ``layout`` (names and keys), ``limits``, ``folder``
(the safe reader), ``yamlread`` and ``yamlerrors`` (safe YAML, and where a problem is),
``variants`` (a variant file ↔ ``Variant``), ``read`` (folder → ``Library``), then ``write``
(``Library`` → folder) with ``yamlwrite`` and ``swap`` (the atomic folder exchange).
"""

from __future__ import annotations

from content_engine.library.folder import read_library_text
from content_engine.library.layout import (
    COMPONENT_FILE,
    FILE_FOLDERS,
    FRONT_MATTER_KEYS,
    LIBRARY_FILE,
    PUBLICATIONS_FOLDER,
)
from content_engine.library.limits import FolderLimits
from content_engine.library.read import load_library
from content_engine.library.variants import format_variant, parse_variant
from content_engine.library.write import write_library

__all__ = [
    "COMPONENT_FILE",
    "FILE_FOLDERS",
    "FRONT_MATTER_KEYS",
    "LIBRARY_FILE",
    "PUBLICATIONS_FOLDER",
    "FolderLimits",
    "format_variant",
    "load_library",
    "parse_variant",
    "read_library_text",
    "write_library",
]
