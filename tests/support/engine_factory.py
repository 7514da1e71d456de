"""Engines on fresh databases, with the sample library or one written inline."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

from content_engine.engine.facade import Engine
from content_engine.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "components"


def make_engine(db_url: str) -> Engine:
    return Engine(Settings(db_url=db_url, home=ROOT))


def copy_sample(dest: Path) -> Path:
    target = dest / "library"
    shutil.copytree(SAMPLE, target)
    return target


def write_files(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return root
