"""The committed body-editor bundle is built from the committed sources and lock (no npm
needed to check it), holds no eval, and carries the licence of every package it bundles."""

from __future__ import annotations

import hashlib
import json
import re

from tests.support.engine_factory import ROOT

EDITOR = ROOT / "content_engine" / "web" / "ui" / "editor"
STATIC = ROOT / "content_engine" / "web" / "ui" / "static"
HEADER = re.compile(
    rb"^/\*! content-engine body editor \(CodeMirror 6\); sources-sha256: ([0-9a-f]{64});"
)


def sources_digest() -> str:
    """As editor/build.mjs computes it: each file sorted by path, "path\\n", its SHA-256, "\\n"."""
    files = ["build.mjs", "package-lock.json", "package.json"]
    files += [f"src/{p.name}" for p in (EDITOR / "src").glob("*.js")]
    digest = hashlib.sha256()
    for name in sorted(files):
        content = hashlib.sha256((EDITOR / name).read_bytes()).hexdigest()
        digest.update(f"{name}\n{content}\n".encode())
    return digest.hexdigest()


def test_the_bundle_is_built_from_the_sources_and_lock_as_committed() -> None:
    found = HEADER.match((STATIC / "editor.js").read_bytes())
    assert found, "editor.js lacks its header: run `make editor`"
    assert found.group(1).decode() == sources_digest(), "editor.js is stale: run `make editor`"


def test_the_lock_pins_every_package_and_codemirror_is_mit() -> None:
    lock = json.loads((EDITOR / "package-lock.json").read_text())
    packages = {k: v for k, v in lock["packages"].items() if k}
    assert packages and all(p.get("integrity") and p.get("version") for p in packages.values())
    wanted = json.loads((EDITOR / "package.json").read_text())["dependencies"]
    for name, version in wanted.items():
        assert packages[f"node_modules/{name}"]["version"] == version  # exact pins
        assert packages[f"node_modules/{name}"]["license"] == "MIT"


def test_the_licences_of_every_bundled_package_ship_with_the_bundle() -> None:
    text = (STATIC / "editor.licenses.txt").read_text()
    named = re.findall(r"^==== (\S+) (\S+) \((\S+)\) ====$", text, re.M)
    names = {n for n, _, _ in named}
    lock = json.loads((EDITOR / "package-lock.json").read_text())["packages"]
    assert {"@codemirror/view", "@codemirror/state", "@lezer/xml"} <= names
    for name, version, licence in named:
        assert lock[f"node_modules/{name}"]["version"] == version
        assert licence == "MIT"
    assert text.count("Permission is hereby granted, free of charge") == len(named)


def test_the_bundle_runs_under_the_workbench_policy() -> None:
    bundle = (STATIC / "editor.js").read_text()
    # script-src 'self' without 'unsafe-eval': code built from strings would be refused.
    assert "eval(" not in bundle and "new Function" not in bundle
    assert "http://" not in bundle.replace("http://www.w3.org/", "")
    assert "https://" not in bundle.replace("https://codemirror.net/", "")
