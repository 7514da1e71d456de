"""Turn a library folder into a validated ``Library``: ``load_library``.

In: a folder laid out as ``layout`` names it, read through one ``Folder`` and its
``FolderLimits``. Out: the ``Library``, or the first problem as a ``LibraryFormatError`` naming
the file, line and column. Files are visited in sorted order, so the same broken folder always
reports the same problem.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from pydantic import ValidationError

from content_engine.core.assettypes import ASSET_FOLDER, ASSET_TYPES, asset_type
from content_engine.core.errors import ContentEngineError, LibraryFormatError
from content_engine.core.locales import normalize_tag
from content_engine.core.models import Component, Library, LibrarySettings, Publication, Variant
from content_engine.core.names import name_problem
from content_engine.core.storable import checked_context
from content_engine.library.folder import Folder
from content_engine.library.layout import (
    COMPONENT_FILE,
    COMPONENT_KEYS,
    FILE_FOLDERS,
    LIBRARY_FILE,
    PUBLICATION_KEYS,
    PUBLICATIONS_FOLDER,
    RESERVED,
    THEME_FILE,
    THEME_FOLDER,
)
from content_engine.library.limits import FolderLimits
from content_engine.library.variants import parse_variant
from content_engine.library.yamlerrors import first_error, format_error, locate, reject_unknown_keys
from content_engine.library.yamlread import safe_load

__all__ = ["ComponentFolder", "ComponentReader", "load_library", "read_components"]


@dataclass(frozen=True)
class ComponentFolder:
    """One component's folder as the walk found it: where it is and its variant files."""

    rel: str  # POSIX path inside the library folder; its last part is the component id
    variant_files: tuple[str, ...]

    @property
    def id(self) -> str:
        return self.rel.rpartition("/")[2]

    @property
    def files(self) -> tuple[str, ...]:
        """Every file the component is read from, its ``component.yaml`` first."""
        return tuple(f"{self.rel}/{name}" for name in (COMPONENT_FILE, *self.variant_files))


# Reads the components of the folders the walk finds, in order; raises the first problem met
# (the walk's own, a misplaced file, when iterating reaches it).
ComponentReader = Callable[[Folder, Iterable[ComponentFolder]], Iterable[Component]]


def read_components(folder: Folder, found: Iterable[ComponentFolder]) -> Iterator[Component]:
    """A ``ComponentReader`` in this process, one folder after the other."""
    for place in found:
        yield load_component(folder, place)


def load_library(
    root: Path, limits: FolderLimits | None = None, read: ComponentReader = read_components
) -> Library:
    """Read the library folder at ``root``; raise ``LibraryFormatError`` on the first problem.

    ``read`` reads the component folders the walk found (default: here, one by one; an import
    spreads them over processes), and the first problem is the same either way.
    """
    root = Path(root)
    if not root.is_dir():
        raise LibraryFormatError(f"not a library folder: {root}")
    folder = Folder(root, limits or FolderLimits())
    if folder.kind(LIBRARY_FILE) is None:
        # Required so that importing the wrong folder fails instead of archiving everything.
        raise LibraryFormatError(
            f"no {LIBRARY_FILE} in {root}: a library folder starts with its settings file",
            file=LIBRARY_FILE,
        )
    return Library(
        settings=_load_settings(folder),
        components=_load_components(folder, read),
        publications=_load_publications(folder),
        files=_load_files(folder),
    )


def _load_settings(folder: Folder) -> LibrarySettings:
    text = folder.read_text(LIBRARY_FILE)
    data = safe_load(text, LIBRARY_FILE, folder.limits)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise LibraryFormatError("must be a mapping of settings", file=LIBRARY_FILE, line=1)
    # Checked first so that the error names the very tag (pydantic names only the list).
    loc, problem = _bad_locale(data)
    if loc:
        message = f"{'.'.join(str(p) for p in loc)}: {problem}"
        raise format_error(message, LIBRARY_FILE, locate(text, loc))
    try:
        return LibrarySettings.model_validate(data)
    except ValidationError as exc:
        loc, message = first_error(exc)
        raise format_error(message, LIBRARY_FILE, locate(text, loc)) from None


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


def _load_components(folder: Folder, read: ComponentReader) -> dict[str, Component]:
    components: dict[str, Component] = {}
    where: dict[str, str] = {}
    for component in read(folder, _component_folders(folder)):
        component_file = f"{_rel(component)}/{COMPONENT_FILE}"
        if component.id in where:
            raise LibraryFormatError(
                f"component id {component.id!r} is defined twice: {where[component.id]} and "
                f"{component_file}",
                file=component_file,
            )
        where[component.id] = component_file
        components[component.id] = component
    return dict(sorted(components.items()))


def _rel(component: Component) -> str:
    return f"{component.folder}/{component.id}" if component.folder else component.id


def _component_folders(folder: Folder) -> Iterator[ComponentFolder]:
    """The component folders in walk order; ``LibraryFormatError`` at a misplaced file.

    Nothing is read but the folder listings, so a reader may read the components found so
    far while the walk goes on; a problem in one of them comes before a misplaced file found
    after it, as it would reading them on the way.
    """
    for rel, dirnames, filenames in folder.walk(""):
        if rel == PurePosixPath("."):
            dirnames[:] = [d for d in dirnames if d not in RESERVED]
        variant_files = [f for f in filenames if f.endswith(".html")]
        if COMPONENT_FILE not in filenames:
            if variant_files:
                raise LibraryFormatError(
                    f"variant file without a {COMPONENT_FILE} beside it: a component "
                    f"folder holds {COMPONENT_FILE} and <variant-key>.html files",
                    file=_join(rel, variant_files[0]),
                )
            continue
        if rel == PurePosixPath("."):
            raise LibraryFormatError(
                f"{COMPONENT_FILE} belongs in a folder named after the component id",
                file=_join(rel, COMPONENT_FILE),
            )
        for name in filenames:
            if name != COMPONENT_FILE and not name.endswith(".html"):
                raise LibraryFormatError(
                    f"unexpected file in component folder {rel.as_posix()!r}: it holds "
                    f"{COMPONENT_FILE} and <variant-key>.html files only",
                    file=_join(rel, name),
                )
        yield ComponentFolder(rel.as_posix(), tuple(variant_files))


def _load_named_mapping(
    folder: Folder, file: str, keys: Sequence[str], name: str, named_by: str
) -> tuple[str, dict[str, Any]]:
    """A YAML mapping with only ``keys``, whose ``id`` (if given) equals its folder/file name."""
    text = folder.read_text(file)
    data = safe_load(text, file, folder.limits)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise LibraryFormatError(
            f"must be a mapping with keys {', '.join(keys)}", file=file, line=1
        )
    reject_unknown_keys(data, keys, text, file)
    if "id" in data and data["id"] != name:
        raise format_error(
            f"id {data['id']!r} does not match its {named_by} name {name!r}",
            file,
            locate(text, ("id",)),
        )
    return text, data


def load_component(folder: Folder, place: ComponentFolder) -> Component:
    """The component in the folder ``place``; ``LibraryFormatError`` on its first problem."""
    file, *variant_files = place.files
    parent, folder_name = place.rel.rpartition("/")[0], place.id
    # The same rule as the API's: a folder it would refuse is refused here, with its name.
    problem = name_problem("component id", folder_name) or name_problem("folder", parent)
    if problem:
        raise LibraryFormatError(f"folder name: {problem}", file=file)
    text, data = _load_named_mapping(folder, file, COMPONENT_KEYS, folder_name, "folder")
    if not place.variant_files:
        raise LibraryFormatError(
            f"component {folder_name!r} has no variant files (<variant-key>.html)", file=file
        )
    variants: dict[str, Variant] = {}
    for name, variant_file in zip(place.variant_files, variant_files, strict=True):
        key = name[: -len(".html")]
        variants[key] = parse_variant(
            folder.read_text(variant_file), key, file=variant_file, limits=folder.limits
        )
    raw = {**data, "id": folder_name, "folder": parent, "variants": variants}
    try:
        return Component.model_validate(raw, context=checked_context(raw))
    except ValidationError as exc:
        loc, message = first_error(exc)
        raise format_error(message, file, locate(text, loc)) from None


def _load_publications(folder: Folder) -> dict[str, Publication]:
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


def _load_publication(folder: Folder, file: str, stem: str) -> Publication:
    problem = name_problem("publication id", stem)
    if problem:
        raise LibraryFormatError(f"file name: {problem}", file=file)
    text, data = _load_named_mapping(folder, file, PUBLICATION_KEYS, stem, "file")
    try:
        return Publication.model_validate({**data, "id": stem})
    except ValidationError as exc:
        loc, message = first_error(exc)
        raise format_error(message, file, locate(text, loc)) from None


def _load_files(folder: Folder) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    assets = 0
    for top in FILE_FOLDERS:
        if folder.kind(top) not in ("dir", "link"):
            continue
        for rel, _dirnames, filenames in folder.walk(top):
            for name in filenames:
                path = (PurePosixPath(top) / rel / name).as_posix()
                if top == ASSET_FOLDER and asset_type(path) is None:
                    # Served to browsers without a key: only what the allow-list names.
                    raise LibraryFormatError(
                        "not an asset type the engine serves; assets may be "
                        + ", ".join(sorted(ASSET_TYPES)),
                        file=path,
                    )
                files[path] = folder.read(path)
                if top == THEME_FOLDER and name == THEME_FILE:
                    _check_theme_yaml(folder, path, files[path])
                if top == ASSET_FOLDER:
                    assets += len(files[path])
                    _check_asset_size(folder.limits, path, len(files[path]), assets)
    return files


def _check_theme_yaml(folder: Folder, path: str, data: bytes) -> None:
    """A theme's ``theme.yaml`` is read at render time for its ``options``: it must be UTF-8
    YAML within the library's limits (no aliases, bounded depth), refused here at its line."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise LibraryFormatError(f"not UTF-8: {exc.reason}", file=path) from None
    safe_load(text, path, folder.limits)


def _check_asset_size(limits: FolderLimits, path: str, size: int, total: int) -> None:
    if size > limits.max_asset_bytes:
        raise LibraryFormatError(
            f"an asset of {size} bytes: over the limit of {limits.max_asset_bytes} bytes",
            file=path,
        )
    if total > limits.max_assets_bytes:
        raise LibraryFormatError(
            f"the library's assets add up to over {limits.max_assets_bytes} bytes", file=path
        )


def _join(rel: PurePosixPath, name: str) -> str:
    return (rel / name).as_posix()
