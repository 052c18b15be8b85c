"""A slow reference for the scenario engine: row-level posterior predictive simulation in PyMC.

Respondents are drawn from each channel's observed influencer distribution, the levers are applied
to every respondent, and PyMC's ``sample_posterior_predictive`` simulates drivers and satisfaction
for the baseline and the scenario with the same random numbers. It exists to check the fast path
(:mod:`whatif.analysis.engine`), not for everyday use.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from whatif.analysis.engine import ScenarioEngine, _apply
from whatif.analysis.scenario import Scenario
from whatif.fitting.fitted import FittedModel

__all__ = ["simulate_rows"]


def _respondents(engine: ScenarioEngine, t: int, n: int, rng) -> tuple[np.ndarray, np.ndarray]:
    C, J = len(engine.channels), len(engine.influencers)
    z = np.zeros((C * n, J))
    channel = np.repeat(np.arange(C), n)
    for c in range(C):
        for j in range(J):
            if engine._imask[c, j]:
                share = engine._share[c, t, j]
                bins = rng.choice(len(share), size=n, p=share / share.sum())
                z[c * n : (c + 1) * n, j] = engine._value[c, t, j][bins]
    return z, channel


def _apply_levers(engine: ScenarioEngine, scenario: Scenario, z, channel, rng):
    z = z.copy()
    dx = np.zeros((len(engine.channels), len(engine.drivers)))
    for lever in scenario.levers:
        if lever.kind == "driver":
            k = engine.drivers.index(lever.target)
            for c in engine._lever_channels(lever, engine._dmask[:, k]):
                mean = engine._xbar[c, engine.population_index(engine.scenario_year(scenario)), k]
                dx[c, k] += _apply(lever.operation, lever.value, np.array([mean]))[0] - mean
            continue
        j = engine.influencers.index(lever.target)
        kind = engine._kinds[lever.target]
        for c in engine._lever_channels(lever, engine._imask[:, j]):
            rows = channel == c
            if kind == "binary":  # binary KPIs move as a share, redrawn per respondent
                share = z[rows, j].mean()
                target = float(
                    np.clip(_apply(lever.operation, lever.value, np.array([share]))[0], 0, 1)
                )
                z[rows, j] = (rng.random(rows.sum()) < target).astype(float)
                continue
            new = _apply(lever.operation, lever.value, z[rows, j])
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
    z0, channel = _respondents(engine, t, n_per_channel, rng)
    z1, dx = _apply_levers(engine, scenario, z0, channel, rng)
    arrays = engine._year(year)
    S = engine.n_draws
    posterior = {
        "weights": arrays.weights,
        "effects": engine._effects,
        "direct": engine._direct,
        "driver_intercept": np.nan_to_num(model.draws("driver_intercept").to_numpy()),
        "driver_sigma": np.nan_to_num(model.draws("driver_sigma").to_numpy(), nan=1.0),
        "intercept": engine._intercept[:, :, t],
        "sigma": engine._sigma,
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
