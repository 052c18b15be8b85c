"""The optimized plan in words and tables: what ``whatif optimize`` prints, the brief's plan section
and the app's Plan tab read their rows and sentences from here.

Every number goes through :mod:`whatif.report.format`: a lift with its interval in the metric's
units (rating points, top-box points, NPS points), probabilities as ``> 99%``/``< 1%``, a channel
no option touches as "not affected". Costs are written with thousands separators and the options
file's currency.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from whatif.analysis.optimizer import OptimizationResult, Plan
from whatif.analysis.results import Estimate
from whatif.errors import WhatifError
from whatif.report import format as fmt

__all__ = [
    "METRIC_NAMES",
    "choice_rows",
    "channel_rows",
    "frontier_rows",
    "lift_text",
    "money",
    "plan_heading",
    "plan_report",
    "lever_text",
    "target_text",
    "text_table",
    "write_plan",
]

#: How each metric is named in a sentence and the units of its lift.
METRIC_NAMES = {
    "mean": ("mean satisfaction", "points"),
    "top_box": ("top-box share", "percentage points"),
    "nps": ("NPS", "NPS points"),
}


def money(amount: float | None, currency: str = "") -> str:
    """``495,000 EUR`` (no decimals unless the amount has cents)."""
    if amount is None:
        return "-"
    digits = 0 if float(amount).is_integer() else 2
    text = f"{amount:,.{digits}f}"
    return f"{text} {currency}" if currency else text


def lift_text(lift: Estimate, metric: str, minus: str = fmt.MINUS) -> tuple[str, str]:
    """``(mean, interval)`` of a lift in the metric's units: ``+0.21``, ``+0.20 to +0.22``;
    top-box in percentage points (``+2.8 pts``)."""
    if metric == "top_box":
        digits = fmt.decimals(100 * lift.mean, 100 * lift.lo, 100 * lift.hi, least=1)
        mean = f"{fmt.signed(100 * lift.mean, digits, minus)} pts"
        return mean, fmt.interval(lift.lo, lift.hi, digits, scale=100, unit=" pts", minus=minus)
    least = 1 if metric == "nps" else 2
    digits = fmt.decimals(lift.mean, lift.lo, lift.hi, least=least)
    return fmt.signed(lift.mean, digits, minus), fmt.interval(lift.lo, lift.hi, digits, minus=minus)


def target_text(target: float, metric: str) -> str:
    """A target in the metric's units: ``+0.15 points``, ``+2.0 pts``."""
    if metric == "top_box":
        return f"{fmt.signed(100 * target, 1, '-')} pts"
    return f"{fmt.signed(target, fmt.decimals(target), '-')} {METRIC_NAMES[metric][1]}"


def plan_heading(result: OptimizationResult) -> str:
    """What was asked, in one sentence."""
    name = METRIC_NAMES[result.metric][0]
    if result.objective == "max_lift":
        return (
            f"The largest expected lift in {name} for at most "
            f"{money(result.budget, result.currency)}"
        )
    return (
        f"The cheapest plan lifting {name} by at least {target_text(result.target, result.metric)} "
        f"with probability {fmt.percent(result.confidence)} or more"
    )


def choice_rows(result: OptimizationResult, spec, minus: str = "-") -> list[dict]:
    """One row per chosen option: the option, the lever in operational units, its cost."""
    if result.plan is None or result.scenario is None:
        return []
    rows = []
    for choice, lever in zip(result.plan.choices, result.scenario.levers, strict=True):
        labeled = replace(
            lever,
            channels=tuple(spec.label_of(c) for c in lever.channels) if lever.channels else None,
        )
        rows.append(
            {
                "option": choice.option,
                "lever": lever_text(labeled, spec, minus),
                "cost": money(choice.cost, result.currency),
            }
        )
    return rows


def lever_text(lever, spec, minus: str = fmt.MINUS) -> str:
    """A lever in operational units: ``IVR prompts: cap at 2``; a yes/no influencer's shift in
    percentage points (``Repeat information: -10 pts``)."""
    label = spec.label_of(lever.target)
    binary = lever.kind == "influencer" and spec.influencer(lever.target).kind == "binary"
    if binary and lever.operation == "shift":
        where = f" in {', '.join(lever.channels)}" if lever.channels else ""
        return f"{label}: {fmt.share_points(lever.value, 0, minus)}{where}"
    return lever.describe(label).replace("-", minus) if minus != "-" else lever.describe(label)


def text_table(rows: list[dict]) -> str:
    """A plain table with left-aligned text (numbers are already words here)."""
    if not rows:
        return "(none)"
    columns = list(rows[0])
    widths = {c: max(len(c), *(len(str(r[c])) for r in rows)) for c in columns}
    lines = ["  ".join(c.ljust(widths[c]) for c in columns).rstrip()]
    for row in rows:
        lines.append("  ".join(str(row[c]).ljust(widths[c]) for c in columns).rstrip())
    return "\n".join(lines)


def channel_rows(plan: Plan, metric: str, spec, minus: str = "-") -> list[dict]:
    """The plan's lift per channel (a channel no option touches: "not affected")."""
    rows = []
    for channel, lift, affected in plan.channels:
        mean, interval = lift_text(lift, metric, minus) if affected else (fmt.NOT_AFFECTED, "")
        rows.append({"channel": spec.label_of(channel), "lift": mean, "interval": interval})
    return rows


def frontier_rows(result: OptimizationResult, minus: str = "-") -> list[dict]:
    """The efficient frontier: cost, lift with interval and the options of each plan."""
    rows = []
    for point in result.frontier:
        mean, interval = lift_text(point.plan.lift, result.metric, minus)
        rows.append(
            {
                "cost": money(point.plan.cost, result.currency),
                "lift": mean,
                "interval": interval,
                "plan": "; ".join(f"{c.option} ({c.setting:g})" for c in point.plan.choices)
                or "nothing",
            }
        )
    return rows


def plan_report(result: OptimizationResult, spec) -> str:
    """``whatif optimize`` as text: the question, the plan, its lift per channel, the frontier."""
    name, units = METRIC_NAMES[result.metric]
    pct = fmt.percent(result.ci)
    out = [plan_heading(result) + ":"]
    if result.note:
        out.append(f"note: {result.note}")
    plan = result.plan
    if plan is None:
        out.append(
            f"\nNo plan reaches the target: no combination of the options lifts {name} by "
            f"{target_text(result.target, result.metric)} with probability "
            f"{fmt.percent(result.confidence)}. Lower the target or the confidence, or add options."
        )
    else:
        out.append("")
        out.append(
            text_table(choice_rows(result, spec))
            if plan.choices
            else "Do nothing: no option adds expected lift within the budget."
        )
        mean, interval = lift_text(plan.lift, result.metric, "-")
        out.append(f"\nCost: {money(plan.cost, result.currency)}")
        out.append(
            f"Company lift in {name} ({units}): {mean} ({pct} interval {interval}); "
            f"P(lift > 0) {fmt.probability(plan.lift.p_positive)}"
        )
        if plan.p_target is not None:
            out.append(
                f"P(lift >= {target_text(result.target, result.metric)}): "
                f"{fmt.probability(plan.p_target)}"
            )
        out.append(f"\nLift per channel ({units}, {pct} interval):")
        out.append(text_table(channel_rows(plan, result.metric, spec)))
    out.append(f"\nEfficient frontier: the best plan for each budget ({units}, {pct} interval):")
    out.append(text_table(frontier_rows(result)))
    return "\n".join(out)


def write_plan(scenario, out) -> Path:
    """Write a plan as a scenario file (``whatif simulate`` reads it), atomically."""
    out = Path(out)
    if out.suffix.lower() != ".toml":
        raise WhatifError(f"{out}: a plan is written as a scenario .toml file; end --out in .toml")
    if out.is_dir():
        raise WhatifError(f"{out}: is a folder; give a file name such as {out / 'plan.toml'}")
    tmp = out.with_name(f".{out.name}.tmp")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(scenario.to_toml(), encoding="utf-8")
        os.replace(tmp, out)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        raise WhatifError(
            f"{out}: cannot write the plan ({err.strerror or err}); choose a writable --out"
        ) from None
    return out
