"""The model that fits: the hierarchical key-driver model on sufficient statistics, its whole
log density one compiled kernel (:mod:`whatif.model.density`).

The model itself is stated in :mod:`whatif.model.reference`.

Parameterization
----------------
Every coefficient ``theta ~ N(m, s)`` (``m``, ``s`` its hierarchical mean and spread, or the
previous year's weight and the drift for a random-walk step) is sampled through a raw variable
*whitened by its own group's data*: with ``theta_hat`` and ``I`` the least-squares estimate and
its precision from that group alone (:func:`whatif.model.inputs.prepare_inputs`), and ``lam = I s^2 / (1 + I s^2)``
the share of the coefficient's precision that comes from the data,

    ``theta = lam * theta_hat + (1 - lam) * m + s * sqrt(1 - lam) * raw``,

i.e. ``raw`` is the coefficient measured in standard deviations of its conditional posterior
given ``(m, s)``. Because the likelihood of the coefficients is Gaussian, ``raw`` is close to
``N(0, 1)`` a posteriori *whatever* ``m`` and ``s`` are: the funnel between a spread and its
coefficients is gone, in both regimes. ``lam`` is computed inside the model from the sampled
``s``, so a group of hundreds of thousands of responses is centered (``lam -> 1``), a tiny group
or a spread near zero is non-centered (``lam -> 0``), and everything in between is interpolated
draw by draw -- it is the partially non-centered parameterization of Papaspiliopoulos, Roberts &
Skold (2007) with the optimal weight, re-chosen at every ``s`` rather than fixed from a guess.
The raw variables carry the prior density of ``theta`` plus the log-Jacobian
``log(s sqrt(1 - lam))``, so the model is exactly the hierarchical model above.

The likelihood is evaluated on factors of the cross-products (:func:`whatif.model.likelihood.factorize`):
one small matrix-vector product per group.

The model is written twice: :func:`whatif.model.reference.build_reference_model` in PyTensor operations, and
:func:`build_model`, which fits, with the whole density as one compiled kernel with a hand-written
gradient (:mod:`whatif.model.density`). The tests hold them to the same value and gradient.
"""

from __future__ import annotations

import pymc as pm
import pytensor.tensor as pt

from whatif.model.inputs import ModelInputs
from whatif.model.layout import FREE_VARS, ParameterLayout, kernel_arguments
from whatif.model.ops import Coefficients, ModelDensity
from whatif.model.priors import Priors
from whatif.model.reference import record_data_units

__all__ = ["build_model"]


def build_model(inputs: ModelInputs, priors: Priors | None = None) -> pm.Model:
    """The PyMC model on sufficient statistics, its density one compiled kernel.

    The coefficient priors and both likelihoods are :class:`whatif.model.ops.ModelDensity`, which
    returns the value and gradient in one pass and compiles in seconds; it equals
    :func:`whatif.model.reference.build_reference_model` (tested).

    Parameters
    ----------
    inputs
        From :func:`whatif.model.inputs.prepare_inputs`.
    priors
        Prior scales (defaults if ``None``).

    Returns
    -------
    pymc.Model
        Free variables :data:`FREE_VARS` (unconstrained, standardized units, four flat vectors);
        deterministics :data:`whatif.model.units.DATA_VARS` in data units; the Potential ``log_density``.
    """
    priors = priors or Priors()
    layout = ParameterLayout.of(inputs)
    arguments = kernel_arguments(inputs, priors)
    with pm.Model(coords=inputs.coords) as model:
        # flat: their whole density, hyperpriors included, is the Potential
        free = [pm.Flat(name, shape=layout[name].size) for name in FREE_VARS]
        density = ModelDensity("model")(*free, *arguments.flat())[0]
        pm.Potential("log_density", density)
        log_scales, mean_raw, coef_raw, log_noise = free
        scales = layout["log_scales"].unpack(pt.exp(log_scales))
        noise = layout["log_noise"].unpack(pt.exp(log_noise))
        alpha, beta, gamma, delta, gamma0, paths = Coefficients()(
            pt.exp(log_scales), mean_raw, coef_raw, *arguments.prior
        )
        record_data_units(
            inputs,
            alpha=alpha,
            beta=beta,
            gamma=gamma,
            delta=delta,
            gamma0=gamma0,
            paths=paths,
            sigma=noise["sigma"],
            driver_sigma=noise["driver_sigma"],
            weight_drift=scales["weight_drift"],
            weight_spread=scales["weight_spread"],
        )
    return model
