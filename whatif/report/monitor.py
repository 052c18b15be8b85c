"""The monitor in words and pages: the terminal table, and the self-contained HTML/PDF report.

Every number is :class:`whatif.analysis.monitor.Nowcast`'s, written through
:mod:`whatif.report.format` (intervals never collapse to one number). The report holds, per
channel and for the company, the nowcast over the periods with its band, the alerts' threshold
lines and markers where an alert fired, and the KPI contributions stacked per period
(:mod:`whatif.report.monitor_charts`); then the fired alerts and the warnings. The HTML is
self-contained (inline CSS, SVG data URIs); the PDF is the same page laid out by WeasyPrint.
"""

from __future__ import annotations

import functools
from pathlib import Path

from whatif.analysis.alerts import AlertRule
from whatif.analysis.monitor_backtest import Backtest
from whatif.analysis.monitor_results import COMPANY, Nowcast, PeriodNowcast
from whatif.data.spec import Spec
from whatif.errors import WhatifError
from whatif.report import format as fmt
from whatif.report.monitor_charts import contribution_chart, nowcast_chart
from whatif.report.output import html_to_pdf, template_environment, write_atomically
from whatif.report.palette import COLORS
from whatif.report.tables import format_table

__all__ = [
    "METRIC_LABELS",
    "backtest_text",
    "change_text",
    "check_report_path",
    "level_text",
    "monitor_text",
    "render_monitor_html",
    "write_monitor_report",
]

METRIC_LABELS = {"mean": "mean satisfaction", "top_box": "top-box share", "nps": "NPS"}


def level_text(value: float, lo: float, hi: float, metric: str, minus: str = fmt.MINUS) -> str:
    """A nowcast level and its interval: ``6.48 [6.41, 6.55]``, ``41.2% [...]``."""
    if metric == "top_box":
        digits = fmt.decimals(100 * value, 100 * lo, 100 * hi, least=1)
        inner = fmt.interval(lo, hi, digits, scale=100, minus=minus, style="brackets")
        return f"{100 * value:.{digits}f}% {inner.replace('+', '')}"
    digits = fmt.decimals(value, lo, hi, least=1 if metric == "nps" else 2)
    inner = fmt.interval(lo, hi, digits, minus=minus, style="brackets").replace("+", "")
    return f"{value:.{digits}f}".replace("-", minus) + f" {inner}"


def change_text(mean: float, lo: float, hi: float, metric: str, minus: str = fmt.MINUS) -> str:
    """A change and its interval: ``+0.04 [+0.02, +0.06]`` (top-box in percentage points)."""
    if metric == "top_box":
        inner = fmt.interval(lo, hi, 1, scale=100, unit=" pts", minus=minus, style="brackets")
        return f"{fmt.share_points(mean, minus=minus)} {inner}"
    digits = fmt.decimals(mean, lo, hi, least=1 if metric == "nps" else 2)
    return f"{fmt.signed(mean, digits, minus)} {fmt.interval(lo, hi, digits, minus=minus, style='brackets')}"


def _effect(value: float, metric: str, minus: str) -> str:
    return (
        fmt.share_points(value, minus=minus)
        if metric == "top_box"
        else fmt.points(value, minus=minus)
    )


def _moved_most(row: PeriodNowcast, metric: str, minus: str, n: int = 2) -> str:
    parts = sorted(row.contributions, key=lambda c: -abs(c.effect.mean))
    shown = [
        f"{c.influencer} {_effect(c.effect.mean, metric, minus)}"
        for c in parts[:n]
        if c.effect.mean != 0
    ]
    return ", ".join(shown) or "-"


def monitor_text(nowcast: Nowcast, source: str) -> str:
    """The ``whatif monitor`` table: per period and channel the nowcast, its change and the KPIs
    that moved it most, then the alerts and warnings (plain text, ASCII minus)."""
    metric, minus = nowcast.metric, "-"
    rows = [
        {
            "period": r.period,
            "channel": r.channel,
            "nowcast": level_text(r.value.mean, r.value.lo, r.value.hi, metric, minus),
            "change": change_text(r.change.mean, r.change.lo, r.change.hi, metric, minus),
            "moved most": _moved_most(r, metric, minus),
        }
        for r in nowcast.periods
    ]
    lines = [
        f"Nowcast of {METRIC_LABELS[metric]} from {source} ({nowcast.ci:.0%} intervals; "
        f"baseline: the model's {nowcast.baseline_year}, changes through next year's effects)",
        format_table(rows),
    ]
    if nowcast.alerts:
        lines.append(f"alerts ({len(nowcast.alerts)}):")
        lines += [f"  alert: {a.message}" for a in nowcast.alerts]
    else:
        lines.append("alerts: none fired")
    for r in nowcast.periods:
        lines += [f"warning ({r.period}, {r.channel}): {w}" for w in r.warnings]
    return "\n".join(lines)


def backtest_text(backtest: Backtest) -> str:
    """The backtest of the nowcasts against a new survey, as a table with its notes."""
    rows = [
        {
            "channel": r.channel,
            "year": r.year,
            "periods": r.periods,
            "nowcast": level_text(r.nowcast.mean, r.nowcast.lo, r.nowcast.hi, "mean", "-"),
            "survey": f"{r.observed:.2f} (n={r.n})",
            "covered": "yes" if r.inside else "OUTSIDE",
        }
        for r in backtest.rows
    ]
    lines = [f"Backtest against {backtest.source} ({backtest.ci:.0%} predictive intervals):"]
    lines.append(format_table(rows) if rows else "(no channel to backtest)")
    if backtest.rows:
        lines.append(f"covered {backtest.covered} of {len(backtest.rows)} channels")
    lines += [f"note: {n}" for n in backtest.notes]
    return "\n".join(lines)


# -- the HTML / PDF report ----------------------------------------------------------------------


def check_report_path(out: str | Path) -> str:
    """``html`` or ``pdf`` from ``out``'s extension; a one-line error for anything else."""
    out = Path(out)
    suffix = out.suffix.lower().lstrip(".")
    kind = {"html": "html", "htm": "html", "pdf": "pdf"}.get(suffix)
    if kind is None:
        got = f"'.{suffix}'" if suffix else "no extension"
        raise WhatifError(f"--out {out}: the monitor report is .html or .pdf, got {got}")
    if out.is_dir():
        raise WhatifError(
            f"--out {out}: is a folder; give a file name such as {out / 'monitor.html'}"
        )
    return kind


def _thresholds(rules: tuple[AlertRule, ...], metric: str, channel: str) -> list[dict]:
    return [
        {"label": rule.name, "value": rule.threshold, "side": rule.side}
        for rule in rules
        if rule.kind == "metric"
        and (rule.metric or metric) == metric
        and (rule.channel or COMPANY) == channel
    ]


def _content(nowcast: Nowcast, rules: tuple[AlertRule, ...], spec: Spec, source: str) -> dict:
    metric = nowcast.metric
    panels = []
    for channel in nowcast.channels:
        series = nowcast.series(channel)
        fired = {a.period for a in nowcast.alerts if a.channel == channel}
        label = "Company" if channel == COMPANY else spec.label_of(channel)
        influencers = [c.influencer for c in series[0].contributions] if series else []
        panels.append(
            {
                "label": label,
                "channel": channel,
                "nowcast": nowcast_chart(
                    [r.period for r in series],
                    [r.value.to_dict() for r in series],
                    _thresholds(rules, metric, channel),
                    [r.period in fired for r in series],
                    METRIC_LABELS[metric],
                    metric,
                ),
                "contributions": contribution_chart(
                    [r.period for r in series],
                    {
                        spec.label_of(j): [r.contributions[i].effect.mean for r in series]
                        for i, j in enumerate(influencers)
                    },
                    metric,
                ),
                "last": series[-1] if series else None,
            }
        )
    return {
        "title": f"CX driver index: {METRIC_LABELS[metric]}",
        "source": source,
        "metric": metric,
        "metric_label": METRIC_LABELS[metric],
        "ci_label": f"{nowcast.ci:.0%}",
        "baseline_year": nowcast.baseline_year,
        "periods": list(nowcast.order),
        "panels": panels,
        "alerts": list(nowcast.alerts),
        "warnings": [(r.period, r.channel, w) for r in nowcast.periods for w in r.warnings],
    }


@functools.cache
def _environment():
    env = template_environment()
    env.globals.update(level=level_text, change=change_text, palette=COLORS, prob=fmt.probability)
    return env


def render_monitor_html(
    nowcast: Nowcast, rules: tuple[AlertRule, ...], spec: Spec, source: str
) -> str:
    """The monitor report as one self-contained HTML page."""
    content = _content(nowcast, rules, spec, source)
    return _environment().get_template("monitor.html.j2").render(report=content)


def write_monitor_report(
    nowcast: Nowcast, rules: tuple[AlertRule, ...], spec: Spec, source: str, out: str | Path
) -> Path:
    """Write the report to ``out`` (``.html`` or ``.pdf``), atomically (a temporary sibling moved
    into place)."""
    out = Path(out)
    kind = check_report_path(out)
    html = render_monitor_html(nowcast, rules, spec, source)
    data = html_to_pdf(html) if kind == "pdf" else html.encode("utf-8")
    return write_atomically(out, data, "the monitor report")
