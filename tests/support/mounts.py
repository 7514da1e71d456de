"""Real small and read-only file systems for fault tests: a tmpfs mounted as root.

Without the right to mount (not root, or no ``CAP_SYS_ADMIN``) the tests that need one are
skipped; the read-only cases also have a permission-based twin for non-root users.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


def _mount(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["mount", *args], capture_output=True, text=True, check=False)


@contextmanager
def tmpfs(where: Path, size: str = "2m") -> Iterator[Path]:
    """A tmpfs of ``size`` mounted at ``where`` for the block; skips the test if impossible."""
    where.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        pytest.skip("mounting a small file system needs root")
    done = _mount("-t", "tmpfs", "-o", f"size={size},mode=0777", "tmpfs", str(where))
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs: {done.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True, check=False)


def set_read_only(where: Path, read_only: bool = True) -> None:
    """Remount the tmpfs at ``where`` read-only (or writable again)."""
    done = _mount("-o", f"remount,{'ro' if read_only else 'rw'}", str(where))
    assert done.returncode == 0, done.stderr


def fill(where: Path) -> Path:
    """Fill the file system holding ``where`` up to the last byte; the filler's path."""
    filler = where / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        for size in (65536, 4096, 512, 1):
            chunk = b"\0" * size
            try:
                while True:
                    os.write(fd, chunk)
            except OSError:
                continue
    finally:
        os.close(fd)
    return filler
