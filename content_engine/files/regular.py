"""Read a regular file, and nothing else, without waiting, overflowing or being led astray.

In: a path (or a name inside a folder opened as ``dir_fd``) and a size bound. Out: the file's
bytes. Anything but a regular file (a folder, pipe, device or socket) raises ``NotRegularFile``
before it is opened, in the one wording ``refusal`` gives; a file over the bound raises
``FileTooLarge``; what the operating system refuses stays an ``OSError`` for the caller to name.

It exists so that the CLI's input files and every file of a library folder are read the same
careful way: a FIFO would wait for a writer forever, ``/dev/zero`` never ends, and a file can be
swapped for something else between the check and the open.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable

__all__ = [
    "FileTooLarge",
    "HardLink",
    "NotRegularFile",
    "Unreadable",
    "kind_of",
    "read_regular_file",
]

# O_NONBLOCK: opening a FIFO swapped in after the check must not wait for a writer.
_FLAGS = os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
_CHUNK = 1 << 20
# (test, what it is, why it is not read); the first match names a mode.
_KINDS: tuple[tuple[Callable[[int], bool], str, str], ...] = (
    (stat.S_ISREG, "a file", ""),
    (stat.S_ISDIR, "a folder", ""),
    (stat.S_ISLNK, "a symlink", ""),
    (stat.S_ISFIFO, "a pipe", "reading a FIFO would wait for a writer"),
    (stat.S_ISCHR, "a device", "reading a device may never end"),
    (stat.S_ISBLK, "a device", "reading a device may never end"),
    (stat.S_ISSOCK, "a socket", ""),
)


class Unreadable(Exception):
    """A file refused before or while reading it; ``reason`` is fit for an error message."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class NotRegularFile(Unreadable):
    """Not a regular file: ``reason`` reads ``not a regular file (a pipe): ...``."""

    def __init__(self, mode: int) -> None:
        kind, why = _describe(mode)
        super().__init__(f"not a regular file ({kind})" + (f": {why}" if why else ""))
        self.mode = mode


class HardLink(Unreadable):
    """A file with more than one name: the other may lie anywhere on the same file system."""

    def __init__(self) -> None:
        super().__init__(
            "a hard link (the file has other names, perhaps outside the folder): "
            "put a copy there instead"
        )


class FileTooLarge(Unreadable):
    """Larger than ``limit`` bytes (perhaps only by growing while it was read)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"file over the limit of {limit} bytes")
        self.limit = limit


def kind_of(mode: int) -> str:
    """What a file of ``mode`` is, in words: ``a file``, ``a folder``, ``a pipe``, ..."""
    return _describe(mode)[0]


def _describe(mode: int) -> tuple[str, str]:
    return next(((kind, why) for test, kind, why in _KINDS if test(mode)), ("a special file", ""))


def read_regular_file(
    path: str | os.PathLike[str],
    *,
    limit: int,
    dir_fd: int | None = None,
    follow_symlinks: bool = True,
    single_name: bool = False,
) -> bytes:
    """The bytes of the regular file at ``path`` (relative to ``dir_fd`` when given).

    With ``follow_symlinks=False`` a symlink at ``path`` raises ``OSError(ELOOP)``, as
    ``O_NOFOLLOW`` does, so that the caller decides whether its target may be read. With
    ``single_name`` a hard link raises ``HardLink``: a folder that must not reach outside
    itself cannot tell where a file's other names are, as it can for a symlink's target.
    """
    # stat first, so that a FIFO or a device is never even opened.
    mode = os.stat(path, dir_fd=dir_fd, follow_symlinks=follow_symlinks).st_mode
    if stat.S_ISLNK(mode):
        raise OSError(errno.ELOOP, os.strerror(errno.ELOOP), os.fspath(path))
    if not stat.S_ISREG(mode):
        raise NotRegularFile(mode)
    fd = os.open(path, _FLAGS | (0 if follow_symlinks else os.O_NOFOLLOW), dir_fd=dir_fd)
    try:
        return _read_bounded(fd, limit, single_name)
    finally:
        os.close(fd)


def _read_bounded(fd: int, limit: int, single_name: bool) -> bytes:
    found = os.fstat(fd)  # of what was opened: a link swapped in after the check counts
    if not stat.S_ISREG(found.st_mode):  # swapped after the check
        raise NotRegularFile(found.st_mode)
    if single_name and found.st_nlink > 1:
        raise HardLink
    if found.st_size > limit:
        raise FileTooLarge(limit)
    chunks: list[bytes] = []
    size = 0
    while size <= limit:  # the file may grow while it is read
        chunk = os.read(fd, min(_CHUNK, limit + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    if size > limit:
        raise FileTooLarge(limit)
    return b"".join(chunks)
