"""A module's code run once more from its source, to see what importing it does.

The copy is not put in ``sys.modules``: the module every other test uses stays as it was, and
nothing it registered or cached is replaced (``importlib.reload`` would do both).
"""

from __future__ import annotations

import importlib.util
from types import ModuleType


def import_again(module: ModuleType) -> ModuleType:
    """A fresh copy of ``module``, its top level run again under whatever the test patched."""
    spec = importlib.util.spec_from_file_location(module.__name__, module.__file__)
    assert spec is not None and spec.loader is not None
    fresh = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fresh)
    return fresh
