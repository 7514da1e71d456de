"""Exchange two folders' names, atomically where the system can: ``swap_folders``.

In: a freshly built folder and the folder it replaces, side by side. Out: the new tree under
the old name and the old tree under the new one, so that a failure at any moment leaves one
complete tree in place and never a mix of both.
"""

from __future__ import annotations

import ctypes
import os
import secrets
from pathlib import Path

__all__ = ["swap_folders"]


def swap_folders(new: Path, old: Path) -> None:
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
