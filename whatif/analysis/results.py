"""Typed results of the analysis layer: frozen dataclasses with ``to_dict()`` for JSON.

The analysis computes them once; the command line, the brief and the app only present them.
``to_dict()`` gives the JSON shapes that ``whatif simulate`` and ``whatif priorities`` print.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from whatif.data.moments import interval

__all__ = [
    "ChannelLift",
    "Estimate",
    "LiftSummary",
    "PriorityBorders",
    "PriorityMap",
    "PriorityPoint",
    "estimate",
    "estimates",
    "find_channel",
]


@dataclass(frozen=True)
class Estimate:
    """A posterior summary of one quantity: mean, equal-tailed interval and, for a change,
    the probability that it is positive."""

    mean: float
    lo: float
    hi: float
    p_positive: float | None = None

    def to_dict(self) -> dict:
        out = {"mean": self.mean, "lo": self.lo, "hi": self.hi}
        if self.p_positive is not None:
            out["p_positive"] = self.p_positive
        return out


def estimate(draws: np.ndarray, ci: float, change: bool = True) -> Estimate:
    """:class:`Estimate` of posterior draws (``p_positive`` only for a ``change``)."""
    return estimates(np.asarray(draws, float).reshape(-1, 1), ci, change)[0]


def estimates(draws: np.ndarray, ci: float, change: bool = True) -> list[Estimate]:
    """:func:`estimate` of each column of ``draws`` ``(S, C)``, the same numbers from one
    interval call (a lever move summarizes every channel's metrics)."""
    columns = np.ascontiguousarray(np.asarray(draws, float).T)  # each column's sum as estimate's
    lo, hi = interval(columns, ci, axis=1)
    means = columns.mean(axis=1)
    positive = (columns > 0).mean(axis=1) if change else [None] * len(columns)
    return [
        Estimate(
            mean=float(m), lo=float(a), hi=float(b), p_positive=None if p is None else float(p)
        )
        for m, a, b, p in zip(means, lo, hi, positive, strict=True)
    ]


@dataclass(frozen=True)
class ChannelLift:
    """The lift of a scenario in one channel.

    Attributes
    ----------
    channel
        Channel id.
    lift
        Lift in mean satisfaction (points), with P(lift > 0).
    direct, indirect
        Posterior means of the direct part and the part through the drivers.
    baseline
        Posterior mean satisfaction without the scenario.
    volume
        The channel's share of contacts in the company roll-up.
    top_box
        Lift of the top-box share (0.05 = 5 percentage points).
    affected
        Whether a lever moves any influencer or driver in this channel.
    nps
        Lift of NPS in points, with P(lift > 0); ``None`` where the scale reports no NPS.
    """

    channel: str
    lift: Estimate
    direct: float
    indirect: float
    baseline: float
    volume: float
    top_box: Estimate
    affected: bool = True
    nps: Estimate | None = None

    def metric(self, metric: str) -> Estimate:
        """The lift in ``metric`` (``mean``, ``top_box`` or ``nps``)."""
        return _metric(self, metric)

    def to_dict(self) -> dict:
        out = {
            **self.lift.to_dict(),
            "direct": self.direct,
            "indirect": self.indirect,
            "baseline": self.baseline,
            "volume": self.volume,
            "top_box": self.top_box.to_dict(),
        }
        if self.nps is not None:
            out["nps"] = self.nps.to_dict()
        return out


@dataclass(frozen=True)
class LiftSummary:
    """What ``whatif simulate`` reports of one scenario: company and per-channel lift.

    Attributes
    ----------
    scenario, year, ci
        Scenario name, the year it is for and the probability of the intervals.
    total
        Company lift in mean satisfaction (channels weighted by volume), with P(lift > 0).
    top_box
        Company lift of the top-box share.
    channels
        One :class:`ChannelLift` per channel, in the model's order.
    warnings
        Notes on the forecast (levers beyond the observed range, a forecast off the rating
        scale, a flagged fit ...).
    single_period
        The survey had no year column: ``year`` is its one period's stored value, not a year.
    nps
        Company lift of NPS in points, with P(lift > 0); ``None`` where the scale reports no NPS.
    """

    scenario: str
    year: int
    ci: float
    total: Estimate
    top_box: Estimate
    channels: tuple[ChannelLift, ...]
    warnings: tuple[str, ...] = field(default_factory=tuple)
    single_period: bool = False
    nps: Estimate | None = None

    def metric(self, metric: str) -> Estimate:
        """The company lift in ``metric`` (``mean``, ``top_box`` or ``nps``)."""
        return _metric(self, metric)

    def channel(self, channel: str) -> ChannelLift:
        return find_channel(self.channels, channel)

    def to_dict(self) -> dict:
        """The JSON shape of ``whatif simulate --format json``."""
        return {
            "scenario": self.scenario,
            "year": self.year,
            "ci": self.ci,
            "total": self.total.to_dict(),
            "channels": {c.channel: c.to_dict() for c in self.channels},
            "top_box": {"total": self.top_box.to_dict()},
            **({"nps": {"total": self.nps.to_dict()}} if self.nps is not None else {}),
            "warnings": list(self.warnings),
            "single_period": self.single_period,
        }


def find_channel(entries, channel: str):
    """The entry of ``channel`` among per-channel results (anything with a ``channel``)."""
    for entry in entries:
        if entry.channel == channel:
            return entry
    raise KeyError(channel)


def _metric(lift: LiftSummary | ChannelLift, metric: str) -> Estimate:
    value = {"mean": lift.total if isinstance(lift, LiftSummary) else lift.lift}.get(metric)
    if metric in ("top_box", "nps"):
        value = getattr(lift, metric)
    if value is None:
        raise KeyError(f"no {metric} lift: the scale reports no NPS" if metric == "nps" else metric)
    return value


@dataclass(frozen=True)
class PriorityPoint:
    """One driver on the priority map of a channel and year."""

    channel: str
    year: int
    driver: str
    label: str
    weight: float  # posterior mean
    median: float  # posterior median: where the point is drawn (see whatif.analysis.priorities)
    lo: float
    hi: float
    performance: float  # mean rating
    p_high_importance: float
    low_performance: bool
    p_fix_first: float
    quadrant: str

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass(frozen=True)
class PriorityBorders:
    """The quadrant borders of one channel and year: a driver is important when its weight is
    above ``importance`` and performs poorly when its mean rating is below ``performance``."""

    channel: str
    year: int
    importance: float
    performance: float

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass(frozen=True)
class PriorityMap:
    """The priority map: every measured driver's importance against its performance.

    The quadrants, the shaded fix-first zone and each point's P(fix first) all come from the same
    :class:`PriorityBorders`, so a point's color and the zone it is drawn in always agree.
    """

    ci: float
    points: tuple[PriorityPoint, ...]
    borders: tuple[PriorityBorders, ...]

    def border(self, channel: str, year: int) -> PriorityBorders:
        for b in self.borders:
            if b.channel == channel and b.year == year:
                return b
        raise KeyError((channel, year))

    def select(self, channel: str | None = None, year: int | None = None) -> PriorityMap:
        """The points and borders of one channel and/or year."""

        def keep(item) -> bool:
            return (channel is None or item.channel == channel) and (
                year is None or item.year == year
            )

        return PriorityMap(
            self.ci,
            tuple(p for p in self.points if keep(p)),
            tuple(b for b in self.borders if keep(b)),
        )

    def to_frame(self) -> pd.DataFrame:
        """One row per point (the columns of :class:`PriorityPoint`)."""
        columns = list(PriorityPoint.__dataclass_fields__)
        return pd.DataFrame([p.to_dict() for p in self.points], columns=columns)

    def to_dict(self) -> dict:
        return {
            "ci": self.ci,
            "points": [p.to_dict() for p in self.points],
            "borders": [b.to_dict() for b in self.borders],
        }
