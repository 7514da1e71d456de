"""Write a mapping as the YAML an author would type.

In: a mapping of top-level keys to values. Out: YAML text with block style at the top and flow
style for leaf collections (``segments: [enterprise]``), for every file the writer produces.
"""

from __future__ import annotations

from typing import Any

import yaml

__all__ = ["dump_yaml"]


def dump_yaml(data: dict[str, Any]) -> str:
    """YAML with block style at the top and flow style for leaf collections.

    ``default_flow_style=None`` writes ``segments: [enterprise]`` as authors do, but would also
    turn a mapping of plain scalars into ``{locale: de}``; so each top-level key is dumped on
    its own, in block style when it is itself a scalar.
    """
    parts = []
    for key, value in data.items():
        flow = None if isinstance(value, list | dict) else False
        parts.append(
            yaml.safe_dump(
                {key: value}, sort_keys=False, allow_unicode=True, default_flow_style=flow
            )
        )
    return "".join(parts)
