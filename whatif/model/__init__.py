"""The statistical model: priors, model inputs, the parameter layout, likelihoods, the compiled
density, the reference PyMC statement and the carried-forward prior of a refit.

Imports :mod:`whatif.data` only. Importing this package is cheap: PyMC, PyTensor and numba load
when a name that needs them is first used.
"""

from whatif.exports import lazy_exports

EXPORTS = {
    "Priors": "whatif.model.priors",
    "load_priors": "whatif.model.priors",
    "ModelInputs": "whatif.model.inputs",
    "ols": "whatif.model.inputs",
    "prepare_inputs": "whatif.model.inputs",
    "FREE_VARS": "whatif.model.layout",
    "Block": "whatif.model.layout",
    "HyperArguments": "whatif.model.layout",
    "KernelArguments": "whatif.model.layout",
    "LikelihoodArguments": "whatif.model.layout",
    "ParameterLayout": "whatif.model.layout",
    "PriorArguments": "whatif.model.layout",
    "Vector": "whatif.model.layout",
    "kernel_arguments": "whatif.model.layout",
    "LOG_2PI": "whatif.model.likelihood",
    "Standardized": "whatif.model.likelihood",
    "factorize": "whatif.model.likelihood",
    "loglik_from_factors": "whatif.model.likelihood",
    "loglik_from_rows": "whatif.model.likelihood",
    "loglik_from_stats": "whatif.model.likelihood",
    "standardize": "whatif.model.likelihood",
    "FASTMATH": "whatif.model.kernels",
    "DriverLoglik": "whatif.model.ops",
    "KernelOp": "whatif.model.ops",
    "SatisfactionLoglik": "whatif.model.ops",
    "driver_kernel": "whatif.model.kernels",
    "sat_kernel": "whatif.model.kernels",
    "Coefficients": "whatif.model.ops",
    "ModelDensity": "whatif.model.ops",
    "coefficient_draws": "whatif.model.density",
    "coefficients_kernel": "whatif.model.density",
    "density_kernel": "whatif.model.density",
    "forward_coefficients": "whatif.model.density",
    "whiten": "whatif.model.whiten",
    "whiten_grad": "whatif.model.whiten",
    "whiten_mean": "whatif.model.whiten",
    "whiten_mean_grad": "whatif.model.whiten",
    "DATA_VARS": "whatif.model.units",
    "DIMS": "whatif.model.units",
    "data_units": "whatif.model.units",
    "draws_in_data_units": "whatif.model.units",
    "edge_coords": "whatif.model.units",
    "path_matrix": "whatif.model.units",
    "with_paths": "whatif.model.units",
    "RowData": "whatif.model.reference",
    "build_reference_model": "whatif.model.reference",
    "build_row_model": "whatif.model.reference",
    "record_data_units": "whatif.model.reference",
    "reference_coefficients": "whatif.model.reference",
    "row_data": "whatif.model.reference",
    "weight_walk": "whatif.model.reference",
    "whitened": "whatif.model.reference",
    "whitened_mean": "whatif.model.reference",
    "build_model": "whatif.model.build",
    "build_anchored_model": "whatif.model.carry",
    "carried_prior": "whatif.model.carry",
}

__all__ = sorted(EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, EXPORTS)
