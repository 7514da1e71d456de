"""A workbench upload read: a ``multipart/form-data`` body to its fields and files.

In: the request's ``Content-Type`` (with its boundary) and its body, already bounded by the
app's body limit. Out: each field's first part (name, file name, bytes), or ``InputError`` for
a body that is not multipart form data or has more parts than a form of ours has. Read with
the standard library's MIME parser (no extra dependency); the file's declared type is not
trusted: the asset's type comes from its extension (``core.assettypes``).
"""

from __future__ import annotations

from dataclasses import dataclass
from email import policy
from email.parser import BytesParser

from fastapi import Request

from content_engine.core.errors import InputError
from content_engine.web.headers import headers_of

MAX_PARTS = 10


@dataclass(frozen=True)
class Part:
    name: str
    filename: str | None
    data: bytes

    @property
    def text(self) -> str:
        try:
            return self.data.decode("utf-8").replace("\r\n", "\n").strip()
        except UnicodeDecodeError:
            raise InputError(f"the field {self.name!r} is not UTF-8 text") from None


async def read_multipart(request: Request) -> dict[str, Part]:
    """The posted form's parts by field name (the first of each)."""
    content_type = headers_of(request.scope).content_type or ""
    if content_type.partition(";")[0].strip().lower() != "multipart/form-data":
        raise InputError("an upload must be sent as multipart/form-data")
    body = await request.body()
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1")
    message = BytesParser(policy=policy.HTTP).parsebytes(head + body)
    if not message.is_multipart():
        raise InputError("the upload could not be read (no multipart boundary)")
    parts: dict[str, Part] = {}
    for index, part in enumerate(message.iter_parts()):
        if index >= MAX_PARTS:
            raise InputError(f"an upload has at most {MAX_PARTS} fields")
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str) or name in parts:
            continue
        data = part.get_payload(decode=True)
        parts[name] = Part(name, part.get_filename(), data if isinstance(data, bytes) else b"")
    return parts
