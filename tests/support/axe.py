"""axe-core in a real browser: the accessibility check of rendered HTML (issue 18, item 2).

axe-core is vendored under ``axe/`` (see its README): the tests run offline, and the hash
below makes a changed file fail loudly instead of checking with a different rule set.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

AXE = Path(__file__).with_name("axe") / "axe.min.js"
AXE_VERSION = "4.14.1"
AXE_SHA256 = "29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c"
# WCAG 2.2 AA is the union of these tags: each level's rules are tagged where they came in.
WCAG22_AA = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa")

_RUN = """async (tags) => {
  const options = {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]};
  const r = await axe.run(document, options);
  return {
    version: axe.version,
    passes: r.passes.map((x) => x.id),
    incomplete: r.incomplete.map((x) => x.id),
    violations: r.violations.map((v) => ({
      id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.map((n) => ({target: n.target.join(" "), html: n.html})),
    })),
  };
}"""


@dataclass(frozen=True)
class AxeResult:
    """What axe found on one page: the rules that passed and the violations, readable."""

    version: str
    passes: tuple[str, ...]
    incomplete: tuple[str, ...]  # rules axe could not decide alone ("needs review")
    violations: tuple[dict[str, Any], ...]

    def report(self) -> str:
        lines = []
        for violation in self.violations:
            lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}")
            lines += [f"  {n['target']}: {n['html'][:160]}" for n in violation["nodes"][:5]]
        return "\n".join(lines)


@cache
def axe_source() -> str:
    data = AXE.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != AXE_SHA256:
        raise AssertionError(f"{AXE} is not axe-core {AXE_VERSION} (sha256 {digest})")
    return data.decode("utf-8")


def check_page(page: Any, html: str) -> AxeResult:
    """Load ``html`` into ``page`` (a Playwright page; nothing is fetched from the network),
    run axe-core at WCAG 2.2 AA on it and return what it found."""
    page.route("**/*", lambda route: route.abort())
    page.set_content(html, wait_until="load")
    page.add_script_tag(content=axe_source())
    found = page.evaluate(_RUN, list(WCAG22_AA))
    return AxeResult(
        found["version"],
        tuple(found["passes"]),
        tuple(found["incomplete"]),
        tuple(found["violations"]),
    )
