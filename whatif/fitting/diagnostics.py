"""Convergence diagnostics of a fit and their plain-language verdict."""

from __future__ import annotations

import warnings

import numpy as np
import xarray as xr

from whatif.fitting.convergence import convergence

__all__ = ["THRESHOLDS", "compute_diagnostics", "one_chain", "verdict"]

#: A fit passes when every one of these holds.
THRESHOLDS = {"max_rhat": 1.01, "min_ess_bulk": 400.0, "min_ess_tail": 400.0, "divergences": 0}


def _extreme(values: np.ndarray, reduce) -> float:
    values = values[np.isfinite(values)]
    return float(reduce(values)) if values.size else float("nan")


def _parameters(posterior: xr.Dataset) -> np.ndarray:
    """Every parameter's draws as ``(parameter, chain, draw)``; parameters with a missing draw
    (not measured) left out."""
    blocks = []
    for var in posterior.data_vars.values():
        values = var.transpose("chain", "draw", ...).to_numpy()
        blocks.append(values.reshape(values.shape[0], values.shape[1], -1))
    if not blocks:
        return np.empty((0, 1, 1))
    draws = np.moveaxis(np.concatenate(blocks, axis=2), 2, 0)
    return np.ascontiguousarray(draws[np.isfinite(draws).all(axis=(1, 2))], dtype=float)


def compute_diagnostics(posterior: xr.Dataset, sample_stats: xr.Dataset) -> dict:
    """Max R-hat, min bulk and tail ESS, divergences and min energy BFMI.

    Parameters
    ----------
    posterior
        Draws by (chain, draw, ...); parameters that are not measured should be NaN (skipped).
    sample_stats
        Must hold ``diverging`` and ``energy``.
    """
    import arviz as az  # a slow import that reading a model (app, scenarios) never needs

    tree = xr.DataTree.from_dict({"posterior": posterior, "sample_stats": sample_stats})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        bfmi = az.bfmi(tree)
    bfmi_values = np.concatenate([np.asarray(bfmi[v]).ravel() for v in bfmi.data_vars])
    rhat, ess_bulk, ess_tail = convergence(_parameters(posterior))
    diag = {
        "max_rhat": _extreme(rhat, np.max),
        "min_ess_bulk": _extreme(ess_bulk, np.min),
        "min_ess_tail": _extreme(ess_tail, np.min),
        "divergences": int(np.asarray(sample_stats["diverging"]).sum()),
        "min_bfmi": float(np.nanmin(bfmi_values)),
        "chains": int(posterior.sizes["chain"]),
        "draws": int(posterior.sizes["draw"]),
    }
    diag["passed"] = bool(
        (diag["chains"] == 1 or diag["max_rhat"] <= THRESHOLDS["max_rhat"])
        and diag["min_ess_bulk"] >= THRESHOLDS["min_ess_bulk"]
        and diag["min_ess_tail"] >= THRESHOLDS["min_ess_tail"]
        and diag["divergences"] <= THRESHOLDS["divergences"]
    )
    return diag


def one_chain(diag: dict) -> bool:
    """True when the fit has one chain, so R-hat (a comparison of chains) was not computed."""
    return diag.get("chains") == 1


def verdict(diag: dict) -> str:
    """One or two plain sentences on whether the fit can be trusted, and what to do if not."""
    single = one_chain(diag)
    unchecked = (
        " R-hat was not computed: it compares chains, and there was one; fit with --chains 2 "
        "or more to check that chains agree."
        if single
        else ""
    )
    if diag.get("passed"):
        agree = "" if single else f"chains agree (R-hat {diag['max_rhat']:.3f} <= 1.01), "
        answers = (
            f" Predicted answers match the observed ones within {diag['ppc_max_gap']:.0%} at "
            "every point of the scale."
            if "ppc_max_gap" in diag
            else ""
        )
        return (
            f"Healthy fit: {agree}enough independent draws "
            f"(ESS >= {min(diag['min_ess_bulk'], diag['min_ess_tail']):.0f}), no divergences."
            + answers
            + unchecked
        )
    reasons = []
    if not single and not diag["max_rhat"] <= THRESHOLDS["max_rhat"]:
        reasons.append(f"chains disagree (R-hat {diag['max_rhat']:.3f} > 1.01)")
    low_ess = min(diag["min_ess_bulk"], diag["min_ess_tail"])
    if not low_ess >= THRESHOLDS["min_ess_bulk"]:
        reasons.append(f"too few independent draws (ESS {low_ess:.0f} < 400)")
    if diag["divergences"] > 0:
        reasons.append(f"{diag['divergences']} divergent transitions")
    if diag.get("ppc_passed") is False:
        reasons.append(
            f"the model's answers miss the observed ones by {diag['ppc_max_gap']:.0%} of "
            f"responses at answer {diag['ppc_answer']:g} ({diag['ppc_channel']}, "
            f"{diag['ppc_year']})"
        )
    if not reasons:  # written by a whatif that flagged one chain for its R-hat alone
        reasons.append("its convergence checks failed when it was fitted")
    return (
        "FLAGGED fit: " + "; ".join(reasons) + ". Forecasts from it may be unreliable; refit with "
        "more --tune and --draws, or check the data." + unchecked
    )
