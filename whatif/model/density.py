"""The model's whole log density, and its gradient, as one compiled kernel.

The model is stated twice. Its reference form builds the coefficient priors as PyTensor
operations (:func:`whatif.model.reference.build_reference_model`): readable, differentiated by
PyTensor, but some 1,200 graph nodes once the gradient is taken, which cost nutpie 20-30 s of
graph rewriting and LLVM compilation on every fit. The fitted form calls this module's kernel
instead (a fit through its C entry points, :mod:`whatif.model.entry`; the PyMC statement
:func:`whatif.model.build.build_model` through the Op :class:`whatif.model.ops.ModelDensity`): the
same arithmetic -- data-whitened coefficients (module docstring of :mod:`whatif.model.build`; one
coefficient's pieces are :mod:`whatif.model.whiten`), the random walk over years, the partially
pooled means, the driver paths, both likelihoods -- written as loops with a
hand-derived reverse pass, compiled once and cached on disk by numba. The tests hold the two
forms to the same value and gradient, and the gradient to finite differences.

The kernel's loops walk the four free vectors in the order of
:class:`whatif.model.layout.ParameterLayout`, and its constant arguments come in the order of
:class:`whatif.model.layout.KernelArguments` (a test holds the signatures to both).
"""

from __future__ import annotations

import math

import numba
import numpy as np

from whatif.model.kernels import FASTMATH, driver_kernel, sat_kernel
from whatif.model.whiten import whiten, whiten_grad, whiten_mean, whiten_mean_grad

__all__ = [
    "coefficient_draws",
    "coefficients_kernel",
    "density_kernel",
    "forward_coefficients",
]

_HALF_LOG_2_OVER_PI = 0.5 * math.log(2.0 / math.pi)


# -- the coefficients of the whole model -------------------------------------------------------------


@numba.njit(cache=True, fastmath=FASTMATH, boundscheck=False)
def forward_coefficients(
    scales,
    mean_raw,
    coef_raw,
    w_est,
    w_info,
    e_est,
    e_info,
    d_est,
    d_info,
    a_est,
    a_info,
    g0_est,
    g0_info,
    p_est,
    p_info,
    dmask,
    imask,
    pmask,
    prior_sd,
):  # pragma: no cover - compiled
    """Unmasked coefficients, the four means and the log density of all raw variables."""
    C, T, K = w_est.shape
    J, P = d_est.shape[1], p_est.shape[1]
    w_spread, drift = scales[:K], scales[K : 2 * K]
    e_spread, d_spread = scales[2 * K : 2 * K + J], scales[2 * K + J : 2 * K + 2 * J]
    p_spread = scales[2 * K + 2 * J :]
    lp = 0.0
    w_mean, e_mean, d_mean = np.empty(K), np.empty((K, J)), np.empty(J)
    p_mean = np.empty(P)
    for k in range(K):
        w_mean[k], part = whiten_mean(
            mean_raw[k], w_est[:, 0, k], w_info[:, 0, k], w_spread[k], prior_sd[0]
        )
        lp += part
        for j in range(J):
            e_mean[k, j], part = whiten_mean(
                mean_raw[K + k * J + j], e_est[:, k, j], e_info[:, k, j], e_spread[j], prior_sd[1]
            )
            lp += part
    for j in range(J):
        d_mean[j], part = whiten_mean(
            mean_raw[K + K * J + j], d_est[:, j], d_info[:, j], d_spread[j], prior_sd[2]
        )
        lp += part
    for e in range(P):
        p_mean[e], part = whiten_mean(
            mean_raw[K + K * J + J + e], p_est[:, e], p_info[:, e], p_spread[e], prior_sd[4]
        )
        lp += part

    beta, gamma, delta = np.empty((C, T, K)), np.empty((C, K, J)), np.empty((C, J))
    alpha, gamma0, paths = np.empty((C, T)), np.empty((C, K)), np.empty((C, P))
    at = 0
    for c in range(C):
        for t in range(T):
            for k in range(K):
                mean = w_mean[k] if t == 0 else beta[c, t - 1, k]
                scale = w_spread[k] if t == 0 else drift[k]
                beta[c, t, k], part = whiten(
                    coef_raw[at], w_est[c, t, k], w_info[c, t, k], mean, scale
                )
                lp += part
                at += 1
    for c in range(C):
        for k in range(K):
            for j in range(J):
                gamma[c, k, j], part = whiten(
                    coef_raw[at], e_est[c, k, j], e_info[c, k, j], e_mean[k, j], e_spread[j]
                )
                lp += part
                at += 1
    for c in range(C):
        for j in range(J):
            delta[c, j], part = whiten(
                coef_raw[at], d_est[c, j], d_info[c, j], d_mean[j], d_spread[j]
            )
            lp += part
            at += 1
    for c in range(C):
        for t in range(T):
            alpha[c, t], part = whiten(coef_raw[at], a_est[c, t], a_info[c, t], 0.0, prior_sd[3])
            lp += part
            at += 1
    for c in range(C):
        for k in range(K):
            gamma0[c, k], part = whiten(coef_raw[at], g0_est[c, k], g0_info[c, k], 0.0, prior_sd[3])
            lp += part
            at += 1
    for c in range(C):
        for e in range(P):
            paths[c, e], part = whiten(
                coef_raw[at], p_est[c, e], p_info[c, e], p_mean[e], p_spread[e]
            )
            lp += part
            at += 1
    means = (w_mean, e_mean, d_mean, p_mean)
    return alpha, beta, gamma, delta, gamma0, paths, means, lp


@numba.njit(cache=True, fastmath=FASTMATH, boundscheck=False)
def _masked(beta, gamma, delta, paths, dmask, imask, pmask):  # pragma: no cover - compiled
    C, T, K = beta.shape
    J = delta.shape[1]
    beta_m, gamma_m, delta_m = beta.copy(), gamma.copy(), delta.copy()
    for c in range(C):
        for k in range(K):
            beta_m[c, :, k] *= dmask[c, k]
            for j in range(J):
                gamma_m[c, k, j] *= dmask[c, k] * imask[c, j]
        for j in range(J):
            delta_m[c, j] *= imask[c, j]
    return beta_m, gamma_m, delta_m, paths * pmask


@numba.njit(cache=True, fastmath=FASTMATH, boundscheck=False)
def coefficients_kernel(
    scales,
    mean_raw,
    coef_raw,
    w_est,
    w_info,
    e_est,
    e_info,
    d_est,
    d_info,
    a_est,
    a_info,
    g0_est,
    g0_info,
    p_est,
    p_info,
    dmask,
    imask,
    pmask,
    prior_sd,
):  # pragma: no cover - compiled
    alpha, beta, gamma, delta, gamma0, paths, _, _ = forward_coefficients(
        scales,
        mean_raw,
        coef_raw,
        w_est,
        w_info,
        e_est,
        e_info,
        d_est,
        d_info,
        a_est,
        a_info,
        g0_est,
        g0_info,
        p_est,
        p_info,
        dmask,
        imask,
        pmask,
        prior_sd,
    )
    beta_m, gamma_m, delta_m, paths_m = _masked(beta, gamma, delta, paths, dmask, imask, pmask)
    return alpha, beta_m, gamma_m, delta_m, gamma0, paths_m


@numba.njit(cache=True, fastmath=FASTMATH, boundscheck=False)
def density_kernel(
    log_scales,
    mean_raw,
    coef_raw,
    log_noise,
    scale_rate,
    noise_sd,
    w_est,
    w_info,
    e_est,
    e_info,
    d_est,
    d_info,
    a_est,
    a_info,
    g0_est,
    g0_info,
    p_est,
    p_info,
    dmask,
    imask,
    pmask,
    prior_sd,
    R,
    b,
    rss0,
    n,
    R_d,
    b_d,
    rss0_d,
    n_d,
    path_at,
):  # pragma: no cover - compiled
    C, T, K = w_est.shape
    J, P = d_est.shape[1], p_est.shape[1]
    scales, noise = np.exp(log_scales), np.exp(log_noise)
    alpha, beta, gamma, delta, gamma0, paths, means, lp = forward_coefficients(
        scales,
        mean_raw,
        coef_raw,
        w_est,
        w_info,
        e_est,
        e_info,
        d_est,
        d_info,
        a_est,
        a_info,
        g0_est,
        g0_info,
        p_est,
        p_info,
        dmask,
        imask,
        pmask,
        prior_sd,
    )
    w_mean, e_mean, d_mean, p_mean = means
    beta_m, gamma_m, delta_m, paths_m = _masked(beta, gamma, delta, paths, dmask, imask, pmask)
    sigma = noise[:C]
    d_sigma = noise[C:].reshape((C, K))
    ll_s, g_alpha, g_beta, g_delta, g_sigma = sat_kernel(
        alpha, beta_m, delta_m, sigma, R, b, rss0, n
    )
    ll_d, g_gamma0, g_gamma, g_paths, g_dsigma = driver_kernel(
        gamma0, gamma_m, paths_m, d_sigma, R_d, b_d, rss0_d, n_d, path_at
    )

    # reverse pass: masks, then coefficients (the random walk backwards in time), then means
    g_scales, g_mean_raw = np.zeros_like(scales), np.zeros_like(mean_raw)
    g_coef_raw, g_noise = np.zeros_like(coef_raw), np.empty_like(noise)
    g_w_mean, g_e_mean, g_d_mean = np.zeros(K), np.zeros((K, J)), np.zeros(J)
    g_p_mean = np.zeros(P)
    w_spread, drift = scales[:K], scales[K : 2 * K]
    e_spread, d_spread = scales[2 * K : 2 * K + J], scales[2 * K + J : 2 * K + 2 * J]
    p_spread = scales[2 * K + 2 * J :]
    for c in range(C):
        for k in range(K):
            carry = 0.0
            for t in range(T - 1, -1, -1):
                at = (c * T + t) * K + k
                g_theta = g_beta[c, t, k] * dmask[c, k] + carry
                if t == 0:
                    g_raw, g_mean, g_scale = whiten_grad(
                        g_theta,
                        coef_raw[at],
                        w_est[c, t, k],
                        w_info[c, t, k],
                        w_mean[k],
                        w_spread[k],
                    )
                    g_w_mean[k] += g_mean
                    g_scales[k] += g_scale
                else:
                    g_raw, carry, g_scale = whiten_grad(
                        g_theta,
                        coef_raw[at],
                        w_est[c, t, k],
                        w_info[c, t, k],
                        beta[c, t - 1, k],
                        drift[k],
                    )
                    g_scales[K + k] += g_scale
                g_coef_raw[at] = g_raw
    at = C * T * K
    for c in range(C):
        for k in range(K):
            for j in range(J):
                g_theta = g_gamma[c, k, j] * dmask[c, k] * imask[c, j]
                g_coef_raw[at], g_mean, g_scale = whiten_grad(
                    g_theta,
                    coef_raw[at],
                    e_est[c, k, j],
                    e_info[c, k, j],
                    e_mean[k, j],
                    e_spread[j],
                )
                g_e_mean[k, j] += g_mean
                g_scales[2 * K + j] += g_scale
                at += 1
    for c in range(C):
        for j in range(J):
            g_coef_raw[at], g_mean, g_scale = whiten_grad(
                g_delta[c, j] * imask[c, j],
                coef_raw[at],
                d_est[c, j],
                d_info[c, j],
                d_mean[j],
                d_spread[j],
            )
            g_d_mean[j] += g_mean
            g_scales[2 * K + J + j] += g_scale
            at += 1
    for c in range(C):
        for t in range(T):
            g_coef_raw[at], _, _ = whiten_grad(
                g_alpha[c, t], coef_raw[at], a_est[c, t], a_info[c, t], 0.0, prior_sd[3]
            )
            at += 1
    for c in range(C):
        for k in range(K):
            g_coef_raw[at], _, _ = whiten_grad(
                g_gamma0[c, k], coef_raw[at], g0_est[c, k], g0_info[c, k], 0.0, prior_sd[3]
            )
            at += 1
    for c in range(C):
        for e in range(P):
            g_coef_raw[at], g_mean, g_scale = whiten_grad(
                g_paths[c, e] * pmask[c, e],
                coef_raw[at],
                p_est[c, e],
                p_info[c, e],
                p_mean[e],
                p_spread[e],
            )
            g_p_mean[e] += g_mean
            g_scales[2 * K + 2 * J + e] += g_scale
            at += 1
    for k in range(K):
        g_mean_raw[k], g_scale = whiten_mean_grad(
            g_w_mean[k], mean_raw[k], w_est[:, 0, k], w_info[:, 0, k], w_spread[k], prior_sd[0]
        )
        g_scales[k] += g_scale
        for j in range(J):
            i = K + k * J + j
            g_mean_raw[i], g_scale = whiten_mean_grad(
                g_e_mean[k, j],
                mean_raw[i],
                e_est[:, k, j],
                e_info[:, k, j],
                e_spread[j],
                prior_sd[1],
            )
            g_scales[2 * K + j] += g_scale
    for j in range(J):
        i = K + K * J + j
        g_mean_raw[i], g_scale = whiten_mean_grad(
            g_d_mean[j], mean_raw[i], d_est[:, j], d_info[:, j], d_spread[j], prior_sd[2]
        )
        g_scales[2 * K + J + j] += g_scale
    for e in range(P):
        i = K + K * J + J + e
        g_mean_raw[i], g_scale = whiten_mean_grad(
            g_p_mean[e], mean_raw[i], p_est[:, e], p_info[:, e], p_spread[e], prior_sd[4]
        )
        g_scales[2 * K + 2 * J + e] += g_scale
    g_noise[:C] = g_sigma
    g_noise[C:] = g_dsigma.ravel()

    # priors of the spreads, Gamma(2, rate), and noise sds, half-normal, on the log scale
    # (normalized, log-Jacobian included, as PyMC states them)
    for i in range(scales.shape[0]):
        s_i, rate = scales[i], scale_rate[i]
        lp += 2.0 * math.log(rate) + 2.0 * log_scales[i] - rate * s_i
        g_scales[i] = g_scales[i] * s_i + 2.0 - rate * s_i
    inv_var = 1.0 / (noise_sd[0] * noise_sd[0])
    for i in range(noise.shape[0]):
        x = noise[i]
        lp += _HALF_LOG_2_OVER_PI - math.log(noise_sd[0]) - 0.5 * x * x * inv_var + log_noise[i]
        g_noise[i] = g_noise[i] * x + 1.0 - x * x * inv_var
    return np.asarray(lp + ll_s + ll_d), g_scales, g_mean_raw, g_coef_raw, g_noise


def coefficient_draws(log_scales, mean_raw, coef_raw, constants) -> tuple[np.ndarray, ...]:
    """:func:`coefficients_kernel` (the Op :class:`whatif.model.ops.Coefficients`) over many draws.

    Parameters
    ----------
    log_scales, mean_raw, coef_raw
        Draws of the free vectors, shape ``(..., size)`` with the same leading dimensions.
    constants
        :class:`whatif.model.layout.PriorArguments`.

    Returns
    -------
    alpha, beta, gamma, delta, gamma0, paths with the leading dimensions of the draws.
    """
    lead = log_scales.shape[:-1]
    flat = [
        np.ascontiguousarray(x.reshape(-1, x.shape[-1]), dtype=float)
        for x in (log_scales, mean_raw, coef_raw)
    ]
    per_draw = [
        coefficients_kernel(np.exp(s), m, c, *constants) for s, m, c in zip(*flat, strict=True)
    ]
    return tuple(
        np.stack(parts).reshape(lead + parts[0].shape) for parts in zip(*per_draw, strict=True)
    )
