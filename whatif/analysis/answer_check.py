"""The posterior predictive check of a fitted model, as a result the command line, the brief and
the app present: for each channel and year, the share of answers observed at every point of the
rating scale next to the share the model predicts, and the largest gap between them.

The predicted shares are :func:`whatif.fitting.ppc.predicted_shares` of the model's posterior and
aggregates; the observed ones are the aggregates' ``answer_share``. The largest gap and whether it
passes are the fit's own record (``ppc_*`` in the diagnostics, which the health verdict reads), so
every view states the same gap the verdict does; a model saved without that record gets it
computed by :func:`whatif.fitting.ppc.answer_check`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from whatif.fitting.fitted import FittedModel
from whatif.fitting.ppc import MAX_GAP, answer_check, predicted_shares

__all__ = ["AnswerCheck", "AnswerShare", "check_answers"]


@dataclass(frozen=True)
class AnswerShare:
    """Observed and predicted share of the answers of one channel and year at one answer."""

    channel: str
    year: int
    answer: float
    observed: float
    predicted: float

    @property
    def gap(self) -> float:
        """Predicted minus observed share (positive: the model predicts too many)."""
        return self.predicted - self.observed

    def to_dict(self) -> dict:
        return {
            "channel": self.channel,
            "year": self.year,
            "answer": self.answer,
            "observed": self.observed,
            "predicted": self.predicted,
        }


@dataclass(frozen=True)
class AnswerCheck:
    """Predicted against observed answer shares, and the largest gap between them.

    Attributes
    ----------
    max_gap
        The largest absolute gap between a predicted and an observed share (0.05 = 5 points of
        share), over channels, years with answers, and answers.
    channel, year, answer
        Where the largest gap is.
    passed
        Whether ``max_gap`` is within ``threshold``.
    threshold
        The largest gap a fit passes with (:data:`whatif.fitting.ppc.MAX_GAP`).
    shares
        Every channel, year (with answers) and answer, in that order.
    """

    max_gap: float
    channel: str
    year: int
    answer: float
    passed: bool
    threshold: float
    shares: tuple[AnswerShare, ...]

    @property
    def channels(self) -> list[str]:
        return list(dict.fromkeys(s.channel for s in self.shares))

    @property
    def years(self) -> list[int]:
        return sorted({s.year for s in self.shares})

    def years_of(self, channel: str) -> list[int]:
        """The years in which ``channel`` has answers."""
        return sorted({s.year for s in self.shares if s.channel == channel})

    def select(self, channel: str, year: int) -> list[AnswerShare]:
        """The shares of one channel and year, by answer."""
        return [s for s in self.shares if s.channel == channel and s.year == year]

    @property
    def worst(self) -> AnswerShare:
        """The share with the largest gap."""
        return next(
            s for s in self.select(self.channel, self.year) if np.isclose(s.answer, self.answer)
        )

    def frame(self) -> pd.DataFrame:
        """The shares as a table: channel, year, answer, observed, predicted."""
        return pd.DataFrame([s.to_dict() for s in self.shares])

    def to_dict(self) -> dict:
        return {
            "max_gap": self.max_gap,
            "channel": self.channel,
            "year": self.year,
            "answer": self.answer,
            "passed": self.passed,
            "threshold": self.threshold,
            "shares": [s.to_dict() for s in self.shares],
        }

    @classmethod
    def from_dict(cls, data: dict) -> AnswerCheck:
        """The check back from :meth:`to_dict` (the ``answer_check`` of ``whatif summary``)."""
        fields = {k: v for k, v in data.items() if k != "shares"}
        return cls(**fields, shares=tuple(AnswerShare(**s) for s in data["shares"]))


def check_answers(model: FittedModel) -> AnswerCheck | None:
    """The posterior predictive check of ``model`` on the scale of answers.

    Parameters
    ----------
    model
        A fitted or loaded model.

    Returns
    -------
    AnswerCheck or None
        ``None`` when the model has no observed answer shares (answers that are not whole numbers
        on the scale) or no respondent sample to predict them from.
    """
    aggregates = model.aggregates
    predicted = predicted_shares(model.posterior, aggregates)
    if predicted is None or "answer_share" not in aggregates:
        return None
    record = model.diagnostics if "ppc_max_gap" in model.diagnostics else None
    record = record or answer_check(model.posterior, aggregates)
    if not record:
        return None
    observed = aggregates["answer_share"].transpose("channel", "year", "answer").to_numpy()
    predicted = predicted.transpose("channel", "year", "answer").to_numpy()
    answered = aggregates["n"].transpose("channel", "year").to_numpy() > 0
    answers = aggregates["answer"].to_numpy().astype(float)
    years = aggregates["year"].to_numpy().astype(int)
    shares = tuple(
        AnswerShare(str(channel), int(years[t]), float(a), float(observed[c, t, i]), float(p))
        for c, channel in enumerate(aggregates["channel"].to_numpy())
        for t in range(len(years))
        if answered[c, t]
        for i, (a, p) in enumerate(zip(answers, predicted[c, t], strict=True))
    )
    return AnswerCheck(
        max_gap=float(record["ppc_max_gap"]),
        channel=str(record["ppc_channel"]),
        year=int(record["ppc_year"]),
        answer=float(record["ppc_answer"]),
        passed=bool(record["ppc_passed"]),
        threshold=MAX_GAP,
        shares=shares,
    )
