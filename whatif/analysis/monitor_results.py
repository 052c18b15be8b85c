"""Typed results of the monitor (:mod:`whatif.analysis.monitor`): the nowcast of every period and
channel, the KPI contributions, and the posterior draws behind them.

``Nowcast.to_dict()`` is the JSON of ``whatif monitor --format json``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from whatif.analysis.alerts import FiredAlert
from whatif.analysis.results import Estimate

__all__ = [
    "CANCEL",
    "COMPANY",
    "Contribution",
    "Nowcast",
    "NowcastDraws",
    "PeriodNowcast",
    "kpi_text",
    "metric_text",
]

#: The channel name of the company roll-up.
COMPANY = "company"
#: In a draw where the KPIs' parts of the linear predictor add up to less than this, the change
#: is split equally among the KPIs that moved.
CANCEL = 1e-12


@dataclass(frozen=True)
class Contribution:
    """One KPI's part of a period's change: its value, its baseline and its effect."""

    influencer: str
    kpi: float
    baseline: float
    effect: Estimate
    outside_range: bool = False

    def to_dict(self) -> dict:
        return {
            "influencer": self.influencer,
            "kpi": self.kpi,
            "baseline": self.baseline,
            "effect": self.effect.to_dict(),
        }


@dataclass(frozen=True)
class PeriodNowcast:
    """The nowcast of one period in one channel (or the company)."""

    period: str
    channel: str
    value: Estimate
    change: Estimate
    contributions: tuple[Contribution, ...]
    warnings: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict:
        return {
            "period": self.period,
            "channel": self.channel,
            "value": self.value.to_dict(),
            "change": self.change.to_dict(),
            "contributions": [c.to_dict() for c in self.contributions],
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True)
class Nowcast:
    """What ``whatif monitor`` reports: every period's nowcast and the alerts that fired.

    Attributes
    ----------
    metric, ci, baseline_year
        The metric (``mean``, ``top_box`` or ``nps``), the intervals' probability and the model's
        last observed year (the baseline).
    periods
        Per period (in feed order), each channel of the model, then the company.
    alerts
        Fired alerts, by period then in the alerts file's order.
    order, channels
        The periods in order, and the channels (the company last).
    """

    metric: str
    ci: float
    baseline_year: int
    periods: tuple[PeriodNowcast, ...]
    alerts: tuple[FiredAlert, ...] = ()
    order: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()

    @property
    def fired(self) -> bool:
        return bool(self.alerts)

    def series(self, channel: str) -> list[PeriodNowcast]:
        """One channel's (or the company's) nowcasts in period order."""
        return [p for p in self.periods if p.channel == channel]

    def to_dict(self) -> dict:
        """The JSON of ``whatif monitor --format json``."""
        return {
            "metric": self.metric,
            "ci": self.ci,
            "baseline_year": self.baseline_year,
            "periods": [p.to_dict() for p in self.periods],
            "alerts": [a.to_dict() for a in self.alerts],
        }


@dataclass
class NowcastDraws:
    """The posterior draws behind a :class:`Nowcast` (P periods, S draws, C channels, J KPIs).

    ``value`` and ``change`` map each metric to ``(P, C + 1, S)`` arrays, the company last;
    ``parts`` holds the linear predictor's part of each KPI ``(P, C, J, S)``; ``kpi`` the values
    used ``(P, C, J)`` (the baseline where the feed gives none), ``given`` where the feed gave
    one, ``moved`` where it differs from the baseline, ``outside`` where it is outside the
    fitted range; ``weights`` the company weights
    ``(P, C)``; ``warnings`` one list per period and channel, the company last.
    """

    periods: list[str]
    channels: list[str]
    influencers: list[str]
    value: dict[str, np.ndarray]
    change: dict[str, np.ndarray]
    parts: np.ndarray
    kpi: np.ndarray
    baseline_kpi: np.ndarray
    given: np.ndarray
    moved: np.ndarray
    outside: np.ndarray
    measured: np.ndarray
    weights: np.ndarray
    warnings: list[list[list[str]]]

    def contributions(self, metric: str) -> np.ndarray:
        """Each KPI's part of the change of ``metric`` per draw, ``(P, C + 1, J, S)``; they add
        up to the change in every draw (module docstring)."""
        change = self.change[metric][:, :-1]  # (P, C, S)
        total = self.parts.sum(axis=2)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(np.abs(total) > CANCEL, change / total, 0.0)
        out = self.parts * ratio[:, :, None, :]
        count = self.moved.sum(axis=2)  # (P, C)
        share = self.moved / np.maximum(count, 1)[..., None]
        out += (change - out.sum(axis=2))[:, :, None, :] * share[..., None]
        company = np.einsum("pc,pcjs->pjs", self.weights, out)
        return np.concatenate([out, company[:, None]], axis=1)


def kpi_text(value: float, binary: bool) -> str:
    """A KPI value in words for messages: a share as a percentage, else three digits."""
    return f"{100 * value:.1f}%" if binary else f"{value:.3g}"


def metric_text(value: float, metric: str) -> str:
    """A metric's level in words for messages: ``6.42``, ``41.3%`` or ``NPS 23``."""
    if metric == "top_box":
        return f"{100 * value:.1f}%"
    if metric == "nps":
        return f"{value:.1f}"
    return f"{value:.2f}"
