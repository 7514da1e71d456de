"""Pseudo-localisation: a fake translation that shows layout problems before real ones come.

In: a segment's inline items. Out: the same items with every text accented (``Save`` →
``Šàvé``) and lengthened by about 35 % (German and French run that much longer than English),
protected parts untouched. A layout that truncates or overflows shows it at once; text that
stays plain ASCII in the output was never sent for translation. Pure: no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from content_engine.core.xliff.segments import Item, Pc, Text

__all__ = ["GROWTH", "PSEUDO_LOCALE", "pseudo_items", "pseudo_text"]

# The pseudo-locale of Windows and CLDR's tooling ("qps-ploc"); any unused tag would do.
PSEUDO_LOCALE = "qps"
GROWTH = 0.35
_ACCENTS = str.maketrans(
    "AaBCcDdEeGgHhIiJjKkLlNnOoRrSsTtUuWwYyZz",
    "ÅàßÇçÐðÉéĜĝĤĥÎîĴĵĶķĻļÑñÖöŔŕŠšŢţÛûŴŵÝýŽž",
)
_PAD = "~"


def pseudo_text(text: str) -> str:
    """``text`` accented and lengthened; the whitespace around it kept as it was."""
    core = text.strip()
    if not core:
        return text
    start = text.index(core[0])
    extra = math.ceil(len(core) * GROWTH)
    return text[:start] + core.translate(_ACCENTS) + _PAD * extra + text[start + len(core) :]


def pseudo_items(items: Sequence[Item]) -> tuple[Item, ...]:
    """The items with each text pseudo-localised, placeholders and inline elements kept."""
    out: list[Item] = []
    for item in items:
        if isinstance(item, Text):
            out.append(Text(pseudo_text(item.text)))
        elif isinstance(item, Pc):
            out.append(Pc(item.id, item.start, item.end, pseudo_items(item.items)))
        else:
            out.append(item)
    return tuple(out)
