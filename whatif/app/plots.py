"""Bokeh chart builders of the planner: they draw numbers the engine computed, nothing more.

Charts that follow the levers (:class:`LiftHistogram`, :class:`ChannelIntervals`,
:class:`ScenarioIntervals`) are built once per session and updated in place through their data
sources, so a slider move redraws without rebuilding the figure. Charts that change only with the
chosen channel (:func:`weights_chart`, :func:`priority_chart`) are rebuilt on demand.
Their colors are the page's (:data:`whatif.app.theme.COLORS`).
"""

from __future__ import annotations

import numpy as np
from bokeh.models import (
    BoxAnnotation,
    ColumnDataSource,
    FactorRange,
    HoverTool,
    Label,
    NumeralTickFormatter,
    Range1d,
    Span,
)
from bokeh.plotting import figure

from whatif.analysis.results import Estimate
from whatif.report import format as fmt
from whatif.report.palette import COLORS, SERIES

__all__ = [
    "DRIVER_PALETTE",
    "ChannelIntervals",
    "LiftHistogram",
    "ScenarioIntervals",
    "base_figure",
]

#: One color per driver line (:data:`whatif.report.palette.SERIES`).
DRIVER_PALETTE = SERIES


def base_figure(height: int, **kwargs) -> figure:
    """A chart with the planner's look: no toolbar, light grid, stretched to its column."""
    fig = figure(
        height=height, sizing_mode="stretch_width", toolbar_location=None, tools="", **kwargs
    )
    fig.outline_line_color = None
    fig.grid.grid_line_color = COLORS["grid"]
    fig.axis.axis_line_color = COLORS["grid"]
    fig.axis.major_tick_line_color = COLORS["grid"]
    fig.axis.minor_tick_line_color = None
    fig.min_border_left = 10
    fig.min_border_right = 20
    return fig


class LiftHistogram:
    """The distribution of the company lift over posterior draws, with its interval shaded.

    Parameters
    ----------
    height
        Height in pixels.
    """

    def __init__(self, height: int = 260):
        self.source = ColumnDataSource({"left": [], "right": [], "top": [], "share": []})
        fig = base_figure(
            height,
            x_axis_label="Company satisfaction lift (points)",
            y_axis_label="Share of draws",
            x_range=Range1d(-1, 1),
            y_range=Range1d(0, 1),
        )
        self.band = BoxAnnotation(
            left=0,
            right=0,
            fill_color=COLORS["primary_light"],
            fill_alpha=0.45,
            line_color=None,
            level="underlay",
        )
        fig.add_layout(self.band)
        fig.quad(
            left="left",
            right="right",
            top="top",
            bottom=0,
            source=self.source,
            fill_color=COLORS["primary"],
            line_color="white",
            fill_alpha=0.85,
        )
        self.zero = Span(
            location=0,
            dimension="height",
            line_color=COLORS["neutral"],
            line_dash="dashed",
            line_width=1,
        )
        self.mean = Span(
            location=0, dimension="height", line_color=COLORS["positive"], line_width=2
        )
        fig.add_layout(self.zero)
        fig.add_layout(self.mean)
        self.note = Label(
            x=0,
            y=0.5,
            text="",
            text_align="center",
            text_color=COLORS["neutral"],
            text_font_size="13px",
            visible=False,
            background_fill_color="white",
        )
        fig.add_layout(self.note)
        fig.yaxis.formatter = NumeralTickFormatter(format="0%")
        fig.add_tools(
            HoverTool(
                tooltips=[
                    ("lift", "@left{+0.000} to @right{+0.000}"),
                    ("share of draws", "@share{0.0%}"),
                ],
                mode="vline",
            )
        )
        self.figure = fig

    def update(self, draws: np.ndarray, stats: Estimate, ci: float) -> None:
        """Redraw from the lift draws and their summary (``mean``, ``lo``, ``hi``)."""
        draws = np.asarray(draws, float)
        if draws.size == 0 or np.allclose(draws, 0.0):
            self.source.data = {"left": [], "right": [], "top": [], "share": []}
            self.figure.x_range.update(start=-1, end=1)
            self.figure.y_range.update(start=0, end=1)
            self.band.left = self.band.right = 0
            self.mean.visible = False
            self.note.text = "No lever set yet"
            self.note.visible = True
            return
        low, high = float(draws.min()), float(draws.max())
        pad = max((high - low) * 0.05, 1e-6)
        counts, edges = np.histogram(draws, bins=40, range=(low - pad, high + pad))
        share = counts / counts.sum()
        self.source.data = {"left": edges[:-1], "right": edges[1:], "top": share, "share": share}
        start, end = float(edges[0]), float(edges[-1])
        distance = start if start > 0 else -end if end < 0 else 0.0
        if distance < 1.5 * (end - start):  # zero is near: show where it is
            start, end = min(start, 0.0), max(end, 0.0)
        self.figure.x_range.update(start=start - pad, end=end + pad)
        self.figure.y_range.update(start=0, end=float(share.max()) * 1.08)
        self.band.left, self.band.right = stats.lo, stats.hi
        self.mean.location = stats.mean
        self.mean.visible = True
        self.mean.line_color = COLORS["positive"] if stats.mean >= 0 else COLORS["negative"]
        self.note.visible = False


class _IntervalRows:
    """Shared drawing of labeled rows with a mean dot and an interval bar."""

    def __init__(self, height: int, x_label: str):
        self.source = ColumnDataSource(
            {
                "label": [],
                "mean": [],
                "lo": [],
                "hi": [],
                "color": [],
                "text": [],
                "p": [],
                "chance": [],
            }
        )
        fig = base_figure(
            height, y_range=FactorRange(), x_range=Range1d(-1, 1), x_axis_label=x_label
        )
        fig.segment(
            x0="lo",
            x1="hi",
            y0="label",
            y1="label",
            source=self.source,
            line_color="color",
            line_width=6,
            line_alpha=0.35,
        )
        fig.scatter(
            x="mean",
            y="label",
            source=self.source,
            size=11,
            fill_color="color",
            line_color="white",
            marker="circle",
        )
        fig.add_layout(
            Span(
                location=0,
                dimension="height",
                line_color=COLORS["neutral"],
                line_dash="dashed",
                line_width=1,
            )
        )
        fig.add_tools(
            HoverTool(tooltips=[("", "@label"), ("lift", "@text"), ("P(lift > 0)", "@chance")])
        )
        fig.ygrid.grid_line_color = None
        self.figure = fig

    def _set(self, labels, means, los, his, ps, affected=None) -> None:
        affected = [True] * len(labels) if affected is None else affected
        labels = list(labels)[::-1]
        means, los, his, ps, affected = (list(v)[::-1] for v in (means, los, his, ps, affected))
        colors = [
            COLORS["neutral"]
            if abs(m) < 1e-12
            else COLORS["positive"]
            if lo > 0
            else COLORS["negative"]
            if hi < 0
            else COLORS["primary"]
            for m, lo, hi in zip(means, los, his, strict=True)
        ]
        text = [
            f"{fmt.points(m, 3)} {fmt.interval(lo, hi, 3, style='brackets')}"
            if moved
            else fmt.NOT_AFFECTED
            for m, lo, hi, moved in zip(means, los, his, affected, strict=True)
        ]
        self.figure.y_range.factors = labels
        low, high = min([0.0, *los]), max([0.0, *his])
        pad = max((high - low) * 0.08, 0.01)
        self.figure.x_range.update(start=low - pad, end=high + pad)
        self.source.data = {
            "label": labels,
            "mean": means,
            "lo": los,
            "hi": his,
            "color": colors,
            "text": text,
            "p": ps,
            "chance": [
                fmt.probability(p) if moved else "" for p, moved in zip(ps, affected, strict=True)
            ],
        }


class ChannelIntervals(_IntervalRows):
    """The lift of each channel: mean and interval (green when the interval is above zero)."""

    def __init__(self, height: int = 260):
        super().__init__(height, "Satisfaction lift by channel (points)")

    def update(self, labels: list[str], entries: list) -> None:
        """Redraw from channel labels and their entries: :class:`ChannelLift` (a channel no lever
        touches reads "not affected") or :class:`Estimate`."""
        self._set(
            labels,
            [_lift(e).mean for e in entries],
            [_lift(e).lo for e in entries],
            [_lift(e).hi for e in entries],
            [_lift(e).p_positive for e in entries],
            [getattr(e, "affected", True) for e in entries],
        )


class ScenarioIntervals(_IntervalRows):
    """The company lift of each compared scenario."""

    def __init__(self, height: int = 240):
        super().__init__(height, "Company satisfaction lift (points)")

    def update(self, titles: list[str], totals: list[Estimate]) -> None:
        """Redraw from scenario titles and their company summary (``mean``, ``lo``, ``hi``)."""
        self.figure.height = max(160, 60 + 44 * len(titles))
        self._set(
            titles,
            [t.mean for t in totals],
            [t.lo for t in totals],
            [t.hi for t in totals],
            [t.p_positive for t in totals],
        )


def _lift(entry) -> Estimate:
    """The lift estimate of a :class:`ChannelLift`, or the :class:`Estimate` itself."""
    return getattr(entry, "lift", entry)
