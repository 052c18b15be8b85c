"""The rating scale as CX teams read it: top-box, NPS and the headline metric.

``[survey] top_box`` is the lowest answer counted as top-box (default: the two highest points of
the scale); ``bottom_box`` the highest answer counted as a detractor (default 6 on a 0-10 scale,
where NPS is the share answering ``top_box`` or more minus the share answering ``bottom_box`` or
less, in points from -100 to 100; on other scales NPS is reported only when ``bottom_box`` is
set). ``headline`` says which metric the app and the brief lead with (default: ``nps`` where NPS
is reported on a 0-10 scale, else ``mean``). ``likelihood`` chooses the model of the answers
(``ordinal`` or ``linear``; by default it follows the data, see :mod:`whatif.model`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "HEADLINES",
    "LIKELIHOODS",
    "METRICS",
    "RatingScale",
    "rating_scale",
]

#: Every metric whatif can report, in the order it reports them.
METRICS = ("mean", "top_box", "nps")
HEADLINES = METRICS
#: ``ordinal``: the rounded, interval-censored normal of whole-number answers;
#: ``linear``: the linear-Gaussian model of a continuous score.
LIKELIHOODS = ("ordinal", "linear")


@dataclass(frozen=True)
class RatingScale:
    """The resolved reading of a rating scale.

    Attributes
    ----------
    low, high
        The ends of the scale.
    top_box
        The lowest answer counted as top-box.
    bottom_box
        The highest answer counted as a detractor, or ``None`` where NPS is not reported.
    headline
        The metric the app and the brief lead with (one of :data:`METRICS`).
    """

    low: float
    high: float
    top_box: float
    bottom_box: float | None
    headline: str

    @property
    def nps(self) -> bool:
        """Whether NPS is reported on this scale."""
        return self.bottom_box is not None

    @property
    def metrics(self) -> tuple[str, ...]:
        """The metrics reported on this scale, in :data:`METRICS` order."""
        return tuple(m for m in METRICS if m != "nps" or self.nps)

    @property
    def top_box_label(self) -> str:
        """The answers counted as top-box, e.g. ``9-10``."""
        return f"{self.top_box:g}-{self.high:g}" if self.top_box < self.high else f"{self.high:g}"

    def classify(self, answers):
        """``(top, detractor)`` boolean masks of answers (detractor all False without NPS)."""
        answers = np.asarray(answers, float)
        top = answers >= self.top_box - 1e-9
        if self.bottom_box is None:
            return top, np.zeros_like(top)
        return top, answers <= self.bottom_box + 1e-9


def rating_scale(
    scale: tuple[float, float],
    top_box: Any = None,
    bottom_box: Any = None,
    headline: Any = None,
    bad=None,
) -> RatingScale:
    """Validate the ``[survey]`` keys ``top_box``, ``bottom_box`` and ``headline``.

    Parameters
    ----------
    scale
        ``(low, high)`` of the scale.
    top_box, bottom_box, headline
        The raw TOML values, ``None`` when absent.
    bad
        The spec's problem callback (one-line problems); ``None`` raises ``ValueError``.
    """

    def report(message: str) -> None:
        if bad is None:
            raise ValueError(message)
        bad(message)

    low, high = scale
    zero_to_ten = (low, high) == (0.0, 10.0)
    span = f"the scale [{low:g}, {high:g}]"
    top = high - 1.0 if high - 1.0 >= low else high
    if top_box is not None:
        if not _number(top_box) or not low < top_box <= high:
            report(
                f"'survey.top_box' must be an answer above the bottom of {span} (the lowest "
                f"answer counted as top-box, e.g. {high - 1:g}); got {top_box!r}"
            )
        else:
            top = float(top_box)
    bottom = 6.0 if zero_to_ten else None
    if bottom_box is not None:
        if not _number(bottom_box) or not low <= bottom_box < top:
            report(
                f"'survey.bottom_box' must be an answer of {span} below top_box {top:g} (the "
                f"highest answer counted as a detractor, e.g. 6 on 0-10); got {bottom_box!r}"
            )
        else:
            bottom = float(bottom_box)
    if bottom is not None and bottom >= top:
        report(
            f"'survey.top_box' {top:g} must be above bottom_box {bottom:g}; "
            "raise top_box or set bottom_box lower"
        )
        bottom = None
    default = "nps" if bottom is not None and zero_to_ten else "mean"
    lead = default
    if headline is not None:
        if headline not in HEADLINES:
            report(f"'survey.headline' must be one of {', '.join(HEADLINES)}; got {headline!r}")
        elif headline == "nps" and bottom is None:
            report(
                f"'survey.headline' is nps, but NPS is off on {span}; "
                "set 'survey.bottom_box' (the highest detractor answer) or choose mean or top_box"
            )
        else:
            lead = headline
    return RatingScale(low=low, high=high, top_box=top, bottom_box=bottom, headline=lead)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
