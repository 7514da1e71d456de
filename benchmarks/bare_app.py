"""Benchmark 2's baseline: a bare FastAPI route returning a constant, the ceiling of a block route.

In: ``CE_BENCH_BARE_HTML`` (a file holding the block's HTML as our server sent it) and
``CE_BENCH_BARE_HEADERS`` (the same response's ETag, Vary, Cache-Control and Content-Language,
as JSON). Out: ``GET /v1/blocks/{component}`` answering those bytes and headers, whatever the
query and the Authorization header say. ``async def``: no thread pool, no I/O, no checks.
Served by uvicorn exactly as ``content-engine serve`` serves the engine.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from fastapi import FastAPI, Response

HTML = Path(os.environ["CE_BENCH_BARE_HTML"]).read_bytes()
HEADERS: dict[str, str] = json.loads(os.environ.get("CE_BENCH_BARE_HEADERS", "{}"))

app = FastAPI()


@app.get("/v1/blocks/{component}")
async def block(component: str) -> Response:
    return Response(HTML, media_type="text/html; charset=utf-8", headers=HEADERS)
