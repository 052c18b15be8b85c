"""The brief's plan section: the optimized plan and the efficient frontier as HTML and an SVG
chart (cost against company lift, its interval as a band, the chosen plan marked).

The numbers are an :class:`~whatif.analysis.optimizer.OptimizationResult`'s; the words and rows
are :mod:`whatif.report.plan`'s, so the brief says what ``whatif optimize`` prints.
"""

from __future__ import annotations

import jinja2
import matplotlib
from matplotlib.figure import Figure

from whatif.analysis.optimizer import OptimizationResult
from whatif.report import format as fmt
from whatif.report import plan as words
from whatif.report.charts import WIDTH, figure_to_data_uri
from whatif.report.palette import COLORS

__all__ = ["frontier_chart", "plan_section"]


def frontier_chart(result: OptimizationResult) -> str:
    """The frontier as an SVG data URI: lift (mean and interval band) against cost."""
    scale = 100.0 if result.metric == "top_box" else 1.0
    costs = [p.plan.cost for p in result.frontier]
    mean = [scale * p.plan.lift.mean for p in result.frontier]
    lo = [scale * p.plan.lift.lo for p in result.frontier]
    hi = [scale * p.plan.lift.hi for p in result.frontier]
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "whatif-brief"}):
        fig = Figure(figsize=(WIDTH, 2.4), layout="constrained")
        ax = fig.add_subplot()
        ax.fill_between(costs, lo, hi, color=COLORS["band_light"], linewidth=0, step="post")
        ax.step(costs, mean, where="post", color=COLORS["primary"], linewidth=1.5)
        ax.plot(costs, mean, "o", color=COLORS["primary"], markersize=3)
        if result.plan is not None:
            ax.plot(
                [result.plan.cost],
                [scale * result.plan.lift.mean],
                "D",
                color=COLORS["positive"],
                markersize=7,
                label="the plan",
            )
            ax.legend(frameon=False, loc="lower right")
        name, units = words.METRIC_NAMES[result.metric]
        ax.set_xlabel(f"Cost ({result.currency})" if result.currency else "Cost")
        ax.set_ylabel(f"Lift in {name} ({units})")
        ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:,.0f}"))
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        ax.grid(color=COLORS["grid"], linewidth=0.6)
        return figure_to_data_uri(fig)


def plan_section(result: OptimizationResult, spec) -> str:
    """The plan section's HTML (a ``<section>`` for the brief)."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("whatif.report", "templates"), autoescape=True
    )
    plan = None
    if result.plan is not None:
        mean, interval = words.lift_text(result.plan.lift, result.metric)
        plan = {
            "cost": words.money(result.plan.cost, result.currency),
            "mean": mean,
            "interval": interval,
            "p_positive": fmt.probability(result.plan.lift.p_positive),
            "p_target": None
            if result.plan.p_target is None
            else fmt.probability(result.plan.p_target),
            "choices": words.choice_rows(result, spec, fmt.MINUS),
        }
    heading = words.plan_heading(result)
    return env.get_template("plan.html.j2").render(
        heading=heading[:1].lower() + heading[1:],
        note=result.note,
        plan=plan,
        metric=words.METRIC_NAMES[result.metric][0],
        ci=fmt.percent(result.ci),
        chart=frontier_chart(result),
        frontier=words.frontier_rows(result, fmt.MINUS),
    )
