"""The reported metrics in words: which one leads, what each is called, and the text of a lift.

A rating scale reports mean satisfaction and the top-box share, and NPS where the spec's rating
reports it (:attr:`whatif.data.rating.RatingScale.nps`); its ``headline`` metric leads and the
others follow in :data:`whatif.data.rating.METRICS` order. The command line, the brief and the
app order and name the metrics here, and write their numbers through :mod:`whatif.report.format`.
"""

from __future__ import annotations

from dataclasses import dataclass

from whatif.analysis.results import ChannelLift, Estimate, LiftSummary
from whatif.data.rating import METRICS, RatingScale
from whatif.report import format as fmt

__all__ = [
    "SHORT_LABELS",
    "MetricText",
    "UNIT_WORDS",
    "lift_texts",
    "metric_label",
    "ordered_metrics",
]

#: The unit of a change of each metric, in words (for headings and notes).
UNIT_WORDS = {"mean": "rating points", "top_box": "percentage points", "nps": "NPS points"}

#: A metric's name where space is short (a channel card, a column).
SHORT_LABELS = {"mean": "Mean", "top_box": "Top-box", "nps": "NPS"}


def ordered_metrics(rating: RatingScale) -> tuple[str, ...]:
    """The metrics ``rating`` reports, its headline metric first.

    After a headline mean come top-box and NPS; after a headline NPS or top-box, the shares of
    answers come before the mean (NPS, top-box, mean), as CX teams read them.
    """
    follow = METRICS if rating.headline == "mean" else tuple(reversed(METRICS))
    return (rating.headline,) + tuple(
        m for m in follow if m in rating.metrics and m != rating.headline
    )


def metric_label(metric: str, rating: RatingScale) -> str:
    """What a metric is called: ``NPS``, ``Top-box share (9-10)``, ``Mean satisfaction``."""
    labels = {
        "mean": "Mean satisfaction",
        "top_box": f"Top-box share ({rating.top_box_label})",
        "nps": "NPS",
    }
    return labels[metric]


@dataclass(frozen=True)
class MetricText:
    """The lift of one metric in words.

    Attributes
    ----------
    metric, label
        The metric's name (``mean``, ``top_box``, ``nps``) and what it is called.
    value
        The mean change with its unit (``+2.4 NPS points``).
    interval
        Its interval with the unit written once (``+1.1 to +3.8 NPS points``).
    probability
        P(change > 0) as people read it (``97%``), ``None`` where the lift has none (top-box).
    estimate
        The numbers written.
    """

    metric: str
    label: str
    value: str
    interval: str
    probability: str | None
    estimate: Estimate

    def to_dict(self) -> dict:
        return {**self.__dict__, "estimate": self.estimate.to_dict()}


def lift_texts(
    lift: LiftSummary | ChannelLift, rating: RatingScale, minus: str = fmt.MINUS
) -> tuple[MetricText, ...]:
    """Every reported metric's lift in words, the headline metric first.

    Parameters
    ----------
    lift
        A scenario's company lift (:class:`LiftSummary`) or one channel's (:class:`ChannelLift`).
    rating
        The spec's rating scale (``model.spec.rating``).
    minus
        The minus sign (``"-"`` for plain text).
    """
    out = []
    for metric in ordered_metrics(rating):
        e = lift.metric(metric)
        out.append(
            MetricText(
                metric=metric,
                label=metric_label(metric, rating),
                value=fmt.change(metric, e.mean, minus=minus),
                interval=fmt.change_interval(metric, e.lo, e.hi, minus=minus),
                probability=None if e.p_positive is None else fmt.probability(e.p_positive),
                estimate=e,
            )
        )
    return tuple(out)
