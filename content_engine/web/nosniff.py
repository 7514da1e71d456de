"""``X-Content-Type-Options: nosniff`` on every answer: API, workbench, static files, errors.

A browser that sniffs may run as a script or a page what was sent as something else (a
stylesheet, a JSON error holding text a client sent). The workbench's pages set it already;
the outermost middleware (``observe.Observe``, which adds the request id to the same message)
adds it wherever a route, the static files or an error left it out.
"""

from __future__ import annotations

NAME = b"x-content-type-options"
HEADER = (NAME, b"nosniff")


def says_nosniff(headers: list[tuple[bytes, bytes]]) -> bool:
    """Whether a response's headers already hold the header (any spelling of its name)."""
    # The length first: one comparison for nearly every header, on the fast path's budget.
    return any(len(name) == len(NAME) and name.lower() == NAME for name, _ in headers)
