"""Rank-normalized split R-hat and bulk and tail effective sample sizes of many parameters at once.

The arithmetic of arviz-stats (Vehtari, Gelman, Simpson, Carpenter & Bürkner 2021: split chains,
ranks over all draws, Blom's normal scores, Geyer's initial monotone sequence), written over an
array of parameters instead of one parameter at a time: arviz-stats loops over a fit's ~1,000
parameters in Python and spends 2-3 s on them; here the same numbers (a test holds them to
arviz-stats to 1e-8) take a fraction of a second.

The tail ESS is the paper's: the smaller of the ESS of the indicators of the 5% and 95%
quantiles (ArviZ 1's own default reads its ``stats.ci_prob``, 0.89, so the 11% and 89%
quantiles, which gives larger numbers).

Every function takes draws shaped ``(parameter, chain, draw)`` with no missing values.
"""

from __future__ import annotations

import numpy as np
from scipy.fft import irfft, next_fast_len, rfft
from scipy.special import ndtri
from scipy.stats import rankdata

__all__ = ["convergence", "ess_bulk", "ess_tail", "rhat_rank"]

#: The quantiles of the tail ESS (Vehtari et al. 2021).
TAIL = (0.05, 0.95)


def _split(draws: np.ndarray) -> np.ndarray:
    """Each chain cut into its first and last halves, as chains of their own."""
    half = draws.shape[2] // 2
    return np.concatenate([draws[:, :, :half], draws[:, :, -half:]], axis=1)


def _z_scale(draws: np.ndarray) -> np.ndarray:
    """Normal scores of each parameter's ranks over all its draws (Blom's offset 3/8)."""
    P = draws.shape[0]
    ranks = rankdata(draws.reshape(P, -1), method="average", axis=1)
    size = ranks.shape[1]
    return ndtri((ranks - 3 / 8) / (size - 2 * 3 / 8 + 1)).reshape(draws.shape)


def _rhat(draws: np.ndarray) -> np.ndarray:
    n = draws.shape[2]
    between = n * np.var(draws.mean(axis=2), axis=1, ddof=1)
    within = np.var(draws, axis=2, ddof=1).mean(axis=1)
    return np.sqrt((between / within + n - 1) / n)


def rhat_rank(draws: np.ndarray, z_split: np.ndarray | None = None) -> np.ndarray:
    """Rank-normalized split R-hat, the larger of the bulk's and the folded tails', ``(P,)``;
    NaN with fewer than 2 chains or 4 draws."""
    if draws.shape[1] < 2 or draws.shape[2] < 4:
        return np.full(draws.shape[0], np.nan)
    split = _split(draws)
    P = split.shape[0]
    folded = np.abs(split - np.median(split.reshape(P, -1), axis=1)[:, None, None])
    z_split = _z_scale(split) if z_split is None else z_split
    with np.errstate(invalid="ignore", divide="ignore"):  # a constant parameter: NaN
        return np.maximum(_rhat(z_split), _rhat(_z_scale(folded)))


def convergence(draws: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`rhat_rank`, :func:`ess_bulk` and :func:`ess_tail` of each parameter, the normal
    scores of the split chains computed once for the first two."""
    if draws.shape[2] < 4:
        nan = np.full(draws.shape[0], np.nan)
        return nan, nan, nan
    z_split = _z_scale(_split(draws))
    return rhat_rank(draws, z_split), _ess(z_split), ess_tail(draws)


def _ess(draws: np.ndarray) -> np.ndarray:
    """Effective sample size of each parameter's chains (Geyer's initial monotone sequence)."""
    P, M, n = draws.shape
    out = np.full(P, float(M * n))
    constant = draws.max(axis=(1, 2)) - draws.min(axis=(1, 2)) < np.finfo(float).resolution
    live = np.flatnonzero(~constant)
    if live.size == 0:
        return out
    x = draws[live]
    centered = x - x.mean(axis=2, keepdims=True)
    m = next_fast_len(2 * n)
    spectrum = rfft(centered, n=m, axis=2)
    acov = irfft(spectrum * np.conjugate(spectrum), n=m, axis=2)[:, :, :n] / n
    mean_var = acov[:, :, 0].mean(axis=1) * n / (n - 1.0)
    var_plus = mean_var * (n - 1.0) / n
    if M > 1:
        var_plus = var_plus + np.var(x.mean(axis=2), axis=1, ddof=1)
    rho = 1.0 - (mean_var[:, None] - acov.mean(axis=1)) / var_plus[:, None]

    L = live.size
    rho_hat = np.zeros((L, n))
    rho_hat[:, 0] = 1.0
    rho_hat[:, 1] = rho[:, 1]
    even, odd = np.ones(L), rho[:, 1].copy()
    t = np.ones(L, int)  # where each parameter's positive sequence stopped
    going = np.ones(L, bool)
    step = 1
    while step < n - 3 and going.any():
        going &= even + odd > 0.0
        even = np.where(going, rho[:, step + 1], even)
        odd = np.where(going, rho[:, step + 2], odd)
        keep = going & (even + odd >= 0)
        rho_hat[keep, step + 1] = even[keep]
        rho_hat[keep, step + 2] = odd[keep]
        t = np.where(going, step + 2, t)
        step += 2
    max_t = t - 2
    rows = np.arange(L)
    positive = even > 0
    rho_hat[rows[positive], max_t[positive] + 1] = even[positive]
    # Geyer's initial monotone sequence
    for step in range(1, int(max_t.max(initial=0)) - 1, 2):
        active = step <= max_t - 2
        later = rho_hat[:, step + 1] + rho_hat[:, step + 2]
        earlier = rho_hat[:, step - 1] + rho_hat[:, step]
        fix = active & (later > earlier)
        rho_hat[fix, step + 1] = earlier[fix] / 2.0
        rho_hat[fix, step + 2] = rho_hat[fix, step + 1]
    lags = np.arange(n)
    tau = (
        -1.0
        + 2.0 * np.sum(np.where(lags <= max_t[:, None], rho_hat, 0.0), axis=1)
        + np.sum(np.where(lags == max_t[:, None] + 1, rho_hat, 0.0), axis=1)
    )
    tau = np.maximum(tau, 1.0 / np.log10(M * n))
    ess = M * n / tau
    ess[np.isnan(rho_hat).any(axis=1)] = np.nan
    out[live] = ess
    return out


def ess_bulk(draws: np.ndarray) -> np.ndarray:
    """Bulk effective sample size: of the rank-normalized split chains, ``(P,)``."""
    return _ess(_z_scale(_split(draws)))


def ess_tail(draws: np.ndarray) -> np.ndarray:
    """Tail effective sample size: the smaller of the ESS of the indicators of the 5% and 95%
    quantiles, ``(P,)``."""
    P = draws.shape[0]
    flat = draws.reshape(P, -1)
    result = np.full(P, np.inf)
    for prob in TAIL:
        quantile = np.quantile(flat, prob, axis=1)
        below = (draws <= quantile[:, None, None]).astype(float)
        result = np.minimum(result, _ess(_split(below)))
    return result
