"""The priority map: driver importance (weight) against performance (mean rating).

One rule places every point, shades the zone and gives each P(fix first). Per channel and year,
over the measured drivers:

* the **importance border** is the median of the drivers' posterior median weights, and the
  **performance border** the average of their mean ratings (:class:`PriorityBorders`);
* a driver is *important* with probability ``P(weight > importance border)`` and *performs
  poorly* when its mean rating (observed, not uncertain) is below the performance border;
* its quadrant is the more probable one, so it is drawn at its posterior median weight: above the
  border only when P(important) >= 0.5. ``p_fix_first`` is P(important) for a poor performer
  and 0 otherwise; the shaded fix-first zone is the box above and left of the two borders.

The app and the brief draw :class:`whatif.analysis.results.PriorityMap` as it is.
"""

from __future__ import annotations

import numpy as np

from whatif.analysis.results import PriorityBorders, PriorityMap, PriorityPoint
from whatif.data.moments import group_means, interval
from whatif.fitting.fitted import FittedModel

__all__ = ["QUADRANTS", "priority_map"]

QUADRANTS = {
    (True, True): "fix first",
    (True, False): "maintain",
    (False, True): "monitor",
    (False, False): "lower priority",
}


def priority_map(model: FittedModel, ci: float = 0.9, channel: str | None = None) -> PriorityMap:
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
    PriorityMap
        Points (weight mean, median and interval, performance, P(important), P(fix first),
        quadrant) and the borders of every channel and year.
    """
    weights = model.draws("weights").to_numpy()  # (sample, channel, year, driver)
    means = group_means(model.aggregates)
    drivers = [str(d) for d in model.aggregates["driver"].to_numpy()]
    performance = (
        means.sel(term=drivers).rename(term="driver").transpose("channel", "year", "driver")
    ).to_numpy()
    measured = model.aggregates["driver_measured"].to_numpy()
    points, borders = [], []
    for c, ch in enumerate(model.channels):
        if channel is not None and ch != channel:
            continue
        keep = np.flatnonzero(measured[c])
        if keep.size == 0:
            continue
        for t, year in enumerate(model.years):
            draws = weights[:, c, t][:, keep]  # (sample, k)
            median = np.median(draws, axis=0)
            border = PriorityBorders(
                channel=ch,
                year=year,
                importance=float(np.median(median)),
                performance=float(performance[c, t, keep].mean()),
            )
            borders.append(border)
            p_high = (draws > border.importance).mean(axis=0)
            lo, hi = interval(draws, ci)
            for i, k in enumerate(keep):
                perf = float(performance[c, t, k])
                low = perf < border.performance
                high = bool(median[i] > border.importance)
                points.append(
                    PriorityPoint(
                        channel=ch,
                        year=year,
                        driver=drivers[k],
                        label=model.spec.label_of(drivers[k]),
                        weight=float(draws[:, i].mean()),
                        median=float(median[i]),
                        lo=float(lo[i]),
                        hi=float(hi[i]),
                        performance=perf,
                        p_high_importance=float(p_high[i]),
                        low_performance=bool(low),
                        p_fix_first=float(p_high[i]) if low else 0.0,
                        quadrant=QUADRANTS[(high, bool(low))],
                    )
                )
    return PriorityMap(ci, tuple(points), tuple(borders))
