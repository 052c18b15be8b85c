"""A scenario's lift draws summed up: company and per-channel estimates with intervals."""

from __future__ import annotations

import numpy as np
import xarray as xr

from whatif.analysis.results import ChannelLift, LiftSummary, estimate, estimates

__all__ = ["summarize_lift"]


def summarize_lift(lift: xr.Dataset, ci: float = 0.9, flagged: bool = False) -> LiftSummary:
    """Company and per-channel lift of one scenario with intervals (``whatif simulate``).

    Parameters
    ----------
    lift
        :meth:`ScenarioEngine.lift` of the scenario.
    ci
        Probability of the intervals.
    flagged
        The model failed its convergence checks: a warning leads the list.
    """
    # plain arrays, read once from the variables (a summary per lever move is on the planner's
    # critical path, and each DataArray made on the way cost more than its sums)
    variables = lift.variables
    moved = (
        np.abs(variables["influencer_change"].values).sum(axis=1)
        + np.abs(variables["driver_change"].values).sum(axis=1)
    ) > 0
    per_channel = {
        name: variables[name].transpose("sample", "channel").values
        for name in ("total", "direct", "indirect", "baseline", "top_box", "nps")
        if name in variables
    }
    volume = variables["volume"].values
    lifts = estimates(per_channel["total"], ci)
    top_box = estimates(per_channel["top_box"], ci, change=False)
    nps = estimates(per_channel["nps"], ci) if "nps" in per_channel else None
    channels = []
    for c, channel in enumerate(variables["channel"].values):
        channels.append(
            ChannelLift(
                channel=str(channel),
                lift=lifts[c],
                direct=float(per_channel["direct"][:, c].mean()),
                indirect=float(per_channel["indirect"][:, c].mean()),
                baseline=float(per_channel["baseline"][:, c].mean()),
                volume=float(volume[c]),
                top_box=top_box[c],
                affected=bool(moved[c]),
                nps=None if nps is None else nps[c],
            )
        )
    warnings = list(lift.attrs.get("warnings", []))
    if flagged:
        warnings.insert(
            0, "the model failed its convergence checks; treat this forecast with caution"
        )
    return LiftSummary(
        scenario=lift.attrs["scenario"],
        year=int(lift.attrs["year"]),
        ci=ci,
        total=estimate(variables["company"].values, ci),
        top_box=estimate(variables["company_top_box"].values, ci, change=False),
        channels=tuple(channels),
        warnings=tuple(warnings),
        single_period=bool(lift.attrs.get("single_period", 0)),
        nps=estimate(variables["company_nps"].values, ci) if "company_nps" in variables else None,
    )
