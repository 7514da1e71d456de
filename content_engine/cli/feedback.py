"""``feedback report``, ``feedback answer`` and ``feedback rotate-key`` (CONTRACT 9).

In: report filters (``--component``, ``--experiment``, ``--since``, ``--until``, ``--by``) and
``--format table|json``; or a token with a metric and a score; or nothing (rotate). Out: the
report on stdout (a table, or the JSON ``GET /v1/feedback/report`` answers); the answer stored
(``created`` or ``replaced`` on stderr); the new key's id.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from content_engine.cli.errors import engine_for, fail
from content_engine.cli.options import DbOption
from content_engine.cli.output import dump_json, write_output
from content_engine.core.feedback import Answer
from content_engine.engine import BY, Report

Component = Annotated[str | None, typer.Option("--component", help="Only this component.")]
Experiment = Annotated[
    str | None, typer.Option("--experiment", help="Only this experiment; compares its arms.")
]
Since = Annotated[str | None, typer.Option("--since", help="ISO 8601 time or date (inclusive).")]
Until = Annotated[
    str | None, typer.Option("--until", help="ISO 8601 time or date (a date: to its end).")
]
By = Annotated[str, typer.Option("--by", help=f"Group by {', '.join(BY)}.")]
Format = Annotated[str, typer.Option("--format", "-f", help="table or json.")]


def report(
    component: Component = None,
    experiment: Experiment = None,
    since: Since = None,
    until: Until = None,
    by: By = "variant",
    format: Format = "table",
    db: DbOption = None,
) -> None:
    """Exposures, answers, CSAT, NPS and CES per group, each with its 95 % interval."""
    if format not in ("table", "json"):
        fail(f"--format takes table or json, not {format[:20]!r}")
    with engine_for(db) as engine:
        found = engine.feedback.report(
            component=component,
            experiment=experiment,
            since_text=since,
            until_text=until,
            by=by,
        )
    if format == "json":
        write_output(dump_json(found.as_json()), None)
    else:
        write_output(table(found).encode(), None)


def answer(
    token: Annotated[str, typer.Argument(help="The feedback_token of what was shown.")],
    metric: Annotated[str, typer.Option("--metric", help="csat, nps or ces.")],
    score: Annotated[int, typer.Option("--score", help="On the metric's scale.")],
    comment: Annotated[str | None, typer.Option("--comment", help="Free text.")] = None,
    db: DbOption = None,
) -> None:
    """Store an answer as ``POST /v1/feedback`` does (an agent taking it on the phone)."""
    with engine_for(db) as engine:
        stored = engine.feedback.answer(
            Answer(token=token, metric=metric, score=score, comment=comment)
        )
    typer.echo("created" if stored.created else "replaced", err=True)


def rotate_key(db: DbOption = None) -> None:
    """Sign new feedback tokens with a new key; tokens signed before stay valid."""
    with engine_for(db) as engine:
        typer.echo(engine.feedback.rotate())


def _value(metric: dict[str, Any]) -> str:
    if not metric["enough_data"] or metric["value"] is None:
        return f"({metric['answers']} answers: not enough data yet)"
    interval = metric["interval"]
    span = "" if interval is None else f" [{interval['low']:.2f}, {interval['high']:.2f}]"
    return f"{metric['value']:.2f}{span} (n={metric['answers']})"


def table(found: Report) -> str:
    """The report as lines a person reads: one block per group, then the arms."""
    data = found.as_json()
    lines = [
        f"feedback by {data['by']}"
        + (f", experiment {found.experiment_id}" if found.experiment_id else "")
    ]
    if not data["groups"]:
        lines.append("  no exposures or answers in this window")
    for group in data["groups"]:
        lines.append(f"{group['key']}: {group['exposures']} exposures, {group['answers']} answers")
        for name, metric in group["metrics"].items():
            lines.append(f"  {name:5} {_value(metric)}")
    arms = data["arms"]
    if arms is not None:
        lines.append("arms (difference from the first arm, 95 % interval, p-value):")
        for arm in arms["arms"]:
            lines.append(f"  {arm['key']} (weight {arm['weight']:g})")
            for name, diff in arm["differences"].items():
                if diff["difference"] is None:
                    lines.append(f"    {name:5} not enough data yet")
                    continue
                interval = diff["interval"]
                lines.append(
                    f"    {name:5} {diff['difference']:+.2f} "
                    f"[{interval['low']:.2f}, {interval['high']:.2f}] p={diff['p_value']:.3g}"
                )
        srm = arms["sample_ratio"]
        verdict = "MISMATCH" if srm["mismatch"] else "ok"
        lines.append(f"sample ratio: {verdict} (p={srm['p_value']})")
        lines.append(f"winner: {arms['winner'] or 'none (no significant difference)'}")
    return "\n".join(lines) + "\n"
