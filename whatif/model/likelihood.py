"""The Gaussian log-likelihood of both regressions, on sufficient statistics or on rows (NumPy).

:func:`standardize` centers and scales the aggregated cross-products; :func:`factorize` completes
the square once, up front, so that the likelihood (:func:`loglik_from_factors`) is one small
matrix-vector product per group instead of a quadratic form over the full cross-product matrix.
:func:`loglik_from_stats` and :func:`loglik_from_rows` are the references the tests hold it to.
The model evaluates the same arithmetic in compiled kernels (:mod:`whatif.model.kernels`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr

__all__ = [
    "LOG_2PI",
    "Standardized",
    "factorize",
    "loglik_from_factors",
    "loglik_from_rows",
    "loglik_from_stats",
    "standardize",
]

LOG_2PI = float(np.log(2 * np.pi))


@dataclass(frozen=True)
class Standardized:
    """Cross-products of standardized terms, and the scales to go back to data units.

    ``cross[c, t]`` is ``sum_i w_i m_i m_i'`` for ``m = [1, x~, z~, y~]`` where every measured
    term is centered and scaled by its pooled mean and sd, and unmeasured terms are zero.
    """

    cross: np.ndarray  # (C, T, P, P)
    n: np.ndarray  # (C, T)
    mean: np.ndarray  # (P,) pooled means (intercept: 0)
    sd: np.ndarray  # (P,) pooled sds (intercept: 1)
    measured: np.ndarray  # (C, P) bool, intercept and outcome always True

    def transform(self, cross: np.ndarray) -> np.ndarray:
        """Other cross-products ``(C, ..., P, P)`` in the same standardized terms."""
        P = len(self.mean)
        transform = np.zeros((self.measured.shape[0], P, P))
        transform[:, 0, 0] = 1.0
        for p in range(1, P):
            transform[:, p, 0] = np.where(self.measured[:, p], -self.mean[p] / self.sd[p], 0.0)
            transform[:, p, p] = np.where(self.measured[:, p], 1.0 / self.sd[p], 0.0)
        return np.einsum("cap,c...pq,cbq->c...ab", transform, cross, transform)


def standardize(data: xr.Dataset) -> Standardized:
    """Center and scale the aggregated cross-products by pooled means and sds.

    Parameters
    ----------
    data
        Aggregates from :func:`whatif.data.aggregate.aggregate`.
    """
    cross = data["cross"].to_numpy()
    n = data["n"].to_numpy().astype(float)
    C, T, P, _ = cross.shape
    measured = np.ones((C, P), bool)
    measured[:, 1 : 1 + data.sizes["driver"]] = data["driver_measured"].to_numpy()
    measured[:, 1 + data.sizes["driver"] : P - 1] = data["influencer_measured"].to_numpy()
    mean, sd = np.zeros(P), np.ones(P)
    for p in range(1, P):
        rows = measured[:, p]
        count = n[rows].sum()
        s1 = cross[rows, :, 0, p].sum()
        s2 = cross[rows, :, p, p].sum()
        mean[p] = s1 / count
        var = max(s2 / count - mean[p] ** 2, 0.0)
        sd[p] = np.sqrt(var) if var > 1e-12 else 1.0
    scales = Standardized(cross=cross, n=n, mean=mean, sd=sd, measured=measured)
    return Standardized(cross=scales.transform(cross), n=n, mean=mean, sd=sd, measured=measured)


def loglik_from_stats(n, yy, xy, xx, coef, sigma):
    """Weighted Gaussian log-likelihood of ``y = X coef + N(0, sigma)`` from sufficient statistics.

    Parameters
    ----------
    n
        Sum of (normalized) weights per group, shape ``(...)``.
    yy, xy, xx
        ``sum w y^2`` ``(...)``, ``sum w x y`` ``(..., P)`` and ``sum w x x'`` ``(..., P, P)``.
    coef
        Coefficients ``(..., P)``.
    sigma
        Residual sd ``(...)``.

    Returns
    -------
    Log-likelihood per group, shape ``(...)``.
    """
    # an elementwise product then a sum compiles to faster code than a batched matmul here
    quad = (coef[..., :, None] * xx * coef[..., None, :]).sum(axis=(-2, -1))
    rss = yy - 2.0 * (coef * xy).sum(axis=-1) + quad
    return -0.5 * n * (LOG_2PI + 2.0 * np.log(sigma)) - 0.5 * rss / sigma**2


def factorize(xx: np.ndarray, xy: np.ndarray, yy: np.ndarray, rtol: float = 1e-10):
    """Complete the square: ``yy - 2 c'xy + c'xx c == rss0 + |R c - b|^2`` for every ``c``.

    ``R`` is a square root of ``xx`` (from its eigendecomposition, so unmeasured all-zero terms
    and collinear designs are fine: their directions get zero rows), ``b`` the projection of
    ``xy`` and ``rss0`` the least-squares residual sum of squares.

    Parameters
    ----------
    xx, xy, yy
        Shapes ``(..., P, P)``, ``(..., P)`` and ``(...)``; ``xy`` must lie in the column space
        of ``xx`` (true of cross-products of the same rows).

    Returns
    -------
    R ``(..., P, P)``, b ``(..., P)``, rss0 ``(...)``.
    """
    xx = np.asarray(xx, float)
    xy = np.asarray(xy, float)
    scale = np.sqrt(np.clip(np.diagonal(xx, axis1=-2, axis2=-1), 0.0, None))
    safe = np.where(scale > 0, scale, 1.0)
    corr = xx / safe[..., :, None] / safe[..., None, :]  # unit diagonal: a well-scaled eigh
    val, vec = np.linalg.eigh(corr)
    keep = val > rtol * np.max(val, axis=-1, keepdims=True)
    root = np.where(keep, np.sqrt(np.where(keep, val, 1.0)), 0.0)
    proj = np.swapaxes(vec, -1, -2)  # rows: eigenvectors
    R = root[..., :, None] * proj * scale[..., None, :]
    b = np.where(
        keep, np.einsum("...ij,...j->...i", proj, xy / safe) / np.where(keep, root, 1.0), 0.0
    )
    rss0 = np.asarray(yy, float) - np.sum(b**2, axis=-1)
    return np.ascontiguousarray(R), np.ascontiguousarray(b), np.ascontiguousarray(rss0)


def loglik_from_factors(n, rss0, R, b, coef, sigma):
    """:func:`loglik_from_stats` on the factors of :func:`factorize` (same value, cheaper).

    Parameters
    ----------
    n, rss0
        ``(...)``.
    R, b
        ``(..., P, P)`` and ``(..., P)``.
    coef
        ``(..., P)``.
    sigma
        ``(...)``.
    """
    resid = (R * coef[..., None, :]).sum(axis=-1) - b
    rss = rss0 + (resid**2).sum(axis=-1)
    return -0.5 * n * (LOG_2PI + 2.0 * np.log(sigma)) - 0.5 * rss / sigma**2


def loglik_from_rows(y, x, coef, sigma, weight=None):
    """Row-by-row weighted Gaussian log-likelihood (the reference the statistics replace).

    Parameters
    ----------
    y : (N,) outcome; x : (N, P) design; coef : (P,); sigma : float; weight : (N,) or None.
    """
    weight = np.ones_like(y) if weight is None else weight
    resid = y - x @ coef
    return float(
        np.sum(weight * (-0.5 * (LOG_2PI + 2 * np.log(sigma)) - 0.5 * resid**2 / sigma**2))
    )
