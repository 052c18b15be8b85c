"""The model stated in PyTensor operations: the readable reference of the compiled density.

Per channel c, year t, driver k, influencer j (all terms standardized, see
:mod:`whatif.model.likelihood`):

* satisfaction: ``y = alpha[c,t] + sum_k beta[c,t,k] x_k + sum_j delta[c,j] z_j + N(0, sigma[c])``
* drivers: ``x_k = gamma0[c,k] + sum_j gamma[c,k,j] z_j + sum_{e = (k <- k')} path[c,e] x_k'
  + N(0, s[c,k])``, the last sum over the driver paths into ``k`` (``depends_on`` in the spec)

Driver weights ``beta`` start, in the first year, around a cross-channel mean (partial pooling)
and then follow a per-channel random walk whose step has a per-driver scale. Influencer effects
``gamma``, direct effects ``delta`` and paths are pooled across channels. Terms not measured in a
channel are masked out there, and so are paths from or to a driver not measured there. The parameterization (data-whitened coefficients) is described in
:mod:`whatif.model.build`; the parameter vectors' layout is :mod:`whatif.model.layout`.

:func:`build_reference_model` is the model on sufficient statistics, :func:`build_row_model` the
same with its likelihood written row by row; :func:`whitened`, :func:`whitened_mean` and
:func:`weight_walk` are the pieces :mod:`whatif.model.carry` reuses. The tests hold the compiled
density (:mod:`whatif.model.density`) to this statement in value, gradient and every output.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pymc as pm
import pytensor.tensor as pt

from whatif.model.inputs import ModelInputs
from whatif.model.layout import ParameterLayout, kernel_arguments
from whatif.model.likelihood import LOG_2PI
from whatif.model.ops import DriverLoglik, SatisfactionLoglik
from whatif.model.priors import Priors
from whatif.model.units import DIMS, data_units

__all__ = [
    "RowData",
    "build_reference_model",
    "build_row_model",
    "record_data_units",
    "reference_coefficients",
    "row_data",
    "weight_walk",
    "whitened",
    "whitened_mean",
]


def whitened(raw, est, info, mean, scale):
    """A coefficient ``N(mean, scale)`` from its data-whitened raw variable (module docstring).

    Returns the coefficient and the log density of ``raw`` (prior of the coefficient plus the
    log-Jacobian, up to a constant).
    """
    s2i = info * scale**2
    root = 1.0 / pt.sqrt(1.0 + s2i)  # sqrt(1 - lam)
    z = (info * scale) * root**2 * (est - mean) + root * raw  # (theta - mean) / scale
    return mean + scale * z, -0.5 * (z**2).sum() + pt.log(root).sum()


def whitened_mean(raw, est, info, prior_sd: float, scale):
    """A cross-channel mean ``N(0, prior_sd)`` of coefficients ``N(mean, scale)`` (channels on
    axis 0), whitened by its conditional posterior given ``scale`` with the coefficients
    integrated out: the funnel between a mean and a spread over one or two channels is gone.

    Returns the mean and the log density of ``raw`` (up to a constant).
    """
    weight = info / (1.0 + info * scale**2)  # 1 / (scale^2 + var_c); 0 where not measured
    prec = weight.sum(axis=0) + 1.0 / prior_sd**2
    mean = (weight * est).sum(axis=0) / prec + raw / pt.sqrt(prec)
    return mean, -0.5 * (mean**2).sum() / prior_sd**2 - 0.5 * pt.log(prec).sum()


def reference_coefficients(inputs: ModelInputs, priors: Priors) -> dict:
    """Free variables, priors and the coefficients in standardized units, as PyTensor operations
    (shared by :func:`build_reference_model` and :func:`build_row_model`). Call inside a model
    context.

    Returns
    -------
    dict
        ``alpha``, ``beta``, ``gamma``, ``delta``, ``gamma0``, ``paths``, ``sigma``,
        ``driver_sigma``, ``weight_drift``, ``weight_spread`` (the arguments of
        :func:`record_data_units`).
    """
    layout = ParameterLayout.of(inputs)
    dmask = inputs.driver_mask.astype(float)
    imask = inputs.influencer_mask.astype(float)
    pmask = inputs.path_mask.astype(float)
    hyper = kernel_arguments(inputs, priors).hyper
    # Gamma(2, 2/s): mean s, no mass piled at zero (Chung et al. 2013).
    scale_vector = pm.Gamma(
        "hyper_scale_std", alpha=2.0, beta=hyper.scale_rate, shape=layout["log_scales"].size
    )
    # flat: their density is the model's Potential
    mean_vector = pm.Flat("hyper_mean_raw", shape=layout["mean_raw"].size)
    coef_vector = pm.Flat("coef_raw", shape=layout["coef_raw"].size)
    noise_vector = pm.HalfNormal("noise_std", priors.noise_sd, shape=layout["log_noise"].size)
    scales = layout["log_scales"].unpack(scale_vector)
    means_raw = layout["mean_raw"].unpack(mean_vector)
    raw = layout["coef_raw"].unpack(coef_vector)
    noise = layout["log_noise"].unpack(noise_vector)

    # cross-channel means, each whitened by its conditional posterior given its spread
    weight_mean, lp_w = whitened_mean(
        means_raw["weight_mean"],
        inputs.weight_est[:, 0],
        inputs.weight_info[:, 0],
        priors.weight_mean_sd,
        scales["weight_spread"][None],
    )
    effect_mean, lp_e = whitened_mean(
        means_raw["effect_mean"],
        inputs.effect_est,
        inputs.effect_info,
        priors.effect_mean_sd,
        scales["effect_spread"][None, None],
    )
    direct_mean, lp_d = whitened_mean(
        means_raw["direct_mean"],
        inputs.direct_est,
        inputs.direct_info,
        priors.direct_mean_sd,
        scales["direct_spread"][None],
    )
    path_mean, lp_p = whitened_mean(
        means_raw["path_mean"],
        inputs.path_est,
        inputs.path_info,
        priors.path_mean_sd,
        scales["path_spread"][None],
    )
    beta, logp_w = weight_walk(
        raw["weights"],
        inputs,
        weight_mean[None],
        scales["weight_spread"][None],
        scales["weight_drift"],
    )
    logp = [lp_w, lp_e, lp_d, lp_p, logp_w]
    beta = beta * dmask[:, None, :]  # (C, T, K)
    gamma, lp = whitened(
        raw["effects"],
        inputs.effect_est,
        inputs.effect_info,
        effect_mean[None],
        scales["effect_spread"][None, None],
    )
    logp.append(lp)
    gamma = gamma * (imask[:, None, :] * dmask[:, :, None])
    delta, lp = whitened(
        raw["direct"],
        inputs.direct_est,
        inputs.direct_info,
        direct_mean[None],
        scales["direct_spread"][None],
    )
    logp.append(lp)
    delta = delta * imask
    alpha, lp = whitened(
        raw["alpha"], inputs.alpha_est, inputs.alpha_info, 0.0, priors.intercept_sd
    )
    logp.append(lp)
    gamma0, lp = whitened(
        raw["gamma0"], inputs.gamma0_est, inputs.gamma0_info, 0.0, priors.intercept_sd
    )
    logp.append(lp)
    paths, lp = whitened(
        raw["paths"],
        inputs.path_est,
        inputs.path_info,
        path_mean[None],
        scales["path_spread"][None],
    )
    logp.append(lp)
    pm.Potential("coef_prior", pt.add(*logp))
    return {
        "alpha": alpha,
        "beta": beta,
        "gamma": gamma,
        "delta": delta,
        "gamma0": gamma0,
        "paths": paths * pmask,
        "sigma": noise["sigma"],
        "driver_sigma": noise["driver_sigma"],
        "weight_drift": scales["weight_drift"],
        "weight_spread": scales["weight_spread"],
    }


def weight_walk(raw, inputs: ModelInputs, first_mean, first_scale, drift):
    """The driver weights' random walk over years, each year whitened given the one before.

    Parameters
    ----------
    raw
        Raw weights ``(C, T, K)``.
    first_mean, first_scale
        Prior mean and sd of the first year's weights (broadcast to ``(C, K)``).
    drift
        The walk's step sd per driver ``(K,)``.

    Returns
    -------
    The weights ``(C, T, K)`` (unmasked) and the log density of ``raw``.
    """
    beta, lp = whitened(
        raw[:, 0], inputs.weight_est[:, 0], inputs.weight_info[:, 0], first_mean, first_scale
    )
    years, logp = [beta], [lp]
    for t in range(1, inputs.weight_est.shape[1]):
        beta, lp = whitened(
            raw[:, t], inputs.weight_est[:, t], inputs.weight_info[:, t], beta, drift[None]
        )
        years.append(beta)
        logp.append(lp)
    return pt.stack(years, axis=1), sum(logp[1:], logp[0])


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
        Free variables in standardized units, packed into a few flat vectors; deterministics
        :data:`DATA_VARS` in data units. Potentials ``coef_prior``, ``satisfaction_loglik`` and
        ``driver_loglik``: the same total as :func:`build_model`'s ``log_density``.
    """
    priors = priors or Priors()
    R, b, rss0, n, R_d, b_d, rss0_d, n_d, path_at = kernel_arguments(inputs, priors).likelihood
    with pm.Model(coords=inputs.coords) as model:
        co = reference_coefficients(inputs, priors)
        sat = SatisfactionLoglik("satisfaction")(
            co["alpha"], co["beta"], co["delta"], co["sigma"], R, b, rss0, n
        )[0]
        pm.Potential("satisfaction_loglik", sat)
        # the driver equations do not vary by year: their statistics pool over years, and the
        # K regressions of a channel share one design, so one R per channel
        params = (co["gamma0"], co["gamma"], co["paths"], co["driver_sigma"])
        drv = DriverLoglik("driver")(*params, R_d, b_d, rss0_d, n_d, path_at)[0]
        pm.Potential("driver_loglik", drv)
        record_data_units(inputs, **co)
    return model


@dataclass(frozen=True)
class RowData:
    """Complete rows as the model sees them: standardized like the aggregates."""

    channel: np.ndarray  # (N,) channel index
    year: np.ndarray  # (N,) year index
    design: np.ndarray  # (N, P) [1, x~, z~, y~], unmeasured terms 0
    weight: np.ndarray  # (N,) survey weights normalized to mean 1 within each group


def row_data(frame: pd.DataFrame, inputs: ModelInputs) -> RowData:
    """The rows behind the aggregates, standardized with the same means, sds and masks.

    Parameters
    ----------
    frame
        A validated survey frame (:attr:`whatif.data.survey.Survey.frame`).
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

    Priors, parameterization and deterministics are shared with :func:`build_reference_model`; only the
    likelihood differs, and it has the same value (tested).
    """
    priors = priors or Priors()
    K, J = len(inputs.drivers), len(inputs.influencers)
    c, t, m, w = rows.channel, rows.year, rows.design, rows.weight
    x, z, y = m[:, 1 : 1 + K], m[:, 1 + K : 1 + K + J], m[:, -1]
    dmask = inputs.driver_mask.astype(float)
    with pm.Model(coords=inputs.coords) as model:
        co = reference_coefficients(inputs, priors)
        mu = co["alpha"][c, t] + (co["beta"][c, t] * x).sum(-1) + (co["delta"][c] * z).sum(-1)
        sigma = co["sigma"][c]
        pm.Potential(
            "satisfaction_loglik",
            (w * (-0.5 * LOG_2PI - pt.log(sigma) - 0.5 * ((y - mu) / sigma) ** 2)).sum(),
        )
        mu_x = co["gamma0"][c] + (co["gamma"][c] * z[:, None, :]).sum(-1)  # (N, K)
        # paths as a (C, K, K) matrix: the edge (k <- k') at [k, k'], zero off the edges
        onehot = np.zeros((len(inputs.paths), K, K))
        for e, (k, source) in enumerate(inputs.edges):
            onehot[e, k, source] = 1.0
        path_matrix = pt.tensordot(co["paths"], onehot, axes=[[1], [0]])
        mu_x = mu_x + (path_matrix[c] * x[:, None, :]).sum(-1)
        sd = co["driver_sigma"][c]
        ll = -0.5 * LOG_2PI - pt.log(sd) - 0.5 * ((x - mu_x) / sd) ** 2
        pm.Potential("driver_loglik", (w[:, None] * dmask[c] * ll).sum())
        record_data_units(inputs, **co)
    return model


def record_data_units(
    inputs: ModelInputs,
    *,
    alpha,
    beta,
    gamma,
    delta,
    gamma0,
    paths,
    sigma,
    driver_sigma,
    weight_drift,
    weight_spread,
) -> None:
    """Record :func:`whatif.model.units.data_units` as the model's deterministics."""
    values = data_units(
        inputs,
        alpha,
        beta,
        gamma,
        delta,
        gamma0,
        paths,
        sigma,
        driver_sigma,
        weight_drift,
        weight_spread,
    )
    for name, value in values.items():
        pm.Deterministic(name, value, dims=DIMS[name])
