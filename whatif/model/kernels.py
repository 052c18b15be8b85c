"""The model's likelihood as two compiled kernels, value and gradient in one pass.

Written as PyTensor graph operations, the likelihood and its gradient take some 100 small nodes
(broadcasts, concatenations, reductions and their adjoints); in the numba backend each costs an
allocation and a loop, and all of them go through LLVM when nutpie compiles the model. These
loops do the same arithmetic as :func:`whatif.model.likelihood.loglik_from_factors` in one pass
over the factors, return the gradient alongside the value, and are cached on disk by numba.

:class:`whatif.model.ops.KernelOp` wraps such a kernel as a PyTensor Op whose pullback reuses
the gradient outputs; :mod:`whatif.model.density` builds the whole model's density on the same
pieces.
"""

from __future__ import annotations

import numba
import numpy as np

from whatif.model.likelihood import LOG_2PI

__all__ = ["FASTMATH", "driver_kernel", "sat_kernel"]


# contraction and reassociation let LLVM vectorize the dot products; no approximate functions
FASTMATH = {"contract", "reassoc", "nsz"}


@numba.njit(cache=True, fastmath=FASTMATH, boundscheck=False)
def sat_kernel(alpha, beta, delta, sigma, R, b, rss0, n):  # pragma: no cover - compiled
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


@numba.njit(cache=True, fastmath=FASTMATH, boundscheck=False)
def driver_kernel(gamma0, gamma, paths, sigma, R, b, rss0, n, path_at):  # pragma: no cover
    C, K, Q = b.shape
    J, P = gamma.shape[2], paths.shape[1]
    g_gamma0, g_gamma, g_sigma = np.zeros((C, K)), np.zeros((C, K, J)), np.zeros((C, K))
    g_paths = np.zeros((C, P))
    coef, resid, grad = np.zeros(Q), np.empty(Q), np.empty(Q)
    total = 0.0
    for c in range(C):
        for k in range(K):
            if n[c, k] == 0.0:
                continue
            # the design's source columns hold this driver's paths, zero for other drivers'
            coef[0] = gamma0[c, k]
            coef[1 : 1 + J] = gamma[c, k]
            coef[1 + J :] = 0.0
            for e in range(P):
                if int(path_at[e, 0]) == k:
                    coef[int(path_at[e, 1])] = paths[c, e]
            inv = 1.0 / (sigma[c, k] * sigma[c, k])
            rss = rss0[c, k]
            for i in range(Q):
                r = R[c, k, i, 0] * coef[0] - b[c, k, i]
                for q in range(1, Q):
                    r += R[c, k, i, q] * coef[q]
                resid[i] = r
                rss += r * r
            total += -0.5 * n[c, k] * (LOG_2PI + 2.0 * np.log(sigma[c, k])) - 0.5 * rss * inv
            g_sigma[c, k] = -n[c, k] / sigma[c, k] + rss * inv / sigma[c, k]
            grad[:] = 0.0
            for i in range(Q):
                r = -inv * resid[i]
                for q in range(Q):
                    grad[q] += R[c, k, i, q] * r
            g_gamma0[c, k] = grad[0]
            g_gamma[c, k] = grad[1 : 1 + J]
            for e in range(P):
                if int(path_at[e, 0]) == k:
                    g_paths[c, e] = grad[int(path_at[e, 1])]
    return np.asarray(total), g_gamma0, g_gamma, g_paths, g_sigma
