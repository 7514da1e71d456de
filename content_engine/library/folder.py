"""The one safe way to read an untrusted library folder: ``Folder``.

In: the folder's path and its ``FolderLimits``. Out: the bytes or text of one file, the sorted
entries of a folder, or a sorted walk; every problem is a ``LibraryFormatError`` naming the
file (and, for text that is not UTF-8, the line and column).

No symlink leads out of the folder, no hard link is read, no FIFO or device is opened
(``files.regular`` reads each file), and each file, the whole library and the number of
entries walked are bounded.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator, Sequence
from pathlib import Path, PurePosixPath

from content_engine.core.errors import LibraryFormatError
from content_engine.files.regular import Unreadable, kind_of, read_regular_file
from content_engine.library.limits import FolderLimits

__all__ = ["Folder", "decode_text", "read_library_text"]

# O_NOFOLLOW makes a symlinked folder on the way an error (ELOOP) instead of a silent detour.
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


class Folder:
    """A library folder opened for reading: every file of the import goes through ``read``.

    Paths are walked one name at a time from the folder's own descriptor with
    ``O_NOFOLLOW``, so no symlink is followed unawares (nor swapped in between a check and
    the open). A symlink is followed only when its target lies inside the folder; FIFOs,
    devices and sockets are refused before they are opened; each file and the whole
    library are bounded in size.
    """

    def __init__(self, root: Path, limits: FolderLimits, budget: int | None = None) -> None:
        """``budget``: the bytes this reader may read, when it reads one share of a library
        whose other shares other readers read (default: ``limits.max_library_bytes``)."""
        self.root = os.path.realpath(root)
        self.limits = limits
        self.budget = limits.max_library_bytes if budget is None else budget
        self.read_bytes = 0
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
        self.charge(len(data), rel)
        return data

    def charge(self, count: int, rel: str) -> None:
        """Count ``count`` bytes read (here, or by another reader of a share) against the
        budget; over it, the import is refused at ``rel``."""
        self.read_bytes += count
        if self.read_bytes > self.budget:
            raise self.over_bound(rel)

    def over_bound(self, rel: str) -> LibraryFormatError:
        """The refusal of a library whose files add up to over its bound, at ``rel``."""
        return LibraryFormatError(
            f"the library's files add up to over {self.limits.max_library_bytes} bytes",
            file=rel,
        )

    def size(self, rel: str) -> int:
        """The size of the file at ``rel`` as the file system tells it, 0 if it cannot: only
        to share the budget out before reading, since ``read`` checks every byte it reads."""
        try:
            return os.stat(os.path.join(self.root, rel)).st_size
        except (OSError, ValueError):
            return 0

    def read_text(self, rel: str) -> str:
        return decode_text(self.read(rel), rel)

    def _read_beneath(self, parts: Sequence[str], rel: str) -> bytes:
        fds: list[int] = []
        try:
            fds.append(os.open(self.root, _DIR_FLAGS))
            for part in parts[:-1]:
                fds.append(self._open_dir(fds[-1], part, rel))
            try:
                return read_regular_file(
                    parts[-1],
                    limit=self.limits.max_file_bytes,
                    dir_fd=fds[-1],
                    follow_symlinks=False,
                    single_name=True,
                )
            except OSError as exc:
                if exc.errno == errno.ELOOP:  # a symlink, or swapped for one meanwhile
                    raise _SymlinkOnTheWay from None
                raise
        except Unreadable as exc:
            raise LibraryFormatError(exc.reason, file=rel) from None
        except OSError as exc:
            raise LibraryFormatError(f"cannot read: {exc.strerror or exc}", file=rel) from None
        finally:
            for fd in reversed(fds):
                os.close(fd)

    def _open_dir(self, dir_fd: int, name: str, rel: str) -> int:
        mode = os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode
        if stat.S_ISLNK(mode):
            raise _SymlinkOnTheWay
        if not stat.S_ISDIR(mode):
            raise LibraryFormatError(
                f"{kind_of(mode)}, not a folder: only regular files and folders are read",
                file=rel,
            )
        try:
            return os.open(name, _DIR_FLAGS, dir_fd=dir_fd)
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.ENOTDIR):  # swapped for a symlink meanwhile
                raise _SymlinkOnTheWay from None
            raise

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
    """A name on the path is a symlink: ``Folder.read`` decides whether to follow it."""


def read_library_text(root: Path, file: str, limits: FolderLimits | None = None) -> str:
    """One file of a library folder as text, read the safe way (for tools after an import)."""
    return Folder(root, limits or FolderLimits()).read_text(file)


def decode_text(data: bytes, file: str) -> str:
    """``data`` as UTF-8 (a BOM dropped); bytes that are not name their line and column."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        column = exc.start - (before.rfind(b"\n") + 1) + 1
        raise LibraryFormatError(
            f"not UTF-8 text (byte 0x{data[exc.start]:02x})", file=file, line=line, column=column
        ) from None
