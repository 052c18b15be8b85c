"""The posterior predictive check on the scale of answers: for each channel and year, the share
of answers the model predicts at every point of the scale against the share observed.

The predicted shares are those of the model's answers for the year's sampled respondents
(:mod:`whatif.data.rating_stats`), averaged over a hundred posterior draws: the rating-scale
model's own predictive, and for a linear model its normal prediction rounded and clipped to the
scale -- which is what shows a linear model's misfit on answers piled against the top. The
largest gap goes into the diagnostics and, above :data:`MAX_GAP`, flags the fit like a divergence.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from whatif.data.ordinal import answer_probabilities

__all__ = ["MAX_GAP", "PPC_DRAWS", "answer_check", "predicted_shares"]

#: A gap between predicted and observed shares at one answer above this flags the fit.
MAX_GAP = 0.05
#: Posterior draws the check averages over.
PPC_DRAWS = 100


def predicted_shares(posterior: xr.Dataset, aggregates: xr.Dataset) -> xr.DataArray | None:
    """The posterior mean share of answers at every point of the scale, per channel and year.

    Returns ``None`` when the aggregates hold no observed answer shares (answers that are not
    whole numbers on the scale) or no respondent sample.
    """
    if "answer_share" not in aggregates or "population_y" not in aggregates:
        return None
    S = posterior.sizes["chain"] * posterior.sizes["draw"]
    pick = np.unique(np.linspace(0, S - 1, min(S, PPC_DRAWS)).astype(int))

    def draws(name, *dims):
        # reshaped by hand: stacking fails on an empty dimension (a survey without influencers)
        values = posterior[name].transpose("chain", "draw", *dims).to_numpy()
        return np.nan_to_num(values.reshape((S,) + values.shape[2:])[pick])

    intercept = draws("intercept", "channel", "year")
    weights = draws("weights", "channel", "year", "driver")
    direct = draws("direct", "channel", "influencer")
    sigma = draws("sigma", "channel")
    answers = aggregates["answer"].to_numpy()
    scale = (float(answers[0]), float(answers[-1]))
    x = aggregates["population_x"].transpose("channel", "year", "respondent", "driver").to_numpy()
    z = aggregates["population_z"].transpose("channel", "year", "respondent", "influencer")
    z = z.to_numpy()
    w = aggregates["population_weight"].transpose("channel", "year", "respondent").to_numpy()
    C, T = w.shape[:2]
    shares = np.full((C, T, len(answers)), np.nan)
    for c in range(C):
        for t in range(T):
            keep = w[c, t] > 0
            if not keep.any():
                continue
            eta = (
                intercept[:, c, t, None]
                + weights[:, c, t] @ x[c, t, keep].T
                + direct[:, c] @ z[c, t, keep].T
            )
            probs = answer_probabilities(eta, sigma[:, c, None], scale)
            shares[c, t] = np.einsum("sma,m->a", probs, w[c, t, keep]) / len(pick)
    return xr.DataArray(
        shares,
        dims=("channel", "year", "answer"),
        coords={"channel": aggregates["channel"], "year": aggregates["year"], "answer": answers},
    )


def answer_check(posterior: xr.Dataset, aggregates: xr.Dataset) -> dict:
    """The largest gap between predicted and observed answer shares, and where it is.

    Returns
    -------
    dict
        ``{}`` without observed answer shares; else ``ppc_max_gap`` (a share), ``ppc_channel``,
        ``ppc_year``, ``ppc_answer`` and ``ppc_passed``.
    """
    predicted = predicted_shares(posterior, aggregates)
    if predicted is None:
        return {}
    observed = aggregates["answer_share"]
    gap = np.abs(predicted - observed).where(aggregates["n"] > 0)
    if not np.isfinite(gap.to_numpy()).any():
        return {}
    where = gap.argmax(...)
    worst = float(gap.isel(where))
    return {
        "ppc_max_gap": worst,
        "ppc_channel": str(gap["channel"].to_numpy()[int(where["channel"])]),
        "ppc_year": int(gap["year"].to_numpy()[int(where["year"])]),
        "ppc_answer": float(gap["answer"].to_numpy()[int(where["answer"])]),
        "ppc_passed": bool(worst <= MAX_GAP),
    }
