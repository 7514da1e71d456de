"""The body editor's bundle (``static/editor.js``, built by ``make editor``) at a URL that
names its content, so browsers may keep it for a year.

In: the bundle file of this package. Out: ``script_url()``, ``/editor/{version}/editor.js`` with
``version`` the first 16 hex digits of the file's SHA-256, for the variant page to load; and that
route, which answers the bundle with ``Cache-Control: public, max-age=31536000, immutable`` and
``nosniff`` (any other version is 404: a page never loads a bundle it was not made with). The
file is public like the rest of ``/static``: it holds no data, only the editor's code.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Response
from fastapi import Path as PathParam

from content_engine.web.errors import ApiError

BUNDLE = Path(__file__).parent / "static" / "editor.js"
IMMUTABLE = "public, max-age=31536000, immutable"

router = APIRouter(include_in_schema=False)


@cache
def _bundle() -> tuple[str, bytes]:
    """The bundle's version and bytes, read once: package files do not change while serving."""
    content = BUNDLE.read_bytes()
    return hashlib.sha256(content).hexdigest()[:16], content


def script_url() -> str:
    return f"/editor/{_bundle()[0]}/editor.js"


Version = Annotated[str, PathParam(pattern=r"^[0-9a-f]{16}$")]


@router.get("/editor/{version}/editor.js")
def bundle(version: Version) -> Response:
    current, content = _bundle()
    if version != current:
        raise ApiError(404, "not_found", "no such version of the editor")
    return Response(
        content,
        media_type="text/javascript; charset=utf-8",
        headers={"Cache-Control": IMMUTABLE, "X-Content-Type-Options": "nosniff"},
    )
