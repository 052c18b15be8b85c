"""The posterior predictive check, presented: the largest gap between predicted and observed
answer shares in words, and the brief's chart of the shares.

Every number comes from :func:`whatif.analysis.answer_check.check_answers`; this module only
writes and draws it. The chart is a Matplotlib SVG data URI in the brief's style
(:func:`whatif.report.charts.figure_to_data_uri`): one small panel per channel in the year of the
largest gap, observed shares as bars, predicted shares as a line with points.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Callable

from whatif.analysis.answer_check import AnswerCheck
from whatif.report import format as fmt
from whatif.report.charts import FONTS, PALETTE, WIDTH, figure_to_data_uri

__all__ = ["MAX_PANELS", "answer_check_chart", "answer_check_panels", "answer_check_sentence"]

#: The most channels the brief's chart draws (the channel of the largest gap always among them).
MAX_PANELS = 5
PANEL_HEIGHT = 0.7  # inches: small enough to keep a one-scenario brief on two pages


def _where(check: AnswerCheck, label_of: Callable[[str], str], single_period: bool) -> str:
    label = label_of(check.channel)
    return label if single_period else f"{label}, {check.year}"


def answer_check_sentence(
    check: AnswerCheck,
    label_of: Callable[[str], str] = str,
    single_period: bool = False,
) -> str:
    """The largest gap between the model's and the observed answer shares, in one sentence.

    Parameters
    ----------
    check
        :func:`whatif.analysis.answer_check.check_answers` of the model.
    label_of
        A channel's label from its id (``spec.label_of``).
    single_period
        The survey has one period (no year is named).
    """
    worst = check.worst
    where = _where(check, label_of, single_period)
    observed, predicted = fmt.percent(worst.observed, 1), fmt.percent(worst.predicted, 1)
    gap = f"{100 * check.max_gap:.1f} points of share"
    limit = f"{100 * check.threshold:.0f}"
    if check.passed:
        return (
            f"Predicted answers match the observed ones within {gap} at every answer "
            f"(the check allows {limit}); the largest gap is at answer {check.answer:g} ({where}): "
            f"{observed} answered it, the model predicts {predicted}."
        )
    return (
        f"The model's answers miss the observed ones: at answer {check.answer:g} ({where}) {observed} "
        f"answered, the model predicts {predicted}, a gap of {gap} (the check allows {limit}). "
        "Forecasts near that answer may be off."
    )


def _title(label: str, year: int, single_period: bool, panels: int) -> str:
    """A panel's title, wrapped to its width (about 20 characters a panel of five)."""
    text = label if single_period else f"{label}, {year}"
    return "\n".join(textwrap.wrap(text, max(12, 100 // panels)) or [""])


def answer_check_panels(check: AnswerCheck) -> list[tuple[str, int]]:
    """The channels and year the brief draws: every channel with answers in the year of the
    largest gap (that channel first), at most :data:`MAX_PANELS`."""
    others = [c for c in check.channels if c != check.channel and check.select(c, check.year)]
    return [(channel, check.year) for channel in [check.channel, *others][:MAX_PANELS]]


def answer_check_chart(
    check: AnswerCheck,
    label_of: Callable[[str], str] = str,
    single_period: bool = False,
) -> str:
    """Small multiples of observed (bars) and predicted (line) answer shares, one per channel of
    :func:`answer_check_panels`; the largest gap is marked.

    Parameters
    ----------
    check, label_of, single_period
        As :func:`answer_check_sentence`.

    Returns
    -------
    str
        An SVG data URI.
    """
    import matplotlib
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    panels = answer_check_panels(check)
    rc = {"font.family": "sans-serif", "font.sans-serif": FONTS, "svg.fonttype": "none"}
    with matplotlib.rc_context(rc):
        fig = Figure(figsize=(WIDTH, PANEL_HEIGHT), layout="constrained")
        axes = fig.subplots(1, len(panels), sharey=True, squeeze=False)[0]
        top = max(max(s.observed, s.predicted) for c, y in panels for s in check.select(c, y))
        titles = [_title(label_of(c), y, single_period, len(panels)) for c, y in panels]
        lines = max(t.count("\n") for t in titles)
        titles = [t + "\n" * (lines - t.count("\n")) for t in titles]
        for ax, (channel, year), title in zip(axes, panels, titles, strict=True):
            shares = check.select(channel, year)
            answers = [s.answer for s in shares]
            ax.bar(
                answers,
                [100 * s.observed for s in shares],
                width=0.8,
                color=PALETTE["band_light"],
                linewidth=0,
            )
            ax.plot(
                answers,
                [100 * s.predicted for s in shares],
                "-o",
                color=PALETTE["primary"],
                lw=1,
                ms=2.2,
            )
            if channel == check.channel and year == check.year:
                worst = check.worst
                ax.annotate(
                    "",
                    xy=(worst.answer, 100 * worst.predicted),
                    xytext=(worst.answer, 100 * worst.observed),
                    arrowprops={"arrowstyle": "-", "color": PALETTE["fix first"], "lw": 1.4},
                )
            ax.set_title(title, fontsize=6.5, loc="left", color=PALETTE["ink"])
            ax.set_ylim(0, 100 * top * 1.12)
            ax.set_xticks(answers[:: math.ceil(len(answers) * len(panels) / 30)])
            ax.tick_params(labelsize=6, colors=PALETTE["muted"], length=2)
            for side in ("top", "right"):
                ax.spines[side].set_visible(False)
            for side in ("left", "bottom"):
                ax.spines[side].set_color(PALETTE["muted"])
                ax.spines[side].set_linewidth(0.5)
        axes[0].set_ylabel("% of answers", fontsize=6.5, color=PALETTE["ink"])
        handles = [
            Patch(color=PALETTE["band_light"], label="Observed"),
            Line2D([], [], color=PALETTE["primary"], marker="o", ms=2.2, lw=1, label="Predicted"),
            Line2D([], [], color=PALETTE["fix first"], lw=1.4, label="Largest gap"),
        ]
        fig.legend(
            handles=handles,
            loc="outside right upper",
            frameon=False,
            fontsize=6,
            handlelength=1.2,
        )
        return figure_to_data_uri(fig)
