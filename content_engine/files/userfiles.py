"""Files a user names on the command line (``--context``, ``--contexts``, ``-o``): read and
written so that no worst value hangs, exhausts memory or ends in a traceback.

In: a path and bytes or a size bound. Out: the bytes read, or the file written; otherwise an
``InputError`` (exit 2: the path is wrong) or ``Unavailable`` (exit 1: the disk failed) that
names the file. ``os_error`` is the one map from an ``OSError`` to those two.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from content_engine.core.errors import ContentEngineError, InputError, Unavailable
from content_engine.files.regular import FileTooLarge, NotRegularFile, read_regular_file

__all__ = ["MAX_CONTEXTS_BYTES", "MAX_CONTEXT_BYTES", "os_error", "read_regular", "write_file"]

# A context is a reader's description plus customer data: megabytes at most. The HTTP API
# takes 2 MiB bodies; a file on the command line may be larger, not unbounded.
MAX_CONTEXT_BYTES = 16 * 1024 * 1024
# A batch's JSON lines: one context per line, many lines.
MAX_CONTEXTS_BYTES = 512 * 1024 * 1024
# The disk, not the path, is at fault: trying again later (or elsewhere) may work.
_FAULTS = {errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EFBIG, errno.ENOMEM}


def os_error(exc: OSError, path: Path | str | None = None, doing: str = "") -> ContentEngineError:
    """The domain error of ``exc``, met ``doing`` something with ``path``: ``Unavailable`` for a
    failing disk, ``InputError`` for a path that cannot be used."""
    where = path if path is not None else exc.filename
    reason = exc.strerror or str(exc)
    if exc.errno == errno.ELOOP:
        reason = "too many levels of symbolic links"
    head = f"cannot {doing} {where}" if doing else f"{where}"
    message = f"{head}: {reason}" if where is not None else reason
    kind = Unavailable if exc.errno in _FAULTS else InputError
    return kind(message, details={"path": None if where is None else str(where)})


def read_regular(path: Path, *, limit: int, what: str = "file") -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes, read by ``regular``'s rules.

    A FIFO would wait for a writer forever, a device (``/dev/zero``) never ends, a folder is
    not a file: each is refused before it is opened, with an error that names ``what``.
    """
    try:
        return read_regular_file(path, limit=limit)
    except NotRegularFile as exc:
        raise InputError(
            f"cannot read {what} {path}: {exc.reason}", details={"path": str(path)}
        ) from None
    except FileTooLarge:
        raise _too_large(path, what, limit) from None
    except OSError as exc:
        raise os_error(exc, path, f"read {what}") from None


def write_file(path: Path, content: bytes) -> None:
    """Write ``content`` to ``path``, whose folder must exist (it is never created: a typo in
    a folder name must not leave a new tree behind).

    A regular file is written beside and renamed into place, so a full disk never leaves half
    a document; a FIFO or device (``/dev/null``) is written directly, and a FIFO nobody reads
    is refused rather than waited on.
    """
    folder = path.parent
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        raise InputError(
            f"cannot write {path}: folder {folder} {what}", details={"path": str(path)}
        )
    try:
        found = os.stat(path)
    except FileNotFoundError:
        found = None
    except OSError as exc:
        raise os_error(exc, path, "write") from None
    if found is not None and stat.S_ISDIR(found.st_mode):
        raise InputError(f"cannot write {path}: it is a folder", details={"path": str(path)})
    if found is not None and not stat.S_ISREG(found.st_mode):
        _write_special(path, content)
    else:
        # Through a symbolic link to the file it names, not over the link; keeping the mode
        # of a file replaced (a document kept private stays private).
        real = Path(os.path.realpath(path))
        mode = None
        if found is not None:
            # Renaming over a file needs only the folder's permission: open the file itself
            # for writing (without truncating it), so a read-only one is refused as before.
            try:
                os.close(os.open(real, os.O_WRONLY | os.O_NONBLOCK | os.O_CLOEXEC))
            except OSError as exc:
                raise os_error(exc, path, "write") from None
            mode = stat.S_IMODE(found.st_mode)
        _write_replacing(real, content, mode)


def _write_special(path: Path, content: bytes) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError as exc:
        if exc.errno == errno.ENXIO:
            raise InputError(
                f"cannot write {path}: a pipe that nobody reads", details={"path": str(path)}
            ) from None
        raise os_error(exc, path, "write") from None
    try:
        os.set_blocking(fd, True)
        with os.fdopen(fd, "wb", closefd=False) as fh:
            fh.write(content)
    except OSError as exc:
        raise os_error(exc, path, "write") from None
    finally:
        os.close(fd)


def _write_replacing(path: Path, content: bytes, mode: int | None) -> None:
    staging = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(staging, "xb") as fh:
            if mode is not None:
                os.fchmod(fh.fileno(), mode)
            fh.write(content)
        os.replace(staging, path)
    except OSError as exc:
        staging.unlink(missing_ok=True)
        raise os_error(exc, path, "write") from None


def _too_large(path: Path, what: str, limit: int) -> InputError:
    return InputError(
        f"cannot read {what} {path}: larger than {limit // (1024 * 1024)} MiB",
        details={"path": str(path), "limit_bytes": limit},
    )
