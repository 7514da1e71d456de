"""The one rule for the names authors and editors give things: ids, variant keys, folders.

In: a component id, publication id, variant key or component folder, from wherever it enters
(a library folder's file and folder names, an API path or body, a workbench form, a stored
row). Out: the name unchanged, or ``ValueError`` saying what such a name may be.

Every name becomes a file or folder name when the library is exported, so the rule is what
export can write and import read back as the same name: no path separators or ``..``, nothing
hidden, nothing the library's own layout uses (``library.yaml``, ``publications/``,
``assets/``, ``renderers/`` at the top, ``component.yaml`` and ``<key>.html`` inside a
component folder), and short enough for any file system (255 bytes a name). Checking it in
one place means an editor cannot save what would later break ``export`` for everyone.
Pure: no I/O.
"""

from __future__ import annotations

import re
from functools import partial
from typing import Annotated, Literal

from pydantic import AfterValidator, ValidationInfo

__all__ = [
    "MAX_FOLDER",
    "MAX_NAME",
    "RESERVED_TOP",
    "STORED",
    "ComponentIdName",
    "FolderName",
    "NameKind",
    "PublicationIdName",
    "VariantKeyName",
    "check_name",
    "is_stored",
    "name_problem",
]

MAX_NAME = 200
MAX_FOLDER = 500
# Top-level names the library layout uses; never a component folder.
RESERVED_TOP = frozenset({"library.yaml", "publications", "assets", "renderers"})
# Inside a component folder: its settings file, and variant files are "<key>.html", so a
# folder named like either (a nested component's) would collide with a file.
_COMPONENT_FILE = "component.yaml"
_VARIANT_SUFFIX = ".html"

_LOWER = re.compile(r"[a-z0-9][a-z0-9._-]*")
_MIXED = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")

NameKind = Literal["component id", "publication id", "variant key", "folder"]

_SHAPES = {
    "component id": "lowercase letters, digits, '.', '-' and '_', starting with a letter or digit",
    "publication id": "lowercase letters, digits, '.', '-' and '_', starting with a letter or "
    "digit",
    "variant key": "letters, digits, '.', '-' and '_', starting with a letter or digit",
    "folder": "names of letters, digits, '.', '-' and '_' (each starting with a letter or "
    "digit) joined by '/'",
}


def _segment_problem(segment: str, *, top: bool) -> str | None:
    """Why a well-shaped folder name (a segment, or a component's own folder) cannot be used."""
    if len(segment) > MAX_NAME:
        return f"a folder name is at most {MAX_NAME} characters"
    if segment == _COMPONENT_FILE or segment.endswith(_VARIANT_SUFFIX):
        return f"{segment!r} is the name of a file in a component folder"
    if top and segment in RESERVED_TOP:
        return f"{segment!r} is reserved at the top of a library folder"
    return None


def name_problem(kind: NameKind, value: object) -> str | None:
    """Why ``value`` is not a valid name of this kind, or ``None`` when it is."""
    if not isinstance(value, str):
        return f"a {kind} must be text"
    shape = _SHAPES[kind]
    if kind == "folder":
        if value == "":
            return None
        if len(value) > MAX_FOLDER:
            return f"a folder is at most {MAX_FOLDER} characters"
        for n, segment in enumerate(value.split("/")):
            if not _MIXED.fullmatch(segment):
                return f"{value!r} is not a folder: {shape}"
            problem = _segment_problem(segment, top=n == 0)
            if problem:
                return f"folder {value!r}: {problem}"
        return None
    if len(value) > MAX_NAME:
        return f"a {kind} is at most {MAX_NAME} characters"
    pattern = _MIXED if kind == "variant key" else _LOWER
    if not pattern.fullmatch(value):
        return f"{value!r} is not a valid {kind}: {shape}"
    if kind == "component id":
        # The id is the name of the component's own folder, at the top or nested.
        problem = _segment_problem(value, top=True)
        if problem:
            return f"{value!r} cannot be a component id: {problem}"
    return None


def check_name(kind: NameKind, value: str) -> str:
    """``value`` if it is a valid name of this kind; else ``ValueError`` (pydantic's way)."""
    problem = name_problem(kind, value)
    if problem:
        raise ValueError(problem)
    return value


# Validation context of rows the repository reads back: they were checked under the rules of
# the day they were saved, and a rule made stricter since must not stop the engine from
# loading them. They are checked again where they would do harm: ``write_library``.
STORED = {"stored": True}


def is_stored(info: ValidationInfo) -> bool:
    """Whether a validator runs on a row the repository stored (see ``STORED``)."""
    return bool(info.context and info.context.get("stored"))


def _field_check(kind: NameKind, value: str, info: ValidationInfo) -> str:
    return value if is_stored(info) else check_name(kind, value)


ComponentIdName = Annotated[str, AfterValidator(partial(_field_check, "component id"))]
PublicationIdName = Annotated[str, AfterValidator(partial(_field_check, "publication id"))]
VariantKeyName = Annotated[str, AfterValidator(partial(_field_check, "variant key"))]
FolderName = Annotated[str, AfterValidator(partial(_field_check, "folder"))]
