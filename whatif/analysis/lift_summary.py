"""A scenario's lift draws summed up: company and per-channel estimates with intervals."""

from __future__ import annotations

import numpy as np
import xarray as xr

from whatif.analysis.results import ChannelLift, LiftSummary, estimate

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
    moved = (
        np.abs(lift["influencer_change"]).sum("influencer")
        + np.abs(lift["driver_change"]).sum("driver")
    ).to_numpy() > 0
    channels = []
    for c, channel in enumerate(lift["channel"].to_numpy()):
        sel = lift.sel(channel=channel)
        channels.append(
            ChannelLift(
                channel=str(channel),
                lift=estimate(sel["total"].to_numpy(), ci),
                direct=float(sel["direct"].mean()),
                indirect=float(sel["indirect"].mean()),
                baseline=float(sel["baseline"].mean()),
                volume=float(sel["volume"]),
                top_box=estimate(sel["top_box"].to_numpy(), ci, change=False),
                affected=bool(moved[c]),
                nps=estimate(sel["nps"].to_numpy(), ci) if "nps" in lift else None,
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
        total=estimate(lift["company"].to_numpy(), ci),
        top_box=estimate(lift["company_top_box"].to_numpy(), ci, change=False),
        channels=tuple(channels),
        warnings=tuple(warnings),
        single_period=bool(lift.attrs.get("single_period", 0)),
        nps=estimate(lift["company_nps"].to_numpy(), ci) if "company_nps" in lift else None,
    )
