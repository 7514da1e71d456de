"""The engine: the facade the web and the CLI speak to, and what it runs on (caches, pools, batch).

It sits above the adapters (``library``, ``store``, ``rendering``) and the pure ``core``.
"""

from __future__ import annotations

from content_engine.engine.facade import Engine, Rendered
from content_engine.store.faults import fault_of as domain_error_of

__all__ = ["Engine", "Rendered", "domain_error_of"]
