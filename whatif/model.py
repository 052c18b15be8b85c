"""The hierarchical Bayesian key-driver model, written on sufficient statistics.

Per channel c, year t, driver k, influencer j (all terms standardised, see
:mod:`whatif.likelihood`):

* satisfaction: ``y = alpha[c,t] + sum_k beta[c,t,k] x_k + sum_j delta[c,j] z_j + N(0, sigma[c])``
* drivers: ``x_k = gamma0[c,k] + sum_j gamma[c,k,j] z_j + N(0, s[c,k])``

Driver weights ``beta`` start, in the first year, around a cross-channel mean (partial pooling)
and then follow a per-channel random walk whose step has a per-driver scale. Influencer effects
``gamma`` and direct effects ``delta`` are pooled across channels. Terms not measured in a channel
are masked out there.

Parameterisation
----------------
Every coefficient ``theta ~ N(m, s)`` (``m``, ``s`` its hierarchical mean and spread, or the
previous year's weight and the drift for a random-walk step) is sampled through a raw variable
*whitened by its own group's data*: with ``theta_hat`` and ``I`` the least-squares estimate and
its precision from that group alone (:func:`prepare_inputs`), and ``lam = I s^2 / (1 + I s^2)``
the share of the coefficient's precision that comes from the data,

    ``theta = lam * theta_hat + (1 - lam) * m + s * sqrt(1 - lam) * raw``,

i.e. ``raw`` is the coefficient measured in standard deviations of its conditional posterior
given ``(m, s)``. Because the likelihood of the coefficients is Gaussian, ``raw`` is close to
``N(0, 1)`` a posteriori *whatever* ``m`` and ``s`` are: the funnel between a spread and its
coefficients is gone, in both regimes. ``lam`` is computed inside the model from the sampled
``s``, so a group of hundreds of thousands of responses is centred (``lam -> 1``), a tiny group
or a spread near zero is non-centred (``lam -> 0``), and everything in between is interpolated
draw by draw -- it is the partially non-centred parameterisation of Papaspiliopoulos, Roberts &
Skold (2007) with the optimal weight, re-chosen at every ``s`` rather than fixed from a guess.
The raw variables carry the prior density of ``theta`` plus the log-Jacobian
``log(s sqrt(1 - lam))``, so the model is exactly the hierarchical model above.

The likelihood is evaluated on factors of the cross-products (:func:`whatif.likelihood.factorise`):
one small matrix-vector product per group.

The model is written twice: :func:`build_reference_model` in PyTensor operations, and
:func:`build_model`, which fits, with the whole density as one compiled kernel with a hand-written
gradient (:mod:`whatif.density`). The tests hold them to the same value and gradient.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pymc as pm
import pytensor.tensor as pt
import xarray as xr

from whatif.likelihood import (
    LOG_2PI,
    DriverLoglik,
    SatisfactionLoglik,
    Standardised,
    factorise,
    standardise,
)
from whatif.priors import Priors

__all__ = [
    "DATA_VARS",
    "ModelInputs",
    "RowData",
    "build_model",
    "build_reference_model",
    "build_row_model",
    "prepare_inputs",
    "row_data",
]

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


#: The free (unconstrained) vectors of :func:`build_model`, in the order of :mod:`whatif.density`.
FREE_VARS = ["log_scales", "mean_raw", "coef_raw", "log_noise"]


@dataclass(frozen=True)
class ModelInputs:
    """Everything the model needs, derived from the aggregated data.

    ``*_est`` and ``*_info`` are each coefficient's least-squares estimate and precision from its
    own group's data (0 and 0 where the term is not measured or not identified); the model
    whitens the coefficient's raw variable with them.
    """

    std: Standardised
    channels: list[str]
    years: list[int]
    drivers: list[str]
    influencers: list[str]
    driver_mask: np.ndarray  # (C, K)
    influencer_mask: np.ndarray  # (C, J)
    weight_est: np.ndarray  # (C, T, K) per-year weights
    weight_info: np.ndarray
    direct_est: np.ndarray  # (C, J), pooled over years
    direct_info: np.ndarray
    effect_est: np.ndarray  # (C, K, J), pooled over years
    effect_info: np.ndarray
    alpha_est: np.ndarray  # (C, T) satisfaction intercepts
    alpha_info: np.ndarray
    gamma0_est: np.ndarray  # (C, K) driver intercepts
    gamma0_info: np.ndarray
    sat_factors: tuple  # (R (C,T,Q,Q), b (C,T,Q), rss0 (C,T)) with Q = 1 + K + J
    driver_factors: tuple  # (R (C,Q,Q), b (C,K,Q), rss0 (C,K)) with Q = 1 + J

    @property
    def coords(self) -> dict[str, list]:
        return {
            "channel": self.channels,
            "year": self.years,
            "step": self.years[1:],
            "driver": self.drivers,
            "influencer": self.influencers,
        }

    def centring(self, block: str, scale: float | np.ndarray) -> np.ndarray:
        """``lam`` of a block (``"weights"``, ``"direct"``, ``"effects"``) at a given spread:
        1 is centred (the data dominate), 0 non-centred (the prior dominates)."""
        info = getattr(self, f"{block}_info" if block != "weights" else "weight_info")
        s2i = info * np.asarray(scale) ** 2
        return s2i / (1.0 + s2i)


def _ols(xx: np.ndarray, xy: np.ndarray, yy: float, n: float, keep: np.ndarray):
    """OLS estimates and their sampling precisions (0, 0 where not kept or not identified)."""
    est = np.zeros(len(keep))
    info = np.zeros(len(keep))
    idx = np.flatnonzero(keep)
    if n <= len(idx) + 1:
        return est, info
    a = xx[np.ix_(idx, idx)]
    b = xy[idx]
    inv = np.linalg.pinv(a)
    coef = inv @ b
    rss = max(yy - 2 * coef @ b + coef @ a @ coef, 1e-12 * max(yy, 1e-12))
    var = np.diag(inv) * rss / (n - len(idx))
    ok = var > 0
    est[idx] = np.where(ok, coef, 0.0)
    info[idx] = np.where(ok, 1.0 / np.where(ok, var, 1.0), 0.0)
    return est, info


def prepare_inputs(data: xr.Dataset, priors: Priors | None = None) -> ModelInputs:
    """Standardise the aggregates, factorise them, and estimate each coefficient from its own group.

    Parameters
    ----------
    data
        Aggregates from :func:`whatif.aggregate.aggregate`.
    priors
        Prior scales (unused: kept for a stable interface; the centring is chosen in the model).
    """
    std = standardise(data)
    K, J = data.sizes["driver"], data.sizes["influencer"]
    C, T = data.sizes["channel"], data.sizes["year"]
    P = K + J + 2
    design = np.arange(P - 1)
    e_idx = np.concatenate([[0], np.arange(1 + K, 1 + K + J)]).astype(int)
    d_idx = np.arange(1, 1 + K)
    cross = std.cross
    sat_est, sat_info = np.zeros((C, T, P - 1)), np.zeros((C, T, P - 1))
    for c in range(C):
        for t in range(T):
            sat_est[c, t], sat_info[c, t] = _ols(
                cross[c, t][np.ix_(design, design)],
                cross[c, t, design, P - 1],
                cross[c, t, -1, -1],
                std.n[c, t],
                std.measured[c, design],
            )
    pooled, n_pooled = cross.sum(axis=1), std.n.sum(axis=1)
    eff_est, eff_info = np.zeros((C, K, J + 1)), np.zeros((C, K, J + 1))
    for c in range(C):
        for k in range(K):
            if std.measured[c, 1 + k]:
                eff_est[c, k], eff_info[c, k] = _ols(
                    pooled[c][np.ix_(e_idx, e_idx)],
                    pooled[c, e_idx, 1 + k],
                    pooled[c, 1 + k, 1 + k],
                    n_pooled[c],
                    std.measured[c, e_idx],
                )
    d_info = sat_info[..., 1 + K :].sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        d_est = np.where(
            d_info > 0, (sat_est[..., 1 + K :] * sat_info[..., 1 + K :]).sum(axis=1) / d_info, 0.0
        )

    sat_R, sat_b, sat_r0 = factorise(
        cross[..., design[:, None], design[None, :]],
        cross[..., design, P - 1],
        cross[..., P - 1, P - 1],
    )
    drv_R, _, _ = factorise(
        pooled[:, e_idx[:, None], e_idx[None, :]], pooled[:, e_idx, 1], pooled[:, 1, 1]
    )
    xy_d = np.moveaxis(pooled[:, e_idx[:, None], d_idx[None, :]], -1, -2)  # (C, K, J+1)
    _, drv_b, drv_r0 = factorise(
        np.broadcast_to(pooled[:, None, e_idx[:, None], e_idx[None, :]], (C, K, J + 1, J + 1)),
        xy_d,
        pooled[:, d_idx, d_idx],
    )
    return ModelInputs(
        std=std,
        channels=[str(c) for c in data["channel"].to_numpy()],
        years=[int(y) for y in data["year"].to_numpy()],
        drivers=[str(d) for d in data["driver"].to_numpy()],
        influencers=[str(i) for i in data["influencer"].to_numpy()],
        driver_mask=std.measured[:, 1 : 1 + K],
        influencer_mask=std.measured[:, 1 + K : 1 + K + J],
        weight_est=sat_est[..., 1 : 1 + K],
        weight_info=sat_info[..., 1 : 1 + K],
        direct_est=d_est,
        direct_info=d_info,
        effect_est=eff_est[..., 1:],
        effect_info=eff_info[..., 1:],
        alpha_est=sat_est[..., 0],
        alpha_info=sat_info[..., 0],
        gamma0_est=eff_est[..., 0],
        gamma0_info=eff_info[..., 0],
        sat_factors=(sat_R, sat_b, sat_r0),
        driver_factors=(drv_R, drv_b, drv_r0),
    )


def _whitened(raw, est, info, mean, scale):
    """A coefficient ``N(mean, scale)`` from its data-whitened raw variable (module docstring).

    Returns the coefficient and the log density of ``raw`` (prior of the coefficient plus the
    log-Jacobian, up to a constant).
    """
    s2i = info * scale**2
    root = 1.0 / pt.sqrt(1.0 + s2i)  # sqrt(1 - lam)
    z = (info * scale) * root**2 * (est - mean) + root * raw  # (theta - mean) / scale
    return mean + scale * z, -0.5 * (z**2).sum() + pt.log(root).sum()


def _whitened_mean(raw, est, info, prior_sd: float, scale):
    """A cross-channel mean ``N(0, prior_sd)`` of coefficients ``N(mean, scale)`` (channels on
    axis 0), whitened by its conditional posterior given ``scale`` with the coefficients
    integrated out: the funnel between a mean and a spread over one or two channels is gone.

    Returns the mean and the log density of ``raw`` (up to a constant).
    """
    weight = info / (1.0 + info * scale**2)  # 1 / (scale^2 + var_c); 0 where not measured
    prec = weight.sum(axis=0) + 1.0 / prior_sd**2
    mean = (weight * est).sum(axis=0) / prec + raw / pt.sqrt(prec)
    return mean, -0.5 * (mean**2).sum() / prior_sd**2 - 0.5 * pt.log(prec).sum()


def _free_variables(inputs: ModelInputs, priors: Priors):
    """The model's free variables, packed into four flat vectors (see :mod:`whatif.density`).
    ``mean_raw`` and ``coef_raw`` are flat: their density is part of the model's Potential."""
    C, T = inputs.std.n.shape
    K, J = len(inputs.drivers), len(inputs.influencers)
    # Gamma(2, 2/s): mean s, no mass piled at zero (Chung et al. 2013).
    scale_prior = np.concatenate(
        [
            np.full(K, priors.weight_spread),
            np.full(K, priors.weight_drift),
            np.full(J, priors.effect_spread),
            np.full(J, priors.direct_spread),
        ]
    )
    scales = pm.Gamma("hyper_scale_std", alpha=2.0, beta=2.0 / scale_prior, shape=2 * K + 2 * J)
    mean_raw = pm.Flat("hyper_mean_raw", shape=K + K * J + J)
    coef_raw = pm.Flat("coef_raw", shape=C * T * K + C * K * J + C * J + C * T + C * K)
    noise = pm.HalfNormal("noise_std", priors.noise_sd, shape=C + C * K)
    return scales, mean_raw, coef_raw, noise


#: The keys of :func:`_coefficients`'s result that :func:`data_units` takes, in its order.
_UNIT_ARGS = (
    "alpha",
    "beta",
    "gamma",
    "delta",
    "gamma0",
    "sigma",
    "driver_sigma",
    "weight_drift",
    "weight_spread",
)


def _coefficients(inputs: ModelInputs, priors: Priors) -> dict:
    """Free variables, priors and the coefficients in standardised units, as PyTensor operations
    (the reference form, shared by :func:`build_reference_model` and :func:`build_row_model`).
    Call inside a model context."""
    std = inputs.std
    C, T = std.n.shape
    K, J = len(inputs.drivers), len(inputs.influencers)
    dmask = inputs.driver_mask.astype(float)
    imask = inputs.influencer_mask.astype(float)
    scales, mean_raw, raw, noise = _free_variables(inputs, priors)
    weight_spread, weight_drift = scales[:K], scales[K : 2 * K]
    effect_spread, direct_spread = scales[2 * K : 2 * K + J], scales[2 * K + J :]

    # cross-channel means, each whitened by its conditional posterior given its spread
    weight_mean, lp_w = _whitened_mean(
        mean_raw[:K],
        inputs.weight_est[:, 0],
        inputs.weight_info[:, 0],
        priors.weight_mean_sd,
        weight_spread[None],
    )
    effect_mean, lp_e = _whitened_mean(
        mean_raw[K : K + K * J].reshape((K, J)),
        inputs.effect_est,
        inputs.effect_info,
        priors.effect_mean_sd,
        effect_spread[None, None],
    )
    direct_mean, lp_d = _whitened_mean(
        mean_raw[K + K * J :],
        inputs.direct_est,
        inputs.direct_info,
        priors.direct_mean_sd,
        direct_spread[None],
    )

    sizes = {
        "weights": C * T * K,
        "effects": C * K * J,
        "direct": C * J,
        "alpha": C * T,
        "gamma0": C * K,
    }
    part, at = {}, 0
    for name, size in sizes.items():
        part[name] = raw[at : at + size]
        at += size
    w_raw = part["weights"].reshape((C, T, K))
    beta, lp = _whitened(
        w_raw[:, 0],
        inputs.weight_est[:, 0],
        inputs.weight_info[:, 0],
        weight_mean[None],
        weight_spread[None],
    )
    years, logp = [beta], [lp_w, lp_e, lp_d, lp]
    for t in range(1, T):  # the random walk, each year whitened given the one before
        beta, lp = _whitened(
            w_raw[:, t], inputs.weight_est[:, t], inputs.weight_info[:, t], beta, weight_drift[None]
        )
        years.append(beta)
        logp.append(lp)
    beta = pt.stack(years, axis=1) * dmask[:, None, :]  # (C, T, K)
    gamma, lp = _whitened(
        part["effects"].reshape((C, K, J)),
        inputs.effect_est,
        inputs.effect_info,
        effect_mean[None],
        effect_spread[None, None],
    )
    logp.append(lp)
    gamma = gamma * (imask[:, None, :] * dmask[:, :, None])
    delta, lp = _whitened(
        part["direct"].reshape((C, J)),
        inputs.direct_est,
        inputs.direct_info,
        direct_mean[None],
        direct_spread[None],
    )
    logp.append(lp)
    delta = delta * imask
    alpha, lp = _whitened(
        part["alpha"].reshape((C, T)), inputs.alpha_est, inputs.alpha_info, 0.0, priors.intercept_sd
    )
    logp.append(lp)
    gamma0, lp = _whitened(
        part["gamma0"].reshape((C, K)),
        inputs.gamma0_est,
        inputs.gamma0_info,
        0.0,
        priors.intercept_sd,
    )
    logp.append(lp)
    pm.Potential("coef_prior", pt.add(*logp))
    return {
        "alpha": alpha,
        "beta": beta,
        "gamma": gamma,
        "delta": delta,
        "gamma0": gamma0,
        "sigma": noise[:C],
        "driver_sigma": noise[C:].reshape((C, K)),
        "weight_drift": weight_drift,
        "weight_spread": weight_spread,
        "means": (weight_mean, effect_mean, direct_mean),
        "scales": (weight_spread, weight_drift, effect_spread, direct_spread),
    }


def build_model(inputs: ModelInputs, priors: Priors | None = None) -> pm.Model:
    """The PyMC model on sufficient statistics, its density one compiled kernel.

    The coefficient priors and both likelihoods are :class:`whatif.density.ModelDensity`, which
    returns the value and gradient in one pass and compiles in seconds; it equals
    :func:`build_reference_model` (tested).

    Parameters
    ----------
    inputs
        From :func:`prepare_inputs`.
    priors
        Prior scales (defaults if ``None``).

    Returns
    -------
    pymc.Model
        Free variables :data:`FREE_VARS` (unconstrained, standardised units, four flat vectors);
        deterministics :data:`DATA_VARS` in data units; the Potential ``log_density``.
    """
    from whatif.density import Coefficients, ModelDensity, density_data, hyper_data, likelihood_data

    priors = priors or Priors()
    C, T = inputs.std.n.shape
    K, J = len(inputs.drivers), len(inputs.influencers)
    constants = density_data(inputs, priors)
    with pm.Model(coords=inputs.coords) as model:
        # flat: their whole density, hyperpriors included, is the Potential
        log_scales = pm.Flat(FREE_VARS[0], shape=2 * K + 2 * J)
        mean_raw = pm.Flat(FREE_VARS[1], shape=K + K * J + J)
        coef_raw = pm.Flat(FREE_VARS[2], shape=C * T * K + C * K * J + C * J + C * T + C * K)
        log_noise = pm.Flat(FREE_VARS[3], shape=C + C * K)
        density = ModelDensity("model")(
            log_scales,
            mean_raw,
            coef_raw,
            log_noise,
            *hyper_data(inputs, priors),
            *constants,
            *likelihood_data(inputs),
        )[0]
        pm.Potential("log_density", density)
        scales, noise = pt.exp(log_scales), pt.exp(log_noise)
        alpha, beta, gamma, delta, gamma0 = Coefficients()(scales, mean_raw, coef_raw, *constants)
        _data_units(
            inputs,
            alpha,
            beta,
            gamma,
            delta,
            gamma0,
            noise[:C],
            noise[C:].reshape((C, K)),
            scales[K : 2 * K],
            scales[:K],
        )
    return model


def build_reference_model(inputs: ModelInputs, priors: Priors | None = None) -> pm.Model:
    """The model of :func:`build_model` written as PyTensor operations (the reference form).

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
        :data:`DATA_VARS` in data units. Potentials ``coef_prior``, ``satisfaction_loglik`` and
        ``driver_loglik``: the same total as :func:`build_model`'s ``log_density``.
    """
    from whatif.density import likelihood_data

    priors = priors or Priors()
    R, b, rss0, n, R_d, b_d, rss0_d, n_d = likelihood_data(inputs)
    with pm.Model(coords=inputs.coords) as model:
        co = _coefficients(inputs, priors)
        sat = SatisfactionLoglik("satisfaction")(
            co["alpha"], co["beta"], co["delta"], co["sigma"], R, b, rss0, n
        )[0]
        pm.Potential("satisfaction_loglik", sat)
        # the driver equations do not vary by year: their statistics pool over years, and the
        # K regressions of a channel share one design, so one R per channel
        drv = DriverLoglik("driver")(
            co["gamma0"], co["gamma"], co["driver_sigma"], R_d, b_d, rss0_d, n_d
        )[0]
        pm.Potential("driver_loglik", drv)
        _data_units(inputs, *(co[name] for name in _UNIT_ARGS))
    return model


@dataclass(frozen=True)
class RowData:
    """Complete rows as the model sees them: standardised like the aggregates."""

    channel: np.ndarray  # (N,) channel index
    year: np.ndarray  # (N,) year index
    design: np.ndarray  # (N, P) [1, x~, z~, y~], unmeasured terms 0
    weight: np.ndarray  # (N,) survey weights normalised to mean 1 within each group


def row_data(frame: pd.DataFrame, inputs: ModelInputs) -> RowData:
    """The rows behind the aggregates, standardised with the same means, sds and masks.

    Parameters
    ----------
    frame
        A validated survey frame (:attr:`whatif.survey.Survey.frame`).
    inputs
        From :func:`prepare_inputs` on the aggregates of the same frame.
    """
    std = inputs.std
    c_idx = pd.Index(inputs.channels).get_indexer(frame["channel"])
    t_idx = pd.Index(inputs.years).get_indexer(frame["year"].astype(int))
    terms = [*inputs.drivers, *inputs.influencers]
    values = np.column_stack(
        [np.ones(len(frame)), frame[terms].to_numpy(float), frame["outcome"].to_numpy(float)]
    )
    measured = std.measured[c_idx]
    values = np.where(measured, values, 0.0)
    keep = ~np.isnan(values).any(axis=1) & (c_idx >= 0) & (t_idx >= 0)
    values, c_idx, t_idx, measured = values[keep], c_idx[keep], t_idx[keep], measured[keep]
    design = np.where(measured, (values - std.mean) / std.sd, 0.0)
    design[:, 0] = 1.0
    weight = frame["weight"].to_numpy(float)[keep]
    C, T = std.n.shape
    group = c_idx * T + t_idx
    total = np.bincount(group, weights=weight, minlength=C * T)
    count = np.bincount(group, minlength=C * T)
    weight = weight * (count / np.where(total > 0, total, 1.0))[group]
    return RowData(channel=c_idx, year=t_idx, design=design, weight=weight)


def build_row_model(inputs: ModelInputs, rows: RowData, priors: Priors | None = None) -> pm.Model:
    """The same model with its likelihood written row by row (a reference and a benchmark).

    Priors, parameterisation and deterministics are shared with :func:`build_reference_model`; only the
    likelihood differs, and it has the same value (tested).
    """
    priors = priors or Priors()
    K, J = len(inputs.drivers), len(inputs.influencers)
    c, t, m, w = rows.channel, rows.year, rows.design, rows.weight
    x, z, y = m[:, 1 : 1 + K], m[:, 1 + K : 1 + K + J], m[:, -1]
    dmask = inputs.driver_mask.astype(float)
    with pm.Model(coords=inputs.coords) as model:
        co = _coefficients(inputs, priors)
        mu = co["alpha"][c, t] + (co["beta"][c, t] * x).sum(-1) + (co["delta"][c] * z).sum(-1)
        sigma = co["sigma"][c]
        pm.Potential(
            "satisfaction_loglik",
            (w * (-0.5 * LOG_2PI - pt.log(sigma) - 0.5 * ((y - mu) / sigma) ** 2)).sum(),
        )
        mu_x = co["gamma0"][c] + (co["gamma"][c] * z[:, None, :]).sum(-1)  # (N, K)
        sd = co["driver_sigma"][c]
        ll = -0.5 * LOG_2PI - pt.log(sd) - 0.5 * ((x - mu_x) / sd) ** 2
        pm.Potential("driver_loglik", (w[:, None] * dmask[c] * ll).sum())
        _data_units(inputs, *(co[name] for name in _UNIT_ARGS))
    return model


DIMS = {
    "weights": ("channel", "year", "driver"),
    "direct": ("channel", "influencer"),
    "effects": ("channel", "driver", "influencer"),
    "intercept": ("channel", "year"),
    "driver_intercept": ("channel", "driver"),
    "sigma": ("channel",),
    "driver_sigma": ("channel", "driver"),
    "weight_drift": ("driver",),
    "weight_spread": ("driver",),
}


def data_units(
    inputs, alpha, beta, gamma, delta, gamma0, sigma, driver_sigma, drift, spread
) -> dict:
    """The parameters in the data's own units (satisfaction points per driver point, etc.).

    Written with operations NumPy and PyTensor share, so the same formulas record the model's
    deterministics and convert a fit's draws (any leading sample dimensions) afterwards.

    Returns
    -------
    dict
        :data:`DATA_VARS` to arrays (or tensors) with the trailing dimensions of :data:`DIMS`.
    """
    std = inputs.std
    K, J = len(inputs.drivers), len(inputs.influencers)
    mean, sd = std.mean, std.sd
    sd_y, mu_y = sd[-1], mean[-1]
    sd_x, mu_x = sd[1 : 1 + K], mean[1 : 1 + K]
    sd_z, mu_z = sd[1 + K : 1 + K + J], mean[1 + K : 1 + K + J]
    dmask = inputs.driver_mask.astype(float)
    imask = inputs.influencer_mask.astype(float)
    weights = beta * sd_y / sd_x
    direct = delta * sd_y / sd_z
    effects = gamma * sd_x[:, None] / sd_z[None, :]
    return {
        "weights": weights,
        "effects": effects,
        "direct": direct,
        "intercept": mu_y
        + sd_y * alpha
        - (weights * (dmask * mu_x)[:, None, :]).sum(-1)
        - (direct * imask * mu_z).sum(-1)[..., None],
        "driver_intercept": mu_x + sd_x * gamma0 - (effects * mu_z).sum(-1),
        "sigma": sigma * sd_y,
        "driver_sigma": driver_sigma * sd_x,
        "weight_drift": drift * sd_y / sd_x,
        "weight_spread": spread * sd_y / sd_x,
    }


def draws_in_data_units(inputs: ModelInputs, priors: Priors, free: xr.Dataset) -> xr.Dataset:
    """:data:`DATA_VARS` from draws of :func:`build_model`'s :data:`FREE_VARS`.

    Parameters
    ----------
    inputs, priors
        What the model was built with.
    free
        Draws of the free vectors, dims ``(chain, draw, <name>_dim_0)``.

    Returns
    -------
    xarray.Dataset
        Dims ``chain``, ``draw`` and those of :data:`DIMS`, coordinates from ``inputs``.
    """
    from whatif.density import coefficient_draws, density_data

    C = len(inputs.channels)
    K = len(inputs.drivers)
    log_scales, mean_raw, coef_raw, log_noise = (free[name].to_numpy() for name in FREE_VARS)
    alpha, beta, gamma, delta, gamma0 = coefficient_draws(
        log_scales, mean_raw, coef_raw, density_data(inputs, priors)
    )
    scales, noise = np.exp(log_scales), np.exp(log_noise)
    values = data_units(
        inputs,
        alpha,
        beta,
        gamma,
        delta,
        gamma0,
        noise[..., :C],
        noise[..., C:].reshape(noise.shape[:-1] + (C, K)),
        scales[..., K : 2 * K],
        scales[..., :K],
    )
    coords = {**inputs.coords, "chain": free["chain"].to_numpy(), "draw": free["draw"].to_numpy()}
    return xr.Dataset(
        {name: (("chain", "draw", *DIMS[name]), values[name]) for name in DATA_VARS},
        coords={k: v for k, v in coords.items() if k != "step"},
    )


def _data_units(inputs, *parameters) -> None:
    """Record :func:`data_units` as the model's deterministics."""
    for name, value in data_units(inputs, *parameters).items():
        pm.Deterministic(name, value, dims=DIMS[name])
