"""What one request works out once and readers of the same dimensions share: the reader (its
segment rules) for the blocks and their tokens, and the exposure group a token counts in."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from content_engine.core import reader as reader_module
from content_engine.core.models import Block, Context
from content_engine.engine.facade import Engine
from tests.support.engine_factory import make_engine

SUMMARY = "service.customer-summary"


@pytest.fixture
def engine(sample_db_url: str) -> Iterator[Engine]:
    with make_engine(sample_db_url) as made:
        made.feedback.prime()
        yield made


def customer(n: int, employees: int = 12) -> Context:
    return Context(
        locale="de-AT",
        region="AT",
        role="service-agent",
        customer={"id": f"C{n:06d}", "name": f"Kundin {n}", "employees": employees},
        product={"model": "HP200", "serial": f"HP200-{n:06d}", "price": 9000.5},
    )


def test_a_request_derives_its_reader_once(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[Context] = []
    derive = reader_module.derived_segments

    def counted(context: Context, *args: object, **kwargs: object) -> frozenset[str]:
        made.append(context)
        return derive(context, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(reader_module, "derived_segments", counted)
    for n in range(3):
        ctx = customer(n)
        found = engine.blocks([SUMMARY], ctx)
        blocks = [b for b in found if isinstance(b, Block)]
        issued = engine.blocks_feedback(blocks, ctx, preview=False)
        assert issued[0] is not None
        assert sum(c is ctx for c in made) == 1, "the reader was derived again for the tokens"
    # Another context object is derived anew, though it names the same customer.
    before = len(made)
    engine.blocks([SUMMARY], customer(2))
    assert len(made) == before + 1


def test_readers_of_the_same_dimensions_share_an_exposure_group(engine: Engine) -> None:
    def issued_for(ctx: Context) -> tuple[str, object]:
        found = engine.blocks([SUMMARY], ctx)
        blocks = [b for b in found if isinstance(b, Block)]
        one = engine.blocks_feedback(blocks, ctx, preview=False)[0]
        assert one is not None
        return one.token, one.group

    token_a, group_a = issued_for(customer(1))
    token_b, group_b = issued_for(customer(2))
    assert token_a != token_b  # each reader's own token (its pseudonym)
    assert group_a == group_b  # counted in one group: what was shown, not to whom
    # 250 employees: the segment rule makes this reader enterprise, another group.
    _, group_c = issued_for(customer(3, employees=300))
    assert group_c != group_a
    assert "enterprise" in group_c[1].segments  # type: ignore[attr-defined]
