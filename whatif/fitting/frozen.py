"""The frozen past of ``whatif refit --freeze-past``: earlier years put back into the new fit.

The new fit (:func:`whatif.model.carry.build_anchored_model`) estimates the new years from the
previous posterior carried as a prior; the earlier years' weights and intercepts, the anchor
year's intercept and the weight spread are the previous fit's own draws, copied unchanged.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from whatif.fitting.fitted import FittedModel

__all__ = ["frozen_posterior"]

_SAMPLES = ("chain", "draw")


def _aligned(draws: xr.DataArray, like: xr.Dataset) -> xr.DataArray:
    """``draws`` laid onto ``like``'s chains and draws (cycling through the previous samples when
    the new fit has more): the frozen past is carried as the previous fit's samples."""
    draws = draws.transpose(*_SAMPLES, ...)
    values = draws.to_numpy()
    flat = values.reshape((-1, *values.shape[2:]))
    n_chain, n_draw = like.sizes["chain"], like.sizes["draw"]
    picked = flat[np.arange(n_chain * n_draw) % len(flat)].reshape(
        (n_chain, n_draw, *values.shape[2:])
    )
    coords = {d: draws[d].to_numpy() for d in draws.dims[2:] if d in draws.coords}
    coords.update(chain=like["chain"].to_numpy(), draw=like["draw"].to_numpy())
    return xr.DataArray(picked, dims=draws.dims, coords=coords, name=draws.name)


def frozen_posterior(previous: FittedModel, new: xr.Dataset, anchor_year: int) -> xr.Dataset:
    """The new fit's posterior with the past put back: earlier years' weights and intercepts,
    the anchor year's intercept and the weight spread from the previous fit.

    Parameters
    ----------
    previous
        The previous fit.
    new
        Posterior of :func:`build_anchored_model` (years: the anchor year, then the new years).
    anchor_year
        The previous fit's last year.
    """
    old = previous.posterior
    variables = {name: new[name] for name in new.data_vars}
    intercept = new["intercept"].copy()
    intercept.loc[{"year": anchor_year}] = _aligned(
        old["intercept"].sel(year=anchor_year), new
    ).transpose(*intercept.sel(year=anchor_year).dims)
    variables["intercept"] = intercept
    past_years = [y for y in previous.years if y < anchor_year]
    if past_years:
        for name in ("weights", "intercept"):
            past = _aligned(old[name].sel(year=past_years), new).transpose(*new[name].dims)
            variables[name] = xr.concat([past, variables[name]], dim="year")
    variables["weight_spread"] = _aligned(old["weight_spread"], new).transpose(
        *new["weight_spread"].dims
    )
    # a new Dataset, not assignment into ``new``: that would align the longer years to its own
    return xr.Dataset(variables, attrs=new.attrs)
