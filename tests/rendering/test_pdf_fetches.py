"""PDF rendering fetches nothing outside the library's assets (issue 5, "PDF fetches").

Bodies and a library theme point at local files, a loopback server, paths that climb out with
``../``, and huge or malformed images. A listener on loopback must see no connection at all;
the document still renders, and each refusal is a warning.
"""

from __future__ import annotations

import io
import socket
import struct
import threading
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from pypdf import PdfReader

from content_engine.engine.facade import Engine
from tests.support.engine_factory import make_engine, write_files
from tests.support.factories import context

pytestmark = pytest.mark.slow


class Listener:
    """A loopback TCP server that only counts who connects."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.sock.close()


def png(width: int, height: int) -> bytes:
    """A valid PNG header claiming the given size, with a tiny compressed body of zeros."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    rows = zlib.compress(b"\x00" * (width + 1) * min(height, 4))
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")
    )


@pytest.fixture
def listener() -> Iterator[Listener]:
    found = Listener()
    yield found
    found.close()


@pytest.fixture
def hostile(tmp_path: Path, listener: Listener) -> Iterator[Engine]:
    port = listener.port
    body = f"""
        <h2>Hostile references</h2>
        <p><img src="file:///etc/passwd" alt="a"/></p>
        <p><img src="http://127.0.0.1:{port}/pixel.png" alt="b"/></p>
        <p><img src="https://localhost:{port}/x.png" alt="c"/></p>
        <p><img src="//127.0.0.1:{port}/y.png" alt="d"/></p>
        <p><img src="../../../../etc/passwd" alt="e"/></p>
        <p><img src="assets/../../secret.txt" alt="f"/></p>
        <p><img src="assets/%2e%2e/%2e%2e/etc/passwd" alt="g"/></p>
        <p><img src="assets/huge.png" alt="h"/></p>
        <p><img src="assets/broken.png" alt="i"/></p>
        <p><img src="assets/ok.png" alt="j"/></p>
        <p>Still here.</p>
    """
    root = write_files(
        tmp_path / "lib",
        {
            "library.yaml": "default_locale: en\nlocales: [en]\n",
            "c/evil/component.yaml": "id: evil\ntype: snippet\n",
            "c/evil/x.html": body,
            "publications/p.yaml": "id: p\ntitle: P\nslots: [{component: evil, required: true}]\n",
            "renderers/default/print.css": (
                f'@import url("http://127.0.0.1:{port}/theme.css");\n'
                f"body {{ background: url(file:///etc/passwd); }}\n"
                f"h2 {{ background-image: url(http://127.0.0.1:{port}/bg.png); }}\n"
                f'@font-face {{ font-family: X; src: url("http://127.0.0.1:{port}/f.woff"); }}\n'
            ),
        },
    )
    (root / "assets").mkdir()
    (root / "assets/huge.png").write_bytes(png(40_000, 40_000))
    (root / "assets/broken.png").write_bytes(b"\x89PNG\r\n\x1a\n this is not a png")
    (root / "assets/ok.png").write_bytes(png(4, 4))
    (tmp_path / "secret.txt").write_text("top secret")
    with make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}") as engine:
        engine.import_library(root)
        yield engine


def test_nothing_leaves_the_library(hostile: Engine, listener: Listener) -> None:
    rendered = hostile.render("p", context("en"), format="pdf")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(rendered.content)).pages)
    assert "Still here." in text
    assert "root:" not in text and "top secret" not in text
    assert listener.connections == 0
    refused = [w for w in rendered.warnings if "refused to fetch" in w]
    for target in (
        "file:///etc/passwd",
        f"http://127.0.0.1:{listener.port}/pixel.png",
        f"https://localhost:{listener.port}/x.png",
        f"http://127.0.0.1:{listener.port}/theme.css",
    ):
        assert any(target in w for w in refused), (target, rendered.warnings)
    assert not any("assets/ok.png" in w for w in rendered.warnings)
    # Images that cannot be decoded are reported too, and skipped.
    assert any("assets/huge.png" in w for w in rendered.warnings), rendered.warnings
    assert any("assets/broken.png" in w for w in rendered.warnings), rendered.warnings


def test_html_render_fetches_nothing_either(hostile: Engine, listener: Listener) -> None:
    rendered = hostile.render("p", context("en"), format="html")
    assert b"Still here." in rendered.content
    assert listener.connections == 0
