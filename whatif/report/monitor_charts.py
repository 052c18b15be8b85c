"""Charts of the monitor report: a channel's nowcast over the periods, and its KPI contributions.

Drawn with Matplotlib as self-contained SVG data URIs in the brief's style
(:func:`whatif.report.charts.figure_to_data_uri`); every number comes from
:class:`whatif.analysis.monitor.Nowcast`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from whatif.report.charts import PALETTE, figure_to_data_uri
from whatif.report.charts import WIDTH as PAGE_WIDTH
from whatif.report.palette import SERIES

__all__ = ["contribution_chart", "nowcast_chart"]

HEIGHT = 1.9


def _figure(height: float = HEIGHT):
    import matplotlib
    from matplotlib.figure import Figure

    from whatif.report.charts import FONTS

    with matplotlib.rc_context({"font.family": "sans-serif", "font.sans-serif": FONTS}):
        return Figure(figsize=(PAGE_WIDTH, height), layout="constrained")


def _axes(fig, periods: Sequence[str]):
    ax = fig.add_subplot()
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.grid(axis="y", color=PALETTE["grid"], linewidth=0.6)
    ax.set_axisbelow(True)
    step = max(1, -(-len(periods) // 9))  # at most nine labels, so they never overlap
    ax.set_xticks(range(0, len(periods), step))
    ax.set_xticklabels(list(periods)[::step], rotation=0, fontsize=6.5)
    ax.tick_params(axis="y", labelsize=7)
    return ax


def nowcast_chart(
    periods: Sequence[str],
    values: Sequence[dict],
    thresholds: Sequence[dict],
    fired: Sequence[bool],
    label: str,
    metric: str,
) -> str:
    """The nowcast over the periods with its band, threshold lines and alert markers.

    Parameters
    ----------
    periods
        Period labels in order.
    values
        ``{"mean", "lo", "hi"}`` per period.
    thresholds
        ``{"label", "value", "side"}`` of the metric alerts on this channel.
    fired
        Per period, whether an alert fired.
    label, metric
        The metric's name for the axis, and its id (top-box is drawn in percent).
    """
    factor = 100.0 if metric == "top_box" else 1.0
    x = np.arange(len(periods))
    mean = np.array([v["mean"] for v in values]) * factor
    lo = np.array([v["lo"] for v in values]) * factor
    hi = np.array([v["hi"] for v in values]) * factor
    fig = _figure()
    ax = _axes(fig, periods)
    ax.fill_between(x, lo, hi, color=PALETTE["band_light"], linewidth=0, label="interval")
    ax.plot(
        x, mean, color=PALETTE["band"], linewidth=1.4, marker="o", markersize=2.5, label="nowcast"
    )
    for t in thresholds:
        ax.axhline(t["value"] * factor, color=PALETTE["negative"], linewidth=0.9, linestyle="--")
        ax.annotate(
            f"{t['label']} ({t['side']} {t['value'] * factor:g})",
            (0, t["value"] * factor),
            fontsize=6.5,
            color=PALETTE["negative"],
            xytext=(2, 2),
            textcoords="offset points",
        )
    hit = np.flatnonzero(np.asarray(fired, bool))
    if hit.size:
        ax.scatter(
            x[hit],
            mean[hit],
            s=42,
            facecolors="none",
            edgecolors=PALETTE["negative"],
            linewidths=1.3,
            zorder=5,
            label="alert",
        )
    ax.set_ylabel(f"{label}{' (%)' if metric == 'top_box' else ''}", fontsize=7)
    ax.legend(loc="upper left", fontsize=6.5, frameon=False, ncols=3)
    return figure_to_data_uri(fig)


def contribution_chart(
    periods: Sequence[str], effects: dict[str, Sequence[float]], metric: str
) -> str:
    """The KPIs' contributions to the change, stacked per period (gains up, losses down).

    Parameters
    ----------
    periods
        Period labels in order.
    effects
        KPI label -> its mean contribution per period (the metric's units).
    metric
        The metric's id (top-box contributions are drawn in percentage points).
    """
    factor = 100.0 if metric == "top_box" else 1.0
    x = np.arange(len(periods))
    fig = _figure(HEIGHT * 0.95)
    ax = _axes(fig, periods)
    up = np.zeros(len(periods))
    down = np.zeros(len(periods))
    shown = [
        (k, np.asarray(v, float) * factor) for k, v in effects.items() if np.any(np.asarray(v) != 0)
    ]
    for i, (name, values) in enumerate(shown):
        base = np.where(values >= 0, up, down)
        ax.bar(x, values, 0.72, bottom=base, color=SERIES[i % len(SERIES)], label=name, linewidth=0)
        up += np.where(values >= 0, values, 0)
        down += np.where(values < 0, values, 0)
    ax.axhline(0, color=PALETTE["muted"], linewidth=0.6)
    unit = "pts" if metric == "top_box" else ("NPS points" if metric == "nps" else "points")
    ax.set_ylabel(f"contribution ({unit})", fontsize=7)
    if shown:
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=6, frameon=False)
    else:
        ax.text(
            0.5,
            0.5,
            "no KPI moved from its baseline",
            transform=ax.transAxes,
            ha="center",
            va="center",
            fontsize=7,
            color=PALETTE["muted"],
        )
    return figure_to_data_uri(fig)
