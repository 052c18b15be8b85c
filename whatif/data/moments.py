"""Group means and covariances of the model terms, read off the aggregated cross-products."""

from __future__ import annotations

import numpy as np
import xarray as xr

__all__ = ["group_covariance", "group_means", "interval"]


def group_means(aggregates: xr.Dataset) -> xr.DataArray:
    """Weighted mean of every term by (channel, year, term); NaN where not measured."""
    n = aggregates["n"].where(aggregates["n"] > 0)
    first = aggregates["cross"].sel(term="intercept", drop=True).rename(term_="term")
    means = first / n
    measured = _term_measured(aggregates)
    return means.where(measured)


def group_covariance(aggregates: xr.Dataset) -> xr.DataArray:
    """Weighted covariance of the terms by (channel, year, term, term_), intercept dropped."""
    n = aggregates["n"].where(aggregates["n"] > 0)
    terms = [t for t in aggregates["term"].to_numpy() if t != "intercept"]
    second = aggregates["cross"].sel(term=terms, term_=terms) / n
    mean = group_means(aggregates).sel(term=terms).fillna(0.0)
    return second - mean * mean.rename(term="term_")


def _term_measured(aggregates: xr.Dataset) -> xr.DataArray:
    terms = aggregates["term"].to_numpy()
    dm = aggregates["driver_measured"].rename(driver="term")
    im = aggregates["influencer_measured"].rename(influencer="term")
    flags = xr.concat([dm, im], dim="term").reindex(term=terms, fill_value=True)
    return flags.astype(bool)


def interval(draws: np.ndarray, ci: float, axis: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Equal-tailed interval of probability ``ci`` along ``axis``."""
    draws = np.asarray(draws)
    # NumPy's nanquantile drops the quantiles' axis of an empty array (a survey with no
    # influencers has none), and is four times slower than quantile, which gives the same
    # numbers where there is no NaN to skip (every lever move summarizes several of these)
    quantile = np.nanquantile if np.isnan(draws).any() else np.quantile
    lo, hi = quantile(draws, [(1 - ci) / 2, (1 + ci) / 2], axis=axis)
    return lo, hi
