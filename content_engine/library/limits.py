"""The bounds on reading one library folder: ``FolderLimits``.

In: nothing (defaults) or the caller's bounds. Out: the frozen limits that the folder reader and
the YAML reader check, kept apart from both so each can take them without the other.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["FolderLimits"]


@dataclass(frozen=True)
class FolderLimits:
    """What importing one library folder may read; over a bound, the import is refused.

    A library folder may come from anyone (a pull request, an archive), so reading it must
    not hang on a FIFO, fill memory from ``/dev/zero`` or read files outside it.
    """

    max_file_bytes: int = 16 * 2**20
    max_library_bytes: int = 256 * 2**20
    # Files under assets/, which browsers fetch: each, and all together.
    max_asset_bytes: int = 16 * 2**20
    max_assets_bytes: int = 128 * 2**20
    # Files and folders walked: a library of 10 k components (a folder and ~9 files each) is
    # about 100 k, which the bound once refused.
    max_entries: int = 250_000
    max_yaml_depth: int = 64  # nested mappings and lists in one YAML document
    max_yaml_nodes: int = 200_000  # scalars, mappings and lists in one YAML document
