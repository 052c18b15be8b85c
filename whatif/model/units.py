"""The posterior in the data's own units: what every later step (scenarios, summaries, refits)
reads, as NumPy arrays with named dims shared by xarray and the PyMC coords."""

from __future__ import annotations

import numpy as np
import xarray as xr

from whatif.model.inputs import ModelInputs
from whatif.model.layout import FREE_VARS, ParameterLayout, kernel_arguments
from whatif.model.priors import Priors

__all__ = ["DATA_VARS", "DIMS", "data_units", "draws_in_data_units"]

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
    from whatif.model.density import coefficient_draws

    layout = ParameterLayout.of(inputs)
    log_scales, mean_raw, coef_raw, log_noise = (free[name].to_numpy() for name in FREE_VARS)
    alpha, beta, gamma, delta, gamma0 = coefficient_draws(
        log_scales, mean_raw, coef_raw, kernel_arguments(inputs, priors).prior
    )
    scales = layout["log_scales"].unpack(np.exp(log_scales))
    noise = layout["log_noise"].unpack(np.exp(log_noise))
    values = data_units(
        inputs,
        alpha,
        beta,
        gamma,
        delta,
        gamma0,
        noise["sigma"],
        noise["driver_sigma"],
        scales["weight_drift"],
        scales["weight_spread"],
    )
    coords = {**inputs.coords, "chain": free["chain"].to_numpy(), "draw": free["draw"].to_numpy()}
    return xr.Dataset(
        {name: (("chain", "draw", *DIMS[name]), values[name]) for name in DATA_VARS},
        coords={k: v for k, v in coords.items() if k != "step"},
    )
