"""Relative importance of the drivers: Johnson's relative weights, per posterior draw.

Johnson's (2000) relative weights split the variance the drivers explain among them even when
they are correlated. With ``R`` the drivers' correlation matrix in a channel and year, ``Lambda``
its symmetric square root (``R = V diag(d) V'``, ``Lambda = V diag(sqrt(d)) V'``, so the drivers
are ``X = Z Lambda`` for orthonormal ``Z``) and ``b`` the standardized weights,

    beta_z = Lambda @ b                                (satisfaction regressed on Z)
    eps_j  = sum_k Lambda[j, k]**2 * beta_z[k]**2      (driver j's part of each Z_k, squared)

and ``sum_j eps_j = b' R b``, the drivers' share of the variance of satisfaction (their R-squared
part). The shares ``eps / sum(eps)`` are non-negative and sum to 1.

Here ``b_j = weight_j * sd(driver_j)``, per draw: the drivers' covariance is the data's in that
channel and year (:func:`whatif.data.moments.group_covariance`), the weights are the posterior
draws. Satisfaction's sd is left out: it divides every ``b_j`` alike and cancels in the shares.
``R`` is fixed per channel and year, so ``Lambda`` is computed once there and applied to every
draw at once. A driver not measured in a channel, or without variance in a channel and year, has
no share there (NaN); the others share among themselves.

Reference: Johnson, J. W. (2000). A heuristic method for estimating the relative weight of
predictor variables in multiple regression. *Multivariate Behavioral Research*, 35(1), 1-19.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import xarray as xr

from whatif.data.moments import group_covariance, interval
from whatif.fitting.fitted import FittedModel

__all__ = [
    "johnson_weights",
    "relative_importance",
    "relative_importance_rows",
    "relative_weight_shares",
    "symmetric_sqrt",
]

DIMS = ("sample", "channel", "year", "driver")


def symmetric_sqrt(corr: np.ndarray) -> np.ndarray:
    """The symmetric square root of correlation matrices, over leading dims.

    Parameters
    ----------
    corr
        ``(..., k, k)`` symmetric positive semi-definite matrices.

    Returns
    -------
    numpy.ndarray
        ``Lambda`` with ``Lambda @ Lambda == corr``; eigenvalues below 0 (rounding of a singular
        matrix) count as 0.
    """
    values, vectors = np.linalg.eigh(corr)
    root = np.sqrt(np.clip(values, 0.0, None))
    return np.einsum("...ik,...k,...jk->...ij", vectors, root, vectors)


def johnson_weights(corr: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """Johnson's raw relative weights from a correlation matrix and standardized weights.

    Parameters
    ----------
    corr
        ``(..., k, k)`` correlations of the predictors.
    beta
        ``(..., k)`` standardized regression weights; leading dims broadcast against ``corr``'s
        (e.g. ``corr`` per group, ``beta`` per draw and group).

    Returns
    -------
    numpy.ndarray
        ``eps`` of shape ``(..., k)``: non-negative, summing to ``beta' corr beta`` (the
        predictors' R-squared when ``beta`` is standardized by the outcome's sd too).
    """
    root = symmetric_sqrt(np.asarray(corr, float))
    beta_z = np.einsum("...jk,...k->...j", root, np.asarray(beta, float))
    return np.einsum("...jk,...k->...j", root**2, beta_z**2)


def relative_weight_shares(
    cov: np.ndarray, weights: np.ndarray, measured: np.ndarray | None = None
) -> np.ndarray:
    """Each driver's share of the variance the drivers explain (Johnson's relative weights).

    Parameters
    ----------
    cov
        ``(..., k, k)`` covariances of the drivers, per group (e.g. channel and year).
    weights
        ``(..., k)`` weights in data units (satisfaction points per driver point); leading dims
        broadcast against ``cov``'s (e.g. a sample dim in front).
    measured
        ``(..., k)`` whether each driver counts in each group (broadcast against ``cov``'s
        leading dims); default every driver. A driver without variance never counts.

    Returns
    -------
    numpy.ndarray
        Shares, broadcast shape of ``weights`` and ``cov``'s diagonal: non-negative and summing to
        1 over the counted drivers of a group; NaN for the others.
    """
    cov = np.asarray(cov, float)
    variance = np.diagonal(cov, axis1=-2, axis2=-1)
    counted = np.isfinite(variance) & (variance > 0)
    if measured is not None:
        counted = counted & np.asarray(measured, bool)
    sd = np.sqrt(np.where(counted, variance, 1.0))
    pair = counted[..., :, None] & counted[..., None, :]
    corr = np.where(pair, cov / (sd[..., :, None] * sd[..., None, :]), 0.0)
    # an uncounted driver gets a unit diagonal and no weight: Lambda stays block-diagonal, so it
    # takes nothing from the others and gets nothing itself
    eye = np.eye(cov.shape[-1], dtype=bool)
    corr = np.where(eye & ~counted[..., None, :], 1.0, corr)
    weights = np.asarray(weights, float)
    beta = np.where(counted, np.nan_to_num(weights) * sd, 0.0)
    eps = johnson_weights(corr, beta)
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = eps / eps.sum(axis=-1, keepdims=True)
    return np.where(counted, shares, np.nan)


def relative_importance(model: FittedModel) -> xr.DataArray:
    """Johnson's relative weights of the drivers per draw, channel and year, as shares.

    Parameters
    ----------
    model
        A fitted or loaded model.

    Returns
    -------
    xarray.DataArray
        Dims ``(sample, channel, year, driver)``: each measured driver's share of the variance
        the drivers explain in that channel and year (non-negative, summing to 1 over the
        channel's measured drivers in every draw); NaN where a driver is not measured.
    """
    aggregates = model.aggregates
    drivers = aggregates["driver"].to_numpy().tolist()
    cov = group_covariance(aggregates).sel(term=drivers, term_=drivers)
    cov = cov.transpose("channel", "year", "term", "term_")
    weights = model.draws("weights").transpose(*DIMS)
    measured = aggregates["driver_measured"].sel(channel=cov["channel"], driver=drivers)
    shares = relative_weight_shares(
        cov.to_numpy(),
        weights.sel(channel=cov["channel"], year=cov["year"], driver=drivers).to_numpy(),
        measured.transpose("channel", "driver").to_numpy()[:, None, :],
    )
    return xr.DataArray(
        shares,
        dims=DIMS,
        coords={
            "sample": weights["sample"],
            "channel": cov["channel"].to_numpy(),
            "year": cov["year"].to_numpy(),
            "driver": drivers,
        },
        name="relative_importance",
    )


def relative_importance_rows(shares: xr.DataArray, ci: float = 0.9) -> list[dict]:
    """Posterior mean and equal-tailed interval of each measured driver's share.

    Parameters
    ----------
    shares
        As returned by :func:`relative_importance`.
    ci
        Probability of the intervals.

    Returns
    -------
    list of dict
        One row ``{"channel", "year", "driver", "mean", "lo", "hi"}`` per channel, year and
        measured driver, in the order of ``shares``' coordinates.
    """
    arr = shares.transpose(*DIMS).to_numpy()
    with warnings.catch_warnings():  # unmeasured drivers are all-NaN by design
        warnings.simplefilter("ignore", RuntimeWarning)
        lo, hi = interval(arr, ci)
        mean = np.nanmean(arr, axis=0)
    index = pd.MultiIndex.from_product(
        [shares[d].to_numpy().tolist() for d in DIMS[1:]], names=list(DIMS[1:])
    )
    frame = pd.DataFrame({"mean": mean.ravel(), "lo": lo.ravel(), "hi": hi.ravel()}, index=index)
    return [
        {
            "channel": str(channel),
            "year": int(year),
            "driver": str(driver),
            "mean": float(m),
            "lo": float(low),
            "hi": float(high),
        }
        for (channel, year, driver), m, low, high in frame.dropna().itertuples(name=None)
    ]
