"""Turn a library folder into a ``Library`` model, and a ``Library`` back into a folder.

In: a folder laid out as CONTRACT section 2 describes: ``library.yaml``, component folders
(``<any/sub/folders>/<component-id>/component.yaml`` beside ``<variant-key>.html`` files),
``publications/<publication-id>.yaml``, and the raw files under ``assets/`` and ``renderers/``.
Out: a validated ``Library``. Every problem is a ``LibraryFormatError`` naming the file, and the
line and column when the problem has a place (``c/x/de.html:3:9: unknown front-matter key``).
Loading stops at the first problem; files are visited in sorted order, so the same broken
folder always reports the same problem.

The folder is untrusted input: every file is read through one reader (``_Folder``) that
follows no symlink out of the folder, opens no FIFO or device and bounds each file and the
whole library (``FolderLimits``); YAML is read without aliases and with bounded nesting.
Names (component and publication ids, variant keys, folders) follow ``names``, the rule the
API applies too.

``write_library`` is the inverse: load → write → load gives an equal library (versions aside).
It never leaves half a library behind: the new folder is built beside the target and swapped in.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import re
import secrets
import shutil
import stat
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from content_engine.core.errors import ContentEngineError, InputError, LibraryFormatError
from content_engine.core.locales import normalize_tag
from content_engine.core.models import (
    DIMENSIONS,
    Component,
    Library,
    LibrarySettings,
    Publication,
    Variant,
    format_instant,
)
from content_engine.core.names import RESERVED_TOP, name_problem

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

LIBRARY_FILE = "library.yaml"
COMPONENT_FILE = "component.yaml"
PUBLICATIONS_FOLDER = "publications"
# Folders whose every file is carried as bytes in ``Library.files``.
FILE_FOLDERS = ("assets", "renderers")
# Top-level names that are never component folders (``names`` refuses them as folders).
RESERVED = RESERVED_TOP
assert frozenset({LIBRARY_FILE, PUBLICATIONS_FOLDER, *FILE_FOLDERS}) == RESERVED

CONDITION_KEYS = ("locale", *DIMENSIONS)
VARIANT_FIELDS = ("priority", "status", "valid_from", "valid_until")
FRONT_MATTER_KEYS = CONDITION_KEYS + VARIANT_FIELDS
COMPONENT_KEYS = ("id", "type", "title", "tags")
PUBLICATION_KEYS = ("id", "title", "titles", "layout", "slots")

# A front-matter fence: a line holding only ``---`` (trailing blanks and a CR tolerated).
_FENCE = re.compile(r"---[ \t]*\r?")


# --- reading the folder: one safe way to open its files ---------------------------------------


@dataclass(frozen=True)
class FolderLimits:
    """What importing one library folder may read; over a bound, the import is refused.

    A library folder may come from anyone (a pull request, an archive), so reading it must
    not hang on a FIFO, fill memory from ``/dev/zero`` or read files outside it.
    """

    max_file_bytes: int = 16 * 2**20
    max_library_bytes: int = 256 * 2**20
    max_entries: int = 100_000  # files and folders walked
    max_yaml_depth: int = 64  # nested mappings and lists in one YAML document
    max_yaml_nodes: int = 200_000  # scalars, mappings and lists in one YAML document


# Opening a FIFO blocks until a writer comes unless O_NONBLOCK; O_NOFOLLOW makes a symlink an
# error (ELOOP) instead of a silent detour.
_FILE_FLAGS = os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a device"),
    (stat.S_ISBLK, "a device"),
    (stat.S_ISSOCK, "a socket"),
)


def _kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


class _Folder:
    """A library folder opened for reading: every file of the import goes through ``read``.

    Paths are walked one name at a time from the folder's own descriptor with
    ``O_NOFOLLOW``, so no symlink is followed unawares (nor swapped in between a check and
    the open). A symlink is followed only when its target lies inside the folder; FIFOs,
    devices and sockets are refused before they are opened; each file and the whole
    library are bounded in size.
    """

    def __init__(self, root: Path, limits: FolderLimits) -> None:
        self.root = os.path.realpath(root)
        self.limits = limits
        self._read_bytes = 0
        self._entries = 0

    def read(self, rel: str) -> bytes:
        """The bytes of the regular file at ``rel`` (a POSIX path inside the folder)."""
        parts = PurePosixPath(rel).parts
        try:
            data = self._read_beneath(parts, rel)
        except _SymlinkOnTheWay:
            real = os.path.realpath(os.path.join(self.root, *parts))
            if os.path.commonpath([self.root, real]) != self.root:
                raise LibraryFormatError(
                    "a symlink that leads out of the library folder", file=rel
                ) from None
            # realpath resolved every link: one found now was swapped in meanwhile.
            inner = PurePosixPath(Path(real).relative_to(self.root).as_posix()).parts
            try:
                data = self._read_beneath(inner, rel)
            except _SymlinkOnTheWay:
                raise LibraryFormatError("a symlink changed while reading", file=rel) from None
        self._read_bytes += len(data)
        if self._read_bytes > self.limits.max_library_bytes:
            raise LibraryFormatError(
                f"the library's files add up to over {self.limits.max_library_bytes} bytes",
                file=rel,
            )
        return data

    def read_text(self, rel: str) -> str:
        return _decode_text(self.read(rel), rel)

    def _read_beneath(self, parts: Sequence[str], rel: str) -> bytes:
        fds: list[int] = []
        try:
            fds.append(os.open(self.root, _DIR_FLAGS))
            for part in parts[:-1]:
                fds.append(self._open_at(fds[-1], part, _DIR_FLAGS, rel, want_dir=True))
            fd = self._open_at(fds[-1], parts[-1], _FILE_FLAGS, rel, want_dir=False)
            fds.append(fd)
            return self._read_fd(fd, rel)
        except OSError as exc:
            raise LibraryFormatError(f"cannot read: {exc.strerror or exc}", file=rel) from None
        finally:
            for fd in reversed(fds):
                os.close(fd)

    def _open_at(self, dir_fd: int, name: str, flags: int, rel: str, *, want_dir: bool) -> int:
        # lstat first, so that a FIFO or a device is never even opened.
        mode = os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode
        if stat.S_ISLNK(mode):
            raise _SymlinkOnTheWay
        if not (stat.S_ISDIR(mode) if want_dir else stat.S_ISREG(mode)):
            raise LibraryFormatError(
                f"{_kind(mode)}, not a {'folder' if want_dir else 'file'}: only regular "
                "files and folders are read",
                file=rel,
            )
        try:
            return os.open(name, flags, dir_fd=dir_fd)
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.ENOTDIR):  # swapped for a symlink meanwhile
                raise _SymlinkOnTheWay from None
            raise

    def _read_fd(self, fd: int, rel: str) -> bytes:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):  # swapped meanwhile
            raise LibraryFormatError(f"{_kind(info.st_mode)}, not a file", file=rel)
        cap = self.limits.max_file_bytes
        if info.st_size > cap:
            raise LibraryFormatError(f"file over the limit of {cap} bytes", file=rel)
        chunks: list[bytes] = []
        size = 0
        while size <= cap:  # the file may grow while it is read
            chunk = os.read(fd, min(1 << 20, cap + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > cap:
            raise LibraryFormatError(f"file over the limit of {cap} bytes", file=rel)
        return b"".join(chunks)

    def kind(self, rel: str) -> str | None:
        """``"dir"``, ``"file"``, ``"link"``, ``"other"``, or ``None`` when nothing is there.

        Not followed: the reader decides about a link when it reads one.
        """
        try:
            mode = os.lstat(os.path.join(self.root, rel)).st_mode
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise LibraryFormatError(f"cannot read: {exc.strerror or exc}", file=rel) from None
        if stat.S_ISLNK(mode):
            return "link"
        if stat.S_ISDIR(mode):
            return "dir"
        return "file" if stat.S_ISREG(mode) else "other"

    def listdir(self, rel: str) -> list[str]:
        """The visible names in the folder ``rel``, sorted (a symlinked folder is refused)."""
        self._plain_dir(rel)
        try:
            names = sorted(n for n in os.listdir(os.path.join(self.root, rel)) if n[:1] != ".")
        except OSError as exc:
            raise LibraryFormatError(f"cannot read: {exc.strerror or exc}", file=rel) from None
        self._count(len(names), rel)
        return names

    def walk(self, top: str) -> Iterator[tuple[PurePosixPath, list[str], list[str]]]:
        """``os.walk`` of the folder ``top`` in sorted order without hidden entries; paths
        relative to ``top``. Callers may prune the yielded ``dirnames`` in place.

        A symlinked folder is refused rather than skipped: what it holds would silently be
        missing from the library, and following it could leave the folder or loop.
        """
        self._plain_dir(top)
        base = os.path.join(self.root, top)

        def failed(exc: OSError) -> None:
            raise LibraryFormatError(f"cannot read: {exc.strerror or exc}", file=top)

        for dirpath, dirnames, filenames in os.walk(base, onerror=failed):
            rel = PurePosixPath(Path(dirpath).relative_to(base).as_posix())
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            files = sorted(f for f in filenames if not f.startswith("."))
            self._count(len(dirnames) + len(files), top)
            for name in dirnames:
                if os.path.islink(os.path.join(dirpath, name)):
                    shown = (PurePosixPath(top) / rel / name).as_posix()
                    raise LibraryFormatError(
                        "a symlinked folder: folders are not followed (copy it in, or link "
                        "single files that stay inside the library folder)",
                        file=shown.removeprefix("./"),
                    )
            yield rel, dirnames, files

    def _plain_dir(self, rel: str) -> None:
        if rel not in ("", ".") and self.kind(rel) == "link":
            raise LibraryFormatError("a symlinked folder: folders are not followed", file=rel)

    def _count(self, n: int, rel: str) -> None:
        self._entries += n
        if self._entries > self.limits.max_entries:
            raise LibraryFormatError(
                f"the library folder holds over {self.limits.max_entries} entries", file=rel
            )


class _SymlinkOnTheWay(Exception):
    """A name on the path is a symlink: ``_Folder.read`` decides whether to follow it."""


def read_library_text(root: Path, file: str, limits: FolderLimits | None = None) -> str:
    """One file of a library folder as text, read the safe way (for tools after an import)."""
    return _Folder(root, limits or FolderLimits()).read_text(file)


# --- reading ---------------------------------------------------------------------------------


def load_library(root: Path, limits: FolderLimits | None = None) -> Library:
    """Read the library folder at ``root``; raise ``LibraryFormatError`` on the first problem."""
    root = Path(root)
    if not root.is_dir():
        raise LibraryFormatError(f"not a library folder: {root}")
    folder = _Folder(root, limits or FolderLimits())
    if folder.kind(LIBRARY_FILE) is None:
        # Required so that importing the wrong folder fails instead of archiving everything.
        raise LibraryFormatError(
            f"no {LIBRARY_FILE} in {root}: a library folder starts with its settings file",
            file=LIBRARY_FILE,
        )
    return Library(
        settings=_load_settings(folder),
        components=_load_components(folder),
        publications=_load_publications(folder),
        files=_load_files(folder),
    )


def parse_variant(
    text: str, key: str, *, file: str | None = None, limits: FolderLimits | None = None
) -> Variant:
    """One variant file's text (front matter + body) to a ``Variant`` named ``key``.

    ``file`` is only used to name the place of a problem.
    """
    file = file or f"{key}.html"
    problem = name_problem("variant key", key)
    if problem:
        raise LibraryFormatError(f"{problem} (the file name without .html)", file=file)
    front, body = _split_front_matter(text, file)
    data: dict[str, Any] = {}
    if front is not None:
        loaded = _safe_load(front, file, limits or FolderLimits(), line_offset=1)
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict):
            raise LibraryFormatError(
                "front matter must be a mapping of keys to values", file=file, line=2, column=1
            )
        for name in loaded:
            if name not in FRONT_MATTER_KEYS:
                line, column = _locate(front, (name,), line_offset=1) or (None, None)
                raise LibraryFormatError(
                    f"unknown front-matter key {name!r} (allowed: {', '.join(FRONT_MATTER_KEYS)})",
                    file=file,
                    line=line,
                    column=column,
                )
        data = loaded
    raw = {
        "key": key,
        "conditions": {k: data[k] for k in CONDITION_KEYS if k in data},
        **{k: data[k] for k in VARIANT_FIELDS if k in data},
        "body": body,
    }
    try:
        return Variant.model_validate(raw)
    except ValidationError as exc:
        loc, message = _first_error(exc, drop="conditions")
        where = _locate(front, loc, line_offset=1) if front is not None else None
        raise _format_error(message, file, where) from None


def _load_settings(folder: _Folder) -> LibrarySettings:
    text = folder.read_text(LIBRARY_FILE)
    data = _safe_load(text, LIBRARY_FILE, folder.limits)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise LibraryFormatError("must be a mapping of settings", file=LIBRARY_FILE, line=1)
    # Checked first so that the error names the very tag (pydantic names only the list).
    loc, problem = _bad_locale(data)
    if loc:
        message = f"{'.'.join(str(p) for p in loc)}: {problem}"
        raise _format_error(message, LIBRARY_FILE, _locate(text, loc))
    try:
        return LibrarySettings.model_validate(data)
    except ValidationError as exc:
        loc, message = _first_error(exc)
        raise _format_error(message, LIBRARY_FILE, _locate(text, loc)) from None


def _bad_locale(data: dict[str, Any]) -> tuple[tuple[str | int, ...], str]:
    """The settings key holding a tag ``normalize_tag`` refuses, and why; ``()`` if none."""
    candidates: list[tuple[tuple[str | int, ...], Any]] = []
    if isinstance(data.get("default_locale"), str):
        candidates.append((("default_locale",), data["default_locale"]))
    locales = data.get("locales")
    if isinstance(locales, list):
        candidates += [
            (("locales", i), tag) for i, tag in enumerate(locales) if isinstance(tag, str)
        ]
    for loc, tag in candidates:
        try:
            normalize_tag(tag)
        except ContentEngineError as exc:
            return loc, exc.message
    return (), ""


def _load_components(folder: _Folder) -> dict[str, Component]:
    components: dict[str, Component] = {}
    where: dict[str, str] = {}
    for rel, dirnames, filenames in folder.walk(""):
        if rel == PurePosixPath("."):
            dirnames[:] = [d for d in dirnames if d not in RESERVED]
        variant_files = [f for f in filenames if f.endswith(".html")]
        if COMPONENT_FILE not in filenames:
            if variant_files:
                raise LibraryFormatError(
                    f"variant file without a {COMPONENT_FILE} beside it: a component folder "
                    f"holds {COMPONENT_FILE} and <variant-key>.html files",
                    file=_join(rel, variant_files[0]),
                )
            continue
        component_file = _join(rel, COMPONENT_FILE)
        if rel == PurePosixPath("."):
            raise LibraryFormatError(
                f"{COMPONENT_FILE} belongs in a folder named after the component id",
                file=component_file,
            )
        for name in filenames:
            if name != COMPONENT_FILE and not name.endswith(".html"):
                raise LibraryFormatError(
                    f"unexpected file in component folder {rel.as_posix()!r}: it holds "
                    f"{COMPONENT_FILE} and <variant-key>.html files only",
                    file=_join(rel, name),
                )
        component = _load_component(folder, rel, variant_files)
        if component.id in where:
            raise LibraryFormatError(
                f"component id {component.id!r} is defined twice: {where[component.id]} and "
                f"{component_file}",
                file=component_file,
            )
        where[component.id] = component_file
        components[component.id] = component
    return dict(sorted(components.items()))


def _load_named_mapping(
    folder: _Folder, file: str, keys: Sequence[str], name: str, named_by: str
) -> tuple[str, dict[str, Any]]:
    """A YAML mapping with only ``keys``, whose ``id`` (if given) equals its folder/file name."""
    text = folder.read_text(file)
    data = _safe_load(text, file, folder.limits)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise LibraryFormatError(
            f"must be a mapping with keys {', '.join(keys)}", file=file, line=1
        )
    _reject_unknown_keys(data, keys, text, file)
    if "id" in data and data["id"] != name:
        line, column = _locate(text, ("id",)) or (None, None)
        raise LibraryFormatError(
            f"id {data['id']!r} does not match its {named_by} name {name!r}",
            file=file,
            line=line,
            column=column,
        )
    return text, data


def _load_component(folder: _Folder, rel: PurePosixPath, variant_files: list[str]) -> Component:
    file = _join(rel, COMPONENT_FILE)
    folder_name = rel.name
    # The same rule as the API's: a folder it would refuse is refused here, with its name.
    parent = rel.parent.as_posix()
    problem = name_problem("component id", folder_name) or name_problem(
        "folder", "" if parent == "." else parent
    )
    if problem:
        raise LibraryFormatError(f"folder name: {problem}", file=file)
    text, data = _load_named_mapping(folder, file, COMPONENT_KEYS, folder_name, "folder")
    if not variant_files:
        raise LibraryFormatError(
            f"component {folder_name!r} has no variant files (<variant-key>.html)", file=file
        )
    variants: dict[str, Variant] = {}
    for name in variant_files:
        variant_file = _join(rel, name)
        key = name[: -len(".html")]
        variants[key] = parse_variant(
            folder.read_text(variant_file), key, file=variant_file, limits=folder.limits
        )
    raw = {
        **data,
        "id": folder_name,
        "folder": "" if parent == "." else parent,
        "variants": variants,
    }
    try:
        return Component.model_validate(raw)
    except ValidationError as exc:
        loc, message = _first_error(exc)
        raise _format_error(message, file, _locate(text, loc)) from None


def _load_publications(folder: _Folder) -> dict[str, Publication]:
    kind = folder.kind(PUBLICATIONS_FOLDER)
    if kind not in ("dir", "link"):
        return {}
    publications: dict[str, Publication] = {}
    for name in folder.listdir(PUBLICATIONS_FOLDER):
        file = f"{PUBLICATIONS_FOLDER}/{name}"
        if not name.endswith(".yaml") or folder.kind(file) == "dir":
            raise LibraryFormatError(
                f"unexpected entry in {PUBLICATIONS_FOLDER}/: it holds <publication-id>.yaml "
                "files only",
                file=file,
            )
        publication = _load_publication(folder, file, name[: -len(".yaml")])
        publications[publication.id] = publication
    return publications


def _load_publication(folder: _Folder, file: str, stem: str) -> Publication:
    problem = name_problem("publication id", stem)
    if problem:
        raise LibraryFormatError(f"file name: {problem}", file=file)
    text, data = _load_named_mapping(folder, file, PUBLICATION_KEYS, stem, "file")
    try:
        return Publication.model_validate({**data, "id": stem})
    except ValidationError as exc:
        loc, message = _first_error(exc)
        raise _format_error(message, file, _locate(text, loc)) from None


def _load_files(folder: _Folder) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for top in FILE_FOLDERS:
        if folder.kind(top) not in ("dir", "link"):
            continue
        for rel, _dirnames, filenames in folder.walk(top):
            for name in filenames:
                path = (PurePosixPath(top) / rel / name).as_posix()
                files[path] = folder.read(path)
    return files


def _join(rel: PurePosixPath, name: str) -> str:
    return (rel / name).as_posix()


def _decode_text(data: bytes, file: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        column = exc.start - (before.rfind(b"\n") + 1) + 1
        raise LibraryFormatError(
            f"not UTF-8 text (byte 0x{data[exc.start]:02x})", file=file, line=line, column=column
        ) from None


# --- YAML: no aliases, bounded depth and size --------------------------------------------------

# libyaml's loader when PyYAML was built with it: the pure-Python one took most of the time of
# loading a large library folder. Its error messages are terser, so errors are read again by
# the pure-Python loader for the message an editor sees.
_FAST_LOADER = getattr(yaml, "CSafeLoader", None)
_COLLECTION_START = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
_COLLECTION_END = (yaml.MappingEndEvent, yaml.SequenceEndEvent)


def _check_shape(text: str, file: str, limits: FolderLimits, loader: Any, line_offset: int) -> None:
    """Refuse aliases, and documents nested or sized past the limits, from the event stream.

    The parser is iterative, so this runs before anything recursive (the composer, the
    constructor, pydantic) sees the document. Aliases are refused rather than expanded: a
    1 kB "billion laughs" document expands to gigabytes wherever it is walked, and library
    files have no need of them.
    """
    depth = nodes = 0
    for event in yaml.parse(text, Loader=loader):
        problem = None
        if isinstance(event, yaml.AliasEvent):
            problem = "YAML aliases (*name) are not allowed in library files"
        elif isinstance(event, _COLLECTION_START):
            depth += 1
            if depth > limits.max_yaml_depth:
                problem = f"nested over {limits.max_yaml_depth} levels deep"
        elif isinstance(event, _COLLECTION_END):
            depth -= 1
        if isinstance(event, (yaml.ScalarEvent, *_COLLECTION_START)):
            nodes += 1
            if nodes > limits.max_yaml_nodes:
                problem = f"over {limits.max_yaml_nodes} values in one document"
        if problem:
            mark = event.start_mark
            if mark is None:
                raise LibraryFormatError(problem, file=file)
            raise LibraryFormatError(
                problem, file=file, line=mark.line + 1 + line_offset, column=mark.column + 1
            )


def _safe_load(text: str, file: str, limits: FolderLimits, *, line_offset: int = 0) -> Any:
    if _FAST_LOADER is not None:
        try:
            _check_shape(text, file, limits, _FAST_LOADER, line_offset)
            return yaml.load(text, Loader=_FAST_LOADER)
        except (yaml.YAMLError, ValueError):
            pass
    try:
        _check_shape(text, file, limits, yaml.SafeLoader, line_offset)
        return yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = " ".join(p for p in (exc.context, exc.problem) if p) or "invalid YAML"
        if mark is None:
            raise LibraryFormatError(message, file=file) from None
        raise LibraryFormatError(
            message, file=file, line=mark.line + 1 + line_offset, column=mark.column + 1
        ) from None
    except (yaml.YAMLError, ValueError) as exc:
        # PyYAML raises a bare ValueError for impossible dates such as 2026-13-01.
        raise LibraryFormatError(f"invalid YAML: {exc}", file=file) from None
    except RecursionError:  # a nesting the shape check cannot see (kept as a last guard)
        raise LibraryFormatError("nested too deeply", file=file) from None


def _split_front_matter(text: str, file: str) -> tuple[str | None, str]:
    """Split ``text`` into front matter (``None`` when absent) and the verbatim body.

    The body is everything after the closing fence line; only that line's own newline goes.
    """
    first_end = text.find("\n")
    first_line = text if first_end < 0 else text[:first_end]
    if not _FENCE.fullmatch(first_line):
        return None, text
    if first_end >= 0:
        start = pos = first_end + 1
        while True:
            end = text.find("\n", pos)
            line = text[pos:] if end < 0 else text[pos:end]
            if _FENCE.fullmatch(line):
                return text[start:pos], "" if end < 0 else text[end + 1 :]
            if end < 0:
                break
            pos = end + 1
    raise LibraryFormatError(
        "front matter is not closed: no '---' line after the opening one",
        file=file,
        line=1,
        column=1,
    )


def _reject_unknown_keys(
    data: dict[Any, Any], allowed: Sequence[str], text: str, file: str
) -> None:
    for name in data:
        if name not in allowed:
            line, column = _locate(text, (name,)) or (None, None)
            raise LibraryFormatError(
                f"unknown key {name!r} (allowed: {', '.join(allowed)})",
                file=file,
                line=line,
                column=column,
            )


def _locate(text: str, loc: Sequence[str | int], *, line_offset: int = 0) -> tuple[int, int] | None:
    """Line and column (1-based) of the YAML key or item that ``loc`` points at.

    Walks as deep as the path matches the document; pydantic's union branch names simply stop
    the walk, so the position is that of the deepest key that exists.
    """
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None
    if node is None:
        return None
    mark = None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if isinstance(key_node, yaml.ScalarNode) and key_node.value == str(part):
                    mark, node = key_node.start_mark, value_node
                    break
            else:
                break
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if not 0 <= part < len(node.value):
                break
            node = node.value[part]
            mark = node.start_mark
        else:
            break
    if mark is None:
        return None
    return mark.line + 1 + line_offset, mark.column + 1


def _first_error(
    exc: ValidationError, *, drop: str | None = None
) -> tuple[tuple[str | int, ...], str]:
    """The first problem as (path of the key in the document, message naming that key).

    ``drop`` removes a leading path part that exists in the model but not in the file
    (a variant's ``conditions``).
    """
    errors = exc.errors(include_url=False)
    error = errors[0]
    loc = tuple(error["loc"])
    if drop is not None and loc[:1] == (drop,):
        loc = loc[1:]
    if error["type"] in ("extra_forbidden", "missing") and loc:
        kind = "unknown" if error["type"] == "extra_forbidden" else "missing"
        message = f"{kind} key {loc[-1]!r}"
        parent = loc[:-1]
    else:
        message = error["msg"].removeprefix("Value error, ")
        if isinstance(error.get("input"), bool) and error["type"].startswith("string"):
            message += " (YAML reads yes/no/on/off/true/false as booleans: quote the value)"
        parent = loc
    if parent:
        message = f"{'.'.join(str(p) for p in parent)}: {message}"
    if len(errors) > 1:
        message += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
    return loc, message


def _format_error(message: str, file: str, where: tuple[int, int] | None) -> LibraryFormatError:
    line, column = where or (None, None)
    return LibraryFormatError(message, file=file, line=line, column=column)


# --- writing ---------------------------------------------------------------------------------


def format_variant(variant: Variant) -> str:
    """A variant as the text of its ``<key>.html`` file: front matter with non-defaults, body."""
    front: dict[str, Any] = {}
    conditions = variant.conditions
    if conditions.locale is not None:
        front["locale"] = conditions.locale
    for dimension in DIMENSIONS:
        values = getattr(conditions, dimension)
        if values is not None:
            front[dimension] = list(values)
    if variant.priority != 0:
        front["priority"] = variant.priority
    if variant.status != "published":
        front["status"] = variant.status
    if variant.valid_from is not None:
        front["valid_from"] = format_instant(variant.valid_from, end_of_day=False)
    if variant.valid_until is not None:
        front["valid_until"] = format_instant(variant.valid_until, end_of_day=True)
    if front:
        return f"---\n{_dump(front)}---\n{variant.body}"
    first_line = variant.body.split("\n", 1)[0]
    if _FENCE.fullmatch(first_line):
        # Without a front matter the body's own first line would be read as one.
        return f"---\n---\n{variant.body}"
    return variant.body


def _dump(data: dict[str, Any]) -> str:
    """YAML with block style at the top and flow style for leaf collections.

    ``default_flow_style=None`` writes ``segments: [enterprise]`` as authors do, but would also
    turn a mapping of plain scalars into ``{locale: de}``; so each top-level key is dumped on
    its own, in block style when it is itself a scalar.
    """
    parts = []
    for key, value in data.items():
        flow = None if isinstance(value, list | dict) else False
        parts.append(
            yaml.safe_dump(
                {key: value}, sort_keys=False, allow_unicode=True, default_flow_style=flow
            )
        )
    return "".join(parts)


def _model_yaml(model: BaseModel, **kwargs: Any) -> Any:
    return model.model_dump(mode="json", by_alias=True, **kwargs)


def write_library(lib: Library, root: Path) -> None:
    """Write ``lib`` to the folder ``root`` in the layout ``load_library`` reads.

    ``root`` may be missing, empty, or a library folder (one with ``library.yaml``; any other
    non-empty folder is refused). In a library folder only what the library manages is
    replaced: ``library.yaml``, ``publications/``, ``assets/``, ``renderers/`` and the
    ``component.yaml`` and ``*.html`` files of component folders. Anything else (``.git``, a
    README, notes or images beside the components) is kept where it was.

    The new folder is built beside ``root`` and swapped in, so a failure or a killed process
    leaves either the old library or the new one, never a mix. (Files are not fsynced: after a
    power cut the operating system decides what reached the disk.)

    A ``root`` that is a symlink to a folder is written through: the folder it points to gets
    the library and the link stays a link. (Swapping at the link's own name would replace the
    link with a plain folder and carry the user's files away from where the link points.) A
    symlink to nothing is refused.
    """
    given = Path(root).absolute()
    if given.is_symlink() and not given.exists():
        raise InputError(f"cannot write a library to {given}: it is a symlink to nothing")
    root = Path(os.path.realpath(given))
    entries = _component_paths(lib)
    _check_file_paths(lib)
    if root.exists() and not root.is_dir():
        raise InputError(f"cannot write a library to {root}: it is not a folder")
    existing = root.is_dir()
    if existing and os.listdir(root) and not (root / LIBRARY_FILE).is_file():
        raise InputError(
            f"refusing to write a library into {root}: the folder is not empty and holds no "
            f"{LIBRARY_FILE}"
        )
    root.parent.mkdir(parents=True, exist_ok=True)
    staging = root.parent / f".{root.name}.new-{secrets.token_hex(4)}"
    os.mkdir(staging)
    moved: list[tuple[Path, Path]] = []
    try:
        _write_tree(lib, staging, entries)
        if existing:
            os.chmod(staging, stat.S_IMODE(root.stat().st_mode))
            # Files the library does not manage move into the new tree (a rename each, cheap
            # even for a large .git); on failure they move back.
            for rel in _unmanaged(root):
                target = staging / rel
                if target.exists() or target.is_symlink():
                    raise InputError(
                        f"cannot write the library to {root}: {rel.as_posix()!r} is in the way "
                        "(it is not part of the library but the new library needs that path)"
                    )
                target.parent.mkdir(parents=True, exist_ok=True)
                os.rename(root / rel, target)
                moved.append((root / rel, target))
            _swap(staging, root)
        else:
            os.rename(staging, root)
    except BaseException:
        for original, target in reversed(moved):
            with contextlib.suppress(OSError):
                os.rename(target, original)
        shutil.rmtree(staging, ignore_errors=True)
        raise
    # After the swap ``staging`` holds the old tree.
    shutil.rmtree(staging, ignore_errors=True)


def _component_paths(lib: Library) -> dict[str, PurePosixPath]:
    """Each component's folder, checked by the rule every other entry point uses."""
    paths: dict[str, PurePosixPath] = {}
    for component in lib.components.values():
        # The model checked both already; a Library built without validation is checked here.
        problem = name_problem("component id", component.id) or name_problem(
            "folder", component.folder
        )
        if problem:
            raise InputError(f"component {component.id!r} cannot be written: {problem}")
        folder = PurePosixPath(component.folder) if component.folder else PurePosixPath()
        paths[component.id] = folder / component.id
    return paths


def _check_file_paths(lib: Library) -> None:
    for path in lib.files:
        parts = PurePosixPath(path).parts
        if (
            len(parts) < 2
            or parts[0] not in FILE_FOLDERS
            or PurePosixPath(path).is_absolute()
            or "\\" in path
            or any(p in (".", "..") or p.startswith(".") for p in parts)
        ):
            raise InputError(
                f"library file {path!r} must be a plain relative path under assets/ or renderers/"
            )


def _write_tree(lib: Library, target: Path, paths: dict[str, PurePosixPath]) -> None:
    # Defaults left out, except the default locale, which every reader wants to see.
    stated = _model_yaml(lib.settings, exclude_defaults=True)
    everything = _model_yaml(lib.settings)
    settings = {k: v for k, v in everything.items() if k in stated or k == "default_locale"}
    (target / LIBRARY_FILE).write_text(_dump(settings), encoding="utf-8")
    for component_id in sorted(lib.components):
        component = lib.components[component_id]
        folder = target / paths[component_id]
        folder.mkdir(parents=True)
        meta = {
            "id": component.id,
            "type": component.type,
            "title": component.title,
            "tags": list(component.tags),
        }
        (folder / COMPONENT_FILE).write_text(_dump(meta), encoding="utf-8")
        for key in sorted(component.variants):
            # Bytes, not text mode: the body is written verbatim, CRLF included.
            text = format_variant(component.variants[key])
            (folder / f"{key}.html").write_bytes(text.encode("utf-8"))
    if lib.publications:
        (target / PUBLICATIONS_FOLDER).mkdir()
    for publication_id in sorted(lib.publications):
        publication = lib.publications[publication_id]
        data = {
            "id": publication.id,
            "title": publication.title,
            **({"titles": dict(publication.titles)} if publication.titles else {}),
            "layout": publication.layout,
            "slots": [_model_yaml(s, exclude_defaults=True) for s in publication.slots],
        }
        (target / PUBLICATIONS_FOLDER / f"{publication_id}.yaml").write_text(
            _dump(data), encoding="utf-8"
        )
    for path in sorted(lib.files):
        file = target / path
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_bytes(lib.files[path])


def _unmanaged(root: Path) -> list[PurePosixPath]:
    """Entries of an existing library folder that are not the library's to replace.

    The library's: ``library.yaml``, ``publications/``, ``assets/``, ``renderers/``, and in
    each component folder its ``component.yaml`` and ``*.html`` files. Everything else (hidden
    entries, a README, notes beside or inside component folders) is the user's and is kept.
    Folders with components somewhere below are walked into rather than kept whole.
    """
    keep: list[PurePosixPath] = []

    def visit(rel: PurePosixPath) -> None:
        here = root / rel
        is_component = rel != PurePosixPath() and (here / COMPONENT_FILE).is_file()
        for name in sorted(os.listdir(here)):
            path = here / name
            hidden = name.startswith(".")
            plain_dir = not hidden and path.is_dir() and not path.is_symlink()
            if rel == PurePosixPath() and name in RESERVED:
                continue
            managed_file = name == COMPONENT_FILE or name.endswith(".html")
            if is_component and managed_file and not hidden and not plain_dir:
                continue
            if plain_dir and _holds_component(path):
                visit(rel / name)
            else:
                keep.append(rel / name)

    visit(PurePosixPath())
    return keep


def _holds_component(folder: Path) -> bool:
    for _dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        if COMPONENT_FILE in filenames:
            return True
    return False


def _swap(new: Path, old: Path) -> None:
    """Exchange two folders' names; afterwards ``new`` names the old tree.

    Linux's renameat2(RENAME_EXCHANGE) does it in one atomic step. Elsewhere two renames leave
    a moment without ``old``, but the complete old tree still sits beside it under a temporary
    name, so nothing is ever half written.
    """
    if _rename_exchange(new, old):
        return
    aside = old.parent / f".{old.name}.old-{secrets.token_hex(4)}"
    os.rename(old, aside)
    try:
        os.rename(new, old)
    except BaseException:
        os.rename(aside, old)
        raise
    os.rename(aside, new)


def _rename_exchange(a: Path, b: Path) -> bool:
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError, TypeError):  # not glibc/Linux
        return False
    renameat2.argtypes = [
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_uint,
    ]
    at_fdcwd, rename_exchange = -100, 2
    # Fails (EINVAL) on file systems without exchange support; the caller falls back.
    return bool(renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0)
