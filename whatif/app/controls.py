"""The planner's lever controls: one :class:`Control` per measured influencer and driver.

:func:`build_controls` derives each control's operations and slider ranges from a fitted model:
a count can be capped or scaled, a binary set to a share or shifted in points, a continuous
influencer or a driver rating shifted. A scenario file may use any operation valid for its
target (a floor on a count, a shift of a share): each control accepts those too
(:attr:`Control.accepted`, with a slider range each), so every lever loaded from a file shows on
its own control, in its own units.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from whatif.report import format as fmt

__all__ = ["ACCEPTED_OPERATIONS", "NATURAL_OPERATIONS", "Control", "build_controls"]

#: Operations offered per kind of control (the first is the default).
NATURAL_OPERATIONS = {
    "count": ("cap", "scale"),
    "binary": ("share", "shift"),
    "continuous": ("shift",),
    "driver": ("shift",),
}
#: Every operation a control takes from a scenario file (drivers take no cap or floor).
ACCEPTED_OPERATIONS = {
    "count": ("cap", "scale", "floor", "shift", "set"),
    "binary": ("share", "shift", "set", "cap", "floor", "scale"),
    "continuous": ("shift", "scale", "cap", "floor", "set"),
    "driver": ("shift", "scale", "set"),
}


def _nice_step(span: float) -> float:
    """A round step near ``span / 100`` (1, 2 or 5 times a power of ten)."""
    if span <= 0 or not math.isfinite(span):
        return 0.01
    raw = span / 100
    power = 10 ** math.floor(math.log10(raw))
    for mult in (1, 2, 5, 10):
        if raw <= mult * power:
            return mult * power
    return 10 * power


@dataclass(frozen=True)
class Control:
    """One sidebar control: an influencer in its own units, or a driver shifted in rating points.

    Attributes
    ----------
    target
        Influencer or driver id.
    kind
        ``"influencer"`` or ``"driver"`` (the lever's kind).
    measure
        ``"count"``, ``"binary"``, ``"continuous"`` or ``"driver"``.
    label
        Human label from the spec.
    operations
        The operations the control offers; the first is the default.
    ranges
        ``(start, end, step)`` of the slider per operation.
    channels
        Channels where the target is measured.
    low, high
        Observed range over those channels and all years (values; shares for binaries; mean
        ratings for drivers).
    better
        ``"lower"``, ``"higher"`` or ``None``: which way is good, when the spec says.
    """

    target: str
    kind: str
    measure: str
    label: str
    operations: tuple[str, ...]
    ranges: dict[str, tuple[float, float, float]]
    channels: tuple[str, ...]
    low: float
    high: float
    better: str | None = None

    @property
    def default_operation(self) -> str:
        return self.operations[0]

    @property
    def accepted(self) -> tuple[str, ...]:
        """Every operation this control can show: its own, then those a scenario file may use."""
        return tuple(op for op in ACCEPTED_OPERATIONS[self.measure] if op in self.ranges)

    def observed_text(self) -> str:
        """The observed range in words, e.g. ``observed 0-12``."""
        if self.measure == "binary":
            return f"observed {fmt.percent(self.low)}-{fmt.percent(self.high)} by channel and year"
        if self.measure == "driver":
            return f"mean rating {self.low:.1f}-{self.high:.1f} by channel and year"
        return f"observed {self.low:g}-{self.high:g}"


def build_controls(model, channels: list[str], means: pd.DataFrame) -> dict[str, Control]:
    """One :class:`Control` per influencer and driver measured in ``channels``, in spec order.

    ``means`` holds the group means of the model's data: (channel, year) rows, one column per
    term, binaries as shares.
    """
    agg = model.aggregates
    spec = model.spec
    controls: dict[str, Control] = {}
    imeasured = agg["influencer_measured"]
    zmin, zmax = agg["influencer_min"], agg["influencer_max"]
    for infl in spec.influencers:
        measured = tuple(c for c in channels if bool(imeasured.sel(channel=c, influencer=infl.id)))
        if not measured:
            continue
        low = float(np.nanmin(zmin.sel(influencer=infl.id, channel=list(measured)).to_numpy()))
        high = float(np.nanmax(zmax.sel(influencer=infl.id, channel=list(measured)).to_numpy()))
        measure = infl.kind
        if measure == "binary":
            shares = means.loc[(list(measured), slice(None)), infl.id].to_numpy(float)
            shares = shares[np.isfinite(shares)]
            low, high = (float(shares.min()), float(shares.max())) if shares.size else (0.0, 1.0)
            whole = (0.0, 1.0, 0.01)
            ranges = {
                "share": whole,
                "shift": (-0.5, 0.5, 0.01),
                **dict.fromkeys(("set", "cap", "floor"), whole),
                "scale": (0.0, 2.0, 0.05),
            }
        elif measure == "count":
            bottom, top = math.floor(low), max(math.ceil(high), math.floor(low) + 1)
            ranges = {
                "cap": (bottom, top, 1.0),
                "scale": (0.0, 2.0, 0.05),
                **dict.fromkeys(("floor", "set"), (bottom, top, 1.0)),
                "shift": (-(top - bottom), top - bottom, 1.0),
            }
        else:
            span = (high - low) or 1.0
            step = _nice_step(span)
            half = step * math.ceil(span / 2 / step)
            bottom, top = step * math.floor(low / step), step * math.ceil(high / step)
            ranges = {
                "shift": (-half, half, step),
                "scale": (0.0, 2.0, 0.05),
                **dict.fromkeys(("cap", "floor", "set"), (bottom, max(top, bottom + step), step)),
            }
        controls[infl.id] = Control(
            target=infl.id,
            kind="influencer",
            measure=measure,
            label=infl.label or infl.id,
            operations=NATURAL_OPERATIONS[measure],
            ranges=ranges,
            channels=measured,
            low=low,
            high=high,
            better=infl.better,
        )
    dmeasured = agg["driver_measured"]
    scale_low, scale_high = spec.scale
    span = (scale_high - scale_low) / 6
    step = _nice_step(span * 3)
    half = step * math.ceil(span / step)
    for driver in spec.drivers:
        measured = tuple(c for c in channels if bool(dmeasured.sel(channel=c, driver=driver.id)))
        if not measured:
            continue
        ratings = means.loc[(list(measured), slice(None)), driver.id].to_numpy(float)
        ratings = ratings[np.isfinite(ratings)]
        controls[driver.id] = Control(
            target=driver.id,
            kind="driver",
            measure="driver",
            label=driver.label or driver.id,
            operations=NATURAL_OPERATIONS["driver"],
            ranges={
                "shift": (-half, half, step),
                "scale": (0.0, 2.0, 0.05),
                "set": (float(scale_low), float(scale_high), step),
            },
            channels=measured,
            low=float(ratings.min()),
            high=float(ratings.max()),
            better="higher",
        )
    return controls
