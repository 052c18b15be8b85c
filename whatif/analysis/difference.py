"""Two scenarios compared on the same posterior draws: B minus A, and the chance B beats A.

Both scenarios are simulated over the same posterior draws, so their difference is taken draw by
draw (draw ``s`` of B minus draw ``s`` of A). What the two share (the uncertain weights of a lever
both pull) cancels, and the interval of the difference is the honest one: narrower than the two
lifts' intervals suggest when the plans overlap, and exactly the lift of the extra lever when B is
A plus one lever. ``P(B beats A)`` is the share of draws in which B's lift is larger.

Metrics are read only through :meth:`~whatif.analysis.engine.ScenarioEngine.lift_arrays` (``mean``
in rating points, ``top_box`` in shares, ``nps`` in NPS points, as the model's rating scale
reports them).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from whatif.analysis.engine import ScenarioEngine
from whatif.analysis.results import Estimate, estimate, find_channel
from whatif.analysis.scenario import Scenario

__all__ = ["ChannelDifference", "ScenarioDifference", "scenario_difference"]

#: Metric -> (company key, per-channel key) of ``ScenarioEngine.lift_arrays``.
_KEYS = {
    "mean": ("company", "total"),
    "top_box": ("company_top_box", "top_box"),
    "nps": ("company_nps", "nps"),
}


@dataclass(frozen=True)
class ChannelDifference:
    """B minus A in one channel.

    Attributes
    ----------
    channel
        Channel id.
    metrics
        Metric name -> :class:`~whatif.analysis.results.Estimate` of B minus A, whose
        ``p_positive`` is P(B beats A).
    same
        The two scenarios change this channel identically (in every draw), e.g. neither touches it.
    """

    channel: str
    metrics: dict[str, Estimate] = field(default_factory=dict)
    same: bool = False

    def metric(self, name: str) -> Estimate:
        return self.metrics[name]

    def to_dict(self) -> dict:
        return {
            "same": self.same,
            **{name: _with_beats(e) for name, e in self.metrics.items()},
        }


@dataclass(frozen=True)
class ScenarioDifference:
    """Scenario B minus scenario A on paired posterior draws, for the company and each channel.

    Attributes
    ----------
    first, second
        The names of A and B.
    ci
        Probability of the intervals.
    company
        Metric name -> Estimate of B minus A for the company (channels weighted by volume);
        ``p_positive`` is P(B beats A).
    channels
        One :class:`ChannelDifference` per channel, in the model's order.
    same_metrics
        The company metrics in which the two scenarios agree in every draw.
    """

    first: str
    second: str
    ci: float
    company: dict[str, Estimate]
    channels: tuple[ChannelDifference, ...]
    same_metrics: tuple[str, ...] = ()

    @property
    def metrics(self) -> tuple[str, ...]:
        return tuple(self.company)

    @property
    def same(self) -> bool:
        """The two scenarios give the same lift, in every metric and draw."""
        return set(self.same_metrics) >= set(self.company)

    def metric(self, name: str) -> Estimate:
        """The company difference in ``name`` (``mean``, ``top_box`` or ``nps``)."""
        return self.company[name]

    def channel(self, channel: str) -> ChannelDifference:
        return find_channel(self.channels, channel)

    def to_dict(self) -> dict:
        return {
            "first": self.first,
            "second": self.second,
            "ci": self.ci,
            "same": self.same,
            "same_metrics": list(self.same_metrics),
            "company": {name: _with_beats(e) for name, e in self.company.items()},
            "channels": {c.channel: c.to_dict() for c in self.channels},
        }


def _with_beats(e: Estimate) -> dict:
    return {"mean": e.mean, "lo": e.lo, "hi": e.hi, "p_beats": e.p_positive}


def _identical(draws: np.ndarray) -> bool:
    return bool(np.all(np.abs(draws) <= 1e-12))


def scenario_difference(
    engine: ScenarioEngine, first: Scenario, second: Scenario, ci: float = 0.9
) -> ScenarioDifference:
    """Scenario ``second`` (B) minus ``first`` (A), draw by draw.

    Parameters
    ----------
    engine
        The model's prepared engine; both scenarios run on its draws.
    first, second
        A and B. Their years may differ (each is simulated for its own).
    ci
        Probability of the intervals.

    Raises
    ------
    ScenarioError
        When either scenario does not fit the model.
    """
    a, b = engine.lift_arrays(first), engine.lift_arrays(second)
    metrics = [m for m in engine.rating.metrics if _KEYS[m][0] in a and _KEYS[m][0] in b]
    company = {}
    for metric in metrics:
        company[metric] = estimate(b[_KEYS[metric][0]] - a[_KEYS[metric][0]], ci)
    channels = []
    for c, channel in enumerate(engine.channels):
        diffs = {m: b[_KEYS[m][1]][:, c] - a[_KEYS[m][1]][:, c] for m in metrics}
        channels.append(
            ChannelDifference(
                channel=channel,
                metrics={m: estimate(d, ci) for m, d in diffs.items()},
                same=all(_identical(d) for d in diffs.values()),
            )
        )
    same = tuple(m for m in metrics if _identical(b[_KEYS[m][0]] - a[_KEYS[m][0]]))
    return ScenarioDifference(first.name, second.name, ci, company, tuple(channels), same)
