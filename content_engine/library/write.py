"""Turn a ``Library`` back into a folder: ``write_library``, the inverse of ``load_library``.

In: a ``Library`` and the folder to write it to. Out: that folder in the layout ``load_library``
reads (load → write → load gives an equal library, versions aside), or an ``InputError`` when
the target cannot take a library. The new tree is built beside the target and swapped in, so a
failure never leaves half a library behind; files the library does not manage are kept.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import stat
from pathlib import Path, PurePosixPath
from typing import Any

from pydantic import BaseModel

from content_engine.core.errors import InputError
from content_engine.core.models import Library
from content_engine.core.names import name_problem
from content_engine.library.layout import (
    COMPONENT_FILE,
    FILE_FOLDERS,
    LIBRARY_FILE,
    PUBLICATIONS_FOLDER,
    RESERVED,
)
from content_engine.library.swap import swap_folders
from content_engine.library.variants import format_variant
from content_engine.library.yamlwrite import dump_yaml

__all__ = ["write_library"]


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
            swap_folders(staging, root)
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


def _model_yaml(model: BaseModel, **kwargs: Any) -> Any:
    return model.model_dump(mode="json", by_alias=True, **kwargs)


def _write_tree(lib: Library, target: Path, paths: dict[str, PurePosixPath]) -> None:
    # Defaults left out, except the default locale, which every reader wants to see.
    stated = _model_yaml(lib.settings, exclude_defaults=True)
    everything = _model_yaml(lib.settings)
    settings = {k: v for k, v in everything.items() if k in stated or k == "default_locale"}
    (target / LIBRARY_FILE).write_text(dump_yaml(settings), encoding="utf-8")
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
        (folder / COMPONENT_FILE).write_text(dump_yaml(meta), encoding="utf-8")
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
            dump_yaml(data), encoding="utf-8"
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
