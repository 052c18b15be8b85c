"""The rating-scale likelihood of one regression: whole-number answers as a rounded, censored
normal, fitted by Newton's method, and its Gaussian summary in the model's statistics.

An answer ``a`` on the scale ``[low, high]`` is the latent score ``y* = X theta + sigma e`` rounded
to the nearest whole number and clipped to the scale: ``y*`` lies in ``[a - 1/2, a + 1/2)``, in
``(-inf, low + 1/2)`` for the lowest answer and ``[high - 1/2, inf)`` for the highest. The cut-points
sit half-way between answers, so the latent scale is in rating points and the coefficients keep
their meaning (rating points per rating point), as in the linear model; what changes is that a
score pushed past the top of the scale stays at the top.

:func:`fit_censored` maximizes the weighted log-likelihood with Newton's method on the exact
gradient and Hessian (:func:`censored_loglik`, checked against finite differences in the
tests). :func:`pseudo_statistics` turns the estimate and its information into cross-products
whose Gaussian likelihood has the same mode and the same curvature in the coefficients and in
``log sigma`` -- so the model's compiled density, its data-whitened parameterization and
everything built on them read a rating-scale group exactly as a linear one. For a large group the
likelihood is Gaussian in the coefficients to high accuracy (it is a sum of many independent
terms); the tests compare the two on the rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr

_INV_SQRT_2PI = 1.0 / np.sqrt(2.0 * np.pi)

__all__ = [
    "CensoredFit",
    "answer_probabilities",
    "censored_loglik",
    "fit_censored",
    "is_whole_scale",
    "pseudo_statistics",
]


def is_whole_scale(values: np.ndarray, scale: tuple[float, float]) -> bool:
    """Whether every (non-missing) value is a whole number on the scale."""
    values = np.asarray(values, float)
    values = values[~np.isnan(values)]
    low, high = scale
    return bool(
        values.size
        and float(low).is_integer()
        and float(high).is_integer()
        and np.all(values == np.rint(values))
        and values.min() >= low
        and values.max() <= high
    )


#: Standardized ends beyond this are infinite to double precision (phi(40) underflows to 0).
_FAR = 40.0


def _interval_terms(y, mu, sigma, low, high):
    """Log-probability of each row's interval and the pieces of its derivatives."""
    a = (y - 0.5 - mu) / sigma
    b = a + 1.0 / sigma
    a[y <= low] = -_FAR
    b[y >= high] = _FAR
    # P = Phi(b) - Phi(a) without cancellation: intervals in the upper tail reflected,
    # Phi(-a) - Phi(-b)
    upper = a > 0
    p = ndtr(np.where(upper, -a, b)) - ndtr(np.where(upper, -b, a))
    p = np.maximum(p, 1e-300)
    pa = np.exp(-0.5 * a * a) * _INV_SQRT_2PI
    pb = np.exp(-0.5 * b * b) * _INV_SQRT_2PI
    apa, bpb = a * pa, b * pb
    d1 = pb - pa
    d2 = bpb - apa
    d3 = b * bpb - a * apa
    d4 = b * b * bpb - a * a * apa
    return np.log(p), p, d1, d2, d3, d4


def censored_loglik(theta, log_sigma, X, y, w, scale, derivatives: bool = True):
    """Weighted log-likelihood of the rounded, censored normal, with gradient and Hessian.

    Parameters
    ----------
    theta
        Coefficients ``(P,)``.
    log_sigma
        Log of the latent sd.
    X, y, w
        Design ``(n, P)``, whole-number answers ``(n,)`` and weights ``(n,)``.
    scale
        ``(low, high)``.
    derivatives
        Also return the gradient and Hessian in ``(theta, log_sigma)``.

    Returns
    -------
    float, or (float, ndarray (P+1,), ndarray (P+1, P+1))
    """
    low, high = scale
    sigma = np.exp(log_sigma)
    mu = X @ theta
    log_p, p, d1, d2, d3, d4 = _interval_terms(y, mu, sigma, low, high)
    value = float(w @ log_p)
    if not derivatives:
        return value
    l_mu = -d1 / (sigma * p)
    l_s = -d2 / p
    l_mumu = -d2 / (sigma**2 * p) - d1**2 / (sigma**2 * p**2)
    l_mus = -d3 / (sigma * p) + d1 * (p - d2) / (sigma * p**2)
    l_ss = (d2 - d4) / p - d2**2 / p**2
    grad = np.concatenate([X.T @ (w * l_mu), [w @ l_s]])
    P = X.shape[1]
    hess = np.empty((P + 1, P + 1))
    hess[:P, :P] = (X * (w * l_mumu)[:, None]).T @ X
    hess[:P, P] = hess[P, :P] = X.T @ (w * l_mus)
    hess[P, P] = w @ l_ss
    return value, grad, hess


@dataclass(frozen=True)
class CensoredFit:
    """The maximum-likelihood fit of one rating-scale regression.

    Attributes
    ----------
    theta, log_sigma
        The estimates.
    information
        Minus the Hessian of the log-likelihood at the estimate, in ``(theta, log_sigma)``
        ``(P+1, P+1)``.
    loglik
        The maximized log-likelihood.
    converged
        Newton's method met its tolerance with a positive-definite information.
    """

    theta: np.ndarray
    log_sigma: float
    information: np.ndarray
    loglik: float
    converged: bool


#: Groups with more rows than this start Newton's method from a fit on a subsample of them.
WARM_START_ROWS = 8000


def fit_censored(X, y, w, scale, max_iter: int = 60, tol: float = 1e-4) -> CensoredFit:
    """Maximize the rounded, censored normal likelihood by damped Newton steps.

    Starts from least squares, or for a large group from the fit on an evenly spaced subsample
    of its rows (a few Newton steps on all rows then reach the mode); columns of ``X`` that are
    all zero are held at zero. Converged when a Newton step moves no parameter by more than
    ``tol`` of its standard error (the estimate then takes that last step: Newton's error after
    it is of the order of its square).

    Parameters
    ----------
    X, y, w
        Design ``(n, P)``, whole-number answers and weights (normalized as the caller wishes:
        the information scales with them).
    scale
        ``(low, high)`` of the answers.
    """
    X, y, w = (np.asarray(a, float) for a in (X, y, w))
    P = X.shape[1]
    keep = np.flatnonzero(np.abs(X).max(axis=0) > 0) if len(X) else np.arange(0)
    Xk = X[:, keep]
    params = _start(Xk, y, w, scale, max_iter)
    value, grad, hess = censored_loglik(params[:-1], params[-1], Xk, y, w, scale)
    converged = False
    for _ in range(max_iter):
        try:
            step = np.linalg.solve(-hess, grad)
            se = np.sqrt(np.abs(np.diag(np.linalg.inv(-hess))))
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(-hess, grad, rcond=None)[0]
            se = np.full(len(step), np.inf)
        if not np.all(np.isfinite(step)):
            break
        if np.all(np.abs(step) <= tol * se):
            params = params + step
            converged = True
            break
        # the full step first, with its derivatives (it is nearly always taken), then halving
        full = censored_loglik(params[:-1] + step[:-1], params[-1] + step[-1], Xk, y, w, scale)
        if np.isfinite(full[0]) and full[0] >= value - 1e-10 * abs(value):
            params = params + step
            value, grad, hess = full
            continue
        t = 0.5
        while t > 1e-6:
            trial = params + t * step
            new = censored_loglik(trial[:-1], trial[-1], Xk, y, w, scale, derivatives=False)
            if np.isfinite(new) and new >= value - 1e-10 * abs(value):
                break
            t *= 0.5
        else:
            break
        params = trial
        value, grad, hess = censored_loglik(params[:-1], params[-1], Xk, y, w, scale)
    info_k = -hess
    try:
        np.linalg.cholesky(info_k)
    except np.linalg.LinAlgError:
        converged = False
    theta_full = np.zeros(P)
    theta_full[keep] = params[:-1]
    info = np.zeros((P + 1, P + 1))
    idx = np.concatenate([keep, [P]])
    info[np.ix_(idx, idx)] = info_k
    return CensoredFit(theta_full, float(params[-1]), info, float(value), converged)


def _start(X, y, w, scale, max_iter):
    """Where Newton's method starts: least squares, or the fit on a subsample of a large group."""
    if len(y) > 2 * WARM_START_ROWS:
        every = len(y) // WARM_START_ROWS
        sub = fit_censored(X[::every], y[::every], w[::every], scale, max_iter)
        if sub.converged and np.all(np.isfinite(sub.theta)):
            return np.concatenate([sub.theta, [sub.log_sigma]])
    xtwx = (X * w[:, None]).T @ X
    theta = np.linalg.lstsq(xtwx, X.T @ (w * y), rcond=None)[0]
    resid = y - X @ theta
    log_sigma = 0.5 * np.log(max(w @ resid**2 / max(w.sum(), 1e-12), 0.05))
    return np.concatenate([theta, [log_sigma]])


def pseudo_statistics(fit: CensoredFit) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Cross-products whose Gaussian likelihood matches the fit's mode and curvature.

    The Gaussian likelihood of sufficient statistics ``(xx, xy, yy, n)``,
    ``-n log sigma - (yy - 2 theta'xy + theta'xx theta) / (2 sigma^2)``, has its mode at the fit's
    ``(theta, sigma)`` and the fit's information in ``theta`` (given ``log sigma`` profiled out:
    the Schur complement) and in ``log sigma`` (given ``theta`` profiled out), with

        ``xx = sigma^2 I_theta|s``,  ``xy = xx theta``,  ``n = I_s|theta / 2``,
        ``yy = theta' xx theta + n sigma^2``.

    The cross-information of ``theta`` and ``log sigma`` is not kept (the marginal curvatures
    are).

    Returns
    -------
    xx (P, P), xy (P,), yy, n
    """
    info = fit.information
    P = len(fit.theta)
    keep = np.flatnonzero(np.diag(info)[:P] > 0)
    i_tt = info[np.ix_(keep, keep)]
    i_ts = info[keep, P]
    i_ss = info[P, P]
    sigma2 = np.exp(2.0 * fit.log_sigma)
    cond = i_tt - np.outer(i_ts, i_ts) / i_ss
    marginal_s = i_ss - i_ts @ np.linalg.solve(i_tt, i_ts)
    xx = np.zeros((P, P))
    xx[np.ix_(keep, keep)] = sigma2 * cond
    xy = xx @ fit.theta
    n = 0.5 * marginal_s
    yy = float(fit.theta @ xy + n * sigma2)
    return xx, xy, yy, float(n)


def answer_probabilities(mu, sigma, scale):
    """P(answer = a) of the rounded, censored normal, for every answer of the scale.

    ``mu`` and ``sigma`` broadcast; the answers are the last axis.
    """
    low, high = scale
    answers = np.arange(low, high + 1.0)
    mu = np.asarray(mu, float)[..., None]
    sigma = np.asarray(sigma, float)[..., None]
    upper = ndtr((answers[1:] - 0.5 - mu) / sigma)  # P(y* < a + 1/2) for a = low .. high-1
    cdf = np.concatenate([upper, np.ones(upper.shape[:-1] + (1,))], axis=-1)
    return np.diff(cdf, axis=-1, prepend=0.0)
