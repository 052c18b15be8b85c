"""Warnings for forecasts that leave the rating scale or near its end (a linear model does not
see the end of the scale, so a lift there is overstated)."""

from __future__ import annotations

import numpy as np

__all__ = ["SCALE_MARGIN", "scale_warnings"]

#: A channel's forecast mean within this share of the scale's span of the end it moves towards
#: (0.45 points on 1-10) is warned about, as well as one beyond the scale.
SCALE_MARGIN = 0.05


def scale_warnings(
    labels: list[str],
    baseline: np.ndarray,
    lift: np.ndarray,
    scale: tuple[float, float],
    margin: float = SCALE_MARGIN,
) -> list[str]:
    """Warnings for channels whose forecast mean leaves the rating scale or nears its end.

    Parameters
    ----------
    labels
        Channel labels, one per entry of ``baseline`` and ``lift`` (channels a lever moves).
    baseline, lift
        Posterior mean satisfaction without the scenario and the posterior mean lift.
    scale
        ``(low, high)`` of the rating scale.
    margin
        Share of the scale's span: a forecast this near the end it moves towards is warned about.

    Returns
    -------
    list of str
        One warning per channel concerned, in the order given.
    """
    low, high = scale
    near = margin * (high - low)
    where = f"the rating scale [{low:g}, {high:g}]"
    out = []
    for label, base, change in zip(labels, baseline, lift, strict=True):
        forecast = base + change
        told = (
            f"{label}: the forecast mean satisfaction {forecast:.2f} "
            f"({base:.2f} now, {change:+.2f})"
        )
        if forecast > high or forecast < low:
            side = "above the top" if forecast > high else "below the bottom"
            out.append(
                f"{told} is {side} of {where}, which no mean can be; the model is linear and does "
                "not see the end of the scale, so the change is overstated"
            )
        elif (change > 0 and forecast > high - near) or (change < 0 and forecast < low + near):
            end = "top" if change > 0 else "bottom"
            out.append(
                f"{told} is within {near:.2g} points of the {end} of {where}, where answers pile "
                "up; the model is linear and does not see that, so the change is likely overstated"
            )
    return out
