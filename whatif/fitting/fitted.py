"""A fitted model as data: posterior draws, the aggregates it saw, and its provenance.

Kept apart from :mod:`whatif.fitting.fit` so that reading a model (scenarios, app, brief) never imports
PyMC.
"""

from __future__ import annotations

import importlib.metadata
import sys
from dataclasses import dataclass, field

import pandas as pd
import xarray as xr

from whatif.data.spec import Spec
from whatif.fitting.diagnostics import verdict
from whatif.model.priors import Priors

__all__ = ["FittedModel", "package_versions"]


def package_versions() -> dict[str, str]:
    """Versions of the packages a fit depends on (recorded in every artefact)."""
    out = {"python": sys.version.split()[0]}
    for name in ("whatif", "pymc", "pytensor", "nutpie", "arviz", "xarray", "numpy", "pandas"):
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "unknown"
    return out


@dataclass
class FittedModel:
    """A fitted model: posterior draws, the aggregated data it saw, and how it was made.

    Attributes
    ----------
    posterior
        Draws by (chain, draw, ...) of :data:`whatif.model.units.DATA_VARS`, in data units; NaN where
        a driver or influencer is not measured in a channel.
    sample_stats
        Sampler statistics (divergences, energy, tree depth, step size).
    aggregates
        Sufficient statistics and influencer distributions (see :mod:`whatif.data.aggregate`).
    spec, priors
        What the model was specified with.
    manifest
        Provenance: fit date, data fingerprint, versions, sampler settings, timings, diagnostics.
    """

    posterior: xr.Dataset
    sample_stats: xr.Dataset
    aggregates: xr.Dataset
    spec: Spec
    priors: Priors
    manifest: dict = field(default_factory=dict)
    name: str = ""

    @property
    def diagnostics(self) -> dict:
        return self.manifest["diagnostics"]

    @property
    def flagged(self) -> bool:
        """True when the fit failed its convergence checks (forecasts carry a warning)."""
        return not self.diagnostics.get("passed", False)

    @property
    def verdict(self) -> str:
        return verdict(self.diagnostics)

    @property
    def likelihood(self) -> str:
        """``ordinal`` (the rating-scale likelihood of whole-number answers) or ``linear``: how
        the outcome was fitted (:mod:`whatif.data.rating_stats`)."""
        return str(self.aggregates.attrs.get("outcome_likelihood", "linear"))

    @property
    def channels(self) -> list[str]:
        return [str(c) for c in self.aggregates["channel"].to_numpy()]

    @property
    def years(self) -> list[int]:
        return [int(y) for y in self.aggregates["year"].to_numpy()]

    @property
    def single_period(self) -> bool:
        """The survey had no year column: one period, no year to forecast after it."""
        return self.spec.single_period

    def to_datatree(self) -> xr.DataTree:
        """The fit as an ArviZ DataTree (posterior, sample_stats, constant_data)."""
        return xr.DataTree.from_dict(
            {
                "posterior": self.posterior,
                "sample_stats": self.sample_stats,
                "constant_data": self.aggregates,
            }
        )

    def draws(self, var: str) -> xr.DataArray:
        """Posterior draws of ``var`` with (chain, draw) stacked into one ``sample`` dim.

        A variable with an empty dimension (a survey without influencers has ``influencer`` of
        length 0) stacks too: its ``sample`` dim has every draw and the array no values.
        """
        array = self.posterior[var]
        if 0 not in array.shape:
            return array.stack(sample=("chain", "draw")).transpose("sample", ...)
        # xarray reshapes an empty array to (..., -1), which NumPy cannot resolve
        rest = [d for d in array.dims if d not in ("chain", "draw")]
        array = array.transpose("chain", "draw", *rest)
        index = pd.MultiIndex.from_product(
            [array["chain"].to_numpy(), array["draw"].to_numpy()], names=["chain", "draw"]
        )
        return xr.DataArray(
            array.to_numpy().reshape((len(index), *array.shape[2:])),
            dims=("sample", *rest),
            coords={
                **xr.Coordinates.from_pandas_multiindex(index, "sample"),
                **{d: array[d] for d in rest if d in array.coords},
            },
        )
