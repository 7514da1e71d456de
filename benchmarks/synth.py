"""A deterministic synthetic library for the benchmarks: N components, ~8 variants each.

In: a size and a seed. Out: a ``Library`` model in memory (``make_library``; fast enough for
100 k components, 800 k variants) or the same library as a folder on disk (``write_folder``)
for ``Engine.import_library`` to read, as it reads an editor's folder.

What a library holds:
- the settings of the sample library: locales en/de/de-AT/fr, region groups EU ⊃ DACH ⊃ DE/AT/CH
  and NA, roles, segments (one derived by a segment rule), channels;
- ``SNIPPETS`` shared snippet components in three layers: ``snip.l0.*`` include nothing,
  ``snip.l1.*`` include one l0, ``snip.l2.*`` include one l1 and one l0. Components include an
  l2 or an l1 snippet, so include paths are acyclic and at most 3 deep;
- components ``c.000000`` …: component *i* depends only on (seed, i), so the first 1 k
  components are the same in every size and a block of ``c.000007`` is the same work at 1 k and
  at 100 k. Each has 8 variants: en, de, de-AT, fr, en.technician, de.technician (DACH),
  de.partner (EU, installer-partner, a priority) and one of en.print / en.na / fr.enterprise;
  ~3 % of the non-base variants are drafts. Bodies are 1–2 KB of XHTML with inline conditions
  (``data-role``, ``data-region="EU -CH"``, ``data-locale``, ``data-segment``), placeholders
  (``{{ customer.name }}``), ``|currency``/``|date`` filters and, in about half of the
  variants, a ``<ce-include>`` of a snippet.

Run ``python -m benchmarks.synth 10000 /tmp/lib10k`` to write a folder by hand.
"""

from __future__ import annotations

import argparse
import functools
import gc
import json
import random
from pathlib import Path
from typing import Any

from content_engine import Component, Library, LibrarySettings, Variant
from content_engine.core.models import Conditions

SEED = 20261123
LOCALES = ("en", "de", "de-AT", "fr")
SKELETONS = 512
LAYER_SIZE = 4  # snippets per layer
SNIPPETS = 3 * LAYER_SIZE
TYPES = ("product-info", "article", "notice", "faq", "how-to")
TAGS = ("hp120", "hp200", "hp400", "residential", "enterprise", "service", "safety", "promo")

CONDITION_FIELDS = ("locale", "segments", "roles", "regions", "channels")

SETTINGS: dict[str, Any] = {
    "name": "synthetic benchmark library",
    "default_locale": "en",
    "locales": list(LOCALES),
    "regions": {"EU": ["DACH", "FR", "IT", "ES", "NL", "BE"], "DACH": ["DE", "AT", "CH"]}
    | {"NA": ["US", "CA"]},
    "segments": ["residential", "enterprise", "installer-partner"],
    "segment_rules": [
        {
            "segment": "enterprise",
            "when": {"all": [{"attr": "customer.employees", "op": ">=", "value": 250}]},
        }
    ],
    "roles": ["buyer", "technician", "service-agent"],
    "channels": ["print", "web", "email"],
}

# The variants every component has: key, conditions, whether it may be a draft.
BASE_VARIANTS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("en", {"locale": "en"}),
    ("de", {"locale": "de"}),
    ("de-AT", {"locale": "de-AT"}),
    ("fr", {"locale": "fr"}),
)
EXTRA_VARIANTS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("en.technician", {"locale": "en", "roles": ("technician",)}),
    ("de.technician", {"locale": "de", "roles": ("technician",), "regions": ("DACH",)}),
    ("de.partner", {"locale": "de", "segments": ("installer-partner",), "regions": ("EU",)}),
)
ROTATING_VARIANTS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("en.print", {"locale": "en", "channels": ("print",)}),
    ("en.na", {"locale": "en", "regions": ("NA",)}),
    ("fr.enterprise", {"locale": "fr", "segments": ("enterprise",)}),
)

_WORDS = (
    "pump heat flow water unit outdoor indoor circuit refrigerant service partner energy "
    "installation controller sensor valve buffer tank radiator floor heating cooling season "
    "warranty contract maintenance filter pressure temperature efficiency noise level mode "
    "schedule inspection commissioning hydraulic electrical safety zone building owner "
    "technician customer offer subsidy grant tariff meter display menu setting alarm reset"
).split()


def _sentence_pool(seed: int, size: int = 4096) -> list[str]:
    """Filler sentences, drawn once: bodies pick whole sentences, which keeps 800 k cheap."""
    rng = random.Random(f"{seed}:pool")
    pool = []
    for _ in range(size):
        words = [rng.choice(_WORDS) for _ in range(rng.randint(8, 16))]
        pool.append(" ".join(words).capitalize() + ".")
    return pool


def _between(rng: random.Random, low: int, high: int) -> int:
    """``randint`` without its argument checks: called millions of times for 100 k."""
    return low + int(rng.random() * (high - low + 1))


def snippet_id(layer: int, n: int) -> str:
    return f"snip.l{layer}.{n:02d}"


def component_id(i: int) -> str:
    return f"c.{i:06d}"


class _Maker:
    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.pool = _sentence_pool(seed)
        rng = random.Random(f"{seed}:skeletons")
        self.skeletons = [self._skeleton(rng) for _ in range(SKELETONS)]

    def _text(self, rng: random.Random, sentences: int) -> str:
        return " ".join(rng.choices(self.pool, k=sentences))

    def _skeleton(self, rng: random.Random) -> tuple[str, str]:
        """A body without its title, split where an include may go."""
        t = self._text
        n = _between
        head = [
            f"<p>Dear {{{{ customer.name }}}}, {t(rng, n(rng, 1, 3))}</p>",
            f'<p data-role="technician">{t(rng, n(rng, 1, 2))}</p>',
            f'<p data-role="buyer">{t(rng, 1)}</p>',
        ]
        tail = [
            f"<p data-region=\"EU -CH\">{t(rng, 1)} {{{{ product.price | currency('EUR') }}}}</p>",
            f"<p data-region=\"CH\">{t(rng, 1)} {{{{ product.price | currency('CHF') }}}}</p>",
            f'<p data-locale="de">{t(rng, 1)}</p>',
            f'<p data-segment="installer-partner"><em>{t(rng, 1)}</em></p>',
            "<ul>" + "".join(f"<li>{t(rng, 1)}</li>" for _ in range(n(rng, 1, 3))) + "</ul>",
            f"<p>{t(rng, 1)} {{{{ product.installed_on | date }}}}.</p>",
        ]
        return "\n".join(head) + "\n", "\n".join(tail) + "\n"

    def body(self, rng: random.Random, title: str, include: str | None) -> str:
        """1–2 KB of XHTML with inline conditions, placeholders, filters and maybe an include.

        The text comes from a pool of seeded skeletons (drawing every sentence anew made 100 k
        components take a minute); each body is still a string of its own, as if read from
        its file.
        """
        head, tail = self.skeletons[int(rng.random() * len(self.skeletons))]
        middle = "" if include is None else f'<ce-include component="{include}"></ce-include>\n'
        return f"<h2>{title}</h2>\n{head}{middle}{tail}"

    def snippet(self, layer: int, n: int) -> Component:
        cid = snippet_id(layer, n)
        rng = random.Random(f"{self.seed}:{cid}")
        variants = {}
        for locale in ("en", "de", "fr"):
            includes = []
            if layer >= 1:
                includes.append(snippet_id(layer - 1, _between(rng, 0, LAYER_SIZE - 1)))
            if layer == 2:
                includes.append(snippet_id(0, _between(rng, 0, LAYER_SIZE - 1)))
            inner = "".join(f'<ce-include component="{c}"></ce-include>' for c in includes)
            body = (
                f'<div class="snippet l{layer}"><p>{self._text(rng, 2)}</p>'
                f'<p data-region="NA">{self._text(rng, 1)}</p>{inner}'
                f'<p data-locale="-de">{{{{ customer.name }}}}</p></div>\n'
            )
            variants[locale] = _variant(locale, {"locale": locale}, 0, body)
        return _component(
            cid, "snippet", f"Snippet {layer}.{n}", ("snippet",), "snippets", variants
        )

    def component(self, i: int) -> Component:
        cid = component_id(i)
        rng = random.Random(f"{self.seed}:{cid}")
        title = f"Topic {i}: {self._text(rng, 1)[:40].rstrip('.')}"
        specs = [*BASE_VARIANTS, *EXTRA_VARIANTS, ROTATING_VARIANTS[i % len(ROTATING_VARIANTS)]]
        variants = {}
        for n, (key, conditions) in enumerate(specs):
            include = None
            if rng.random() < 0.5:
                layer = _between(rng, 1, 2)
                include = snippet_id(layer, _between(rng, 0, LAYER_SIZE - 1))
            status = "draft" if n >= len(BASE_VARIANTS) and rng.random() < 0.03 else "published"
            priority = _between(rng, 0, 2) if key == "de.partner" else 0
            body = self.body(rng, title, include)
            variants[key] = _variant(key, conditions, priority, body, status)
        tags = tuple(sorted(rng.sample(TAGS, 2)))
        folder = f"f{i // 1000:03d}"
        return _component(cid, TYPES[i % len(TYPES)], title, tags, folder, variants)


def _variant(
    key: str, conditions: dict[str, Any], priority: int, body: str, status: str = "published"
) -> Variant:
    # ``model_construct`` skips validation: 800 k validated variants would cost ~20 s. The smoke
    # test checks that a small library validates to exactly the same models.
    # Every field is given: defaults would cost a lookup each, 800 k times.
    return Variant.model_construct(
        key=key,
        conditions=_conditions(tuple(sorted(conditions.items()))),
        priority=priority,
        status=status,
        valid_from=None,
        valid_until=None,
        body=body,
        version=0,
    )


@functools.cache
def _conditions(items: tuple[tuple[str, Any], ...]) -> Conditions:
    """Frozen, so a dozen shared objects serve every variant."""
    given = dict(items)
    return Conditions.model_construct(**{d: given.get(d) for d in CONDITION_FIELDS})


def _component(
    cid: str, type_: str, title: str, tags: tuple[str, ...], folder: str, variants: dict[str, Any]
) -> Component:
    return Component.model_construct(
        id=cid, type=type_, title=title, tags=tags, folder=folder, variants=variants, version=0
    )


def make_library(size: int, seed: int = SEED) -> Library:
    """``size`` components plus the shared snippets, in memory."""
    maker = _Maker(seed)
    components = {}
    # Millions of small objects and no cycles: the cyclic collector would only rescan them.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        for layer in range(3):
            for n in range(LAYER_SIZE):
                snippet = maker.snippet(layer, n)
                components[snippet.id] = snippet
        for i in range(size):
            component = maker.component(i)
            components[component.id] = component
    finally:
        if was_enabled:
            gc.enable()
    return Library(settings=LibrarySettings.model_validate(SETTINGS), components=components)


def write_folder(library: Library, path: Path) -> Path:
    """The library as a folder in the layout ``load_library`` reads (CONTRACT section 2).

    Written directly rather than with the engine's ``write_library``, whose YAML dumping takes
    30 s for 10 k components; JSON scalars and flow lists are valid YAML, and the smoke test
    checks that ``load_library`` reads back exactly ``library``.
    """
    path.mkdir(parents=True)
    (path / "library.yaml").write_text(
        json.dumps(library.settings.model_dump(mode="json", exclude_defaults=True)) + "\n",
        encoding="utf-8",
    )
    for component in library.components.values():
        folder = path / component.folder / component.id
        folder.mkdir(parents=True)
        meta = [
            f"id: {component.id}",
            f"type: {component.type}",
            f"title: {json.dumps(component.title)}",
            f"tags: {json.dumps(list(component.tags))}",
        ]
        (folder / "component.yaml").write_text("\n".join(meta) + "\n", encoding="utf-8")
        for key, variant in component.variants.items():
            front = [
                f"{name}: {json.dumps(list(value) if isinstance(value, tuple) else value)}"
                for name in CONDITION_FIELDS
                if (value := getattr(variant.conditions, name)) is not None
            ]
            if variant.priority:
                front.append(f"priority: {variant.priority}")
            if variant.status != "published":
                front.append(f"status: {variant.status}")
            text = "---\n" + "\n".join(front) + "\n---\n" + variant.body
            (folder / f"{key}.html").write_text(text, encoding="utf-8")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description="Write a synthetic library folder.")
    parser.add_argument("size", type=int, help="number of components (snippets come on top)")
    parser.add_argument("path", type=Path, help="folder to write (must not exist)")
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()
    write_folder(make_library(args.size, args.seed), args.path)


if __name__ == "__main__":
    main()
