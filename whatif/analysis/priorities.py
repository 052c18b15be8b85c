"""The priority map: driver importance (weight) against performance (mean rating).

A driver sits in the *fix first* quadrant of a channel and year when its weight is above the
median weight of that channel's measured drivers (high importance) and its mean rating is below
their average rating (low performance). Performance is observed; importance is uncertain, so the
map reports the posterior probability of high importance and, for low performers, of fix first.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from whatif.data.moments import group_means, interval
from whatif.fitting.fitted import FittedModel

__all__ = ["QUADRANTS", "priority_map"]

QUADRANTS = {
    (True, True): "fix first",
    (True, False): "maintain",
    (False, True): "monitor",
    (False, False): "lower priority",
}


def priority_map(model: FittedModel, ci: float = 0.9, channel: str | None = None) -> pd.DataFrame:
    """Importance vs performance for every channel, year and measured driver.

    Parameters
    ----------
    model
        A fitted or loaded model.
    ci
        Probability of the weight intervals.
    channel
        Only this channel (default: all).

    Returns
    -------
    pandas.DataFrame
        Columns channel, year, driver, label, weight (mean), lo, hi, performance (mean rating),
        p_high_importance, low_performance, p_fix_first, quadrant (the most probable one).
    """
    weights = model.draws("weights")  # (sample, channel, year, driver)
    means = group_means(model.aggregates)
    drivers = [str(d) for d in model.aggregates["driver"].to_numpy()]
    performance = (
        means.sel(term=drivers).rename(term="driver").transpose("channel", "year", "driver")
    )
    measured = model.aggregates["driver_measured"].to_numpy()
    w = weights.to_numpy()
    rows = []
    channels = [str(c) for c in model.aggregates["channel"].to_numpy()]
    years = [int(y) for y in model.aggregates["year"].to_numpy()]
    for c, ch in enumerate(channels):
        if channel is not None and ch != channel:
            continue
        keep = np.flatnonzero(measured[c])
        for t, year in enumerate(years):
            draws = w[:, c, t][:, keep]  # (sample, k)
            median = np.median(draws, axis=1, keepdims=True)
            high = draws > median
            perf = performance.to_numpy()[c, t, keep]
            low_perf = perf < perf.mean()
            lo, hi = interval(draws, ci)
            for i, k in enumerate(keep):
                p_high = float(high[:, i].mean())
                rows.append(
                    {
                        "channel": ch,
                        "year": year,
                        "driver": drivers[k],
                        "label": model.spec.label_of(drivers[k]),
                        "weight": float(draws[:, i].mean()),
                        "lo": float(lo[i]),
                        "hi": float(hi[i]),
                        "performance": float(perf[i]),
                        "p_high_importance": p_high,
                        "low_performance": bool(low_perf[i]),
                        "p_fix_first": p_high if low_perf[i] else 0.0,
                        "quadrant": QUADRANTS[(p_high >= 0.5, bool(low_perf[i]))],
                    }
                )
    return pd.DataFrame(rows)
