"""Where a command's result goes: bytes in, written to ``-o FILE`` or to stdout.

A file is written beside its target and renamed into place (``files.userfiles``); stdout
refuses a PDF on a terminal and reports a full or closed stream as one line.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from content_engine import ContentEngineError
from content_engine.cli.errors import fail
from content_engine.files.userfiles import os_error, write_file


def write_output(content: bytes, output: Path | None, *, binary: bool = False) -> None:
    """``content`` to ``-o FILE`` (in a folder that exists) or to stdout."""
    if output is not None:
        try:
            write_file(output, content)
        except ContentEngineError as exc:
            fail(exc.message, exc.exit_code)
        return
    if binary and sys.stdout.isatty():
        fail("refusing to write a PDF to a terminal; use -o FILE")
    try:
        sys.stdout.buffer.write(content)
        sys.stdout.flush()
    except OSError as exc:  # /dev/full, a closed pipe
        error = os_error(exc, "standard output", "write to")
        fail(error.message, error.exit_code)


def dump_json(data: Any) -> bytes:
    return (json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n").encode()
