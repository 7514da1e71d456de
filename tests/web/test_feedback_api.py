"""Feedback over HTTP (CONTRACT 9): tokens on blocks and renders, answers, purge, the report."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from content_engine.core.errors import FeedbackRefused, TooManyAnswers
from content_engine.core.experiments import draw
from content_engine.core.feedback import Answer
from content_engine.core.models import Arm
from content_engine.engine import PurgeRequest
from content_engine.engine.feedback import ANSWERS_PER_TOKEN
from content_engine.store.tables import FeedbackAnswer
from tests.support.apps import Api, app_client
from tests.support.engine_factory import make_engine, write_files

LIBRARY = {
    "library.yaml": """
        default_locale: en
        locales: [en]
        roles: [buyer, technician]
        feedback: {csat: [1, 10]}
    """,
    "promo.cta/component.yaml": "id: promo.cta\ntype: promotion\n",
    "promo.cta/a.html": "---\nexperiment: cta\nweight: 4\n---\n<p>Arm A</p>\n",
    "promo.cta/b.html": "---\nexperiment: cta\nweight: 1\n---\n<p>Arm B</p>\n",
    "legal.note/component.yaml": "id: legal.note\ntype: legal\n",
    "legal.note/en.html": "---\nlocale: en\n---\n<p>Note</p>\n",
    "publications/letter.yaml": """
        id: letter
        title: Letter
        slots:
          - {component: promo.cta, required: true}
          - {component: legal.note}
    """,
}
ARMS = (Arm(key="a", weight=4), Arm(key="b", weight=1))
JSON = {"Accept": "application/json"}


@pytest.fixture
def api(db_url: str, tmp_path: Path) -> Iterator[Api]:
    with make_engine(db_url) as engine:
        engine.import_library(write_files(tmp_path / "lib", LIBRARY))
        with app_client(engine) as api:
            yield api


def _block(api: Api, component: str = "promo.cta", **params: str) -> dict:
    response = api.client.get(
        f"/v1/blocks/{component}",
        params={"locale": "en", **params},
        headers={**JSON, **api.auth("reader")},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["feedback_token"] == response.headers["X-Feedback-Token"]
    return body


def _answer(api: Api, token: str, metric: str = "nps", score: int = 9, **more: object):
    body = {"token": token, "metric": metric, "score": score, **more}
    return api.client.post("/v1/feedback", json=body, headers=api.auth("reader"))


def test_a_block_answer_carries_its_arm_and_a_token_that_takes_one_answer_per_metric(
    api: Api,
) -> None:
    block = _block(api, reader_id="r-7")
    assert block["experiment"] == "cta" and block["arm"] == draw("cta", "r-7", ARMS)
    first = _answer(api, block["feedback_token"], score=3, comment="too pushy")
    assert first.status_code == 201, first.text
    assert first.json()["shown"]["arm"] == block["arm"] and first.json()["replaced"] is False
    again = _answer(api, block["feedback_token"], score=10)
    assert again.status_code == 200 and again.json()["replaced"] is True
    csat = _answer(api, block["feedback_token"], metric="csat", score=10)  # the library's 1-10
    assert csat.status_code == 201
    with api.engine.repository.engine.connect() as conn:
        rows = conn.execute(select(FeedbackAnswer.metric, FeedbackAnswer.score)).all()
    assert sorted(rows) == [("csat", 10), ("nps", 10)]


def test_the_html_answer_sends_the_token_in_its_header_and_a_304_keeps_it(api: Api) -> None:
    headers = api.auth("reader")
    first = api.client.get("/v1/blocks/legal.note?locale=en", headers=headers)
    token = first.headers["X-Feedback-Token"]
    again = api.client.get(
        "/v1/blocks/legal.note?locale=en",
        headers={**headers, "If-None-Match": first.headers["ETag"]},
    )
    assert again.status_code == 304 and again.headers["X-Feedback-Token"] == token
    assert _answer(api, token, metric="ces", score=7).status_code == 201


def test_the_cache_never_shows_a_reader_another_readers_arm(api: Api) -> None:
    # Each reader asks twice (the second answer comes from the caches: engine and fast path),
    # interleaved with the others, and always gets the arm their id draws.
    readers = [f"reader-{n}" for n in range(40)]
    for _round in range(2):
        for reader in readers:
            body = _block(api, reader_id=reader)
            assert body["arm"] == draw("cta", reader, ARMS), reader
            assert f"Arm {body['arm'].upper()}" in body["html"]
    anonymous = _block(api)
    assert anonymous["arm"] == "a" and any("no reader_id" in w for w in anonymous["warnings"])


def test_hostile_tokens_are_refused(api: Api) -> None:
    token = _block(api, reader_id="r-1")["feedback_token"]
    prefix, kid, payload, mac = token.split(".")
    other = _block(api, "legal.note")["feedback_token"]
    cases = {
        "altered": f"{prefix}.{kid}.{payload[:-2]}xx.{mac}",
        "spliced onto another block": f"{prefix}.{kid}.{other.split('.')[2]}.{mac}",
        "another key": f"{prefix}.deadbeef.{payload}.{mac}",
        "not a token": "hello",
        "huge": "ft1." + "A" * 100_000,
    }
    for name, forged in cases.items():
        response = _answer(api, forged)
        assert response.status_code == 401, name
        assert response.json()["error"]["code"] == "invalid_feedback_token", name


def test_out_of_range_and_huge_comments_are_refused_clearly(api: Api) -> None:
    token = _block(api, reader_id="r-2")["feedback_token"]
    for metric, score in (("nps", 11), ("csat", 11), ("ces", 0)):
        response = _answer(api, token, metric=metric, score=score)
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "score_out_of_range"
    huge = _answer(api, token, comment="x" * 1_000_000)
    assert huge.status_code == 422 and huge.json()["error"]["code"] == "comment_too_long"
    unknown = _answer(api, token, metric="mood")
    assert unknown.status_code == 422


def test_an_expired_token_is_refused_with_422(api: Api) -> None:
    token = _block(api, reader_id="r-3")["feedback_token"]
    later = datetime.now(UTC) + timedelta(days=91)
    with pytest.raises(FeedbackRefused) as refused:
        api.engine.feedback.answer(Answer(token=token, metric="nps", score=5), now=later)
    assert refused.value.code == "expired_feedback_token"


@pytest.mark.slow
def test_ten_thousand_answers_on_one_token_stay_one_answer(api: Api) -> None:
    token = _block(api, reader_id="r-4")["feedback_token"]
    statuses = [_answer(api, token, score=n % 11).status_code for n in range(20)]
    # The first answers are stored (one row, replaced); the rest are refused before the
    # database: a replayed token cannot keep it busy.
    assert statuses[0] == 201 and set(statuses[1:ANSWERS_PER_TOKEN]) == {200}
    assert set(statuses[ANSWERS_PER_TOKEN:]) == {429}
    refusals = 0
    for n in range(10_000 - 21):  # the rest of 10,000, without HTTP's cost per request
        try:
            api.engine.feedback.answer(Answer(token=token, metric="nps", score=n % 11))
        except TooManyAnswers:
            refusals += 1
    assert refusals == 10_000 - 21
    refused = _answer(api, token).json()["error"]
    assert refused["code"] == "too_many_answers" and "not stored" in refused["message"]
    with api.engine.repository.engine.connect() as conn:
        rows = conn.execute(select(FeedbackAnswer.metric, FeedbackAnswer.score)).all()
    assert rows == [("nps", (ANSWERS_PER_TOKEN - 1) % 11)]


def test_a_render_carries_a_receipt_token_and_its_arm(api: Api) -> None:
    response = api.client.post(
        "/v1/render",
        json={"publication": "letter", "context": {"locale": "en", "reader_id": "r-5"}},
        headers=api.auth("reader"),
    )
    assert response.status_code == 200
    token = response.headers["X-Feedback-Token"]
    receipt = api.client.get(
        f"/v1/renders/{response.headers['X-Render-Id']}", headers=api.auth("agent")
    ).json()
    assert receipt["feedback_token"] == token
    assert receipt["blocks"][0]["arm"] == draw("cta", "r-5", ARMS)
    stored = _answer(api, token, metric="csat", score=9)
    assert stored.status_code == 201 and stored.json()["shown"]["receipt"] == receipt["id"]


def test_purging_a_customer_clears_their_comments(api: Api) -> None:
    mine = _block(api, reader_id="cust-1")["feedback_token"]
    theirs = _block(api, reader_id="cust-2")["feedback_token"]
    assert _answer(api, mine, comment="call me back").status_code == 201
    assert _answer(api, theirs, comment="fine").status_code == 201
    api.engine.retention.purge(PurgeRequest(customer="cust-1"))
    with api.engine.repository.engine.connect() as conn:
        comments = sorted(
            (row.comment or "-", row.reader is None)
            for row in conn.execute(select(FeedbackAnswer.comment, FeedbackAnswer.reader))
        )
    assert comments == [("-", True), ("fine", False)]
    # By age, every comment older than the cut goes.
    api.engine.retention.purge(PurgeRequest(older_than_days=0))
    with api.engine.repository.engine.connect() as conn:
        assert conn.execute(select(FeedbackAnswer.comment)).scalars().all() == [None, None]


def test_the_report_counts_exposures_and_compares_the_arms(api: Api) -> None:
    for n in range(60):
        body = _block(api, reader_id=f"p-{n}")
        _answer(api, body["feedback_token"], score=10 if body["arm"] == "b" else 5)
    response = api.client.get(
        "/v1/feedback/report",
        params={"component": "promo.cta", "experiment": "cta"},
        headers=api.auth("editor"),
    )
    assert response.status_code == 200, response.text
    report = response.json()
    groups = {g["key"]: g for g in report["groups"]}
    assert sum(g["exposures"] for g in groups.values()) == 60
    assert sum(g["answers"] for g in groups.values()) == 60
    assert [arm["key"] for arm in report["arms"]["arms"]] == ["a", "b"]
    assert report["arms"]["sample_ratio"]["expected_shares"] == [0.8, 0.2]
    by_role = api.client.get(
        "/v1/feedback/report", params={"by": "role"}, headers=api.auth("editor")
    ).json()
    assert [g["key"] for g in by_role["groups"]] == ["(none)"]
    assert api.client.get("/v1/feedback/report", headers=api.auth("reader")).status_code == 403
    bad = api.client.get("/v1/feedback/report", params={"by": "x"}, headers=api.auth("editor"))
    assert bad.status_code == 400 or bad.status_code == 422
