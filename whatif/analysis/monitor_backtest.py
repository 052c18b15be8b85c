"""Backtest the monitor: did the nowcasts of a year's periods cover what its survey then measured?

For each channel that the new survey holds in a year after the model's last, the nowcasts of the
feed's periods in that year (a period's year is read from its date form, ``2026-03`` -> 2026)
are averaged, periods weighing alike, into a nowcast of the year's mean satisfaction per draw. The
survey's mean is a sample of ``n`` responses, so the predictive draw adds its sampling error,
``N(0, var / n)`` with the survey's own weighted variance of the outcome in that channel and year.
The channel is *covered* when the survey's mean lies inside the predictive interval.

The interval holds parameter uncertainty, the next year's weight drift and the survey's sampling
error; it does not hold a change of the year's level that no KPI explains (the model fits a free
level per year), so a miss says the KPIs in the feed did not account for the year's change.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import xarray as xr

from whatif.analysis.monitor_results import NowcastDraws
from whatif.analysis.results import Estimate
from whatif.data.kpi_blocks import period_year
from whatif.data.moments import group_covariance, group_means, interval

__all__ = ["Backtest", "BacktestRow", "backtest_nowcast"]


@dataclass(frozen=True)
class BacktestRow:
    """One channel and year: the nowcast of its mean satisfaction against the survey's."""

    channel: str
    year: int
    periods: int
    nowcast: Estimate
    observed: float
    n: int
    inside: bool

    def to_dict(self) -> dict:
        return {**self.__dict__, "nowcast": self.nowcast.to_dict()}


@dataclass(frozen=True)
class Backtest:
    """The backtest of a feed's nowcasts against a new survey."""

    source: str
    ci: float
    rows: tuple[BacktestRow, ...]
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def covered(self) -> int:
        return sum(r.inside for r in self.rows)

    def to_dict(self) -> dict:
        return {
            "source": self.source,
            "ci": self.ci,
            "rows": [r.to_dict() for r in self.rows],
            "covered": self.covered,
            "notes": list(self.notes),
        }


def backtest_nowcast(
    draws: NowcastDraws,
    aggregates: xr.Dataset,
    baseline_year: int,
    *,
    ci: float = 0.9,
    seed: int = 0,
    source: str = "<survey>",
) -> Backtest:
    """Backtest nowcasts of mean satisfaction against a later survey (module docstring).

    Parameters
    ----------
    draws
        :meth:`whatif.analysis.monitor.Monitor.draws` of the feed.
    aggregates
        The new survey's aggregates (:func:`whatif.data.aggregate.aggregate`).
    baseline_year
        The model's last observed year; only later years are backtested.
    ci, seed
        Probability of the predictive intervals, and the seed of the sampling-error draws.
    source
        The survey's name in messages.
    """
    rng = np.random.default_rng(seed)
    notes: list[str] = []
    years = [int(y) for y in aggregates["year"].to_numpy() if int(y) > baseline_year]
    if not years:
        notes.append(
            f"no backtest: {source} holds no year after the model's last ({baseline_year})"
        )
        return Backtest(source, ci, (), tuple(notes))
    period_years = np.array([period_year(p) or -1 for p in draws.periods])
    means = group_means(aggregates).sel(term="outcome")
    variance = group_covariance(aggregates).sel(term="outcome", term_="outcome")
    survey_channels = [str(c) for c in aggregates["channel"].to_numpy()]
    rows = []
    for year in years:
        in_year = np.flatnonzero(period_years == year)
        if in_year.size == 0:
            notes.append(f"no period of the feed falls in {year}, so {year} is not backtested")
            continue
        for c, channel in enumerate(draws.channels):
            if channel not in survey_channels:
                continue
            n = int(aggregates["n"].sel(channel=channel, year=year))
            if n == 0:
                continue
            level = draws.value["mean"][in_year, c].mean(axis=0)  # (S,)
            sd = float(np.sqrt(variance.sel(channel=channel, year=year) / n))
            predictive = level + sd * rng.standard_normal(level.shape)
            lo, hi = interval(predictive, ci)
            observed = float(means.sel(channel=channel, year=year))
            rows.append(
                BacktestRow(
                    channel,
                    year,
                    int(in_year.size),
                    Estimate(float(predictive.mean()), float(lo), float(hi)),
                    observed,
                    n,
                    bool(lo <= observed <= hi),
                )
            )
    return Backtest(source, ci, tuple(rows), tuple(notes))
