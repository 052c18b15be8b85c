"""Charts of the fitted model that change only with the chosen channel: the driver weights over
the years and the priority map (rebuilt on demand; the lever-driven charts are in
:mod:`whatif.app.plots`). They draw what the analysis computed: the priority map's points and
zone come from :class:`whatif.analysis.results.PriorityMap`, nothing is recomputed here.
"""

from __future__ import annotations

import pandas as pd
from bokeh.models import (
    BoxAnnotation,
    ColumnDataSource,
    HoverTool,
    Label,
    LabelSet,
    Legend,
    LegendItem,
    Span,
)
from bokeh.plotting import figure

from whatif.analysis.results import PriorityMap
from whatif.app.plots import DRIVER_PALETTE, base_figure
from whatif.report.labels import place_labels, text_size
from whatif.report.palette import COLORS, QUADRANT_COLORS

__all__ = ["priority_chart", "priority_labels", "weights_chart"]


def weights_chart(
    frame: pd.DataFrame, title: str = "", height: int = 380, ci: float = 0.9
) -> figure:
    """Driver weights over the years, one line per driver with its interval band.

    With more than :data:`CROWDED_DRIVERS` drivers the lines and bands are faint and the driver
    under the mouse is drawn in full (its line, dots and band), so nine lines in one band stay
    readable; clicking a legend entry hides that driver.

    Parameters
    ----------
    frame
        Rows of one channel with columns year, driver, label, mean, lo, hi.
    title
        Chart title.
    """
    fig = base_figure(
        height,
        title=title,
        x_axis_label="Year",
        y_axis_label="Weight (satisfaction points per rating point)",
    )
    fig.xaxis.ticker = sorted(frame["year"].unique().tolist())
    items, lines = [], []
    order = frame.groupby("driver")["mean"].mean().sort_values(ascending=False).index
    # with many drivers the lines cross in one band: draw them faint and bring out the one under
    # the mouse (with its band), so each stays readable; a few drivers are drawn in full
    many = len(order) > CROWDED_DRIVERS
    line_alpha, band_alpha = (0.35, 0.04) if many else (1.0, 0.12)
    for i, driver in enumerate(order):
        rows = frame[frame["driver"] == driver].sort_values("year")
        color = DRIVER_PALETTE[i % len(DRIVER_PALETTE)]
        source = ColumnDataSource(
            {
                "year": rows["year"].to_numpy(),
                "mean": rows["mean"].to_numpy(),
                "lo": rows["lo"].to_numpy(),
                "hi": rows["hi"].to_numpy(),
                "label": rows["label"].to_numpy(),
            }
        )
        band = fig.varea(
            x="year",
            y1="lo",
            y2="hi",
            source=source,
            fill_color=color,
            fill_alpha=band_alpha,
            hover_fill_alpha=0.25,
        )
        line = fig.line(
            x="year",
            y="mean",
            source=source,
            line_color=color,
            line_width=2.5,
            line_alpha=line_alpha,
            hover_line_alpha=1.0,
            hover_line_width=4.5,
        )
        dots = fig.scatter(
            x="year",
            y="mean",
            source=source,
            size=7,
            fill_color=color,
            fill_alpha=line_alpha,
            line_color="white",
            marker="circle",
            hover_fill_alpha=1.0,
            hover_line_color=color,
        )
        lines.extend([line, dots])
        items.append(LegendItem(label=str(rows["label"].iloc[0]), renderers=[line, dots, band]))
    legend = Legend(
        items=items,
        location="top_left",
        click_policy="hide",
        label_text_font_size="12px",
        spacing=2,
        padding=6,
        border_line_color=None,
    )
    fig.add_layout(legend, "right")
    fig.add_tools(
        HoverTool(
            renderers=lines,
            tooltips=[
                ("driver", "@label"),
                ("year", "@year"),
                ("weight", "@mean{0.000}"),
                (f"{ci:.0%} interval", "@lo{0.000} to @hi{0.000}"),
            ],
            mode="mouse",
            line_policy="nearest",
        )
    )
    return fig


#: Above this many drivers the weight lines are drawn faint, the one under the mouse in full.
CROWDED_DRIVERS = 5


def priority_chart(pmap: PriorityMap, title: str = "", height: int = 400) -> figure:
    """Importance (weight) against performance (mean rating), fix-first quadrant shaded.

    Parameters
    ----------
    pmap
        The priority map of one channel and year (:meth:`PriorityMap.select`): its points are
        drawn at their median weight and its borders shade the zone, as the analysis placed them.
    title
        Chart title.
    """
    (border,) = pmap.borders
    frame = pmap.to_frame()
    perf_line, weight_line = border.performance, border.importance
    x_pad = max(0.15, (frame["performance"].max() - frame["performance"].min()) * 0.25)
    y_pad = max(0.02, (frame["hi"].max() - frame["lo"].min()) * 0.12)
    x_range = (float(frame["performance"].min() - x_pad), float(frame["performance"].max() + x_pad))
    y_range = (float(min(frame["lo"].min(), 0) - y_pad), float(frame["hi"].max() + y_pad))
    fig = base_figure(
        height,
        title=title,
        x_range=x_range,
        y_range=y_range,
        x_axis_label="Performance: mean rating (lower is worse)",
        y_axis_label="Importance: weight",
    )
    fig.frame_height = FRAME[1]  # the labels are placed for this plot area (or a wider one)
    fig.min_width = FRAME[0] + 110
    fig.add_layout(
        BoxAnnotation(
            right=perf_line,
            bottom=weight_line,
            fill_color=COLORS["fix_zone"],
            fill_alpha=0.9,
            line_color=None,
            level="underlay",
        )
    )
    fig.add_layout(
        Span(
            location=perf_line, dimension="height", line_color=COLORS["neutral"], line_dash="dotted"
        )
    )
    fig.add_layout(
        Span(
            location=weight_line,
            dimension="width",
            line_color=COLORS["neutral"],
            line_dash="dotted",
        )
    )
    fig.add_layout(
        Label(
            x=x_range[0],
            y=y_range[1],
            text="FIX FIRST",
            x_offset=8,
            y_offset=-22,
            text_color=COLORS["fix_text"],
            text_font_style="bold",
            text_font_size="13px",
        )
    )
    fig.add_layout(
        Label(
            x=x_range[1],
            y=y_range[1],
            text="MAINTAIN",
            x_offset=-78,
            y_offset=-22,
            text_color=COLORS["neutral"],
            text_font_size="12px",
        )
    )
    fig.add_layout(
        Label(
            x=x_range[0],
            y=y_range[0],
            text="MONITOR",
            x_offset=8,
            y_offset=8,
            text_color=COLORS["neutral"],
            text_font_size="12px",
        )
    )
    fig.add_layout(
        Label(
            x=x_range[1],
            y=y_range[0],
            text="LOWER PRIORITY",
            x_offset=-116,
            y_offset=8,
            text_color=COLORS["neutral"],
            text_font_size="12px",
        )
    )
    source = ColumnDataSource(
        {
            "performance": frame["performance"].to_numpy(),
            "weight": frame["weight"].to_numpy(),
            "median": frame["median"].to_numpy(),
            "lo": frame["lo"].to_numpy(),
            "hi": frame["hi"].to_numpy(),
            "label": frame["label"].to_numpy(),
            "quadrant": frame["quadrant"].to_numpy(),
            "p_fix_first": frame["p_fix_first"].to_numpy(),
            "color": [QUADRANT_COLORS.get(q, COLORS["neutral"]) for q in frame["quadrant"]],
            "size": DOT_MIN + (DOT_MAX - DOT_MIN) * frame["p_fix_first"].to_numpy(),
        }
    )
    fig.segment(
        x0="performance",
        x1="performance",
        y0="lo",
        y1="hi",
        source=source,
        line_color="color",
        line_width=2,
        line_alpha=0.5,
    )
    dots = fig.scatter(
        x="performance",
        y="median",
        source=source,
        size="size",
        fill_color="color",
        line_color="white",
        marker="circle",
    )
    labels = priority_labels(frame, x_range, y_range)
    if labels["leader_x0"]:
        fig.segment(
            x0="leader_x0",
            y0="leader_y0",
            x1="leader_x1",
            y1="leader_y1",
            source=ColumnDataSource({k: v for k, v in labels.items() if k.startswith("leader")}),
            line_color=COLORS["neutral"],
            line_width=0.8,
            line_alpha=0.7,
        )
    fig.add_layout(
        LabelSet(
            x="x",
            y="y",
            text="label",
            source=ColumnDataSource({k: labels[k] for k in ("x", "y", "label")}),
            text_align="left",
            text_baseline="bottom",
            text_font_size=f"{LABEL_FONT}px",
            text_color="#374151",
        )
    )
    fig.add_tools(
        HoverTool(
            renderers=[dots],
            tooltips=[
                ("driver", "@label"),
                ("mean rating", "@performance{0.00}"),
                ("weight", "@weight{0.000} [@lo{0.000}, @hi{0.000}]"),
                ("P(fix first)", "@p_fix_first{0%}"),
                ("quadrant", "@quadrant"),
            ],
        )
    )
    return fig


#: The priority map's plot area in pixels for which labels are placed (the chart may be wider:
#: the labels then only move further apart), the dots' size range and the labels' font size.
FRAME = (520, 300)
DOT_MIN, DOT_MAX = 10, 22
LABEL_FONT = 11


def priority_labels(frame: pd.DataFrame, x_range, y_range) -> dict[str, list]:
    """Where each driver's name goes on the priority map: beside its dot, clear of the other
    names and of every dot (:func:`whatif.report.labels.place_labels` on the plot area
    :data:`FRAME`); ``x``, ``y`` (data units, the box's lower left corner), ``label``, the box in
    pixels (``box``) and leader lines (``leader_x0`` ...) for names pushed away from their dot."""
    (x0, x1), (y0, y1) = x_range, y_range
    width, height = FRAME

    def to_pixels(x, y):
        return (x - x0) / (x1 - x0) * width, (y - y0) / (y1 - y0) * height

    def to_data(px, py):
        return x0 + px / width * (x1 - x0), y0 + py / height * (y1 - y0)

    points = [to_pixels(x, y) for x, y in zip(frame["performance"], frame["median"], strict=True)]
    names = [str(label) for label in frame["label"]]
    sizes = [text_size(name, LABEL_FONT) for name in names]
    boxes = place_labels(points, sizes, DOT_MAX / 2 + 1, (0, 0, width, height), gap=3, step=7)
    out: dict[str, list] = {k: [] for k in ("x", "y", "label", "box")}
    out.update({k: [] for k in ("leader_x0", "leader_y0", "leader_x1", "leader_y1")})
    for name, box, point in zip(names, boxes, points, strict=True):
        x, y = to_data(box.x0 + 1, box.y0 + 1)
        out["x"].append(x)
        out["y"].append(y)
        out["label"].append(name)
        out["box"].append(box)
        if box.leader:
            start, end = to_data(*point), to_data(*box.anchor(*point))
            out["leader_x0"].append(start[0])
            out["leader_y0"].append(start[1])
            out["leader_x1"].append(end[0])
            out["leader_y1"].append(end[1])
    return out
