"""Driver paths in effect: how a change of one driver moves the others and satisfaction.

With paths, driver *k* is moved by the drivers *k'* it depends on, ``B[c, k, k']`` rating points
per rating point (the posterior's ``paths`` laid out by :func:`whatif.model.units.path_matrix`,
NaN -> 0). A change ``dx`` of the drivers' means settles at ``(I - B)^-1 dx``; the graph is
acyclic, so ``B`` is nilpotent and the inverse is the finite sum ``I + B + B^2 + ...``
(:func:`propagator`). Hence, per draw, channel and year:

* an influencer's effect on the drivers through the whole graph is ``(I - B)^-1 Gamma``;
* a driver's **total effect** on satisfaction is ``w' (I - B)^-1``: its weight plus everything
  it moves downstream (without paths, its weight).

The engine (:mod:`whatif.analysis.engine`) propagates scenarios with the same arrays; this module
also turns them into the rows of ``whatif summary`` and the tables of the app and the brief.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import xarray as xr

from whatif.analysis.relative_weights import relative_importance
from whatif.data.moments import interval
from whatif.fitting.fitted import FittedModel

__all__ = [
    "driver_effects_frame",
    "path_arrays",
    "path_rows",
    "propagator",
    "total_effect_rows",
    "total_effects",
]


def path_arrays(model: FittedModel) -> np.ndarray | None:
    """The paths per draw as ``B[s, c, k, k']`` (path ``k' -> k``, NaN -> 0), or None when the
    model has no paths (so that the engine stays exactly what it was without them)."""
    paths = model.draws("paths")
    if paths.sizes.get("edge", 0) == 0:
        return None
    drivers = [str(d) for d in model.aggregates["driver"].to_numpy()]
    values = np.nan_to_num(paths.transpose("sample", "channel", "edge").to_numpy())
    matrix = np.zeros(values.shape[:2] + (len(drivers), len(drivers)))
    edges = zip(paths["target"].values, paths["source"].values, strict=True)
    for e, (k, s) in enumerate(edges):
        matrix[:, :, drivers.index(str(k)), drivers.index(str(s))] = values[:, :, e]
    return matrix


def propagator(paths: np.ndarray) -> np.ndarray:
    """``(I - B)^-1`` of nilpotent ``B`` (an acyclic graph), as the finite sum of its powers.

    Parameters
    ----------
    paths
        ``B`` with shape ``(..., K, K)``: ``[..., k, k']`` is the path ``k' -> k``.

    Returns
    -------
    numpy.ndarray
        Same shape: ``[..., k, k']`` is driver *k*'s total response to one rating point of *k'*.
    """
    size = paths.shape[-1]
    total = np.broadcast_to(np.eye(size), paths.shape).copy()
    power = total.copy()
    # a path of K drivers has at most K - 1 edges: the K-th power of a nilpotent B is zero
    for _ in range(size - 1):
        power = power @ paths
        total += power
    return total


def total_effects(model: FittedModel) -> xr.DataArray:
    """Each driver's total effect on satisfaction, ``w' (I - B)^-1``, per draw.

    Returns
    -------
    xarray.DataArray
        Dims ``(sample, channel, year, driver)``, satisfaction points per rating point of the
        driver, NaN where the driver is not measured; equal to the weights without paths.
    """
    weights = model.draws("weights").transpose("sample", "channel", "year", "driver")
    paths = path_arrays(model)
    if paths is None:
        return weights
    values = np.einsum("sctk,sckm->sctm", np.nan_to_num(weights.to_numpy()), propagator(paths))
    measured = model.aggregates["driver_measured"].sel(channel=weights["channel"])
    mask = measured.transpose("channel", "driver").to_numpy()[None, :, None, :]
    return weights.copy(data=np.where(mask, values, np.nan))


def _rows(draws: np.ndarray, ci: float, index: pd.MultiIndex) -> pd.DataFrame:
    with warnings.catch_warnings():  # unmeasured drivers and paths are all-NaN by design
        warnings.simplefilter("ignore", RuntimeWarning)
        lo, hi = interval(draws, ci)
        mean = np.nanmean(draws, axis=0)
    frame = pd.DataFrame({"mean": mean.ravel(), "lo": lo.ravel(), "hi": hi.ravel()}, index=index)
    return frame.dropna().reset_index()


def path_rows(model: FittedModel, ci: float = 0.9) -> list[dict]:
    """Posterior mean and equal-tailed interval of each measured path.

    Returns
    -------
    list of dict
        ``{"channel", "driver", "source", "mean", "lo", "hi"}``: rating points of ``driver`` per
        rating point of ``source``; none for a model without paths.
    """
    paths = model.draws("paths")
    if paths.sizes.get("edge", 0) == 0:
        return []
    arr = paths.transpose("sample", "channel", "edge").to_numpy()
    edges = list(zip(paths["target"].values, paths["source"].values, strict=True))
    index = pd.MultiIndex.from_tuples(
        [(str(c), str(k), str(s)) for c in paths["channel"].values for k, s in edges],
        names=["channel", "driver", "source"],
    )
    frame = _rows(arr.reshape(arr.shape[0], -1), ci, index)
    return [
        {
            "channel": c,
            "driver": k,
            "source": s,
            "mean": float(m),
            "lo": float(lo),
            "hi": float(hi),
        }
        for c, k, s, m, lo, hi in frame.itertuples(index=False, name=None)
    ]


def total_effect_rows(model: FittedModel, ci: float = 0.9) -> list[dict]:
    """Posterior mean and equal-tailed interval of each measured driver's total effect.

    Returns
    -------
    list of dict
        ``{"channel", "year", "driver", "mean", "lo", "hi"}`` (see :func:`total_effects`).
    """
    effects = total_effects(model)
    dims = ("channel", "year", "driver")
    index = pd.MultiIndex.from_product(
        [effects[d].to_numpy().tolist() for d in dims], names=list(dims)
    )
    arr = effects.to_numpy()
    frame = _rows(arr.reshape(arr.shape[0], -1), ci, index)
    return [
        {
            "channel": str(c),
            "year": int(t),
            "driver": str(k),
            "mean": float(m),
            "lo": float(lo),
            "hi": float(hi),
        }
        for c, t, k, m, lo, hi in frame.itertuples(index=False, name=None)
    ]


def driver_effects_frame(model: FittedModel, ci: float = 0.9, year: int | None = None):
    """Weight, total effect and relative importance of each measured driver in one year.

    Parameters
    ----------
    model
        A fitted or loaded model.
    ci
        Probability of the intervals.
    year
        The year (default: the last one).

    Returns
    -------
    pandas.DataFrame
        Columns ``channel``, ``driver``, ``weight``, ``weight_lo``, ``weight_hi``, ``total``,
        ``total_lo``, ``total_hi`` and ``share`` (posterior mean of Johnson's relative weight).
    """
    year = int(model.aggregates["year"].to_numpy()[-1]) if year is None else int(year)
    weights = model.draws("weights").sel(year=year).transpose("sample", "channel", "driver")
    totals = total_effects(model).sel(year=year).transpose("sample", "channel", "driver")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        share = relative_importance(model).sel(year=year).mean("sample")
    index = pd.MultiIndex.from_product(
        [weights["channel"].to_numpy().tolist(), weights["driver"].to_numpy().tolist()],
        names=["channel", "driver"],
    )
    columns = []
    for name, draws in (("weight", weights), ("total", totals)):
        arr = draws.to_numpy()
        part = _rows(arr.reshape(arr.shape[0], -1), ci, index).set_index(["channel", "driver"])
        columns.append(part.rename(columns=lambda c, n=name: n if c == "mean" else f"{n}_{c}"))
    frame = pd.concat(columns, axis=1).dropna().reset_index()
    shares = share.transpose("channel", "driver").to_numpy()
    lookup = {
        (str(c), str(k)): float(shares[i, j])
        for i, c in enumerate(share["channel"].to_numpy())
        for j, k in enumerate(share["driver"].to_numpy())
    }
    frame["channel"] = frame["channel"].astype(str)
    frame["driver"] = frame["driver"].astype(str)
    frame["share"] = [
        lookup[(c, k)] for c, k in zip(frame["channel"], frame["driver"], strict=True)
    ]
    return frame
