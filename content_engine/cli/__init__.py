"""The ``content-engine`` command: a thin adapter from argv to one engine call.

Errors become one line on stderr and an exit code (2 bad input, 1 failed render, lint
problems or an unavailable database or disk), never a traceback; results go to stdout or
``-o FILE``. ``main(argv)`` can be called from tests.

``app`` wires the commands (``library``, ``documents``, ``keys``, ``serve``, ``batch``) into
the typer app; ``errors`` and ``output`` are how every command fails and writes, ``options``
and ``reader`` the options they share.
"""

from __future__ import annotations

from content_engine.cli.app import app, main

__all__ = ["app", "main"]
