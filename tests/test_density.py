"""The compiled density equals the reference model, and both are the hierarchical model."""

from __future__ import annotations

import dataclasses
import inspect

import numpy as np
import pytensor
import pytest
import xarray as xr
from scipy import stats

from whatif.data.aggregate import aggregate
from whatif.data.survey import validate_frame
from whatif.model import (
    DATA_VARS,
    FREE_VARS,
    HyperArguments,
    LikelihoodArguments,
    ParameterLayout,
    PriorArguments,
    build_model,
    build_reference_model,
    density_kernel,
    draws_in_data_units,
    forward_coefficients,
    kernel_arguments,
    prepare_inputs,
)
from whatif.model.priors import Priors
from whatif.synthetic import random_truth, simulate_survey, spec_for


def _inputs(factor=1.0, seed=3, **sizes):
    """Inputs with a driver and an influencer missing by design and survey weights; ``factor``
    scales every group's statistics as if it had that many times the responses."""
    sizes = {"n_channels": 3, "n_years": 3, "n_drivers": 3, "n_influencers": 2, **sizes}
    truth = random_truth(seed=seed, **sizes)
    spec = dataclasses.replace(spec_for(truth), scale=(-100.0, 100.0))
    frame = simulate_survey(truth, 300, seed=seed, round_to_scale=False)
    influencer = str(truth["influencer"].values[-1])
    frame.loc[frame["channel"] == frame["channel"].iloc[0], influencer] = np.nan  # not asked there
    data = aggregate(validate_frame(frame, spec, min_group=30))
    data["cross"] = data["cross"] * factor
    data["n"] = (data["n"] * factor).astype(np.int64)
    return data, prepare_inputs(data, Priors())


def _functions(model):
    logp = model.logp()
    outputs = [logp, *pytensor.grad(logp, model.value_vars)]
    outputs += model.replace_rvs_by_values([model[v] for v in DATA_VARS])
    return pytensor.function(model.value_vars, outputs, mode="FAST_COMPILE")


@pytest.mark.parametrize("factor", [1.0, 2000.0])  # a few hundred and ~600k responses a group
def test_compiled_density_equals_reference(factor):
    """Log density, its gradient and every data-unit variable agree at random points, whatever
    the group sizes (the reference is differentiated by PyTensor, the kernel by hand)."""
    data, inputs = _inputs(factor)
    assert not data["driver_measured"].values.all() and not data["influencer_measured"].values.all()
    fused, reference = build_model(inputs), build_reference_model(inputs)
    assert [v.name for v in fused.value_vars] == list(FREE_VARS)
    f_fused, f_ref = _functions(fused), _functions(reference)
    start = fused.initial_point()
    rng = np.random.default_rng(1)
    for _ in range(5):
        point = [rng.normal(scale=0.8, size=np.shape(start[v.name])) for v in fused.value_vars]
        for got, want in zip(f_fused(*point), f_ref(*point), strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9 * np.max(np.abs(want)))


def test_draws_in_data_units_equal_the_models_deterministics():
    _, inputs = _inputs()
    model = build_model(inputs)
    start = model.initial_point()
    rng = np.random.default_rng(2)
    draws = {v: rng.normal(scale=0.5, size=(2, 3, np.size(start[v]))) for v in FREE_VARS}
    free = xr.Dataset(
        {v: (("chain", "draw", f"{v}_dim_0"), x) for v, x in draws.items()},
        coords={"chain": [0, 1], "draw": [0, 1, 2]},
    )
    posterior = draws_in_data_units(inputs, Priors(), free)
    outputs = model.replace_rvs_by_values([model[v] for v in DATA_VARS])
    fn = pytensor.function(model.value_vars, outputs, mode="FAST_COMPILE")
    for chain in range(2):
        for draw in range(3):
            values = fn(*[draws[v][chain, draw] for v in FREE_VARS])
            for name, want in zip(DATA_VARS, values, strict=True):
                np.testing.assert_allclose(posterior[name].values[chain, draw], want, rtol=1e-12)
    assert posterior["weights"].dims == ("chain", "draw", "channel", "year", "driver")


def test_whitened_density_is_the_centred_hierarchical_prior():
    """Change of variables: the density the kernel puts on the raw variables equals the centred
    hierarchical prior of the means and coefficients times the Jacobian of the map, up to a
    constant that does not move with the spreads (else the hyperposterior would be wrong).

    Means ``N(0, prior_sd)``; first-year weights ``N(mean, spread)``; each later year
    ``N(last year, drift)``; effects and direct effects ``N(mean, spread)``; intercepts
    ``N(0, intercept_sd)``. The Jacobian is taken by central differences.
    """
    _, inputs = _inputs(n_channels=2, n_years=3, n_drivers=2, n_influencers=1)
    priors = Priors()
    constants = kernel_arguments(inputs, priors).prior
    layout = ParameterLayout.of(inputs)
    n_mean, n_coef = layout["mean_raw"].size, layout["coef_raw"].size
    rng = np.random.default_rng(4)

    def transform(scales, raw):
        out = forward_coefficients(scales, raw[:n_mean], raw[n_mean:], *constants)
        alpha, beta, gamma, delta, gamma0, w_mean, e_mean, d_mean, lp = out
        parts = (w_mean, e_mean, d_mean, beta, gamma, delta, alpha, gamma0)
        return np.concatenate([p.ravel() for p in parts]), parts, lp

    def centred_log_prior(scales, parts):
        w_mean, e_mean, d_mean, beta, gamma, delta, alpha, gamma0 = parts
        named = layout["log_scales"].unpack(scales)
        spread, drift = named["weight_spread"], named["weight_drift"]
        e_spread, d_spread = named["effect_spread"], named["direct_spread"]
        norm = stats.norm.logpdf
        return sum(
            np.sum(x)
            for x in (
                norm(w_mean, 0, priors.weight_mean_sd),
                norm(e_mean, 0, priors.effect_mean_sd),
                norm(d_mean, 0, priors.direct_mean_sd),
                norm(beta[:, 0], w_mean, spread),
                norm(beta[:, 1:], beta[:, :-1], drift),
                norm(gamma, e_mean, e_spread),
                norm(delta, d_mean, d_spread),
                norm(alpha, 0, priors.intercept_sd),
                norm(gamma0, 0, priors.intercept_sd),
            )
        )

    gaps = []
    for _ in range(6):
        scales = np.exp(rng.normal(np.log(0.2), 1.0, size=layout["log_scales"].size))
        raw = rng.normal(size=n_mean + n_coef)
        values, parts, lp = transform(scales, raw)
        h = 1e-6
        jac = np.column_stack(
            [
                (transform(scales, raw + h * e)[0] - transform(scales, raw - h * e)[0]) / (2 * h)
                for e in np.eye(raw.size)
            ]
        )
        _, log_det = np.linalg.slogdet(jac)
        gaps.append(lp - centred_log_prior(scales, parts) - log_det)
    assert np.ptp(gaps) < 1e-6, gaps


def test_kernel_signatures_follow_the_layout():
    """The compiled kernels take their arguments in the order the layout states once."""
    density = list(inspect.signature(density_kernel.py_func).parameters)
    assert density == [
        *FREE_VARS,
        *HyperArguments._fields,
        *PriorArguments._fields,
        *LikelihoodArguments._fields,
    ]
    forward = list(inspect.signature(forward_coefficients.py_func).parameters)
    assert forward == ["scales", "mean_raw", "coef_raw", *PriorArguments._fields]
    layout = ParameterLayout.for_model(channels=2, years=3, drivers=4, influencers=5)
    assert layout.sizes == {
        "log_scales": 2 * 4 + 2 * 5,
        "mean_raw": 4 + 4 * 5 + 5,
        "coef_raw": 2 * 3 * 4 + 2 * 4 * 5 + 2 * 5 + 2 * 3 + 2 * 4,
        "log_noise": 2 + 2 * 4,
    }
    vector = layout["coef_raw"]
    values = np.arange(vector.size, dtype=float)
    parts = vector.unpack(values)
    assert parts["weights"].shape == (2, 3, 4) and parts["gamma0"].shape == (2, 4)
    np.testing.assert_array_equal(vector.pack(parts), values)
