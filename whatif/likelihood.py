"""The Gaussian log-likelihood of both regressions, on sufficient statistics or on rows.

:func:`loglik_from_stats` is written with operations NumPy and PyTensor share, so the very same
expression is the model's likelihood (``xp=pytensor.tensor``) and the NumPy reference the tests
compare with :func:`loglik_from_rows` — the row-by-row form it replaces.

The model itself uses :func:`loglik_from_factors`: the same likelihood after completing the square
once, up front (:func:`factorise`), so that each evaluation is one small matrix-vector product per
group instead of a quadratic form over the full cross-product matrix.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np
import pytensor.tensor as pt
import xarray as xr
from pytensor.gradient import disconnected_type
from pytensor.graph.basic import Apply
from pytensor.graph.op import Op
from pytensor.link.numba.dispatch.basic import register_funcify_default_op_cache_key

__all__ = [
    "DriverLoglik",
    "SatisfactionLoglik",
    "Standardised",
    "factorise",
    "loglik_from_factors",
    "loglik_from_rows",
    "loglik_from_stats",
    "standardise",
]

LOG_2PI = float(np.log(2 * np.pi))


@dataclass(frozen=True)
class Standardised:
    """Cross-products of standardised terms, and the scales to go back to data units.

    ``cross[c, t]`` is ``sum_i w_i m_i m_i'`` for ``m = [1, x~, z~, y~]`` where every measured
    term is centred and scaled by its pooled mean and sd, and unmeasured terms are zero.
    """

    cross: np.ndarray  # (C, T, P, P)
    n: np.ndarray  # (C, T)
    mean: np.ndarray  # (P,) pooled means (intercept: 0)
    sd: np.ndarray  # (P,) pooled sds (intercept: 1)
    measured: np.ndarray  # (C, P) bool, intercept and outcome always True


def standardise(data: xr.Dataset) -> Standardised:
    """Centre and scale the aggregated cross-products by pooled means and sds.

    Parameters
    ----------
    data
        Aggregates from :func:`whatif.aggregate.aggregate`.
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
    transform = np.zeros((C, P, P))
    transform[:, 0, 0] = 1.0
    for p in range(1, P):
        transform[:, p, 0] = np.where(measured[:, p], -mean[p] / sd[p], 0.0)
        transform[:, p, p] = np.where(measured[:, p], 1.0 / sd[p], 0.0)
    standard = np.einsum("cap,ctpq,cbq->ctab", transform, cross, transform)
    return Standardised(cross=standard, n=n, mean=mean, sd=sd, measured=measured)


def loglik_from_stats(n, yy, xy, xx, coef, sigma, xp=np):
    """Weighted Gaussian log-likelihood of ``y = X coef + N(0, sigma)`` from sufficient statistics.

    Parameters
    ----------
    n
        Sum of (normalised) weights per group, shape ``(...)``.
    yy, xy, xx
        ``sum w y^2`` ``(...)``, ``sum w x y`` ``(..., P)`` and ``sum w x x'`` ``(..., P, P)``.
    coef
        Coefficients ``(..., P)``.
    sigma
        Residual sd ``(...)``.
    xp
        ``numpy`` or ``pytensor.tensor``.

    Returns
    -------
    Log-likelihood per group, shape ``(...)``.
    """
    # an elementwise product then a sum compiles to faster code than a batched matmul here
    quad = (coef[..., :, None] * xx * coef[..., None, :]).sum(axis=(-2, -1))
    rss = yy - 2.0 * (coef * xy).sum(axis=-1) + quad
    return -0.5 * n * (LOG_2PI + 2.0 * xp.log(sigma)) - 0.5 * rss / sigma**2


def factorise(xx: np.ndarray, xy: np.ndarray, yy: np.ndarray, rtol: float = 1e-10):
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


def loglik_from_factors(n, rss0, R, b, coef, sigma, xp=np):
    """:func:`loglik_from_stats` on the factors of :func:`factorise` (same value, cheaper).

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
    return -0.5 * n * (LOG_2PI + 2.0 * xp.log(sigma)) - 0.5 * rss / sigma**2


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


# ---------------------------------------------------------------------------------------------
# The model's likelihood as two compiled kernels (value and gradient in one pass)
# ---------------------------------------------------------------------------------------------
#
# Written as PyTensor graph operations, the likelihood and its gradient take some 100 small nodes
# (broadcasts, concatenations, reductions and their adjoints); in the numba backend each costs an
# allocation and a loop, and all of them go through LLVM when nutpie compiles the model. These
# loops do the same arithmetic in one pass over the factors, return the gradient alongside the
# value, and are cached on disk by numba.


# contraction and reassociation let LLVM vectorise the dot products; no approximate functions
_FASTMATH = {"contract", "reassoc", "nsz"}


@numba.njit(cache=True, fastmath=_FASTMATH, boundscheck=False)
def _sat_kernel(alpha, beta, delta, sigma, R, b, rss0, n):  # pragma: no cover - compiled
    C, T, Q = b.shape
    K, J = beta.shape[2], delta.shape[1]
    g_alpha, g_beta = np.zeros((C, T)), np.zeros((C, T, K))
    g_delta, g_sigma = np.zeros((C, J)), np.zeros(C)
    coef, resid, grad = np.empty(Q), np.empty(Q), np.empty(Q)
    total = 0.0
    for c in range(C):
        inv = 1.0 / (sigma[c] * sigma[c])
        log_s = np.log(sigma[c])
        for t in range(T):
            coef[0] = alpha[c, t]
            coef[1 : 1 + K] = beta[c, t]
            coef[1 + K :] = delta[c]
            rss = rss0[c, t]
            for i in range(Q):
                r = -b[c, t, i]
                for q in range(Q):
                    r += R[c, t, i, q] * coef[q]
                resid[i] = r
                rss += r * r
            total += -0.5 * n[c, t] * (LOG_2PI + 2.0 * log_s) - 0.5 * rss * inv
            g_sigma[c] += -n[c, t] / sigma[c] + rss * inv / sigma[c]
            grad[:] = 0.0
            for i in range(Q):
                r = -inv * resid[i]
                for q in range(Q):
                    grad[q] += R[c, t, i, q] * r
            g_alpha[c, t] += grad[0]
            g_beta[c, t] += grad[1 : 1 + K]
            g_delta[c] += grad[1 + K :]
    return np.asarray(total), g_alpha, g_beta, g_delta, g_sigma


@numba.njit(cache=True, fastmath=_FASTMATH, boundscheck=False)
def _driver_kernel(gamma0, gamma, sigma, R, b, rss0, n):  # pragma: no cover - compiled
    C, K, Q = b.shape
    g_gamma0, g_gamma, g_sigma = np.zeros((C, K)), np.zeros((C, K, Q - 1)), np.zeros((C, K))
    resid, grad = np.empty(Q), np.empty(Q)
    total = 0.0
    for c in range(C):
        for k in range(K):
            if n[c, k] == 0.0:
                continue
            inv = 1.0 / (sigma[c, k] * sigma[c, k])
            rss = rss0[c, k]
            for i in range(Q):
                r = R[c, i, 0] * gamma0[c, k] - b[c, k, i]
                for q in range(1, Q):
                    r += R[c, i, q] * gamma[c, k, q - 1]
                resid[i] = r
                rss += r * r
            total += -0.5 * n[c, k] * (LOG_2PI + 2.0 * np.log(sigma[c, k])) - 0.5 * rss * inv
            g_sigma[c, k] = -n[c, k] / sigma[c, k] + rss * inv / sigma[c, k]
            grad[:] = 0.0
            for i in range(Q):
                r = -inv * resid[i]
                for q in range(Q):
                    grad[q] += R[c, i, q] * r
            g_gamma0[c, k] = grad[0]
            g_gamma[c, k] = grad[1:]
    return np.asarray(total), g_gamma0, g_gamma, g_sigma


class _KernelOp(Op):
    """A log-likelihood whose extra outputs are its gradient with respect to the parameters.

    The first ``n_params`` inputs are parameters, the rest data; output 0 is the log-likelihood
    and outputs 1.. the gradients, which the pullback reuses: one kernel call gives both.
    """

    __props__ = ("name",)
    kernel = None
    n_params = 0

    def __init__(self, name: str):
        self.name = name

    def make_node(self, *inputs):
        inputs = [
            pt.as_tensor_variable(np.asarray(x, float) if isinstance(x, np.ndarray) else x)
            for x in inputs
        ]
        inputs = [pt.cast(x, "float64") for x in inputs]
        outputs = [pt.dscalar()] + [x.type() for x in inputs[: self.n_params]]
        return Apply(self, inputs, outputs)

    def perform(self, node, inputs, output_storage):
        for store, value in zip(output_storage, type(self).kernel(*inputs), strict=True):
            store[0] = value

    def connection_pattern(self, node):
        n_out = 1 + self.n_params
        return [[True] * n_out] * self.n_params + [[False] * n_out] * (
            len(node.inputs) - self.n_params
        )

    def pullback(self, inputs, outputs, output_grads):
        g = output_grads[0]
        return [g * x for x in outputs[1:]] + [disconnected_type() for _ in inputs[self.n_params :]]


class SatisfactionLoglik(_KernelOp):
    """``(alpha (C,T), beta (C,T,K), delta (C,J), sigma (C), R, b, rss0, n) -> loglik, grads``."""

    kernel = staticmethod(_sat_kernel)
    n_params = 4


class DriverLoglik(_KernelOp):
    """``(gamma0 (C,K), gamma (C,K,J), sigma (C,K), R (C,Q,Q), b (C,K,Q), rss0, n) -> loglik,
    grads`` with ``Q = 1 + J``; driver equations with ``n == 0`` (not measured) are skipped."""

    kernel = staticmethod(_driver_kernel)
    n_params = 3


@register_funcify_default_op_cache_key(SatisfactionLoglik)
def _numba_sat(op, node=None, **kwargs):
    return _sat_kernel


@register_funcify_default_op_cache_key(DriverLoglik)
def _numba_driver(op, node=None, **kwargs):
    return _driver_kernel
