"""The posterior in the data's own units: what every later step (scenarios, summaries, refits)
reads, as NumPy arrays with named dims shared by xarray and the PyMC coords.

Driver paths
------------
``paths`` has dims ``("channel", "edge")``: one column per path of the spec (in
:attr:`whatif.data.spec.Spec.paths` order), rating points of the driver per rating point of the
driver that moves it, NaN in a channel where either is not measured. The ``edge`` coordinate
labels each path ``"source -> target"`` (``"attention -> trust"``); the coordinates ``source``
and ``target`` along ``edge`` name its two drivers (``target`` is the driver whose equation holds
the path; ``driver`` itself is already a dimension). Without paths ``edge`` has length zero, and
an artefact written before paths existed has no ``paths`` at all: :func:`with_paths` reads both
as no paths. With paths, ``effects``, ``driver_intercept`` and ``driver_sigma`` are those of each
driver's own equation, its sources held fixed; :func:`path_matrix` lays the paths out as a
``(driver, source)`` matrix for propagating a change through them.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from whatif.model.inputs import ModelInputs
from whatif.model.layout import FREE_VARS, ParameterLayout, kernel_arguments
from whatif.model.priors import Priors

__all__ = [
    "DATA_VARS",
    "DIMS",
    "data_units",
    "draws_in_data_units",
    "edge_coords",
    "path_matrix",
    "with_paths",
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
    "paths",
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
    "paths": ("channel", "edge"),
}


def data_units(
    inputs, alpha, beta, gamma, delta, gamma0, paths, sigma, driver_sigma, drift, spread
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
    target = np.array([k for k, _ in inputs.edges], int)
    source = np.array([s for _, s in inputs.edges], int)
    paths = paths * (sd_x[target] / sd_x[source])
    # each path's share of its driver's intercept, summed onto the driver: (..., C, P) -> (..., C, K)
    onto_driver = (target[:, None] == np.arange(K)[None, :]).astype(float)
    path_shift = ((paths * mu_x[source])[..., None] * onto_driver).sum(-2)
    return {
        "weights": weights,
        "effects": effects,
        "direct": direct,
        "intercept": mu_y
        + sd_y * alpha
        - (weights * (dmask * mu_x)[:, None, :]).sum(-1)
        - (direct * imask * mu_z).sum(-1)[..., None],
        "driver_intercept": mu_x + sd_x * gamma0 - (effects * mu_z).sum(-1) - path_shift,
        "sigma": sigma * sd_y,
        "driver_sigma": driver_sigma * sd_x,
        "weight_drift": drift * sd_y / sd_x,
        "weight_spread": spread * sd_y / sd_x,
        "paths": paths,
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
    alpha, beta, gamma, delta, gamma0, paths = coefficient_draws(
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
        paths,
        noise["sigma"],
        noise["driver_sigma"],
        scales["weight_drift"],
        scales["weight_spread"],
    )
    coords = {**inputs.coords, "chain": free["chain"].to_numpy(), "draw": free["draw"].to_numpy()}
    coords = {k: v for k, v in coords.items() if k != "step"}
    return xr.Dataset(
        {name: (("chain", "draw", *DIMS[name]), values[name]) for name in DATA_VARS},
        coords=coords | edge_coords(inputs.paths),
    )


def edge_coords(paths) -> dict:
    """The ``edge`` coordinate and its ``source`` and ``target`` of ``(driver, source)`` paths."""
    paths = list(paths)
    return {
        "edge": np.array([f"{s} -> {k}" for k, s in paths], dtype=object),
        "source": ("edge", np.array([s for _, s in paths], dtype=object)),
        "target": ("edge", np.array([k for k, _ in paths], dtype=object)),
    }


def with_paths(posterior: xr.Dataset) -> xr.Dataset:
    """``posterior`` with a ``paths`` variable: an artefact written before driver paths existed
    has none, which means no paths (an empty ``edge`` dimension)."""
    if "paths" in posterior:
        return posterior
    shape = (posterior.sizes["chain"], posterior.sizes["draw"], posterior.sizes["channel"], 0)
    empty = xr.DataArray(np.zeros(shape), dims=("chain", "draw", "channel", "edge"))
    return posterior.assign_coords(edge_coords(())).assign(paths=empty)


def path_matrix(paths: xr.DataArray, drivers) -> xr.DataArray:
    """The paths as a matrix: ``[..., driver=k, source=k']`` is the path ``k' -> k`` (0 where
    there is none, NaN where it is not measured).

    Parameters
    ----------
    paths
        ``paths`` of a posterior (dims ``(..., edge)`` with coordinates ``source`` and
        ``target``).
    drivers
        The driver ids, in order.

    Returns
    -------
    xarray.DataArray
        Dims ``(..., driver, source)``, both over ``drivers``.
    """
    drivers = [str(d) for d in drivers]
    lead = [d for d in paths.dims if d != "edge"]
    values = np.zeros((*(paths.sizes[d] for d in lead), len(drivers), len(drivers)))
    edges = paths.transpose(*lead, "edge")
    for e, (k, s) in enumerate(zip(paths["target"].values, paths["source"].values, strict=True)):
        values[..., drivers.index(str(k)), drivers.index(str(s))] = edges.values[..., e]
    coords = {d: paths[d].values for d in lead if d in paths.coords}
    return xr.DataArray(
        values,
        dims=(*lead, "driver", "source"),
        coords={**coords, "driver": drivers, "source": drivers},
        name="paths",
    )
