"""Translation exchange and drift end to end (CONTRACT 10): export XLIFF for fr, translate
every target as a translator would, import as review copies, publish, render; broken
placeholders refused with unit id and line; drift after a source edit, cleared by a new
translation or "mark in sync"."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from lxml import etree

from content_engine.cli import main
from content_engine.core.errors import ConflictError, InputError, InvalidXliff
from content_engine.core.xliff.exchange import NS_12, NS_20
from content_engine.engine.facade import Engine
from content_engine.engine.translation import schema_errors
from tests.support.engine_factory import copy_sample, make_engine, write_files
from tests.support.factories import context

PRIVACY = "legal.privacy"
SOURCE = (
    "<h2>Privacy</h2>\n"
    '<p>Dear {{ customer.name }}, we keep <strong data-role="technician">your data</strong>'
    " for 30 days.</p>\n"
    "<p>Call {{ product.phone }} or {{ product.email }}.</p>\n"
    '<ul><li>Ask us: <a href="mailto:privacy@example.com">write</a>.</li></ul>\n'
    "{% if customer.name %}<p>Signed for {{ customer.name|upper }}.</p>{% endif %}\n"
    '<ce-include component="legal.footer"/>\n'
)
LIBRARY = {
    "library.yaml": "default_locale: en\nlocales: [en, fr]\nroles: [technician]\n",
    "legal/legal.privacy/component.yaml": "id: legal.privacy\ntype: legal\n",
    "legal/legal.privacy/en.html": SOURCE,
    "legal/legal.footer/component.yaml": "id: legal.footer\ntype: legal\n",
    "legal/legal.footer/en.html": "<p>Nordwind GmbH</p>\n",
    "legal/legal.footer/fr.html": "---\nlocale: fr\n---\n<p>Nordwind SARL</p>\n",
    "publications/legal.yaml": (
        "id: legal\ntitle: Legal\nslots:\n  - component: legal.privacy\n    required: true\n"
    ),
}
FRENCH = {
    "Privacy": "Confidentialité",
    "Dear ": "Cher ",
    ", we keep ": ", nous gardons ",
    "your data": "vos données",
    " for 30 days.": " pendant 30 jours.",
    "Ask us: ": "Écrivez-nous : ",
    "write": "ici",
    "Signed for ": "Signé pour ",
    "Call ": "Appelez ",
    " or ": " ou ",
}
READER = context("fr", role="technician", customer={"name": "Anna"})


@pytest.fixture
def engine(db_url: str, tmp_path: Path) -> Iterator[Engine]:
    with make_engine(db_url) as engine:
        engine.import_library(write_files(tmp_path / "library", LIBRARY))
        yield engine


def translate(data: bytes, words: Callable[[str], str] = lambda t: FRENCH.get(t, t)) -> bytes:
    """What a translator does: each target a copy of its source with the words translated."""
    root = etree.fromstring(data)
    ns = root.nsmap[None]
    for source in root.iter(f"{{{ns}}}source"):
        target = copy.deepcopy(source)
        target.tag = f"{{{ns}}}target"
        for node in target.iter():
            if node is not target and etree.QName(node).localname == "ph" and ns == NS_12:
                node.text = node.text  # 1.2's <ph> holds the code: a translator leaves it
            elif node.text:
                node.text = words(node.text)
            if node is not target and node.tail:
                node.tail = words(node.tail)
        source.addnext(target)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def test_round_trip_export_translate_import_publish_render(engine: Engine) -> None:
    data, count = engine.translations.export("fr")
    assert count == 1  # legal.footer has its French already; only legal.privacy is missing
    assert schema_errors(data) == []
    result = engine.translations.import_xliff(translate(data))
    assert list(result.saved) == ["legal.privacy/fr"]
    copy_ = engine.editor.get_variant(PRIVACY, "fr")
    assert copy_.status == "review" and copy_.conditions.locale == "fr"
    assert copy_.translated_from is not None
    assert (copy_.translated_from.variant, copy_.translated_from.version) == ("en", 1)
    assert "Dear Anna" in engine.block(PRIVACY, READER).html  # live text untouched
    assert "Cher Anna" in engine.block(PRIVACY, READER, preview=True).html
    engine.editor.set_status(PRIVACY, "fr", "published", expected_version=copy_.version)
    html = engine.block(PRIVACY, READER).html
    assert "<h2>Confidentialité</h2>" in html
    assert "Cher Anna, nous gardons <strong>vos données</strong> pendant 30 jours." in html
    assert '<a href="mailto:privacy@example.com">ici</a>' in html
    assert "Signé pour ANNA." in html and "Nordwind SARL" in html
    # Inline conditions survived: a reader without the role does not get the <strong>.
    assert "vos données" not in engine.block(PRIVACY, context("fr", customer={"name": "A"})).html
    # Nothing is left to translate, and the published translation is in sync.
    assert engine.translations.export("fr")[1] == 0
    assert not [p for p in engine.lint() if p.code == "stale_translation"]


def test_the_xliff_12_round_trip(engine: Engine) -> None:
    data, _ = engine.translations.export("fr", version="1.2")
    root = etree.fromstring(data)
    assert root.tag == f"{{{NS_12}}}xliff" and root.find(f".//{{{NS_12}}}g") is not None
    assert root.find(f".//{{{NS_12}}}ph").text == "{{ customer.name }}"
    engine.translations.import_xliff(translate(data))
    assert "Cher Anna" in engine.block(PRIVACY, READER, preview=True).html


def _break(data: bytes, how: str) -> bytes:
    """The translated file with the placeholders of its two-placeholder segment broken."""
    root = etree.fromstring(data)
    ph = f"{{{NS_20}}}ph"
    target = next(t for t in root.iter(f"{{{NS_20}}}target") if len(t.findall(ph)) == 2)
    first, second = target.findall(ph)
    if how == "missing":
        target.remove(first)  # lxml keeps its tail text in place
    elif how == "doubled":
        first.addnext(copy.deepcopy(first))
    elif how == "reordered":
        a, b = first.get("id"), second.get("id")
        first.set("id", b)
        second.set("id", a)
    elif how == "unknown":
        first.set("id", "c99")
    return etree.tostring(root)


@pytest.mark.parametrize("how", ["missing", "doubled", "reordered", "unknown"])
def test_a_broken_placeholder_is_refused_with_unit_and_line(engine: Engine, how: str) -> None:
    data = translate(engine.translations.export("fr")[0])
    broken = _break(data, how)
    with pytest.raises(InvalidXliff) as caught:
        engine.translations.import_xliff(broken)
    message = str(caught.value)
    assert "unit legal.privacy:fr:en:1 segment s3" in message
    lines = broken.decode().splitlines()
    assert caught.value.line is not None and "Appelez" in lines[caught.value.line - 1]
    assert (how if how != "unknown" else "no placeholder 'c99'") in message
    assert caught.value.details[0]["unit"] == "legal.privacy:fr:en:1"
    assert engine.working_library().components[PRIVACY].variants.keys() == {"en"}


def test_template_code_typed_as_text_is_refused(engine: Engine) -> None:
    data = engine.translations.export("fr")[0]
    evil = translate(data, lambda t: "{{ config }}" if t == "Privacy" else t)
    with pytest.raises(InvalidXliff, match="template code"):
        engine.translations.import_xliff(evil)
    for mark in ("\ue000", "\ue002", "\ue010", "\ue01f"):  # every reserved one, not only tokens
        forged = translate(data, lambda t, m=mark: f"Pri{m}vacy" if t == "Privacy" else t)
        with pytest.raises(InvalidXliff, match=f"U\\+{ord(mark):04X}, a character the engine"):
            engine.translations.import_xliff(forged)
    markup = translate(data, lambda t: "<script>alert(1)</script>" if t == "Privacy" else t)
    engine.translations.import_xliff(markup)  # text, escaped: never markup
    body = engine.editor.get_variant(PRIVACY, "fr").body
    assert "&lt;script&gt;" in body and "<script" not in body


def test_drift_after_a_source_edit_cleared_by_a_new_translation(engine: Engine) -> None:
    engine.translations.import_xliff(translate(engine.translations.export("fr")[0]))
    fr = engine.editor.get_variant(PRIVACY, "fr")
    engine.editor.set_status(PRIVACY, "fr", "published", expected_version=fr.version)
    en = engine.editor.get_variant(PRIVACY, "en")
    edited = en.model_copy(update={"body": en.body.replace("30 days", "60 days")})
    engine.editor.save_variant(PRIVACY, edited, expected_version=en.version)

    stale = [p for p in engine.lint() if p.code == "stale_translation"]
    assert len(stale) == 1 and stale[0].severity == "warning"
    assert "legal.privacy/fr" in stale[0].message and "en v1, which is at v2" in stale[0].message
    assert "[-30-] {+60+}" in stale[0].message
    cells = [r for r in engine.coverage("legal").rows if r.locale == "fr"]
    assert all(r.stale and r.stale[0].variant == "fr" for r in cells)
    assert [s.variant for s in engine.translations.stale("fr")] == ["fr"]
    assert engine.translations.stale_by_locale()["fr"][0].changed == "[-30-] {+60+}"

    data, count = engine.translations.export("fr", stale_only=True)
    assert count == 1 and b"legal.privacy:fr:en:2" in data
    engine.translations.import_xliff(translate(data, lambda t: t.replace("60 days", "60 jours")))
    # Still stale until the new translation is published: readers get the old one.
    assert engine.translations.stale("fr")
    assert engine.translations.export("fr")[1] == 0  # awaiting review: not sent again
    review = engine.editor.get_variant(PRIVACY, "fr")
    engine.editor.set_status(PRIVACY, "fr", "published", expected_version=review.version)
    assert engine.translations.stale() == []
    assert "60 jours" in engine.block(PRIVACY, READER).html


def test_mark_in_sync_clears_drift_without_a_new_translation(engine: Engine) -> None:
    engine.translations.import_xliff(translate(engine.translations.export("fr")[0]))
    fr = engine.editor.get_variant(PRIVACY, "fr")
    fr = engine.editor.set_status(PRIVACY, "fr", "published", expected_version=fr.version)
    en = engine.editor.get_variant(PRIVACY, "en")
    typo = en.model_copy(update={"body": en.body.replace("Privacy", "Privacy ")})
    engine.editor.save_variant(PRIVACY, typo, expected_version=en.version)
    assert engine.translations.stale("fr")
    with pytest.raises(ConflictError):
        engine.translations.mark_in_sync(PRIVACY, "fr", expected_version=fr.version - 1)
    synced = engine.translations.mark_in_sync(PRIVACY, "fr", expected_version=fr.version)
    assert synced.translated_from is not None and synced.translated_from.version == 2
    assert synced.body == fr.body and synced.status == "published"
    assert engine.translations.stale() == []
    assert not [p for p in engine.lint() if p.code == "stale_translation"]
    with pytest.raises(InputError, match="records no variant"):
        engine.translations.mark_in_sync(PRIVACY, "en", expected_version=2)


def test_pseudo_localisation_keeps_placeholders_and_lengthens(engine: Engine) -> None:
    data, count = engine.translations.export("qps-ploc", pseudo=True)
    assert count == 2 and schema_errors(data) == []  # the footer's French is no qps
    engine.translations.import_xliff(data)
    reader = context("qps-ploc", role="technician", customer={"name": "Anna"})
    html = engine.block(PRIVACY, reader, preview=True).html
    assert "<h2>Pŕîvàçý~~~</h2>" in html
    # Placeholders and inline markup still work; each text is about 35 % longer.
    assert "Ðéàŕ~~ Anna, ŵé ķéép~~~~ <strong>ýöûŕ ðàţà~~~~</strong> föŕ 30 ðàýš.~~~~~" in html
    assert "Šîĝñéð föŕ~~~~ ANNA.~" in html
    assert "Ñöŕðŵîñð ĜmbĤ~~~~~" in html  # the include resolves, to its own pseudo copy
    assert engine.block(PRIVACY, reader).html.count("Dear Anna") == 1  # live: untouched


def test_wrong_locale_unknown_ids_and_duplicates_are_refused(engine: Engine) -> None:
    data = translate(engine.translations.export("fr")[0])
    with pytest.raises(InputError, match="into fr, not de"):
        engine.translations.import_xliff(data, locale="de")
    unknown = data.replace(b"legal.privacy:fr:en:1", b"legal.nothing:fr:en:1")
    with pytest.raises(InvalidXliff, match=r"unknown component 'legal\.nothing'"):
        engine.translations.import_xliff(unknown)
    future = data.replace(b"legal.privacy:fr:en:1", b"legal.privacy:fr:en:9")
    with pytest.raises(InvalidXliff, match="no version 9"):
        engine.translations.import_xliff(future)
    long_key = data.replace(b"legal.privacy:fr:en:1", b"legal.privacy:" + b"k" * 250 + b":en:1")
    with pytest.raises(InvalidXliff, match="not a variant key"):
        engine.translations.import_xliff(long_key)
    other = data.replace(b"legal.privacy:fr:en:1", b"legal.footer:fr:en:1")
    with pytest.raises(InvalidXliff):  # the footer's fr is a translation not made from this
        engine.translations.import_xliff(other)
    root = etree.fromstring(data)
    unit = root.find(f".//{{{NS_20}}}unit")
    unit.addnext(copy.deepcopy(unit))
    with pytest.raises(InvalidXliff, match="again"):
        engine.translations.import_xliff(etree.tostring(root))
    source = data.replace(b'trgLang="fr"', b'trgLang="en"')
    with pytest.raises(InputError, match="source locale"):
        engine.translations.import_xliff(source)


def test_the_cli_exports_imports_and_lists_stale(
    engine: Engine, db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "fr.xlf"
    assert main(["xliff", "export", "--locale", "fr", "--db", db_url, "-o", str(out)]) == 0
    assert "1 unit to translate into fr" in capsys.readouterr().err
    (tmp_path / "fr-done.xlf").write_bytes(translate(out.read_bytes()))
    assert main(["xliff", "import", str(tmp_path / "fr-done.xlf"), "--db", db_url]) == 0
    assert "review legal.privacy/fr v1" in capsys.readouterr().out
    broken = tmp_path / "broken.xlf"
    broken.write_bytes(_break(translate(out.read_bytes()), "missing"))
    assert main(["xliff", "import", str(broken), "--db", db_url]) == 2
    err = capsys.readouterr().err
    assert "unit legal.privacy:fr:en:1" in err and "Traceback" not in err
    assert main(["xliff", "stale", "--db", db_url]) == 0
    assert "0 stale translations" in capsys.readouterr().err
    assert main(["xliff", "export", "--locale", "en", "--db", db_url]) == 2
    assert "source locale" in capsys.readouterr().err


def test_translate_toolkit_reads_what_we_write(engine: Engine) -> None:
    """A well-kept XLIFF library (translate-toolkit) reads both versions: the ids, languages,
    sources and, after translation, the targets."""
    from translate.storage import xliff, xliff2

    data, _ = engine.translations.export("fr")
    store = xliff2.Xliff2File.parsestring(translate(data))
    units = {u.getid(): (u.source, u.target) for u in store.units}
    assert units["legal.privacy:fr:en:1::s1"] == ("Privacy", "Confidentialité")
    assert units["legal.privacy:fr:en:1::s3"] == ("Call or .", "Appelez ou .")  # codes aside
    assert len(units) == 5

    old, _ = engine.translations.export("fr", version="1.2")
    store12 = xliff.xlifffile.parsestring(translate(old))
    assert (store12.getsourcelanguage(), store12.gettargetlanguage()) == ("en", "fr")
    by_id = {u.getid().split("\x04")[-1]: u for u in store12.units}
    s3 = by_id["legal.privacy:fr:en:1/s3"]
    assert s3.source == "Call {{ product.phone }} or {{ product.email }}."
    assert s3.target == "Appelez {{ product.phone }} ou {{ product.email }}."


def test_a_tool_that_flattens_placeholders_into_text_is_refused(engine: Engine) -> None:
    """translate-toolkit setting a plain-text target drops the <ph> codes: refused, by unit."""
    from translate.storage import xliff2

    store = xliff2.Xliff2File.parsestring(engine.translations.export("fr")[0])
    for unit in store.units:
        unit.target = f"[fr] {unit.source}"
    with pytest.raises(InvalidXliff, match=r"unit legal\.privacy:fr:en:1 segment s2: .*missing"):
        engine.translations.import_xliff(bytes(store))


def test_the_issue_story_a_source_edit_marks_the_sample_translations(
    db_url: str, tmp_path: Path
) -> None:
    """Issue 17 as a new user met it: change the English of legal.privacy, import again, and
    lint now says which translations are out of date, and what changed."""
    library = copy_sample(tmp_path)
    with make_engine(db_url) as engine:
        engine.import_library(library)
        assert not [p for p in engine.lint() if p.code == "stale_translation"]
        en = library / "legal" / "legal.privacy" / "en.html"
        en.write_text(en.read_text().replace("at any time", "whenever you like"))
        assert engine.import_library(library).changed
        stale = {p.variant: p.message for p in engine.lint() if p.code == "stale_translation"}
        assert set(stale) == {"de", "fr"}
        assert "[-at any time.-] {+whenever you like.+}" in stale["fr"]
        data, count = engine.translations.export("fr", stale_only=True)
        assert count == 1 and b"legal.privacy:fr:en:2" in data
