"""The bounds on data sources: ``SourcesLimits``.

In: nothing (defaults) or the caller's bounds (tests make them small). Out: the frozen limits the
loader checks in the sources file and each kind checks in what a system of record answers, kept
apart so that every module takes the same ones.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DEFAULT_LIMITS", "SourcesLimits"]


@dataclass(frozen=True)
class SourcesLimits:
    """What one sources file may declare and one answer may hold; over a bound, it is refused.

    A system of record is trusted to hold the truth, not to be well: it may hang, drip, answer
    50 MB or nest JSON a million deep. Every answer is bounded before it is parsed.
    """

    max_config_bytes: int = 256 * 2**10
    max_sources: int = 64
    max_yaml_depth: int = 16
    max_yaml_nodes: int = 20_000
    max_response_bytes: int = 2**20  # one HTTP answer
    max_file_bytes: int = 16 * 2**20  # one CSV or JSON file of a ``file`` source
    max_rows: int = 10_000  # the most a source's own ``max_rows`` may say
    default_rows: int = 1_000
    max_timeout: float = 30.0
    max_deadline: float = 60.0
    max_cache_ttl: float = 86_400.0
    negative_ttl: float = 5.0  # "found nothing" is kept at most this long (and at most cache_ttl)
    max_cached: int = 10_000  # lookups kept per source; the oldest go first
    max_redirects: int = 3  # on the same host only
    # Lookups of one source running at once, for every request of a process together. Each
    # source has a pool of its own (threads made only as needed): one that hangs holds its own
    # threads, never another's; 100 concurrent readers of a 50 ms source wait 50 ms, not 13 x.
    workers: int = 128
    # Asked in bulk (a batch): keys bound to one ``bulk_query``, and the rows one such query
    # may read (more is a failure of the bulk query; its lines are then asked one by one).
    max_bulk_keys: int = 500
    max_bulk_rows: int = 100_000


DEFAULT_LIMITS = SourcesLimits()
