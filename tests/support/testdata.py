"""Where the shared public test data lives (``../shared/testdata`` beside the checkout)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

TESTDATA = Path(__file__).resolve().parents[3] / "shared" / "testdata"


def path(relative: str) -> Path:
    found = TESTDATA / relative
    if not found.exists():
        pytest.skip(f"shared test data {relative} is not beside this checkout")
    return found


def load_json(relative: str) -> Any:
    return json.loads(path(relative).read_text(encoding="utf-8"))
