"""The compiled density equals the reference model, and both are the hierarchical model."""

from __future__ import annotations

import dataclasses
import inspect

import numpy as np
import pytensor
import pytest
import xarray as xr
from scipy import stats

from whatif.data.aggregate import aggregate, scaled_aggregates
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

#: Driver paths ``(driver, source)``: d1 -> d3 and d3 -> d2 touch d3, which the second channel
#: does not measure (masked there); d1 -> d2 does not.
PATHS = (("d3", "d1"), ("d2", "d3"), ("d2", "d1"))


def _inputs(factor=1.0, seed=3, paths=(), **sizes):
    """Inputs with a driver and an influencer missing by design and survey weights; ``factor``
    scales every group's statistics as if it had that many times the responses; ``paths`` are
    the model's driver paths."""
    sizes = {"n_channels": 3, "n_years": 3, "n_drivers": 3, "n_influencers": 2, **sizes}
    truth = random_truth(seed=seed, **sizes)
    spec = dataclasses.replace(spec_for(truth), scale=(-100.0, 100.0))
    frame = simulate_survey(truth, 300, seed=seed, round_to_scale=False)
    influencer = str(truth["influencer"].values[-1])
    frame.loc[frame["channel"] == frame["channel"].iloc[0], influencer] = np.nan  # not asked there
    data = aggregate(validate_frame(frame, spec, min_group=30))
    data = scaled_aggregates(data, factor)
    return data, prepare_inputs(data, Priors(), paths)


def _functions(model):
    logp = model.logp()
    outputs = [logp, *pytensor.grad(logp, model.value_vars)]
    outputs += model.replace_rvs_by_values([model[v] for v in DATA_VARS])
    return pytensor.function(model.value_vars, outputs, mode="FAST_COMPILE")


@pytest.mark.parametrize("paths", [(), PATHS], ids=["no-paths", "paths"])
@pytest.mark.parametrize("factor", [1.0, 2000.0])  # a few hundred and ~600k responses a group
def test_compiled_density_equals_reference(factor, paths):
    """Log density, its gradient and every data-unit variable agree at random points, whatever
    the group sizes, with and without driver paths (some masked in a channel); the reference is
    differentiated by PyTensor, the kernel by hand."""
    data, inputs = _inputs(factor, paths=paths)
    assert not data["driver_measured"].values.all() and not data["influencer_measured"].values.all()
    assert inputs.path_mask.size == 0 or not inputs.path_mask.all()
    # path priors unlike every other block's, so that a kernel reading another block's is caught
    priors = Priors(path_mean_sd=0.7, path_spread=0.3)
    fused, reference = build_model(inputs, priors), build_reference_model(inputs, priors)
    assert [v.name for v in fused.value_vars] == list(FREE_VARS)
    f_fused, f_ref = _functions(fused), _functions(reference)
    start = fused.initial_point()
    rng = np.random.default_rng(1)
    for _ in range(5):
        point = [rng.normal(scale=0.8, size=np.shape(start[v.name])) for v in fused.value_vars]
        for got, want in zip(f_fused(*point), f_ref(*point), strict=True):
            np.testing.assert_allclose(
                got, want, rtol=1e-9, atol=1e-9 * np.max(np.abs(want), initial=0)
            )


def test_draws_in_data_units_equal_the_models_deterministics():
    _, inputs = _inputs(paths=PATHS)
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
    paths = posterior["paths"]
    assert paths.dims == ("chain", "draw", "channel", "edge")
    assert list(paths["edge"].values) == ["d1 -> d3", "d3 -> d2", "d1 -> d2"]
    assert list(paths["source"].values) == ["d1", "d3", "d1"]
    assert list(paths["target"].values) == ["d3", "d2", "d2"]
    assert np.all(paths.sel(channel="ch2", edge=["d1 -> d3", "d3 -> d2"]).values == 0.0)
    assert np.all(paths.sel(channel="ch2", edge="d1 -> d2").values != 0.0)


def test_whitened_density_is_the_centered_hierarchical_prior():
    """Change of variables: the density the kernel puts on the raw variables equals the centered
    hierarchical prior of the means and coefficients times the Jacobian of the map, up to a
    constant that does not move with the spreads (else the hyperposterior would be wrong).

    Means ``N(0, prior_sd)``; first-year weights ``N(mean, spread)``; each later year
    ``N(last year, drift)``; effects, direct effects and paths ``N(mean, spread)``; intercepts
    ``N(0, intercept_sd)``. The Jacobian is taken by central differences.
    """
    paths = (("d2", "d1"), ("d3", "d2"))
    _, inputs = _inputs(n_channels=2, n_years=3, n_drivers=3, n_influencers=1, paths=paths)
    priors = Priors(path_mean_sd=0.7, path_spread=0.3)
    constants = kernel_arguments(inputs, priors).prior
    layout = ParameterLayout.of(inputs)
    n_mean, n_coef = layout["mean_raw"].size, layout["coef_raw"].size
    rng = np.random.default_rng(4)

    def transform(scales, raw):
        out = forward_coefficients(scales, raw[:n_mean], raw[n_mean:], *constants)
        alpha, beta, gamma, delta, gamma0, paths, (w_mean, e_mean, d_mean, p_mean), lp = out
        parts = (w_mean, e_mean, d_mean, p_mean, beta, gamma, delta, alpha, gamma0, paths)
        return np.concatenate([p.ravel() for p in parts]), parts, lp

    def centered_log_prior(scales, parts):
        w_mean, e_mean, d_mean, p_mean, beta, gamma, delta, alpha, gamma0, paths = parts
        named = layout["log_scales"].unpack(scales)
        spread, drift = named["weight_spread"], named["weight_drift"]
        e_spread, d_spread = named["effect_spread"], named["direct_spread"]
        p_spread = named["path_spread"]
        norm = stats.norm.logpdf
        return sum(
            np.sum(x)
            for x in (
                norm(w_mean, 0, priors.weight_mean_sd),
                norm(e_mean, 0, priors.effect_mean_sd),
                norm(d_mean, 0, priors.direct_mean_sd),
                norm(p_mean, 0, priors.path_mean_sd),
                norm(beta[:, 0], w_mean, spread),
                norm(beta[:, 1:], beta[:, :-1], drift),
                norm(gamma, e_mean, e_spread),
                norm(delta, d_mean, d_spread),
                norm(alpha, 0, priors.intercept_sd),
                norm(gamma0, 0, priors.intercept_sd),
                norm(paths, p_mean, p_spread),
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
        gaps.append(lp - centered_log_prior(scales, parts) - log_det)
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
    # three paths close each vector; every other block keeps its place
    edges = [(1, 0), (2, 1), (2, 0)]
    with_paths = ParameterLayout.for_model(2, 3, 4, 5, edges)
    assert with_paths.sizes == {
        "log_scales": layout.sizes["log_scales"] + 3,
        "mean_raw": layout.sizes["mean_raw"] + 3,
        "coef_raw": layout.sizes["coef_raw"] + 2 * 3,
        "log_noise": layout.sizes["log_noise"],
    }
    for plain, extended in zip(layout.vectors, with_paths.vectors, strict=True):
        for block in plain.blocks:
            if block.name.startswith("path"):
                assert block.size == 0
            else:
                assert extended.block(block.name) == block
    assert with_paths["coef_raw"].block("paths").shape == (2, 3)
    assert with_paths["mean_raw"].block("path_mean").shape == (3,)


#: The compiled density before driver paths existed (whatif a99dbd1), at three random points
#: (``numpy.random.default_rng(1)``, sd 0.8) of the :func:`_inputs` problem: the log density and
#: the gradient dotted with ``arange`` (every element weighted differently), per group factor.
BEFORE_PATHS = {
    1.0: [
        (-28105.35228634664, 2772896.8677338683),
        (-23977.010693615804, 2109623.8786006016),
        (-13429.92225154259, -30327.10779046975),
    ],
    2000.0: [
        (-55383869.24854759, 5533534690.2971325),
        (-47037077.57529332, 4209182244.438543),
        (-26085320.96692198, -60782629.24200809),
    ],
}


@pytest.mark.parametrize("factor", [1.0, 2000.0])
def test_without_paths_the_model_is_as_before(factor):
    """A model without paths has the layout and the log density (value and gradient) it had
    before driver paths existed."""
    _, inputs = _inputs(factor)
    layout = ParameterLayout.of(inputs)
    assert layout.sizes == {"log_scales": 10, "mean_raw": 11, "coef_raw": 69, "log_noise": 12}
    assert all(b.size == 0 for v in layout.vectors for b in v.blocks if b.name.startswith("path"))
    arguments = kernel_arguments(inputs, Priors())
    rng = np.random.default_rng(1)
    for want_lp, want_g in BEFORE_PATHS[factor]:
        point = [rng.normal(scale=0.8, size=layout[v].size) for v in FREE_VARS]
        lp, *g = density_kernel(*point, *arguments.flat())
        g = np.concatenate(g)
        assert float(lp) == pytest.approx(want_lp, rel=1e-10)
        assert float(g @ np.arange(g.size)) == pytest.approx(want_g, rel=1e-9)


def test_the_samplers_entry_point_is_the_kernel():
    """nutpie's C entry point (whatif.model.entry) returns the kernel's value and gradient,
    reading each constant through its table; a table of the wrong arguments is refused."""
    import ctypes

    from whatif.fitting.compiled import SamplerInputs, compile_density
    from whatif.model.entry import ARGUMENT_NDIMS, argument_table, density_entry

    _, inputs = _inputs(paths=PATHS)
    priors = Priors(path_mean_sd=0.7, path_spread=0.3)
    sampler = SamplerInputs.of(inputs, priors)
    assert tuple(a.ndim for a in sampler.arguments) == ARGUMENT_NDIMS
    n_dim = sum(sampler.sizes)
    double = ctypes.POINTER(ctypes.c_double)
    rng = np.random.default_rng(5)
    for _ in range(3):
        x = rng.normal(scale=0.8, size=n_dim)
        gradient, logp = np.zeros(n_dim), np.zeros(1)
        code = density_entry.ctypes(
            n_dim,
            x.ctypes.data_as(double),
            gradient.ctypes.data_as(double),
            logp.ctypes.data_as(double),
            ctypes.c_void_p(sampler.table.ctypes.data),
        )
        parts = np.split(x, np.cumsum(sampler.sizes)[:-1])
        value, *gradients = density_kernel(*parts, *sampler.arguments)
        assert code == 0
        assert logp[0] == pytest.approx(float(value), rel=1e-12)
        np.testing.assert_allclose(gradient, np.concatenate(gradients), rtol=1e-12, atol=1e-12)
    wrong = density_entry.ctypes(
        n_dim + 1,
        x.ctypes.data_as(double),
        gradient.ctypes.data_as(double),
        logp.ctypes.data_as(double),
        ctypes.c_void_p(sampler.table.ctypes.data),
    )
    assert wrong == -1  # a position of the wrong size
    with pytest.raises(ValueError, match="3 kernel arguments, expected 27"):
        argument_table(sampler.arguments[:3], sampler.sizes)
    swapped = list(sampler.arguments)
    swapped[2], swapped[6] = swapped[6], swapped[2]  # a 2-d array where a 3-d one belongs
    with pytest.raises(ValueError, match="kernel argument 2"):
        argument_table(swapped, sampler.sizes)
    compiled = compile_density(inputs, priors)
    assert compiled.n_dim == n_dim and list(compiled.shapes) == list(FREE_VARS)
    start = compiled.initial_point_func(3)
    assert start.shape == (n_dim,) and np.all(np.abs(start) <= 1.0)
