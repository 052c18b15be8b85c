"""Two scenarios' difference in words: the rows the command line and the planner both show.

:func:`difference_rows` turns a :class:`~whatif.analysis.difference.ScenarioDifference` into
rows of text (what, B minus A, its interval, P(B beats A)) through :mod:`whatif.report.format`,
so ``whatif simulate`` with several scenarios and the planner's Compare view read alike;
:func:`difference_report` is the plain-text block ``whatif simulate`` prints.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from whatif.analysis.difference import ScenarioDifference
from whatif.analysis.results import Estimate
from whatif.report import format as fmt

__all__ = ["NO_DIFFERENCE", "difference_cells", "difference_report", "difference_rows"]

#: What a channel both scenarios change identically reads (instead of a zero and "< 1%").
NO_DIFFERENCE = "no difference"

#: How each metric is named in a row.
_METRIC_NAMES = {
    "mean": "mean satisfaction (points)",
    "top_box": "top-box share (pts)",
    "nps": "NPS (points)",
}


def difference_cells(metric: str, e: Estimate, minus: str = fmt.MINUS) -> tuple[str, str, str]:
    """``(B - A, interval, P(B beats A))`` of one metric's difference, in its own units."""
    if metric == "top_box":
        value = fmt.share_points(e.mean, minus=minus)
        spread = fmt.interval(e.lo, e.hi, 1, scale=100, unit=" pts", minus=minus)
    elif metric == "nps":
        digits = fmt.decimals(e.mean, e.lo, e.hi, least=1)
        value = fmt.signed(e.mean, digits, minus)
        spread = fmt.interval(e.lo, e.hi, digits, minus=minus)
    else:
        digits = fmt.decimals(e.mean, e.lo, e.hi)
        value = fmt.points(e.mean, digits, minus)
        spread = fmt.interval(e.lo, e.hi, digits, minus=minus)
    return value, spread, fmt.probability(e.p_positive)


def difference_rows(
    diff: ScenarioDifference,
    label_of: Callable[[str], str] = str,
    minus: str = fmt.MINUS,
    top_box_label: str = "",
    channels: list[str] | None = None,
) -> list[dict[str, str]]:
    """One row per company metric, then one per channel (mean satisfaction), in the order of
    ``channels`` when given (the model's otherwise).

    Each row has ``what``, ``difference`` (B minus A), ``interval`` and ``beats`` (P(B beats A));
    a channel the two scenarios change identically reads :data:`NO_DIFFERENCE`.
    """
    rows = []
    for metric in diff.metrics:
        name = _METRIC_NAMES[metric]
        if metric == "top_box" and top_box_label:
            name = f"top-box share ({top_box_label}, pts)"
        same = metric in diff.same_metrics
        rows.append(_row(f"Company {name}", metric, diff.metric(metric), same, minus))
    for entry in [diff.channel(c) for c in channels] if channels else diff.channels:
        rows.append(_row(label_of(entry.channel), "mean", entry.metric("mean"), entry.same, minus))
    return rows


def _row(what: str, metric: str, e: Estimate, same: bool, minus: str) -> dict[str, str]:
    if same:
        return {"what": what, "difference": NO_DIFFERENCE, "interval": "", "beats": ""}
    value, spread, beats = difference_cells(metric, e, minus)
    return {"what": what, "difference": value, "interval": spread, "beats": beats}


def difference_report(diffs: list[ScenarioDifference], label_of: Callable[[str], str]) -> str:
    """``whatif simulate``'s block for several scenarios: each one minus the first, paired."""
    lines = []
    for diff in diffs:
        pct = f"{diff.ci:.0%}"
        lines.append(
            f"\nDifference '{diff.second}' minus '{diff.first}' on the same posterior draws "
            f"(mean, {pct} interval, P('{diff.second}' beats '{diff.first}')):"
        )
        rows = difference_rows(diff, label_of, minus="-")
        frame = pd.DataFrame(rows).set_index("what")
        frame.index.name = None
        frame.columns = ["difference", f"{pct} interval", "P(beats)"]
        lines.append(frame.to_string())
    return "\n".join(lines)
