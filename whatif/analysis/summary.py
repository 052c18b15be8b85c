"""Numbers a fit is read by: weights, effects, importance, R-squared, diagnostics.

Everything here is computed from the posterior draws and the aggregated data; drawing and
printing them is left to the command line, the app and the brief.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import xarray as xr

from whatif.analysis.answer_check import check_answers
from whatif.analysis.effects import path_rows, total_effect_rows
from whatif.analysis.engine import ScenarioEngine
from whatif.analysis.relative_weights import relative_importance, relative_importance_rows
from whatif.data.moments import group_covariance, interval
from whatif.fitting.fitted import FittedModel

__all__ = [
    "baseline_metric_rows",
    "importance",
    "likelihood_of",
    "r_squared",
    "summarize",
    "tidy_interval",
]


def tidy_interval(draws: xr.DataArray, ci: float) -> pd.DataFrame:
    """Mean and equal-tailed interval per coordinate of ``draws`` (dim ``sample`` first)."""
    arr = draws.transpose("sample", ...).to_numpy()
    with warnings.catch_warnings():  # unmeasured coefficients are all-NaN by design
        warnings.simplefilter("ignore", RuntimeWarning)
        lo, hi = interval(arr, ci)
        mean = np.nanmean(arr, axis=0)
    dims = [d for d in draws.dims if d != "sample"]
    index = pd.MultiIndex.from_product([draws[d].to_numpy().tolist() for d in dims], names=dims)
    frame = pd.DataFrame({"mean": mean.ravel(), "lo": lo.ravel(), "hi": hi.ravel()}, index=index)
    return frame.dropna().reset_index()


def _linear_variance(model: FittedModel, drivers_only: bool):
    """Per-draw variance of the linear predictor and of each driver's contribution."""
    cov = group_covariance(model.aggregates)
    drivers = model.aggregates["driver"].to_numpy().tolist()
    influencers = model.aggregates["influencer"].to_numpy().tolist()
    weights = model.draws("weights").fillna(0.0)  # (sample, channel, year, driver)
    coef = weights.rename(driver="term")
    terms = drivers
    if not drivers_only and influencers:
        direct = model.draws("direct").fillna(0.0).rename(influencer="term")
        direct = direct.expand_dims(year=model.aggregates["year"].to_numpy()).transpose(
            *coef.dims[:2], "year", "term"
        )
        coef = xr.concat([coef, direct], dim="term")
        terms = drivers + influencers
    sub = cov.sel(term=terms, term_=terms).fillna(0.0)
    contrib = (coef * sub.dot(coef.rename(term="term_"), dim="term_")).transpose(
        "sample", "channel", "year", "term"
    )
    return contrib, contrib.sum("term")


def r_squared(model: FittedModel) -> xr.DataArray:
    """Bayesian R-squared per draw, channel and year: Var(fit) / (Var(fit) + sigma^2)."""
    _, total = _linear_variance(model, drivers_only=False)
    sigma2 = model.draws("sigma") ** 2
    return total / (total + sigma2)


def importance(model: FittedModel) -> tuple[xr.DataArray, xr.DataArray]:
    """Standardized weights and each driver's share of the variance the drivers explain.

    Returns
    -------
    standardized
        Weight x sd(driver) / sd(satisfaction) within each channel and year, per draw.
    share
        Pratt's decomposition ``beta_k Cov(x_k, yhat) / Var(yhat)`` of the drivers' part of the
        fit; shares sum to 1 over a channel's measured drivers, per draw.
    """
    cov = group_covariance(model.aggregates)
    drivers = model.aggregates["driver"].to_numpy().tolist()
    sd_x = np.sqrt(cov.sel(term=drivers, term_=drivers).to_numpy().diagonal(axis1=-2, axis2=-1))
    sd_x = xr.DataArray(
        sd_x,
        dims=("channel", "year", "driver"),
        coords={"channel": cov["channel"], "year": cov["year"], "driver": drivers},
    )
    sd_y = np.sqrt(cov.sel(term="outcome", term_="outcome", drop=True))
    standardized = model.draws("weights") * sd_x / sd_y
    contrib, total = _linear_variance(model, drivers_only=True)
    share = (contrib / total).rename(term="driver").where(model.aggregates["driver_measured"])
    return standardized, share


def baseline_metric_rows(model: FittedModel, ci: float) -> list[dict]:
    """The model's baseline of every reported metric per channel and observed year.

    Mean satisfaction (rating points), the top-box share (0.48 = 48%) and, where the scale
    reports it, NPS (points from -100 to 100), from
    :meth:`whatif.analysis.engine.ScenarioEngine.baseline_metrics`.

    Returns
    -------
    list of dict
        Rows of ``channel``, ``year``, ``metric`` (``mean``, ``top_box``, ``nps``), ``mean``,
        ``lo``, ``hi`` (the posterior mean and equal-tailed interval of probability ``ci``), by
        channel, year and metric.
    """
    engine = ScenarioEngine(model)
    per_year = {year: engine.baseline_metrics(year) for year in engine.years}
    rows = []
    for c, channel in enumerate(engine.channels):
        for year, metrics in per_year.items():
            for metric in model.spec.rating.metrics:
                draws = metrics[metric][:, c]
                lo, hi = interval(draws, ci)
                rows.append(
                    {
                        "channel": channel,
                        "year": year,
                        "metric": metric,
                        "mean": float(np.mean(draws)),
                        "lo": float(lo),
                        "hi": float(hi),
                    }
                )
    return rows


def likelihood_of(model: FittedModel) -> str:
    """The likelihood the model was fitted with (``ordinal`` or ``linear``; a fit that does not
    record one was linear)."""
    return getattr(model, "likelihood", None) or "linear"


def summarize(model: FittedModel, ci: float = 0.9) -> dict:
    """The summary of a fit as plain data (the JSON that ``whatif summary`` prints).

    Parameters
    ----------
    model
        A fitted or loaded model.
    ci
        Probability of the equal-tailed intervals.

    Returns
    -------
    dict
        Keys ``ci``, ``weights``, ``effects``, ``direct``, ``importance``, ``r2``,
        ``diagnostics`` (see the README for the shape), ``single_period`` (the survey had no year
        column: every ``year`` is its one period's stored value), ``influencers`` (the ids;
        empty for a survey of drivers only, whose ``effects`` and ``direct`` are empty),
        ``paths`` (``channel``, ``driver``, ``source``, ``mean``, ``lo``, ``hi``: rating points of
        the driver per rating point of its source; empty without paths), ``total_effects`` (each
        driver's weight plus everything it moves downstream,
        :func:`whatif.analysis.effects.total_effects`) and ``relative_importance`` (Johnson's
        relative weights, :func:`whatif.analysis.relative_weights.relative_importance`), both
        rows of ``channel``, ``year``, ``driver``, ``mean``, ``lo``, ``hi``; ``metrics`` (the
        baseline mean, top-box share and NPS per channel and year,
        :func:`baseline_metric_rows`), ``headline`` (the metric the spec leads with),
        ``likelihood`` (:func:`likelihood_of`) and ``answer_check`` (the posterior predictive
        check, :meth:`whatif.analysis.answer_check.AnswerCheck.to_dict`; ``None`` where the
        answers are not whole numbers on the scale).
    """
    standardized, share = importance(model)
    imp = (
        pd.DataFrame(
            {
                "standardized": standardized.mean("sample").to_dataframe(name="v")["v"],
                "share": share.mean("sample").to_dataframe(name="v")["v"],
            }
        )
        .dropna()
        .reset_index()
    )
    imp = imp.sort_values(["channel", "year", "share"], ascending=[True, True, False])
    r2 = r_squared(model).mean("sample").to_dataframe(name="mean").reset_index()
    diag = model.diagnostics
    answers = check_answers(model)
    return {
        "ci": ci,
        "single_period": model.single_period,
        "influencers": [str(i) for i in model.aggregates["influencer"].to_numpy()],
        "weights": tidy_interval(model.draws("weights"), ci).to_dict("records"),
        "effects": tidy_interval(model.draws("effects"), ci).to_dict("records"),
        "direct": tidy_interval(model.draws("direct"), ci).to_dict("records"),
        "importance": imp.to_dict("records"),
        "r2": r2[["channel", "year", "mean"]].to_dict("records"),
        "paths": path_rows(model, ci),
        "total_effects": total_effect_rows(model, ci),
        "relative_importance": relative_importance_rows(relative_importance(model), ci),
        "headline": model.spec.rating.headline,
        "likelihood": likelihood_of(model),
        "metrics": baseline_metric_rows(model, ci),
        "answer_check": answers.to_dict() if answers is not None else None,
        "diagnostics": {
            k: diag[k] for k in ("max_rhat", "min_ess_bulk", "min_ess_tail", "divergences")
        }
        | {
            "min_bfmi": diag.get("min_bfmi"),
            "passed": diag.get("passed"),
            "verdict": model.verdict,
        },
    }
