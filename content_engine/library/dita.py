"""A DITA map's folder read safely, and the library converted from it written out.

In: the path of a ``.ditamap`` file, the ``--map`` mapping and the folder to write. Out: the
library folder (``write_library``) and the ``Conversion`` with its findings. The conversion
itself is pure (``core.dita``); this module only reads: every file through one ``Folder``
rooted at the map's folder, so no symlink leads out of it, no FIFO or device is opened and each
file and the whole are bounded as for a library folder (``FolderLimits``).
"""

from __future__ import annotations

from pathlib import Path

from content_engine.core.dita import Conversion, MissingFile, convert_map
from content_engine.core.errors import InputError
from content_engine.library.folder import Folder
from content_engine.library.limits import FolderLimits
from content_engine.library.write import write_library

__all__ = ["convert_dita", "import_dita"]


def convert_dita(
    map_path: Path, mapping: dict[str, str], limits: FolderLimits | None = None
) -> Conversion:
    """The conversion of the map at ``map_path``; nothing is written."""
    if not map_path.exists() and not map_path.is_symlink():
        raise InputError(f"{map_path}: no such map", details={"path": str(map_path)})
    if map_path.is_dir():
        raise InputError(f"{map_path}: a folder, not a DITA map", details={"path": str(map_path)})
    folder = Folder(map_path.absolute().parent, limits or FolderLimits())

    def read(name: str) -> bytes:
        if folder.kind(name) is None:
            raise MissingFile(name)
        return folder.read(name)

    return convert_map(map_path.name, read, mapping)


def import_dita(
    map_path: Path, out: Path, mapping: dict[str, str], limits: FolderLimits | None = None
) -> Conversion:
    """Convert the map at ``map_path`` and write the library to the folder ``out``."""
    conversion = convert_dita(map_path, mapping, limits)
    write_library(conversion.library, out)
    return conversion
