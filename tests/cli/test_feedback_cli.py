"""``feedback report|answer|rotate-key`` and ``samples feedback`` (CONTRACT 9) on the sample
library: the seeded experiment reported per arm, answers and their refusals as exit codes."""

from __future__ import annotations

import json

import pytest

from content_engine.cli import main
from content_engine.core.models import Context
from content_engine.engine.samplefeedback import SAMPLE_COMPONENT, SAMPLE_EXPERIMENT
from tests.support.engine_factory import SAMPLE, make_engine

# Importing the sample library and seeding it takes ~20 s on a busy machine.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One SQLite database with the sample library and 150 simulated readers."""
    url = f"sqlite:///{tmp_path_factory.mktemp('feedback') / 'ce.db'}"
    assert main(["import", str(SAMPLE), "--db", url]) == 0
    assert main(["samples", "feedback", "--readers", "150", "--db", url]) == 0
    return url


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_the_seeded_experiment_is_reported_per_arm(
    seeded: str, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ("feedback", "report", "--experiment", SAMPLE_EXPERIMENT, "--db", seeded)
    code, out, err = _run(capsys, *args, "--format", "json")
    assert code == 0, err
    report = json.loads(out)
    assert sum(g["exposures"] for g in report["groups"]) == 150
    assert [arm["key"] for arm in report["arms"]["arms"]] == ["direct", "story"]
    code, table, _ = _run(capsys, *args)
    assert code == 0 and "promo.hp200.cta/direct" in table and "sample ratio" in table
    # Seeding again adds nothing: the report is the same.
    assert _run(capsys, "samples", "feedback", "--readers", "150", "--db", seeded)[0] == 0
    assert json.loads(_run(capsys, *args, "--format", "json")[1]) == report


def test_answer_and_its_refusals_as_exit_codes(
    seeded: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with make_engine(seeded) as engine:
        context = Context(locale="en", reader_id="cli-reader")
        block = engine.block(SAMPLE_COMPONENT, context)
        issued = engine.block_feedback(block, context, preview=False)
    assert issued is not None
    answer = ("feedback", "answer", issued.token, "--metric", "nps", "--db", seeded)
    assert _run(capsys, *answer, "--score", "8")[0:3:2] == (0, "created\n")
    assert _run(capsys, *answer, "--score", "9")[0:3:2] == (0, "replaced\n")
    code, _, err = _run(capsys, *answer, "--score", "11")
    assert code == 2 and err.count("\n") == 1 and "0 to 10" in err
    forged = ("feedback", "answer", issued.token[:-3] + "abc", "--metric", "nps", "--score", "5")
    code, _, err = _run(capsys, *forged, "--db", seeded)
    assert code == 2 and "not valid" in err
    code, out, _ = _run(capsys, "feedback", "rotate-key", "--db", seeded)
    assert code == 0 and len(out.strip()) == 8
    # Signed before the rotation, the token still counts.
    assert _run(capsys, *answer, "--score", "10")[0] == 0
