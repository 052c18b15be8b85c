"""A slow reference for the scenario engine: row-level posterior predictive simulation in PyMC.

Respondents are drawn from each channel's observed influencer distribution, the levers are applied
to every respondent, and PyMC's ``sample_posterior_predictive`` simulates drivers and satisfaction
for the baseline and the scenario with the same random numbers. It exists to check the fast path
(:mod:`whatif.analysis.engine`), not for everyday use.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from whatif.analysis import ScenarioEngine, apply_operation
from whatif.analysis.scenario import Lever, Scenario
from whatif.data import group_means
from whatif.fitting import FittedModel

__all__ = ["simulate_rows"]


def _respondents(model: FittedModel, t: int, n: int, rng) -> tuple[np.ndarray, np.ndarray]:
    """Respondents drawn from each channel's observed influencer distribution in year ``t``."""
    agg = model.aggregates
    imask = agg["influencer_measured"].to_numpy()
    shares, values = agg["dist_share"].to_numpy(), np.nan_to_num(agg["dist_value"].to_numpy())
    C, J = imask.shape
    z = np.zeros((C * n, J))
    channel = np.repeat(np.arange(C), n)
    for c in range(C):
        for j in range(J):
            if imask[c, j]:
                share = shares[c, t, j]
                bins = rng.choice(len(share), size=n, p=share / share.sum())
                z[c * n : (c + 1) * n, j] = values[c, t, j][bins]
    return z, channel


def _lever_channels(model: FittedModel, lever: Lever) -> list[int]:
    if lever.channels is not None:
        return [model.channels.index(c) for c in lever.channels]
    measured = model.aggregates[f"{lever.kind}_measured"].sel({lever.kind: lever.target})
    return [int(c) for c in np.flatnonzero(measured.to_numpy())]


def _apply_levers(model: FittedModel, scenario: Scenario, t: int, z, channel, rng):
    z = z.copy()
    drivers = [str(d) for d in model.aggregates["driver"].to_numpy()]
    influencers = [str(i) for i in model.aggregates["influencer"].to_numpy()]
    means = group_means(model.aggregates).isel(year=t)
    dx = np.zeros((len(model.channels), len(drivers)))
    for lever in scenario.levers:
        if lever.kind == "driver":
            k = drivers.index(lever.target)
            for c in _lever_channels(model, lever):
                mean = float(means.sel(term=lever.target).isel(channel=c))
                dx[c, k] += (
                    apply_operation(lever.operation, lever.value, np.array([mean]))[0] - mean
                )
            continue
        j = influencers.index(lever.target)
        kind = model.spec.influencer(lever.target).kind
        for c in _lever_channels(model, lever):
            rows = channel == c
            if kind == "binary":  # binary KPIs move as a share, redrawn per respondent
                share = z[rows, j].mean()
                target = float(
                    np.clip(
                        apply_operation(lever.operation, lever.value, np.array([share]))[0], 0, 1
                    )
                )
                z[rows, j] = (rng.random(rows.sum()) < target).astype(float)
                continue
            new = apply_operation(lever.operation, lever.value, z[rows, j])
            if kind == "count":
                new = np.maximum(new, 0.0)
            z[rows, j] = new
    return z, dx


def simulate_rows(
    model: FittedModel, scenario: Scenario, n_per_channel: int = 2000, seed: int = 0
) -> xr.Dataset:
    """Lift draws by row-level posterior predictive simulation (the reference path).

    Returns
    -------
    xarray.Dataset
        ``total`` and ``top_box`` by (sample, channel), and ``se`` (Monte Carlo standard error of
        each draw's mean lift from sampling respondents) by channel.
    """
    import pymc as pm

    engine = ScenarioEngine(model)
    year = engine.scenario_year(scenario)
    t = engine.population_index(year)
    rng = np.random.default_rng(seed)
    z0, channel = _respondents(model, t, n_per_channel, rng)
    z1, dx = _apply_levers(model, scenario, t, z0, channel, rng)
    arrays = engine.year_arrays(year)  # the year's weights, with the step to a next year
    S = engine.n_draws

    def draws(name, nan=0.0):
        return np.nan_to_num(model.draws(name).to_numpy(), nan=nan)

    posterior = {
        "weights": arrays.weights,
        "effects": draws("effects"),
        "direct": draws("direct"),
        "driver_intercept": draws("driver_intercept"),
        "driver_sigma": draws("driver_sigma", nan=1.0),
        "intercept": model.draws("intercept").to_numpy()[:, :, t],
        "sigma": model.draws("sigma").to_numpy(),
    }
    trace = xr.Dataset(
        {
            k: (("chain", "draw", *[f"{k}_{i}" for i in range(v.ndim - 1)]), v[None])
            for k, v in posterior.items()
        },
        coords={"chain": [0], "draw": np.arange(S)},
    )
    C, K, J = len(engine.channels), len(engine.drivers), len(engine.influencers)
    with pm.Model() as rows_model:
        weights = pm.Flat("weights", shape=(C, K))
        effects = pm.Flat("effects", shape=(C, K, J))
        direct = pm.Flat("direct", shape=(C, J))
        driver_intercept = pm.Flat("driver_intercept", shape=(C, K))
        driver_sigma = pm.Flat("driver_sigma", shape=(C, K))
        intercept = pm.Flat("intercept", shape=(C,))
        sigma = pm.Flat("sigma", shape=(C,))
        z = pm.Data("z", z0)
        shift = pm.Data("dx", np.zeros_like(dx))
        ch = channel
        mu_x = driver_intercept[ch] + (effects[ch] * z[:, None, :]).sum(-1) + shift[ch]
        x = pm.Normal("x", mu=mu_x, sigma=driver_sigma[ch])
        mu_y = intercept[ch] + (weights[ch] * x).sum(-1) + (direct[ch] * z).sum(-1)
        pm.Normal("y", mu=mu_y, sigma=sigma[ch])
        base = pm.sample_posterior_predictive(
            trace, var_names=["y"], random_seed=seed, progressbar=False
        )
        pm.set_data({"z": z1, "dx": dx})
        new = pm.sample_posterior_predictive(
            trace, var_names=["y"], random_seed=seed, progressbar=False
        )
    del rows_model
    y0 = base.posterior_predictive["y"].to_numpy()[0]  # (S, N)
    y1 = new.posterior_predictive["y"].to_numpy()[0]
    diff = y1 - y0
    threshold = engine.top_box_threshold
    total = np.stack([diff[:, channel == c].mean(1) for c in range(C)], axis=1)
    top = np.stack(
        [
            (y1[:, channel == c] >= threshold).mean(1) - (y0[:, channel == c] >= threshold).mean(1)
            for c in range(C)
        ],
        axis=1,
    )
    se = np.array([diff[:, channel == c].std(1).mean() / np.sqrt(n_per_channel) for c in range(C)])
    return xr.Dataset(
        {
            "total": (("sample", "channel"), total),
            "top_box": (("sample", "channel"), top),
            "se": (("channel",), se),
        },
        coords={"channel": engine.channels},
    )
