"""The model as nutpie samples it: the cached C entry points of the compiled density, with no
PyMC graph and no compile step on each fit.

:func:`compile_density` hands nutpie :func:`whatif.model.entry.density_entry` and
:func:`whatif.model.entry.identity_entry` (compiled once per machine, cached on disk by numba) and
the table of the kernel's constant arguments. It samples the same model as
``nutpie.compile_pymc_model(build_model(inputs, priors), var_names=FREE_VARS)`` -- the four free
vectors with flat priors, the whole density one Potential -- started the same way (each free
value uniform on -1 to 1, PyMC's jitter around a flat prior's zero), without writing and
compiling nutpie's wrappers around a PyTensor graph on every fit (10-25 s).
"""

from __future__ import annotations

import contextlib
import importlib
import threading
from dataclasses import dataclass

import numpy as np

from whatif.model.inputs import ModelInputs
from whatif.model.layout import FREE_VARS, ParameterLayout, PriorArguments, kernel_arguments
from whatif.model.priors import Priors

__all__ = ["SamplerInputs", "compile_density", "prepare_entries"]


@dataclass(frozen=True)
class SamplerInputs:
    """What the entry points read: the argument arrays (kept alive here) and their table."""

    arguments: tuple[np.ndarray, ...]
    table: np.ndarray
    sizes: tuple[int, ...]

    @classmethod
    def of(cls, inputs: ModelInputs, priors: Priors) -> SamplerInputs:
        from whatif.model.entry import argument_table

        layout = ParameterLayout.of(inputs)
        arguments = tuple(kernel_arguments(inputs, priors).flat())
        sizes = tuple(layout[name].size for name in FREE_VARS)
        return cls(arguments, argument_table(arguments, sizes), sizes)


def prepare_entries() -> threading.Thread:
    """Load the entry points (and the kernel that converts the draws) in a background thread,
    compiling them first on a cold cache.

    A fit calls this before reading its data: the first fit on a machine compiles the density
    (~35 s) while the survey is read and aggregated, instead of after. The later import in
    :func:`compile_density` waits for this one (Python's import lock); an error here is raised
    again there.
    """

    def load() -> None:
        # an error is raised again by compile_density's own import
        with contextlib.suppress(Exception):
            entry = importlib.import_module("whatif.model.entry")
            # then the conversion of the draws (whatif.model.units), while the sampler runs
            from numba import types

            from whatif.model.density import coefficients_kernel

            prior = entry.ARGUMENT_NDIMS[2 : 2 + len(PriorArguments._fields)]
            vector = types.Array(types.float64, 1, "C")
            arrays = [types.Array(types.float64, ndim, "C") for ndim in prior]
            coefficients_kernel.compile((vector, vector, vector, *arrays))

    thread = threading.Thread(target=load, name="whatif-compile", daemon=True)
    thread.start()
    return thread


def _initial_point(size: int):
    def initial_point(seed) -> np.ndarray:
        return np.random.default_rng(seed).uniform(-1.0, 1.0, size)

    return initial_point


def compile_density(inputs: ModelInputs, priors: Priors):
    """A nutpie model of the key-driver density on ``inputs``, ready for ``nutpie.sample``.

    Parameters
    ----------
    inputs
        From :func:`whatif.model.inputs.prepare_inputs`.
    priors
        The prior scales.

    Returns
    -------
    nutpie.compile_pymc.CompiledPyMCModel
        Records :data:`whatif.model.layout.FREE_VARS`, dims ``<name>_dim_0``.
    """
    from nutpie.compile_pymc import CompiledPyMCModel

    from whatif.model.entry import density_entry, identity_entry

    sampler_inputs = SamplerInputs.of(inputs, priors)
    sizes = sampler_inputs.sizes
    stops = np.cumsum(sizes)
    names = list(FREE_VARS)
    slices = [slice(int(stop - size), int(stop)) for size, stop in zip(sizes, stops, strict=True)]
    shapes = [(int(size),) for size in sizes]
    n_dim = int(stops[-1])
    return CompiledPyMCModel(
        dims={},
        _n_dim=n_dim,
        _coords={},
        _shapes=dict(zip(names, shapes, strict=True)),
        compiled_logp_func=density_entry,
        compiled_expand_func=identity_entry,
        initial_point_func=_initial_point(n_dim),
        # the arrays whose addresses the table holds: kept alive as long as the model
        shared_data={str(i): a for i, a in enumerate(sampler_inputs.arguments)},
        shared_var_keys={},
        user_data=sampler_inputs.table,
        n_expanded=n_dim,
        shape_info=(names, slices, shapes),
        logp_func=None,
        expand_func=None,
    )
