"""The hierarchical Bayesian key-driver model, written on sufficient statistics.

Per channel c, year t, driver k, influencer j (all terms standardised, see
:mod:`whatif.likelihood`):

* satisfaction: ``y = alpha[c,t] + sum_k beta[c,t,k] x_k + sum_j delta[c,j] z_j + N(0, sigma[c])``
* drivers: ``x_k = gamma0[c,k] + sum_j gamma[c,k,j] z_j + N(0, s[c,k])``

Driver weights ``beta`` start, in the first year, around a cross-channel mean (partial pooling)
and then follow a per-channel random walk whose step has a per-driver scale. Influencer effects
``gamma`` and direct effects ``delta`` are pooled across channels. Terms not measured in a channel
are masked out there.

Each hierarchical coefficient uses a *partially non-centred* parameterisation (Papaspiliopoulos,
Roberts & Skold 2007; Gorinova, Moore & Hoffman 2020): ``raw ~ N(lam*m, s**lam)`` and
``coef = m + s**(1-lam) * (raw - lam*m)``. ``lam`` is chosen per group from the data as the
share of the coefficient's precision that comes from the likelihood, ``I s^2 / (1 + I s^2)``:
close to 1 (centred) for groups of hundreds of thousands of responses, close to 0 (non-centred)
for small groups, so neither regime bends into a funnel.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pymc as pm
import pytensor.tensor as pt
import xarray as xr

from whatif.likelihood import Standardised, loglik_from_stats, standardise
from whatif.priors import Priors

__all__ = ["ModelInputs", "build_model", "prepare_inputs", "DATA_VARS"]

#: Posterior variables in data units that every later step reads.
DATA_VARS = [
    "weights",
    "effects",
    "direct",
    "intercept",
    "driver_intercept",
    "sigma",
    "driver_sigma",
    "weight_drift",
    "weight_spread",
]


@dataclass(frozen=True)
class ModelInputs:
    """Everything the model needs, derived from the aggregated data."""

    std: Standardised
    channels: list[str]
    years: list[int]
    drivers: list[str]
    influencers: list[str]
    driver_mask: np.ndarray  # (C, K)
    influencer_mask: np.ndarray  # (C, J)
    lam_start: np.ndarray  # (C, K) first-year weights
    lam_steps: np.ndarray  # (C, T-1, K) random-walk steps of the weights
    lam_effects: np.ndarray  # (C, K, J)
    lam_direct: np.ndarray  # (C, J)

    @property
    def coords(self) -> dict[str, list]:
        return {
            "channel": self.channels,
            "year": self.years,
            "step": self.years[1:],
            "driver": self.drivers,
            "influencer": self.influencers,
        }


def _ols(xx: np.ndarray, xy: np.ndarray, yy: float, n: float, keep: np.ndarray):
    """OLS estimates and their sampling variances (NaN where not kept or not identified)."""
    est = np.full(len(keep), np.nan)
    var = np.full(len(keep), np.nan)
    idx = np.flatnonzero(keep)
    if n <= len(idx) + 1:
        return est, var
    a = xx[np.ix_(idx, idx)]
    b = xy[idx]
    inv = np.linalg.pinv(a)
    coef = inv @ b
    rss = max(yy - 2 * coef @ b + coef @ a @ coef, 1e-12 * max(yy, 1e-12))
    est[idx] = coef
    var[idx] = np.clip(np.diag(inv), 1e-300, None) * rss / (n - len(idx))
    return est, var


def _scale_guess(est: np.ndarray, var: np.ndarray, axis: int, prior: float) -> np.ndarray:
    """Method-of-moments spread of true coefficients along ``axis`` (floored, capped by prior)."""
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        spread = np.nanvar(est, axis=axis) - np.nanmean(var, axis=axis)
    spread = np.sqrt(np.clip(np.nan_to_num(spread, nan=0.0), (0.1 * prior) ** 2, (3 * prior) ** 2))
    return np.expand_dims(spread, axis)


def _centring(var: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Share of a coefficient's precision that comes from the data: 1 centred, 0 non-centred."""
    info = np.where(np.isnan(var), 0.0, 1.0 / np.where(np.isnan(var), 1.0, var))
    s2 = scale**2
    return info * s2 / (1.0 + info * s2)


def prepare_inputs(data: xr.Dataset, priors: Priors) -> ModelInputs:
    """Standardise the aggregates and choose each coefficient's parameterisation from the data.

    Per-group OLS on the sufficient statistics gives each coefficient's sampling variance; a
    method-of-moments estimate of each hierarchical spread (floored at a tenth of its prior
    scale) turns it into the centring weight ``lam``.

    Parameters
    ----------
    data
        Aggregates from :func:`whatif.aggregate.aggregate`.
    priors
        Prior scales.
    """
    std = standardise(data)
    K, J = data.sizes["driver"], data.sizes["influencer"]
    C, T = data.sizes["channel"], data.sizes["year"]
    P = K + J + 2
    design = np.arange(P - 1)
    e_idx = np.concatenate([[0], np.arange(1 + K, 1 + K + J)]).astype(int)
    sat_est = np.full((C, T, P - 1), np.nan)
    sat_var = np.full((C, T, P - 1), np.nan)
    eff_est = np.full((C, T, K, J), np.nan)
    eff_var = np.full((C, T, K, J), np.nan)
    for c in range(C):
        for t in range(T):
            s, n = std.cross[c, t], std.n[c, t]
            sat_est[c, t], sat_var[c, t] = _ols(
                s[np.ix_(design, design)],
                s[design, P - 1],
                s[P - 1, P - 1],
                n,
                std.measured[c, design],
            )
            for k in range(K):
                if std.measured[c, 1 + k]:
                    est, var = _ols(
                        s[np.ix_(e_idx, e_idx)],
                        s[e_idx, 1 + k],
                        s[1 + k, 1 + k],
                        n,
                        std.measured[c, e_idx],
                    )
                    eff_est[c, t, k], eff_var[c, t, k] = est[1:], var[1:]
    w_est, w_var = sat_est[..., 1 : 1 + K], sat_var[..., 1 : 1 + K]
    d_var = 1.0 / np.nansum(1.0 / sat_var[..., 1 + K :], axis=1)  # pooled over years
    d_est = np.nanmean(sat_est[..., 1 + K :], axis=1)
    g_var = 1.0 / np.nansum(1.0 / eff_var, axis=1)
    g_est = np.nanmean(eff_est, axis=1)
    step_est, step_var = np.diff(w_est, axis=1), w_var[:, 1:] + w_var[:, :-1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        lam_steps = _centring(
            step_var,
            _scale_guess(step_est, step_var, 0, priors.weight_drift).mean(axis=1, keepdims=True),
        )
    return ModelInputs(
        std=std,
        channels=[str(c) for c in data["channel"].to_numpy()],
        years=[int(y) for y in data["year"].to_numpy()],
        drivers=[str(d) for d in data["driver"].to_numpy()],
        influencers=[str(i) for i in data["influencer"].to_numpy()],
        driver_mask=std.measured[:, 1 : 1 + K],
        influencer_mask=std.measured[:, 1 + K : 1 + K + J],
        lam_start=_centring(
            w_var[:, 0], _scale_guess(w_est[:, 0], w_var[:, 0], 0, priors.weight_spread)
        ),
        lam_steps=lam_steps,
        lam_effects=_centring(g_var, _scale_guess(g_est, g_var, 0, priors.effect_spread)),
        lam_direct=_centring(d_var, _scale_guess(d_est, d_var, 0, priors.direct_spread)),
    )


class _Packed:
    """Many coefficient blocks as one flat vector: one random variable compiles to less code
    (and samples with less overhead) than a dozen small ones."""

    def __init__(self) -> None:
        self.blocks: list[tuple[str, tuple[int, ...]]] = []
        self.means: list = []
        self.sds: list = []

    def add(self, name: str, shape: tuple[int, ...], mean, sd) -> None:
        self.blocks.append((name, shape))
        self.means.append(pt.broadcast_to(mean, shape).ravel())
        self.sds.append(pt.broadcast_to(sd, shape).ravel())

    def unpack(self, flat) -> dict:
        out, at = {}, 0
        for name, shape in self.blocks:
            size = int(np.prod(shape))
            out[name] = flat[at : at + size].reshape(shape)
            at += size
        return out


def _partial(lam: np.ndarray, mean, spread):
    """Prior mean and sd of the raw variable of a partially non-centred coefficient."""
    return lam * mean, spread**lam


def _uncentre(raw, lam: np.ndarray, mean, spread):
    return mean + spread ** (1.0 - lam) * (raw - lam * mean)


def build_model(inputs: ModelInputs, priors: Priors | None = None) -> pm.Model:
    """The PyMC model on sufficient statistics.

    Parameters
    ----------
    inputs
        From :func:`prepare_inputs`.
    priors
        Prior scales (defaults if ``None``).

    Returns
    -------
    pymc.Model
        Free variables in standardised units, packed into a few flat vectors; deterministics
        :data:`DATA_VARS` in data units.
    """
    priors = priors or Priors()
    std = inputs.std
    C, T = std.n.shape
    K, J = len(inputs.drivers), len(inputs.influencers)
    P = K + J + 2
    dmask = inputs.driver_mask.astype(float)
    imask = inputs.influencer_mask.astype(float)
    design = np.arange(P - 1)
    e_idx = np.concatenate([[0], np.arange(1 + K, 1 + K + J)]).astype(int)
    d_idx = np.arange(1, 1 + K)

    with pm.Model(coords=inputs.coords) as model:
        means = pm.Normal(
            "hyper_mean_std",
            0.0,
            np.concatenate(
                [
                    np.full(K, priors.weight_mean_sd),
                    np.full(K * J, priors.effect_mean_sd),
                    np.full(J, priors.direct_mean_sd),
                ]
            ),
            shape=K + K * J + J,
        )
        weight_mean, effect_mean, direct_mean = (
            means[:K],
            means[K : K + K * J].reshape((K, J)),
            means[K + K * J :],
        )
        # Gamma(2, 2/s): mean s, no mass piled at zero, so a hierarchy over five channels or a
        # handful of years cannot collapse into a funnel (Chung et al. 2013).
        scale_prior = np.concatenate(
            [
                np.full(K, priors.weight_spread),
                np.full(K, priors.weight_drift),
                np.full(J, priors.effect_spread),
                np.full(J, priors.direct_spread),
            ]
        )
        scales = pm.Gamma("hyper_scale_std", alpha=2.0, beta=2.0 / scale_prior, shape=2 * K + 2 * J)
        weight_spread, weight_drift = scales[:K], scales[K : 2 * K]
        effect_spread, direct_spread = scales[2 * K : 2 * K + J], scales[2 * K + J :]

        packed = _Packed()
        packed.add(
            "start", (C, K), *_partial(inputs.lam_start, weight_mean[None], weight_spread[None])
        )
        if T > 1:
            packed.add(
                "steps", (C, T - 1, K), *_partial(inputs.lam_steps, 0.0, weight_drift[None, None])
            )
        packed.add(
            "effects",
            (C, K, J),
            *_partial(inputs.lam_effects, effect_mean[None], effect_spread[None, None]),
        )
        packed.add(
            "direct", (C, J), *_partial(inputs.lam_direct, direct_mean[None], direct_spread[None])
        )
        packed.add("alpha", (C, T), 0.0, priors.intercept_sd)
        packed.add("gamma0", (C, K), 0.0, priors.intercept_sd)
        raw = pm.Normal(
            "coef_raw",
            pt.concatenate(packed.means),
            pt.concatenate(packed.sds),
            shape=sum(int(np.prod(s)) for _, s in packed.blocks),
        )
        part = packed.unpack(raw)

        start = _uncentre(part["start"], inputs.lam_start, weight_mean[None], weight_spread[None])
        beta = start[:, None, :]
        if T > 1:
            steps = _uncentre(part["steps"], inputs.lam_steps, 0.0, weight_drift[None, None])
            beta = beta + pt.concatenate([pt.zeros((C, 1, K)), pt.cumsum(steps, axis=1)], axis=1)
        beta = beta * dmask[:, None, :]  # (C, T, K)
        gamma = _uncentre(
            part["effects"], inputs.lam_effects, effect_mean[None], effect_spread[None, None]
        )
        gamma = gamma * imask[:, None, :] * dmask[:, :, None]
        delta = (
            _uncentre(part["direct"], inputs.lam_direct, direct_mean[None], direct_spread[None])
            * imask
        )
        alpha, gamma0 = part["alpha"], part["gamma0"]
        noise = pm.HalfNormal("noise_std", priors.noise_sd, shape=C + C * K)
        sigma, driver_sigma = noise[:C], noise[C:].reshape((C, K))

        cross = std.cross
        coef = pt.concatenate(
            [alpha[..., None], beta, pt.broadcast_to(delta[:, None, :], (C, T, J))], axis=-1
        )
        sat = loglik_from_stats(
            std.n,
            cross[..., P - 1, P - 1],
            cross[..., design, P - 1],
            cross[..., design[:, None], design[None, :]],
            coef,
            sigma[:, None],
            xp=pt,
        )
        pm.Potential("satisfaction_loglik", sat.sum())
        coef_d = pt.concatenate([gamma0[..., None], gamma], axis=-1)  # (C, K, J+1)
        # the driver equations do not vary by year: their statistics pool over years
        pooled = cross.sum(axis=1)
        xy_d = np.moveaxis(pooled[:, e_idx[:, None], d_idx[None, :]], -1, -2)  # (C, K, J+1)
        drv = loglik_from_stats(
            std.n.sum(axis=1)[:, None],
            pooled[:, d_idx, d_idx],
            xy_d,
            pooled[:, None, e_idx[:, None], e_idx[None, :]],
            coef_d,
            driver_sigma,
            xp=pt,
        )
        pm.Potential("driver_loglik", (drv * dmask).sum())

        _data_units(
            inputs,
            alpha,
            beta,
            gamma,
            delta,
            gamma0,
            sigma,
            driver_sigma,
            weight_drift,
            weight_spread,
        )
    return model


def _data_units(
    inputs, alpha, beta, gamma, delta, gamma0, sigma, driver_sigma, drift, spread
) -> None:
    """Deterministics in the data's own units (satisfaction points per driver point, etc.)."""
    std = inputs.std
    K, J = len(inputs.drivers), len(inputs.influencers)
    mean, sd = std.mean, std.sd
    sd_y, mu_y = sd[-1], mean[-1]
    sd_x, mu_x = sd[1 : 1 + K], mean[1 : 1 + K]
    sd_z, mu_z = sd[1 + K : 1 + K + J], mean[1 + K : 1 + K + J]
    dmask = inputs.driver_mask.astype(float)
    imask = inputs.influencer_mask.astype(float)
    weights = pm.Deterministic("weights", beta * sd_y / sd_x, dims=("channel", "year", "driver"))
    direct = pm.Deterministic("direct", delta * sd_y / sd_z, dims=("channel", "influencer"))
    effects = pm.Deterministic(
        "effects", gamma * sd_x[:, None] / sd_z[None, :], dims=("channel", "driver", "influencer")
    )
    pm.Deterministic(
        "intercept",
        mu_y
        + sd_y * alpha
        - (weights * (dmask * mu_x)[:, None, :]).sum(-1)
        - (direct * imask * mu_z).sum(-1)[:, None],
        dims=("channel", "year"),
    )
    pm.Deterministic(
        "driver_intercept",
        mu_x + sd_x * gamma0 - (effects * mu_z).sum(-1),
        dims=("channel", "driver"),
    )
    pm.Deterministic("sigma", sigma * sd_y, dims="channel")
    pm.Deterministic("driver_sigma", driver_sigma * sd_x, dims=("channel", "driver"))
    pm.Deterministic("weight_drift", drift * sd_y / sd_x, dims="driver")
    pm.Deterministic("weight_spread", spread * sd_y / sd_x, dims="driver")
