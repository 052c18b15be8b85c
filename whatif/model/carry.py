"""Keeping the past fixed: a previous fit's posterior, summarized, as the prior of the next year.

``whatif refit --freeze-past`` does not fit the earlier years' data again. It carries what the
previous fit learned as independent priors matched to the previous posterior's means and sds,
each widened by the discount ``a0`` in (0, 1] (variance divided by ``a0``: ``a0 = 1`` keeps the
previous certainty, smaller values forget some of it):

* the **last previous year's weights** ``w[c, T0, k]`` (Gaussian): they enter the new model as a year with no
  data of its own and this prior, and the new years follow from them by the random walk, so the
  weights' change from ``T0`` to the new year has a joint posterior (``compare``'s P(rose));
* the parameters constant over years -- **influencer effects**, **direct effects**, **driver
  paths** and driver intercepts (Gaussian) -- in place of their cross-channel hierarchy (the
  paths must be the previous fit's: ``refit`` checks);
* the **random-walk drift** of every driver and the residual sds of both regressions, as Gamma
  distributions with the previous posterior's mean and (inflated) variance.

The new years' satisfaction intercepts are fitted afresh. Earlier years' weights and intercepts,
the ``T0`` intercept (no data in the new fit) and the first-year weight spread are copied from
the previous fit unchanged: the past is fixed. The prior summarizes the past by two moments per
parameter, so the result is close to, not identical with, a refit on all years (tested); it is the route when the earlier
data may not be kept, or when past estimates must not move.
"""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytensor.tensor as pt
import xarray as xr

from whatif.errors import SpecError
from whatif.model.inputs import ModelInputs
from whatif.model.layout import ParameterLayout, kernel_arguments
from whatif.model.ops import DriverLoglik, SatisfactionLoglik
from whatif.model.priors import Priors
from whatif.model.reference import record_data_units, weight_walk, whitened
from whatif.model.units import with_paths

__all__ = ["build_anchored_model", "carried_prior"]


def _summary(draws: np.ndarray, a0: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean and sd over the leading (chain, draw) axes, the sd inflated by ``1 / sqrt(a0)``, and
    where they exist (no finite draws: a term not measured, masked in the model anyway)."""
    flat = draws.reshape((draws.shape[0] * draws.shape[1], *draws.shape[2:]))
    safe = np.where(np.isfinite(flat), flat, 0.0)
    mean, spread = safe.mean(axis=0), safe.std(axis=0) / np.sqrt(a0)
    return mean, spread, np.isfinite(flat).all(axis=0) & (spread > 0)


def _normal(draws: np.ndarray, a0: float) -> tuple[np.ndarray, np.ndarray]:
    """Normal mean and sd of the draws; N(0, 1) where there are none."""
    mean, spread, ok = _summary(draws, a0)
    return np.where(ok, mean, 0.0), np.where(ok, spread, 1.0)


def _gamma(draws: np.ndarray, a0: float, typical: float) -> tuple[np.ndarray, np.ndarray]:
    """Gamma shape and rate with the draws' mean and sd; Gamma(2, 2/typical) where there are none."""
    mean, spread, ok = _summary(draws, a0)
    ok &= mean > 0
    spread = np.where(ok, spread, 1.0)
    return np.where(ok, (mean / spread) ** 2, 2.0), np.where(ok, mean / spread**2, 2.0 / typical)


def carried_prior(previous: xr.Dataset, inputs: ModelInputs, discount: float = 1.0) -> dict:
    """The previous posterior as independent priors in the new model's standardized units.

    Parameters
    ----------
    previous
        The previous fit's posterior (:data:`whatif.model.units.DATA_VARS` by chain and draw).
    inputs
        The new model's inputs (their standardization is the new data's).
    discount
        ``a0`` in (0, 1]: every carried variance is divided by it.

    Returns
    -------
    dict
        ``year`` (the previous fit's last), ``a0``; Gaussian ``(mean, sd)`` pairs ``weight``
        (C, K) for that year, ``effect`` (C, K, J), ``direct`` (C, J), ``gamma0`` (C, K) and
        ``path`` (C, P; N(0, 1) for a path the previous fit did not have); Gamma
        ``(shape, rate)`` pairs ``drift`` (K), ``sigma`` (C) and ``driver_sigma`` (C, K).
    """
    if not 0.0 < discount <= 1.0:
        raise SpecError(f"--discount must be in (0, 1], got {discount}")
    K, J = len(inputs.drivers), len(inputs.influencers)
    sd, mu = inputs.std.sd, inputs.std.mean
    sd_y, sd_x, sd_z = sd[-1], sd[1 : 1 + K], sd[1 + K : 1 + K + J]
    mu_x, mu_z = mu[1 : 1 + K], mu[1 + K : 1 + K + J]
    year = int(previous["year"].max())
    post = with_paths(previous).sel(
        channel=inputs.channels, driver=inputs.drivers, influencer=inputs.influencers
    )

    def values(name, **sel):
        return post[name].sel(**sel).transpose("chain", "draw", ...).to_numpy()

    effects = values("effects")
    paths = np.full((*effects.shape[:3], len(inputs.paths)), np.nan)
    known = list(post["edge"].values)
    for e, label in enumerate(inputs.edge_labels):
        if label in known:
            paths[..., e] = values("paths", edge=label)
    target = np.array([k for k, _ in inputs.edges], int)
    source = np.array([s for _, s in inputs.edges], int)
    onto_driver = (target[:, None] == np.arange(K)[None, :]).astype(float)
    path_shift = ((np.nan_to_num(paths) * mu_x[source])[..., None] * onto_driver).sum(-2)
    gamma0 = (
        values("driver_intercept") - mu_x + (np.nan_to_num(effects) * mu_z).sum(-1) + path_shift
    ) / sd_x
    gaussian = {
        "weight": values("weights", year=year) * sd_x / sd_y,
        "effect": effects * sd_z / sd_x[:, None],
        "direct": values("direct") * sd_z / sd_y,
        "gamma0": gamma0,
        "path": paths * sd_x[source] / sd_x[target],
    }
    positive = {
        "drift": (values("weight_drift") * sd_x / sd_y, 0.1),
        "sigma": (values("sigma") / sd_y, 1.0),
        "driver_sigma": (values("driver_sigma") / sd_x, 1.0),
    }
    out = {"year": int(year), "a0": float(discount)}
    out |= {name: _normal(draws, discount) for name, draws in gaussian.items()}
    out |= {name: _gamma(draws, discount, typical) for name, (draws, typical) in positive.items()}
    return out


def build_anchored_model(inputs: ModelInputs, priors: Priors, carried: dict) -> pm.Model:
    """The model with the past carried as a prior (see the module docstring).

    ``inputs`` must come from aggregates whose first year is ``carried["year"]`` with no
    responses (``n`` and ``cross`` zero), followed by the new years. The parameterization is the
    data-whitened one of :mod:`whatif.model.build` with the carried means and sds in place of the
    hierarchy; written in PyTensor operations (a refit is not the fit the compile time is tuned
    for). Deterministics :data:`whatif.model.units.DATA_VARS`; ``weight_spread`` is a placeholder
    (zeros) that :func:`whatif.fitting.frozen.frozen_posterior` replaces with the previous fit's.
    """
    layout = ParameterLayout.of(inputs)
    C, K = layout.channels, layout.drivers
    dmask = inputs.driver_mask.astype(float)
    imask = inputs.influencer_mask.astype(float)
    pmask = inputs.path_mask.astype(float)
    R, b, rss0, n, R_d, b_d, rss0_d, n_d, path_at = kernel_arguments(inputs, priors).likelihood
    with pm.Model(coords=inputs.coords) as model:
        drift = pm.Gamma("drift_std", *carried["drift"], shape=K)  # (alpha, beta)
        raw = layout["coef_raw"].unpack(pm.Flat("coef_raw", shape=layout["coef_raw"].size))
        beta, lp = weight_walk(raw["weights"], inputs, *carried["weight"], drift)
        beta = beta * dmask[:, None, :]
        logp = [lp]
        gamma, lp = whitened(
            raw["effects"], inputs.effect_est, inputs.effect_info, *carried["effect"]
        )
        gamma = gamma * (imask[:, None, :] * dmask[:, :, None])
        logp.append(lp)
        delta, lp = whitened(
            raw["direct"], inputs.direct_est, inputs.direct_info, *carried["direct"]
        )
        delta = delta * imask
        logp.append(lp)
        alpha, lp = whitened(
            raw["alpha"], inputs.alpha_est, inputs.alpha_info, 0.0, priors.intercept_sd
        )
        logp.append(lp)
        gamma0, lp = whitened(
            raw["gamma0"], inputs.gamma0_est, inputs.gamma0_info, *carried["gamma0"]
        )
        logp.append(lp)
        paths, lp = whitened(raw["paths"], inputs.path_est, inputs.path_info, *carried["path"])
        paths = paths * pmask
        logp.append(lp)
        pm.Potential("coef_prior", pt.add(*logp))
        sigma = pm.Gamma("sigma_std", *carried["sigma"], shape=C)
        driver_sigma = pm.Gamma("driver_sigma_std", *carried["driver_sigma"], shape=(C, K))
        pm.Potential(
            "satisfaction_loglik",
            SatisfactionLoglik("satisfaction")(alpha, beta, delta, sigma, R, b, rss0, n)[0],
        )
        pm.Potential(
            "driver_loglik",
            DriverLoglik("driver")(
                gamma0, gamma, paths, driver_sigma, R_d, b_d, rss0_d, n_d, path_at
            )[0],
        )
        record_data_units(
            inputs,
            alpha=alpha,
            beta=beta,
            gamma=gamma,
            delta=delta,
            gamma0=gamma0,
            paths=paths,
            sigma=sigma,
            driver_sigma=driver_sigma,
            weight_drift=drift,
            weight_spread=pt.zeros(K),
        )
    return model
