"""Static charts of the forecast brief, drawn with Matplotlib as self-contained SVG data URIs.

Every number drawn here is computed elsewhere (:mod:`whatif.report.brief` reads them off
:func:`whatif.analysis.engine.summarize_lift` and :func:`whatif.analysis.priorities.priority_map`); this module
only draws. Chart text stays text in the page's own font stack (ending in the generic
``sans-serif``), so no font is embedded or fetched, and no chart refers to anything outside
itself.
"""

from __future__ import annotations

import base64
import io
import math
import textwrap
from collections.abc import Sequence

import matplotlib
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from whatif.report.labels import place_labels, text_size
from whatif.report.palette import COLORS, QUADRANT_COLORS

__all__ = [
    "FONTS",
    "PALETTE",
    "channel_lift_chart",
    "comparison_chart",
    "distribution_chart",
    "figure_to_data_uri",
    "priority_chart",
    "priority_figure",
]

#: The palette by role and quadrant (:mod:`whatif.report.palette`); ``brief.css`` reads the same.
PALETTE = {**COLORS, **QUADRANT_COLORS}

WIDTH = 6.9  # inches: the text width of an A4 page with the brief's margins
#: The brief's font stack; chart text stays text (``svg.fonttype = none``) and is set in the same
#: fonts as the page around it, falling back to any sans-serif font.
FONTS = ["Helvetica Neue", "Helvetica", "Arial", "Liberation Sans", "DejaVu Sans"]


def _style() -> dict:
    return {
        "font.family": "sans-serif",
        "font.sans-serif": FONTS,
        "font.size": 8,
        "axes.edgecolor": PALETTE["muted"],
        "axes.labelcolor": PALETTE["ink"],
        "axes.labelsize": 7.5,
        "axes.linewidth": 0.6,
        "xtick.color": PALETTE["muted"],
        "ytick.color": PALETTE["ink"],
        "xtick.labelsize": 7,
        "ytick.labelsize": 7.5,
        "xtick.major.width": 0.6,
        "ytick.major.width": 0,
        "legend.fontsize": 7,
        "svg.fonttype": "none",
        "svg.hashsalt": "whatif-brief",
    }


def figure_to_data_uri(fig: Figure) -> str:
    """Serialize a figure to a ``data:image/svg+xml;base64,...`` URI (no date, stable ids)."""
    buffer = io.BytesIO()
    with matplotlib.rc_context(_style()):
        fig.savefig(buffer, format="svg", metadata={"Date": None}, transparent=True)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _figure(width: float, height: float) -> Figure:
    with matplotlib.rc_context(_style()):
        return Figure(figsize=(width, height), layout="constrained")


def _clean(ax, grid_axis: str | None = "x") -> None:
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    if grid_axis:
        ax.grid(axis=grid_axis, color=PALETTE["grid"], linewidth=0.6)
    ax.set_axisbelow(True)


def _signed(value: float, digits: int = 2) -> str:
    text = f"{value:+.{digits}f}"
    return "0" if float(text) == 0 else text.replace("-", "\u2212")


class _SignedFormatter(matplotlib.ticker.Formatter):
    """Signed tick labels (true minus) with the fewest decimals that tell the ticks apart."""

    def __init__(self, factor: float = 1.0):
        self.factor = factor
        self.digits = 2

    def set_locs(self, locs):
        super().set_locs(locs)
        values = np.asarray(locs, float) * self.factor
        step = np.min(np.diff(values)) if values.size > 1 else 1.0
        self.digits = 0
        while self.digits < 6 and np.any(
            np.abs(np.round(values, self.digits) - values) > 1e-3 * step
        ):
            self.digits += 1

    def __call__(self, value, pos=None):
        return _signed(value * self.factor, self.digits)


def channel_lift_chart(rows: Sequence[dict], ci_label: str, scale_label: str) -> str:
    """Per-channel lift: stacked direct and via-driver parts, total with its interval.

    Parameters
    ----------
    rows
        One per channel, top to bottom: ``label``, ``direct``, ``indirect``, ``mean``, ``lo``,
        ``hi`` (satisfaction points).
    ci_label
        E.g. ``"90%"``.
    scale_label
        E.g. ``"1-10"``.
    """
    with matplotlib.rc_context(_style()):
        fig = _figure(WIDTH * 0.6, 0.26 * len(rows) + 0.75)
        ax = fig.add_subplot()
        y = np.arange(len(rows))[::-1]
        for yi, row in zip(y, rows, strict=True):
            pos = neg = 0.0
            for part in ("indirect", "direct"):
                value = row[part]
                left = pos if value >= 0 else neg
                ax.barh(yi, value, left=left, height=0.56, color=PALETTE[part], linewidth=0)
                if value >= 0:
                    pos += value
                else:
                    neg += value
            err = [[row["mean"] - row["lo"]], [row["hi"] - row["mean"]]]
            ax.errorbar(
                row["mean"],
                yi,
                xerr=err,
                fmt="o",
                color=PALETTE["ink"],
                ms=3.5,
                capsize=2.5,
                elinewidth=0.9,
                capthick=0.9,
                zorder=3,
            )
        ax.axvline(0, color=PALETTE["muted"], linewidth=0.8)
        ax.set_yticks(y, [row["label"] for row in rows])
        ax.set_ylim(-0.6, len(rows) - 0.4)
        ax.xaxis.set_major_formatter(_SignedFormatter())
        ax.set_xlabel(f"Lift (points of mean satisfaction, {scale_label})")
        _clean(ax)
        handles = [
            Patch(color=PALETTE["indirect"], label="Through the drivers"),
            Patch(color=PALETTE["direct"], label="Direct"),
            Line2D(
                [],
                [],
                color=PALETTE["ink"],
                marker="o",
                ms=3.5,
                lw=0.9,
                label=f"Total, {ci_label} interval",
            ),
        ]
        fig.legend(
            handles=handles,
            loc="outside upper left",
            ncols=3,
            frameon=False,
            handlelength=1.4,
            columnspacing=1.6,
        )
        return figure_to_data_uri(fig)


def distribution_chart(
    edges: Sequence[float],
    counts: Sequence[int],
    mean: float,
    lo: float,
    hi: float,
    ci_label: str,
    xlabel: str,
    percent: bool = False,
) -> str:
    """Histogram of the company lift draws, the interval shaded, the mean marked.

    Parameters
    ----------
    edges, counts
        Histogram of the posterior draws (``numpy.histogram``).
    mean, lo, hi
        Mean and interval bounds, as summarized elsewhere.
    ci_label, xlabel
        Interval probability (``"90%"``) and axis title.
    percent
        Draw the axis in percentage points (values are shares).
    """
    edges = np.asarray(edges, float)
    counts = np.asarray(counts, float)
    factor = 100.0 if percent else 1.0
    with matplotlib.rc_context(_style()):
        fig = _figure(WIDTH * 0.4, 1.6)
        ax = fig.add_subplot()
        centers = (edges[:-1] + edges[1:]) / 2
        inside = (centers >= lo) & (centers <= hi)
        colors = np.where(inside, PALETTE["band"], PALETTE["band_light"])
        ax.bar(centers * factor, counts, width=np.diff(edges) * factor, color=colors, linewidth=0)
        ax.axvline(mean * factor, color=PALETTE["fix first"], linewidth=1.1)
        width = edges[-1] - edges[0]
        zero_shown = bool(edges[0] - 0.35 * width <= 0 <= edges[-1] + 0.35 * width)
        if zero_shown:
            ax.axvline(0, color=PALETTE["muted"], linewidth=0.8, linestyle=(0, (3, 2)))
            ax.annotate(
                "no change",
                (0, 1),
                xycoords=("data", "axes fraction"),
                xytext=(2, -2),
                textcoords="offset points",
                fontsize=6.5,
                color=PALETTE["muted"],
                va="top",
            )
        ax.set_yticks([])
        ax.set_ylim(0, counts.max() * 1.45 if counts.size and counts.max() > 0 else 1)
        if width == 0:
            ax.set_xlim(mean * factor - 1, mean * factor + 1)
        ax.xaxis.set_major_formatter(_SignedFormatter())
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(5))
        ax.set_xlabel(xlabel)
        _clean(ax, grid_axis=None)
        handles = [
            Patch(color=PALETTE["band"], label=f"{ci_label} interval"),
            Line2D([], [], color=PALETTE["fix first"], lw=1.1, label="Mean"),
        ]
        left, right = ax.get_xlim()
        corner = "upper left" if zero_shown and (left + right) / 2 < 0 else "upper right"
        ax.legend(handles=handles, loc=corner, frameon=False, handlelength=1.2, fontsize=6.5)
        return figure_to_data_uri(fig)


def comparison_chart(rows: Sequence[dict], scale_label: str, top_box_label: str) -> str:
    """Scenarios side by side: company lift in mean satisfaction and in top-box share.

    Parameters
    ----------
    rows
        One per scenario, top to bottom: ``label``, ``mean``, ``lo``, ``hi`` (points) and
        ``top_mean``, ``top_lo``, ``top_hi`` (shares).
    """
    with matplotlib.rc_context(_style()):
        fig = _figure(WIDTH, 0.3 * len(rows) + 0.7)
        axes = fig.subplots(1, 2, sharey=True, width_ratios=[1, 1])
        y = np.arange(len(rows))[::-1]
        specs = (
            (axes[0], "mean", "lo", "hi", 1.0, f"Mean satisfaction lift (points, {scale_label})"),
            (
                axes[1],
                "top_mean",
                "top_lo",
                "top_hi",
                100.0,
                f"Top-box lift (percentage points, {top_box_label})",
            ),
        )
        for ax, m, lo, hi, f, title in specs:
            means = np.array([r[m] for r in rows]) * f
            err = [
                means - np.array([r[lo] for r in rows]) * f,
                np.array([r[hi] for r in rows]) * f - means,
            ]
            ax.hlines(y, 0, means, color=PALETTE["band_light"], linewidth=5)
            ax.errorbar(
                means,
                y,
                xerr=err,
                fmt="o",
                color=PALETTE["indirect"],
                ms=4,
                capsize=2.5,
                elinewidth=1,
                capthick=1,
                zorder=3,
            )
            ax.axvline(0, color=PALETTE["muted"], linewidth=0.8)
            ax.set_title(title, fontsize=7.5, loc="left", color=PALETTE["ink"])
            ax.xaxis.set_major_formatter(_SignedFormatter())
            ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(4))
            _clean(ax)
        axes[0].set_yticks(y, [r["label"] for r in rows])
        axes[0].set_ylim(-0.6, len(rows) - 0.4)
        return figure_to_data_uri(fig)


def priority_chart(panels: Sequence[dict], ci_label: str) -> str:
    """Small multiples of the priority map as an SVG data URI (see :func:`priority_figure`)."""
    return figure_to_data_uri(priority_figure(panels, ci_label))


def priority_figure(panels: Sequence[dict], ci_label: str) -> Figure:
    """Small multiples of the priority map: importance against performance, per channel.

    Each driver is a dot with its number (the key under the chart names them) placed beside it
    by :func:`whatif.report.labels.place_labels`, so no number covers another or a dot; a number
    pushed away from its dot is joined to it by a thin line.

    Parameters
    ----------
    panels
        One per channel: ``title``; ``perf_line`` and ``weight_line`` (the quadrant borders:
        average rating and median weight); ``points``, each with ``key`` (a short number shown
        beside the marker), ``performance``, ``weight``, ``lo``, ``hi`` and ``quadrant``.
    ci_label
        Probability of the weight intervals.
    """
    n = len(panels)
    cols = n if n <= 4 else 3
    nrows = math.ceil(n / cols)
    with matplotlib.rc_context(_style()):
        fig = _figure(WIDTH, (1.15 if cols > 3 else 1.3) * nrows + 0.35)
        FigureCanvasAgg(fig)  # a renderer to measure the numbers with
        axes = np.atleast_1d(fig.subplots(nrows, cols, squeeze=False)).ravel()
        width = 30 if cols <= 3 else 24
        titles = [textwrap.wrap(panel["title"], width) or [""] for panel in panels]
        lines = max(len(t) for t in titles)
        for ax, panel, title in zip(axes, panels, titles, strict=False):
            points = panel["points"]
            perf = np.array([p["performance"] for p in points])
            lo = np.array([p["lo"] for p in points])
            hi = np.array([p["hi"] for p in points])
            xpad = max(0.15, 0.15 * (perf.max() - perf.min()))
            ypad = max(0.02, 0.1 * (hi.max() - lo.min()))
            xlim = (perf.min() - xpad, perf.max() + xpad)
            ylim = (min(0.0, lo.min()) - ypad, hi.max() + ypad)
            ax.fill_between(
                [xlim[0], panel["perf_line"]],
                panel["weight_line"],
                ylim[1],
                color=PALETTE["fix_zone"],
                linewidth=0,
                zorder=0,
            )
            ax.axvline(panel["perf_line"], color=PALETTE["grid"], linewidth=0.8, zorder=1)
            ax.axhline(panel["weight_line"], color=PALETTE["grid"], linewidth=0.8, zorder=1)
            for p in points:
                color = PALETTE[p["quadrant"]]
                ax.vlines(
                    p["performance"],
                    p["lo"],
                    p["hi"],
                    color=color,
                    linewidth=0.8,
                    alpha=0.7,
                    zorder=2,
                )
                ax.plot(
                    p["performance"],
                    p["median"],
                    "o",
                    ms=PRIORITY_DOT,
                    color=color,
                    zorder=3,
                    markeredgecolor="white",
                    markeredgewidth=0.5,
                )
            ax.set_xlim(*xlim)
            ax.set_ylim(*ylim)
            ax.set_title(
                "\n".join(title + [""] * (lines - len(title))),
                fontsize=7,
                loc="left",
                color=PALETTE["ink"],
                va="bottom",
            )
            ax.tick_params(labelsize=6.5, colors=PALETTE["muted"])
            for side in ("top", "right"):
                ax.spines[side].set_visible(False)
            ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(4))
            ax.yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(4))
        for ax in axes[n:]:
            ax.set_visible(False)
        fig.supxlabel("Performance: mean rating (lower is worse)", fontsize=7, color=PALETTE["ink"])
        fig.supylabel("Importance: weight", fontsize=7, color=PALETTE["ink"])
        handles = [
            Line2D([], [], marker="o", ls="", ms=5, color=PALETTE[q], label=q.capitalize())
            for q in ("fix first", "maintain", "monitor", "lower priority")
        ]
        handles.append(Patch(color=PALETTE["fix_zone"], label="Fix-first zone"))
        handles.append(
            Line2D(
                [], [], color=PALETTE["muted"], lw=0.8, label=f"{ci_label} interval of the weight"
            )
        )
        fig.legend(
            handles=handles,
            loc="outside upper left",
            ncols=6,
            frameon=False,
            handlelength=1.2,
            columnspacing=1.4,
            fontsize=6.5,
        )
        fig.draw_without_rendering()  # settle the layout: the numbers are placed in its geometry
        fig.set_layout_engine("none")
        for ax, panel in zip(axes, panels, strict=False):
            _number_points(ax, panel["points"])
        return fig


#: Priority-map dot size (points) and number size (font points) in the brief.
PRIORITY_DOT = 5.0
PRIORITY_NUMBER = 6.0


def _number_points(ax, points: Sequence[dict]) -> None:
    """Write each point's key beside its dot, clear of the other numbers and dots."""
    fig = ax.figure
    renderer = fig.canvas.get_renderer()
    to_display, to_data = ax.transData, ax.transData.inverted()
    centers = to_display.transform([(p["performance"], p["median"]) for p in points])
    texts = [
        ax.text(0, 0, str(p["key"]), fontsize=PRIORITY_NUMBER, fontweight="bold", ha="center")
        for p in points
    ]
    font_pixels = PRIORITY_NUMBER * fig.dpi / 72
    sizes = []
    for text in texts:  # measured, or estimated where the renderer's hinting measures narrower
        box = text.get_window_extent(renderer)
        width, height = text_size(text.get_text(), font_pixels)
        sizes.append((max(box.width, width) + 1.0, max(box.height, height)))
    radius = (PRIORITY_DOT / 2 + 0.5) * fig.dpi / 72
    x0, y0, x1, y1 = ax.bbox.extents
    boxes = place_labels(
        [tuple(c) for c in centers], sizes, radius, (x0, y0, x1, y1), gap=0.5, step=3.0
    )
    for p, text, box, center in zip(points, texts, boxes, centers, strict=True):
        middle = to_data.transform(((box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2))
        text.set(
            x=middle[0],
            y=middle[1],
            va="center_baseline",
            color=PALETTE["ink"],
            zorder=4,
            in_layout=False,
            gid=f"key-{p['key']}",
        )
        if box.leader:
            end = to_data.transform(box.anchor(*center))
            ax.plot(
                [p["performance"], end[0]],
                [p["median"], end[1]],
                color=PALETTE["muted"],
                linewidth=0.4,
                zorder=2,
            )
