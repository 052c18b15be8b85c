"""The planner's chart of the posterior predictive check: for one channel and year, the share of
answers observed at every point of the rating scale (bars) against the share the model predicts
(a line with points), the largest gap of the fit marked when it is in this channel and year.

It draws :class:`whatif.analysis.answer_check.AnswerCheck` as computed, nothing is recomputed
here; colors are the page's (:mod:`whatif.report.palette`).
"""

from __future__ import annotations

from bokeh.models import ColumnDataSource, HoverTool, Legend, LegendItem, NumeralTickFormatter
from bokeh.plotting import figure

from whatif.analysis.answer_check import AnswerCheck
from whatif.app.plots import base_figure
from whatif.report.palette import COLORS, QUADRANT_COLORS

__all__ = ["answer_check_chart"]


def answer_check_chart(
    check: AnswerCheck, channel: str, year: int, title: str = "", height: int = 300
) -> figure:
    """Observed (bars) and predicted (line) answer shares of ``channel`` in ``year``.

    Parameters
    ----------
    check
        :func:`whatif.analysis.answer_check.check_answers` of the model.
    channel, year
        Which shares to draw.
    title
        Chart title.
    height
        Height in pixels.
    """
    shares = check.select(channel, year)
    source = ColumnDataSource(
        {
            "answer": [s.answer for s in shares],
            "label": [f"{s.answer:g}" for s in shares],
            "observed": [s.observed for s in shares],
            "predicted": [s.predicted for s in shares],
            "gap": [s.gap for s in shares],
        }
    )
    fig = base_figure(height, title=title, x_axis_label="Answer", y_axis_label="Share of answers")
    fig.yaxis.formatter = NumeralTickFormatter(format="0%")
    fig.xaxis.ticker = [s.answer for s in shares]
    fig.y_range.start = 0
    bars = fig.vbar(
        x="answer",
        top="observed",
        width=0.8,
        source=source,
        fill_color=COLORS["band_light"],
        line_color=None,
    )
    line = fig.line(
        x="answer", y="predicted", source=source, line_color=COLORS["primary"], line_width=2
    )
    dots = fig.scatter(
        x="answer",
        y="predicted",
        source=source,
        size=7,
        fill_color=COLORS["primary"],
        line_color="white",
    )
    items = [
        LegendItem(label="Observed", renderers=[bars]),
        LegendItem(label="Predicted by the model", renderers=[line, dots]),
    ]
    if (channel, year) == (check.channel, check.year):
        worst = check.worst
        gap = fig.segment(
            x0=[worst.answer],
            x1=[worst.answer],
            y0=[worst.observed],
            y1=[worst.predicted],
            line_color=QUADRANT_COLORS["fix first"],
            line_width=4,
        )
        items.append(LegendItem(label="Largest gap of the fit", renderers=[gap]))
    fig.add_tools(
        HoverTool(
            renderers=[bars],
            tooltips=[
                ("Answer", "@label"),
                ("Observed", "@observed{0.0%}"),
                ("Predicted", "@predicted{0.0%}"),
                ("Gap", "@gap{+0.0%}"),
            ],
            mode="vline",
        )
    )
    legend = Legend(items=items, location="top_left", label_text_font_size="12px")
    legend.border_line_color = None
    legend.background_fill_alpha = 0.7
    fig.add_layout(legend)
    return fig
