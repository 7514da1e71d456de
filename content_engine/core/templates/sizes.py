"""How much an operation of a body would build, worked out before it is built.

In: a value, or a sized operation (a method, a filter, ``%`` or a format field) with its
arguments. Out: an upper estimate of the characters (or list items) of the result. The sandbox
charges it to the render's budget first, so a refused operation never allocates: a width of
10**12 costs nothing. Pure and cheap: linear in the arguments at worst, and the walk over nested
values stops as soon as it passes the bound asked about (shared references count each time
they would be printed: ``[[0] * 10**6] * 10**6`` is small in memory but not as text).
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence, Sized
from datetime import date, time
from typing import Any, cast

from jinja2.runtime import Undefined
from jinja2.utils import Namespace, generate_lorem_ipsum

# A number written in a format spec or a ``%`` conversion with more digits than this is over
# every limit: refused without converting it.
_MAX_DIGITS = 9
_HUGE = 10**_MAX_DIGITS
# Room for what a conversion writes besides its width: a sign, digits of a float, an exponent.
_SLACK = 32
_FLOAT_SLACK = 320  # '%f' of 1e308 writes 309 digits
_VIEWS: tuple[type, ...] = (type({}.keys()), type({}.values()), type({}.items()))
_CONTAINERS = (list, tuple, set, frozenset, deque, *_VIEWS)
# A conversion after its "%" (or after its key's ")"): flags, width, precision, type.
_PERCENT = re.compile(r"[%)][-#0 +]*(\*|\d+)?(?:\.(\*|\d*))?[hlL]?(.?)", re.S)
_DIGITS = re.compile(r"\d+")
_POINTER, _OBJECT = 8, 50  # bytes of a reference, and of a small object's header


def text_size(value: Any, limit: int) -> int:
    """About how many characters ``str(value)`` holds; counting stops once past ``limit``."""
    if isinstance(value, str | bytes):
        return len(value)
    total = 0
    stack = [value]
    pop, extend = stack.pop, stack.extend
    while stack and total <= limit:
        item = pop()
        kind = type(item)
        # The common kinds by identity first: a list of 100,000 numbers is sized in ~20 ms.
        if kind is int:
            total += item.bit_length() // 3 + 2
        elif kind is str:
            total += len(item) + 2  # quotes in a repr
        elif kind is list or kind is tuple:
            total += 2 + 2 * len(item)
            if total <= limit:
                extend(item)
        else:
            total += _other_size(item, limit - total, extend)
    return total


def held_size(value: Any, limit: int) -> int:
    """About how much memory (in bytes, roughly characters) a new value holds: its text, and
    for each object in it the pointer and header Python keeps (a list of a million one-letter
    words holds 60 MB, not 1 MB); counting stops once past ``limit``."""
    total = 0
    stack = [value]
    while stack and total <= limit:
        item = stack.pop()
        if isinstance(item, str | bytes):
            total += len(item) + _OBJECT
        elif isinstance(item, Mapping):
            total += _OBJECT + 2 * _POINTER * len(item)
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, _CONTAINERS):
            items = cast(Collection[Any], item)
            total += _OBJECT + _POINTER * len(items)
            stack.extend(items)
        else:
            total += _OBJECT
    return total


def _other_size(item: Any, room: int, extend: Callable[[Iterable[Any]], None]) -> int:
    if isinstance(item, str | bytes | bytearray):
        return len(item) + 2
    if item is None or isinstance(item, bool | float | Undefined):
        return 24
    if isinstance(item, int):
        return item.bit_length() // 3 + 2
    if isinstance(item, Mapping | Namespace):
        mapping = namespace_attrs(item) if isinstance(item, Namespace) else item
        size = 2 + 4 * len(mapping)
        if size <= room:
            extend(mapping.keys())
            extend(mapping.values())
        return size
    if isinstance(item, _CONTAINERS):
        items = cast(Collection[Any], item)
        size = 2 + 2 * len(items)
        if size <= room:
            extend(items)
        return size
    return 64  # dates, macros, loops, generators: a short fixed text


def namespace_attrs(ns: Namespace) -> Mapping[str, Any]:
    attrs = object.__getattribute__(ns, "_Namespace__attrs")
    return attrs if isinstance(attrs, Mapping) else {}


def _int(value: Any, default: int = 0) -> int:
    """An int argument as Python will read it; anything else lets the real call raise."""
    if isinstance(value, bool) or not isinstance(value, int):
        return default
    return value


def _arg(args: Sequence[Any], kwargs: Mapping[str, Any], index: int, name: str) -> Any:
    if len(args) > index:
        return args[index]
    return kwargs.get(name)


def _number(digits: str) -> int:
    return _HUGE if len(digits) > _MAX_DIGITS else int(digits)


def percent_size(template: str | bytes, values: Any, limit: int) -> int:
    """The length of ``template % values`` at most (printf-style: widths, ``*``, keys)."""
    text = template.decode("latin-1") if isinstance(template, bytes) else template
    positional: Sequence[Any] = values if isinstance(values, tuple) else (values,)
    mapping = values if isinstance(values, Mapping) else None
    total, index, pos = len(text), 0, 0

    def take() -> Any:
        nonlocal index
        value = positional[index] if index < len(positional) else None
        index += 1
        return value

    while (pos := text.find("%", pos)) != -1:
        key = None
        if text.startswith("%(", pos):
            # Found with ``find``: a pattern scanning for the ")" from every "%(" is quadratic.
            end = text.find(")", pos + 2)
            if end == -1:  # an unclosed key: ``%`` raises on it
                break
            key, pos = text[pos + 2 : end], end
        match = _PERCENT.match(text, pos)
        if match is None:
            break
        width, precision, conversion = match.groups()
        pos = match.end()
        if conversion == "%" and key is None:
            continue
        size = 0
        for part in (width, precision):
            if part == "*":
                size += max(_int(take()), 0)
            elif part:
                size += _number(part)
        value = take() if key is None else (mapping or {}).get(key)
        size += text_size(value, limit) + (_FLOAT_SLACK if conversion in "fF" else _SLACK)
        total += size
        if total > limit:
            break
    return total


def spec_size(spec: str, value: Any, limit: int) -> int:
    """The length of ``format(value, spec)`` at most (a format field of ``str.format``)."""
    size = text_size(value, limit) * 2 + _SLACK  # grouping separators, signs
    for digits in _DIGITS.findall(spec):
        size += _number(digits)
    if isinstance(value, date | time):
        size += len(spec) * _SLACK  # a strftime pattern: each directive a few characters
    return size + len(spec)


def method_size(method: Any, args: Sequence[Any], kwargs: Mapping[str, Any]) -> int | None:
    """What a call of a method (or a global) that builds by a size would build; else ``None``."""
    owner = getattr(method, "__self__", None)
    name = getattr(method, "__name__", "")
    if isinstance(owner, str | bytes | bytearray):
        return _text_method_size(owner, name, args, kwargs)
    if isinstance(owner, int) and name == "to_bytes":
        return max(_int(_arg(args, kwargs, 0, "length"), 1), 0)
    if isinstance(owner, date | time) and name == "strftime":
        return len(str(_arg(args, kwargs, 0, "format") or "")) * _SLACK
    if method is generate_lorem_ipsum:
        n = max(_int(_arg(args, kwargs, 0, "n"), 5), 0)
        words = max(_int(_arg(args, kwargs, 3, "max"), 100), 0)
        return n * (words + 1) * 16
    return None


def _text_method_size(
    text: str | bytes | bytearray, name: str, args: Sequence[Any], kwargs: Mapping[str, Any]
) -> int | None:
    n = len(text)
    if name in ("ljust", "rjust", "center", "zfill"):
        return max(n, _int(_arg(args, kwargs, 0, "width")))
    if name == "expandtabs":
        tab = "\t" if isinstance(text, str) else b"\t"
        return n + text.count(tab) * max(_int(_arg(args, kwargs, 0, "tabsize"), 8), 0)  # type: ignore[arg-type]
    if name == "replace":
        old, new = _arg(args, kwargs, 0, "old"), _arg(args, kwargs, 1, "new")
        if not isinstance(old, type(text)) or not isinstance(new, type(text)):
            return None
        hits = text.count(old) if old else n + 1  # type: ignore[arg-type]
        count = _int(_arg(args, kwargs, 2, "count"), -1)
        if count >= 0:
            hits = min(hits, count)
        return n + hits * max(len(new) - len(old), 0)
    if name == "translate":
        table = _arg(args, kwargs, 0, "table")
        if isinstance(table, Mapping):
            longest = max((len(v) for v in table.values() if isinstance(v, str)), default=1)
            return n * max(longest, 1)
        return n
    if name == "encode":
        return 4 * n
    if name == "hex":
        return 3 * n
    if name in ("upper", "lower", "title", "swapcase", "casefold", "capitalize"):
        return 3 * n  # a few characters grow when their case changes ('ß'.upper() == 'SS')
    return None


def joined_size(separator: str | bytes, items: Sequence[Any], limit: int) -> int:
    """The length of ``separator.join(str(item) for item in items)``."""
    total = len(separator) * max(len(items) - 1, 0)
    for item in items:
        if total > limit:
            break
        total += text_size(item, limit)
    return total


# The filters ``filter_size`` sizes: for any other it answers ``None``.
PRESIZED_FILTERS = frozenset(
    {"center", "indent", "wordwrap", "replace", "format", "urlize", "batch", "slice"}
    | {"list", "sort", "unique", "reverse", "dictsort"}
)


def filter_size(
    name: str, args: Sequence[Any], kwargs: Mapping[str, Any], limit: int
) -> int | None:
    """What a filter that builds by a size would build (``args[0]`` is the filtered value)."""
    value = args[0] if args else None
    text = value if isinstance(value, str) else ""
    n = len(text)
    if name == "center":
        return max(n, _int(_arg(args, kwargs, 1, "width"), 80))
    if name == "indent":
        width = _arg(args, kwargs, 1, "width")
        step = len(width) if isinstance(width, str) else _int(width, 4)
        return n + (text.count("\n") + 1) * max(step, 0)
    if name == "wordwrap":
        wrap = _arg(args, kwargs, 3, "wrapstring")  # (s, width, break_long_words, wrapstring)
        width = max(_int(_arg(args, kwargs, 1, "width"), 79), 1)
        lines = min(n + 1, 2 * n // width + text.count("\n") + 2)
        return n + lines * (len(wrap) if isinstance(wrap, str) else 2)
    if name == "replace":
        return _text_method_size(text, "replace", args[1:], kwargs)
    if name == "format":
        return percent_size(text, kwargs or tuple(args[1:]), limit)
    if name == "urlize":
        attributes = (_arg(args, kwargs, 3, "target"), _arg(args, kwargs, 4, "rel"))
        extra = sum(len(v) for v in attributes if isinstance(v, str))
        words = text.count(" ") + text.count("\n") + 1
        return 3 * n + words * (extra + 64)
    if name == "batch":
        return max(_int(_arg(args, kwargs, 1, "linecount")), 0) + _len(value)
    if name == "slice":
        return max(_int(_arg(args, kwargs, 1, "slices")), 0) + _len(value)
    if name in ("list", "sort", "unique", "reverse", "dictsort"):
        return _len(value)
    return None


def _len(value: Any) -> int:
    return len(value) if isinstance(value, Sized) else 0


def materialize(items: Iterable[Any], limit: int) -> list[Any] | None:
    """The items of an iterable as a list, or ``None`` if there are more than ``limit``."""
    if isinstance(items, Sized) and len(items) > limit:
        return None
    found: list[Any] = []
    for item in items:
        found.append(item)
        if len(found) > limit:
            return None
    return found
