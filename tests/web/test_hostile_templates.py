"""Server-side template injection, saved as editor content and rendered (issue 5, "Template
sandbox"). Payloads: swisskyrepo/PayloadsAllTheThings ssti.fuzz (Jinja/Python excerpt, MIT),
pallets/jinja tests/test_security.py (transcribed, BSD-3), and our own below.

Each must reach no Python internals, finish within the render limits, and leave the server
serving; an over-limit or forbidden render is a clear 422, never a 500.
"""

from __future__ import annotations

import time

import pytest
from lxml import html as lxml_html

from tests.support import testdata
from tests.support.apps import Api

# Our own: attribute walks, cycler/joiner/namespace tricks, format strings, huge work, recursion.
OWN = [
    "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "{{ joiner.__init__.__globals__.os.popen('id').read() }}",
    "{{ namespace.__init__.__globals__.os.environ }}",
    "{{ lipsum.__globals__['os'].popen('id').read() }}",
    "{{ range.__self__.__import__('os').system('id') }}",
    "{{ self.__init__.__globals__.__builtins__.__import__('os') }}",
    "{{ ''.__class__.__base__.__subclasses__() }}",
    "{{ ()|attr('__class__')|attr('__base__')|attr('__subclasses__')() }}",
    "{{ request.application.__globals__.__builtins__.open('/etc/passwd').read() }}",
    "{{ customer.__class__.__mro__[1].__subclasses__() }}",
    "{{ customer.items.__self__.__class__ }}",
    "{{ at.__class__.__mro__ }}",
    "{{ '{0.__class__.__mro__}'.format(customer) }}",
    "{{ '{0.__globals__}'.format(_) }}",
    "{{ '%s' % customer.__class__ }}",
    "{{ ('{0.__class__}'|safe).format(1) }}",
    "{% set x = namespace() %}{% set x.y = x.__class__ %}{{ x.y }}",
    "{{ _.__globals__ }}",
    "{{ ngettext.__closure__ }}",
    "{{ 'a' * 99999999 }}",
    "{{ [0] * 99999999 }}",
    "{{ 9 ** 9 ** 9 }}",
    "{{ range(999999999)|list }}",
    "{% for i in range(99999) %}{% for j in range(99999) %}{% endfor %}{% endfor %}",
    "{% for i in range(99999) %}{{ 'x' * 99999 }}{% endfor %}",
    "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}",
    "{{ customer|attr('update')({'name': 'x'}) }}",
    "{% include '/etc/passwd' %}",
    "{% import 'os' as os %}",
    "{% extends '/etc/passwd' %}",
    "{{ config }}{{ settings }}{{ environ }}",
]


def payloads() -> list[str]:
    fuzz = testdata.path("ssti/ssti_fuzz_EXCERPT_python_jinja.txt").read_text(encoding="utf-8")
    found = [line for line in fuzz.splitlines() if line.strip() and not line.startswith("#")]
    vectors = testdata.load_json("ssti/jinja2_sandbox_vectors.json")["cases"]
    found += [case["template"] for case in vectors]
    return [*found, *OWN]


# What a leak would print. A refusal or warning may name what it refused ("__globals__"), so
# those markers count only in the rendered HTML.
LEAKS = ("<class", "<function", "<built-in", "<module", "uid=", "root:x", "s3cret")
RENDERED_LEAKS = (*LEAKS, "__globals__", "__builtins__")


def test_at_least_forty_payloads() -> None:
    assert len(payloads()) >= 40


def test_ssti_payloads_saved_and_rendered(api: Api) -> None:
    editor = api.auth("editor")
    api.new_component("evil.box", "Evil")
    version: str | None = None
    tried = refused_at_save = refused_at_render = rendered = 0
    for payload in payloads():
        tried += 1
        body = {"body": f"<div>{payload}</div>", "status": "draft"}
        condition = {"If-Match": version} if version else {"If-None-Match": "*"}
        saved = api.client.put(
            "/v1/components/evil.box/variants/x", json=body, headers={**editor, **condition}
        )
        assert saved.status_code in (200, 201, 422), (payload, saved.text)
        if saved.status_code == 422:
            refused_at_save += 1
            continue
        version = saved.headers["etag"]
        start = time.monotonic()
        response = api.client.get(
            "/v1/blocks/evil.box",
            params={"locale": "en", "preview": "true"},
            headers={**editor, "Accept": "application/json"},
        )
        assert time.monotonic() - start < 10, payload
        assert response.status_code in (200, 422), (payload, response.text)
        text = response.text
        html = response.json().get("html", "")
        for marker in LEAKS:
            assert marker not in text, (payload, text[:300])
        for marker in RENDERED_LEAKS:
            assert marker not in html, (payload, html[:300])
        if response.status_code == 422:
            refused_at_render += 1
            assert response.json()["error"]["code"] == "template_error"
        else:
            rendered += 1
    assert api.client.get("/healthz").status_code == 200
    assert tried >= 40
    assert refused_at_render >= 5  # the limits did fire
    print(
        f"ssti: {tried} tried, {refused_at_save} refused at save, "
        f"{refused_at_render} refused at render, {rendered} rendered harmlessly"
    )


@pytest.mark.parametrize(
    "value",
    ["<script>alert(1)</script>", "{{ 7*7 }}", "{% raw %}", '"><img src=x onerror=alert(1)>'],
)
def test_customer_values_are_escaped_in_every_output(api: Api, value: str) -> None:
    context = {"locale": "de-AT", "role": "service-agent", "customer": {"name": value}}
    for fmt in ("html", "json", "fragment"):
        response = api.client.post(
            "/v1/render",
            json={"publication": "service.sheet", "context": context, "format": fmt},
            headers=api.auth("reader"),
        )
        assert response.status_code == 200
        # In JSON the context is echoed as data; the HTML is what must be escaped.
        text = (
            "".join(b["html"] for b in response.json()["blocks"])
            if fmt == "json"
            else response.text
        )
        assert "<script>" not in text and "<img src=x" not in text
        if "{{" in value:
            assert "49" not in text.replace(value, "")


# Template syntax behind character references or CDATA: text to the markup check and the
# sanitizer, so it must be text in the output too (a hidden if had cut a closing quote out).
HIDDEN = [
    '<p><a href="https://x.test/" title="&#123;% if false %}">x</a>'
    '&#123;% endif %}" onmouseover="alert(1)" x="</p><p title="y">z</p>',
    '<p title="&lbrace;% if false %}">a</p><p>&lbrace;% endif %}" onclick="alert(1)" b="</p>',
    '<p title="&#123;% if false %}">a</p><p>{<![CDATA[%]]> endif %}" onclick="alert(1)" b="</p>',
]


@pytest.mark.parametrize("body", HIDDEN)
def test_template_syntax_hidden_in_markup_forges_no_attribute(api: Api, body: str) -> None:
    editor = api.auth("editor")
    api.new_component("hidden.box", "Hidden")
    saved = api.client.put(
        "/v1/components/hidden.box/variants/x",
        json={"body": body, "status": "draft"},
        headers={**editor, "If-None-Match": "*"},
    )
    assert saved.status_code == 201, saved.text
    response = api.client.get(
        "/v1/blocks/hidden.box",
        params={"locale": "en", "preview": "true"},
        headers={**editor, "Accept": "application/json"},
    )
    assert response.status_code == 200, response.text
    html = response.json()["html"]
    handlers = [
        name
        for fragment in lxml_html.fragments_fromstring(html)
        if not isinstance(fragment, str)
        for node in fragment.iter()
        for name in node.attrib
        if name.lower().startswith("on")
    ]
    assert handlers == [], html
    assert "% endif %}" in lxml_html.fromstring(f"<div>{html}</div>").text_content()
