"""The forecast's metrics as the planner shows them: the headline metric first, every reported
metric's lift with its interval, and each metric's level before the change.

No widgets here: :class:`~whatif.app.state.PlannerState` and the views (the headline cards and the
forecast table) read these. The numbers are the forecast's (:class:`LiftSummary`) and the lift
draws' baseline keys (``baseline``, ``baseline_top_box``, ``baseline_nps``); the words come from
:mod:`whatif.report.metrics` and :mod:`whatif.report.format`.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from whatif.analysis.results import LiftSummary
from whatif.data.rating import RatingScale
from whatif.report import format as fmt
from whatif.report.metrics import (
    SHORT_LABELS,
    MetricText,
    lift_texts,
    metric_label,
    ordered_metrics,
)

__all__ = ["BASELINE_KEYS", "baseline_levels", "forecast_table", "metric_texts"]

#: The lift draws' variable holding each metric's level before the change (sample, channel).
BASELINE_KEYS = {"mean": "baseline", "top_box": "baseline_top_box", "nps": "baseline_nps"}


def metric_texts(
    forecast: LiftSummary, rating: RatingScale, channel: str | None = None
) -> tuple[MetricText, ...]:
    """Every reported metric's lift in words, the headline metric first: the company's, or
    ``channel``'s."""
    return lift_texts(forecast if channel is None else forecast.channel(channel), rating)


def baseline_levels(
    lift: xr.Dataset, rating: RatingScale, channel: str | None = None
) -> dict[str, float]:
    """Each reported metric's posterior mean level before the change (headline first): the
    company's (channels weighted by volume, as the lift is) or ``channel``'s."""
    return _levels(_baseline_means(lift, rating), _weights(lift, channel))


def _baseline_means(lift: xr.Dataset, rating: RatingScale) -> dict[str, np.ndarray]:
    """Each reported metric's posterior mean level before the change in each channel."""
    return {
        metric: _channel_means(lift, BASELINE_KEYS[metric]) for metric in ordered_metrics(rating)
    }


def _levels(means: dict[str, np.ndarray], weights: np.ndarray) -> dict[str, float]:
    return {metric: float(values @ weights) for metric, values in means.items()}


def _channel_means(lift: xr.Dataset, name: str) -> np.ndarray:
    """The posterior mean of ``lift[name]`` in each channel (plain NumPy: this runs on every
    lever move, where xarray's bookkeeping cost more than the sums)."""
    draws = lift.variables[name]
    return draws.values.mean(axis=draws.dims.index("sample"))


def _weights(lift: xr.Dataset, channel: str | None) -> np.ndarray:
    """The channels' weights of the company's figure (volumes), or one channel's alone."""
    if channel is None:
        return lift.variables["volume"].values
    return (lift.variables["channel"].values == channel).astype(float)


def forecast_table(
    forecast: LiftSummary,
    lift: xr.Dataset,
    rating: RatingScale,
    channels: list[str],
    label=str,
) -> tuple[list[str], list[list[str]]]:
    """The forecast tab's table: ``(header, rows)``, the company first, then one row a channel.

    The headline metric leads: its level now, lift, interval and probability of a rise; then
    every other metric's lift with its interval; then the direct part of the mean lift and the
    part through the drivers. ``label`` names a channel.
    """
    pct = f"{forecast.ci:.0%}"
    head, *others = ordered_metrics(rating)
    header = [
        "Channel",
        "Volume",
        f"{metric_label(head, rating)} now",
        f"{SHORT_LABELS[head]} lift",
        f"{pct} interval",
        "P(lift > 0)",
        *(f"{metric_label(m, rating)} lift [{pct}]" for m in others),
        "Direct (mean)",
        "Via drivers (mean)",
    ]

    def lift_cells(entry) -> list[str]:
        texts = {t.metric: t for t in lift_texts(entry, rating)}
        lead = texts[head]
        return [
            lead.value,
            lead.interval,
            lead.probability or "",
            *(f"{texts[m].value} {_bare_interval(texts[m])}" for m in others),
        ]

    means = _baseline_means(lift, rating)  # once: the table reads them for every channel
    company = _levels(means, _weights(lift, None))
    rows = [
        [
            "Company (volume-weighted)",
            "100%",
            fmt.level(head, company[head]),
            *lift_cells(forecast),
            *_company_parts(lift),
        ]
    ]
    for channel in channels:
        entry = forecast.channel(channel)
        now = [label(channel), fmt.percent(entry.volume)]
        now.append(fmt.level(head, _levels(means, _weights(lift, channel))[head]))
        if not entry.affected:
            rows.append(now + [fmt.NOT_AFFECTED] + [""] * (len(header) - 4))
            continue
        parts = [fmt.points(entry.direct), fmt.points(entry.indirect)]
        rows.append(now + lift_cells(entry) + parts)
    return header, rows


def _bare_interval(text: MetricText) -> str:
    e = text.estimate
    return fmt.change_interval(text.metric, e.lo, e.hi, style="brackets", unit=False)


def _company_parts(lift: xr.Dataset) -> list[str]:
    """The company's direct and via-drivers parts of the mean lift (volume-weighted means)."""
    return [
        fmt.points(float(_channel_means(lift, part) @ _weights(lift, None)))
        for part in ("direct", "indirect")
    ]
