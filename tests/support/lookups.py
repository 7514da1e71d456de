"""A small library whose bodies read data sources, and a sources file for it.

``installation`` is a CSV file (serial -> model, customer_id); ``customer`` is the hostile HTTP
service of ``tests/sources/service.py`` (``/customers/{id}``), asked with the installation's
``customer_id``; ``hanging`` asks ``/hang/...``, which never answers. A segment rule reads
``customer.tier``, so the selected variant itself depends on fetched data.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from tests.support.engine_factory import write_files

INSTALLATIONS = "serial,model,customer_id\nHP200-0042,HP200 Pro,C-1\nHP200-0077,HP200 Eco,C-2\n"


def write_library(root: Path) -> Path:
    return write_files(
        root,
        {
            "library.yaml": """\
                default_locale: en
                locales: [en]
                segments: [gold]
                segment_rules:
                  - segment: gold
                    when: {all: [{attr: customer.tier, op: "==", value: gold}]}
                """,
            "c/greeting/component.yaml": "id: greeting\ntype: snippet\n",
            "c/greeting/en.html": (
                "<p>Hello {{ customer.name }}, your {{ installation.model }}.</p>\n"
            ),
            "c/greeting/gold.html": (
                "---\nlocale: en\nsegments: [gold]\n---\n"
                "<p>Dear {{ customer.name }} (gold), your {{ installation.model }}.</p>\n"
            ),
            "c/stuck/component.yaml": "id: stuck\ntype: snippet\n",
            "c/stuck/en.html": "<p>{{ hanging.name }}</p>\n",
            "c/plain/component.yaml": "id: plain\ntype: snippet\n",
            "c/plain/en.html": "<p>No data here.</p>\n",
            "publications/letter.yaml": (
                "id: letter\ntitle: Letter\nslots: [{component: greeting, required: true}]\n"
            ),
        },
    )


def write_sources(
    folder: Path, service_url: str, *, deadline: float = 1.5, hang_timeout: float = 0.5
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "installations.csv").write_text(INSTALLATIONS, encoding="utf-8")
    path = folder / "sources.yaml"
    path.write_text(
        textwrap.dedent(
            f"""\
            deadline: {deadline}
            sources:
              installation:
                kind: file
                path: installations.csv
                key: serial
                required: true
              customer:
                kind: http
                url: "{service_url}/customers/{{customer_id}}"
                key: customer_id
                from: installation.customer_id
                required: true
                retries: 0
              hanging:
                kind: http
                url: "{service_url}/hang/{{serial}}"
                key: serial
                required: true
                timeout: {hang_timeout}
                retries: 0
            """
        ),
        encoding="utf-8",
    )
    return path
