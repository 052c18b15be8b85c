"""The compiled kernels as PyTensor Ops, for the models written as PyMC graphs: the reference
statement (:mod:`whatif.model.reference`), the carried-prior model of a refit
(:mod:`whatif.model.carry`) and :func:`whatif.model.build.build_model`.

Each Op returns its kernel's value and gradient in one call and runs the same numba kernel in
PyTensor's numba backend. A plain fit samples the density through its C entry points
(:mod:`whatif.model.entry`) and never imports PyTensor.
"""

from __future__ import annotations

import numpy as np
import pytensor.tensor as pt
from pytensor.gradient import disconnected_type
from pytensor.graph.basic import Apply
from pytensor.graph.op import Op
from pytensor.link.numba.dispatch.basic import register_funcify_default_op_cache_key

from whatif.model.density import coefficients_kernel, density_kernel
from whatif.model.kernels import driver_kernel, sat_kernel

__all__ = ["Coefficients", "DriverLoglik", "KernelOp", "ModelDensity", "SatisfactionLoglik"]


class KernelOp(Op):
    """A log-likelihood whose extra outputs are its gradient with respect to the parameters.

    The first ``n_params`` inputs are parameters, the rest data; output 0 is the log-likelihood
    and outputs 1.. the gradients, which the pullback reuses: one kernel call gives both.
    """

    __props__ = ("name",)
    kernel = None
    n_params = 0

    def __init__(self, name: str):
        self.name = name

    def make_node(self, *inputs):
        inputs = [
            pt.as_tensor_variable(np.asarray(x, float) if isinstance(x, np.ndarray) else x)
            for x in inputs
        ]
        inputs = [pt.cast(x, "float64") for x in inputs]
        outputs = [pt.dscalar()] + [x.type() for x in inputs[: self.n_params]]
        return Apply(self, inputs, outputs)

    def perform(self, node, inputs, output_storage):
        for store, value in zip(output_storage, type(self).kernel(*inputs), strict=True):
            store[0] = value

    def connection_pattern(self, node):
        n_out = 1 + self.n_params
        return [[True] * n_out] * self.n_params + [[False] * n_out] * (
            len(node.inputs) - self.n_params
        )

    def pullback(self, inputs, outputs, output_grads):
        g = output_grads[0]
        return [g * x for x in outputs[1:]] + [disconnected_type() for _ in inputs[self.n_params :]]


class SatisfactionLoglik(KernelOp):
    """``(alpha (C,T), beta (C,T,K), delta (C,J), sigma (C), R, b, rss0, n) -> loglik, grads``."""

    kernel = staticmethod(sat_kernel)
    n_params = 4


class DriverLoglik(KernelOp):
    """``(gamma0 (C,K), gamma (C,K,J), paths (C,P), sigma (C,K), R (C,K,Q,Q), b (C,K,Q), rss0, n,
    path_at (P,2)) -> loglik, grads``: the design is ``[1, z, x_S]`` (``Q = 1 + J + |S|``, see
    :mod:`whatif.model.inputs`), path ``e`` is the coefficient of column ``path_at[e, 1]`` in
    the equation of driver ``path_at[e, 0]``; driver equations with ``n == 0`` (not measured)
    are skipped."""

    kernel = staticmethod(driver_kernel)
    n_params = 4


class ModelDensity(KernelOp):
    """``(log_scales, mean_raw, coef_raw, log_noise, *KernelArguments.flat()) -> log density,
    gradients``: the model's whole log density on its unconstrained parameters."""

    kernel = staticmethod(density_kernel)
    n_params = 4


class Coefficients(Op):
    """``(scales, mean_raw, coef_raw, *PriorArguments) -> alpha, beta, gamma, delta, gamma0,
    paths``, masked where unmeasured; for the recorded draws only (no gradient)."""

    __props__ = ()

    def make_node(self, *inputs):
        inputs = [pt.cast(pt.as_tensor_variable(x), "float64") for x in inputs]
        outputs = [pt.dmatrix(), pt.dtensor3(), pt.dtensor3(), pt.dmatrix(), pt.dmatrix()]
        outputs.append(pt.dmatrix())
        return Apply(self, inputs, outputs)

    def perform(self, node, inputs, output_storage):
        for store, value in zip(output_storage, coefficients_kernel(*inputs), strict=True):
            store[0] = value


def _numba_kernel(op, node=None, **kwargs):
    """In PyTensor's numba mode a kernel Op is its compiled kernel, called as it is."""
    return op.kernel


for _kernel_op in (SatisfactionLoglik, DriverLoglik, ModelDensity):
    register_funcify_default_op_cache_key(_kernel_op)(_numba_kernel)


@register_funcify_default_op_cache_key(Coefficients)
def _numba_coefficients(op, node=None, **kwargs):
    return coefficients_kernel
