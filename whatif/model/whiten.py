"""One data-whitened coefficient and one whitened cross-channel mean, with their reverse passes:
the compiled pieces :mod:`whatif.model.density` and its reference
(:func:`whatif.model.reference.whitened`, :func:`whatif.model.reference.whitened_mean`) are
made of. The parameterization is described in :mod:`whatif.model.build`.
"""

from __future__ import annotations

import math

import numba

from whatif.model.kernels import FASTMATH

__all__ = ["whiten", "whiten_grad", "whiten_mean", "whiten_mean_grad"]


# -- one coefficient: theta = mean + scale * z, z its whitened standardization ---------------------


@numba.njit(cache=True, fastmath=FASTMATH)
def whiten(raw, est, info, mean, scale):  # pragma: no cover - compiled
    """Coefficient and log density of its raw variable (prior plus log-Jacobian)."""
    s2i = info * scale * scale
    root2 = 1.0 / (1.0 + s2i)
    root = math.sqrt(root2)
    z = info * scale * root2 * (est - mean) + root * raw
    return mean + scale * z, -0.5 * z * z + 0.5 * math.log(root2)


@numba.njit(cache=True, fastmath=FASTMATH)
def whiten_grad(g_theta, raw, est, info, mean, scale):  # pragma: no cover - compiled
    """Gradient of ``g_theta * theta + logp`` with respect to ``raw``, ``mean`` and ``scale``."""
    s2i = info * scale * scale
    root2 = 1.0 / (1.0 + s2i)
    root = math.sqrt(root2)
    a = info * scale * root2
    d = est - mean
    z = a * d + root * raw
    dz_dscale = info * (1.0 - s2i) * root2 * root2 * d - info * scale * root2 * root * raw
    g_z = g_theta * scale - z
    return g_z * root, g_theta - g_z * a, g_theta * z + g_z * dz_dscale - info * scale * root2


# -- one cross-channel mean, whitened given its spread with the coefficients integrated out -------


@numba.njit(cache=True, fastmath=FASTMATH)
def _mean_terms(est, info, scale, prior_sd):  # pragma: no cover - compiled
    prec = 1.0 / (prior_sd * prior_sd)
    num = 0.0
    for c in range(est.shape[0]):
        w = info[c] / (1.0 + info[c] * scale * scale)
        prec += w
        num += w * est[c]
    return prec, num


@numba.njit(cache=True, fastmath=FASTMATH)
def whiten_mean(raw, est, info, scale, prior_sd):  # pragma: no cover - compiled
    """Mean and log density of its raw variable (prior plus log-Jacobian, up to a constant)."""
    prec, num = _mean_terms(est, info, scale, prior_sd)
    mean = num / prec + raw / math.sqrt(prec)
    return mean, -0.5 * mean * mean / (prior_sd * prior_sd) - 0.5 * math.log(prec)


@numba.njit(cache=True, fastmath=FASTMATH)
def whiten_mean_grad(g_mean, raw, est, info, scale, prior_sd):  # pragma: no cover - compiled
    """Gradient of ``g_mean * mean + logp`` with respect to ``raw`` and ``scale``."""
    prec, num = _mean_terms(est, info, scale, prior_sd)
    inv_root = 1.0 / math.sqrt(prec)
    mean = num / prec + raw * inv_root
    g = g_mean - mean / (prior_sd * prior_sd)
    g_prec = g * (-num / (prec * prec) - 0.5 * raw * inv_root / prec) - 0.5 / prec
    g_num = g / prec
    g_scale = 0.0
    for c in range(est.shape[0]):
        w = info[c] / (1.0 + info[c] * scale * scale)
        g_scale += (g_prec + g_num * est[c]) * (-2.0 * scale * w * w)
    return g * inv_root, g_scale
