"""Data sources: the systems of record the engine asks for live data at the moment of contact.

``Sources.load(path, environ)`` reads a sources file (CONTRACT section 8); ``sources.fetch(lookup,
needed, deadline)`` asks what a request needs and returns a ``Fetched``; ``sources.prefetch(
lookups, needed)`` asks in bulk for many requests (a batch), and ``fetch(..., known=)`` takes its
answers. Kinds: ``sql`` (SQLite or PostgreSQL, read-only), ``http`` (GET, JSON), ``file`` (CSV
or JSON beside the sources file).
"""

from content_engine.core.lookups import Asked, Fetched
from content_engine.sources.config import SourcesConfig, SourceSpec, load_config
from content_engine.sources.limits import SourcesLimits
from content_engine.sources.resolver import Observer, Prefetched, Sources

__all__ = [
    "Asked",
    "Fetched",
    "Observer",
    "Prefetched",
    "SourceSpec",
    "Sources",
    "SourcesConfig",
    "SourcesLimits",
    "load_config",
]
