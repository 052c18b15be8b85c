"""The hand-written gradients, proven independently of the code that computes them.

Three checks, each at random points of small groups (a few hundred responses) and of huge ones
(the same statistics scaled as if every group had ~600k responses), on survey data with survey
weights, a driver not measured in one channel (a driver equation with ``n == 0``, a zero column
in the satisfaction factors) and an influencer not measured in another (zero columns in both),
without driver paths and with three (:data:`PATHS`: one into and one out of the driver not
measured in a channel, so masked there, and one between measured drivers):

* each gradient output of the likelihood kernels :func:`whatif.model.kernels.sat_kernel` and
  :func:`whatif.model.kernels.driver_kernel` against finite differences of their log-likelihood;
* the whole gradient of the compiled density :func:`whatif.model.density.density_kernel`
  against finite differences of the density;
* the gradient of the model on statistics (PyTensor's autodiff of the reference form, and the
  compiled density's) against the autodiff gradient of the same model written row by row
  (:func:`whatif.model.reference.build_row_model`), whose likelihood never sees a statistic.

Errors are relative, element by element, to the independent value: ``|g - fd| / max(1, |fd|)``,
their maximum. The finite differences are central differences extrapolated to a zero step
(Ridders' method): the density of huge groups is some 5e7 in size while some of its partial
derivatives are of order one, so a fixed small step drowns in rounding and a fixed large one in
truncation error.

Each check has teeth: the same checker is run on gradients with one term removed -- the rss
term of the satisfaction sigma gradient, the intercept's share of the driver residual, the
Gamma prior of the spreads, the half-normal prior of the noise sds, the satisfaction
likelihood's share of the intercepts' raw gradient (against finite differences and against the
row model), the paths' share of the driver residual and the driver likelihood's share of the
paths' raw gradient -- and must report errors above :data:`MUTANT` where the real gradients stay
below :data:`TOL`.
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np
import pytensor
import pytest

from whatif.data.aggregate import aggregate, scaled_aggregates
from whatif.data.survey import validate_frame
from whatif.model import (
    FREE_VARS,
    ParameterLayout,
    build_model,
    build_reference_model,
    build_row_model,
    coefficients_kernel,
    density_kernel,
    driver_kernel,
    kernel_arguments,
    prepare_inputs,
    row_data,
    sat_kernel,
)
from whatif.model.priors import Priors
from whatif.synthetic import random_truth, simulate_survey, spec_for

#: Largest relative error allowed of a real gradient against finite differences.
TOL = 1e-6
#: Smallest relative error a gradient with one term removed must show.
MUTANT = 1e-3
#: Group sizes: as sampled (a few hundred responses), and as if ~600k responses a group.
FACTORS = [1.0, 2000.0]
#: Driver paths ``(driver, source)``: d1 -> d3 and d3 -> d2 touch d3, which the second channel
#: does not measure; d1 -> d2 does not.
PATHS = (("d3", "d1"), ("d2", "d3"), ("d2", "d1"))
WITH_PATHS = pytest.mark.parametrize("paths", [(), PATHS], ids=["no-paths", "paths"])


# -- the checker ---------------------------------------------------------------------------------


def relative_error(got, want) -> float:
    """``max |got - want| / max(1, |want|)`` over all elements."""
    got, want = np.asarray(got, float), np.asarray(want, float)
    if got.size == 0:
        return 0.0
    return float(np.max(np.abs(got - want) / np.maximum(1.0, np.abs(want))))


def fd_gradient(f, x, step, shrink=1.4, size=10):
    """Gradient of ``f`` at ``x`` by central differences extrapolated to a zero step (Ridders).

    Along each coordinate, central differences at steps ``step / shrink**i`` fill a Neville
    tableau of Richardson extrapolations in ``h**2``; the estimate is the entry whose own error
    estimate (differences between neighbouring entries) is smallest -- chosen from ``f`` alone,
    never from the gradient under test.

    Parameters
    ----------
    f
        Scalar function of an array shaped like ``x``.
    x
        The point.
    step
        Largest step, a number or one per element of ``x``.
    shrink, size
        Ratio of successive steps, and most steps per coordinate.
    """
    x = np.asarray(x, float)
    flat, steps = x.ravel(), np.broadcast_to(step, x.shape).ravel()
    factor = shrink * shrink

    def central(i, h):
        e = np.zeros(flat.size)
        e[i] = h
        return (f((flat + e).reshape(x.shape)) - f((flat - e).reshape(x.shape))) / (2.0 * h)

    out = np.empty(flat.size)
    for i in range(flat.size):
        h = steps[i]
        previous = [central(i, h)]
        best, best_err = previous[0], np.inf
        for k in range(1, size):
            h /= shrink
            row = [central(i, h)]
            fac = factor
            for j in range(1, k + 1):
                row.append((row[j - 1] * fac - previous[j - 1]) / (fac - 1.0))
                fac *= factor
                err = max(abs(row[j] - row[j - 1]), abs(row[j] - previous[j - 1]))
                if err <= best_err:
                    best, best_err = row[j], err
            if abs(row[k] - previous[k - 1]) >= 2.0 * best_err:
                break  # higher orders only add rounding
            previous = row
        out[i] = best
    return out.reshape(x.shape)


def fd_error(f, x, gradient, step) -> float:
    """Largest relative error (:func:`relative_error`) of ``gradient`` against
    :func:`fd_gradient` of ``f`` at ``x``."""
    return relative_error(gradient, fd_gradient(f, x, step))


# -- the data ------------------------------------------------------------------------------------


@functools.cache
def _problem(factor: float, paths: tuple = ()):
    """Survey, model inputs and kernel arguments: 3 channels x 3 years, 3 drivers, 2 influencers, survey
    weights, the last driver not measured in the second channel (by design of the truth) and
    the last influencer not asked in the first; ``factor`` scales every group's statistics as if
    it had that many times the responses; ``paths`` are the driver paths of the model."""
    truth = random_truth(n_channels=3, n_years=3, n_drivers=3, n_influencers=2, seed=3)
    spec = dataclasses.replace(spec_for(truth), scale=(-100.0, 100.0))
    frame = simulate_survey(truth, 300, seed=3, round_to_scale=False)
    influencer = str(truth["influencer"].values[-1])
    frame.loc[frame["channel"] == frame["channel"].iloc[0], influencer] = np.nan
    survey = validate_frame(frame, spec, min_group=30)
    data = aggregate(survey)
    data = scaled_aggregates(data, factor)
    inputs = prepare_inputs(data, Priors(), paths)
    assert spec.weight and data.attrs["weighted"] and survey.frame["weight"].std() > 0.1
    assert not inputs.driver_mask.all() and not inputs.influencer_mask.all()
    if paths:
        assert inputs.path_mask.sum(axis=0).tolist() == [2, 2, 3]  # masked where d3 is not measured
    return survey, inputs, kernel_arguments(inputs, Priors())


# -- 1. the likelihood kernels -------------------------------------------------------------------


def _kernel_errors(kernel, params, data, gradients, steps) -> list[float]:
    """:func:`fd_error` of each parameter's gradient, the other parameters held fixed."""
    errors = []
    for i, (x, gradient, step) in enumerate(zip(params, gradients, steps, strict=True)):

        def f(value, i=i):
            return float(kernel(*params[:i], value, *params[i + 1 :], *data)[0])

        errors.append(fd_error(f, x, gradient, step))
    return errors


def _sat_point(rng, inputs):
    """Random ``alpha``, ``beta``, ``delta`` and ``sigma`` (standardized units)."""
    C, T = inputs.std.n.shape
    K, J = len(inputs.drivers), len(inputs.influencers)
    coefs = [rng.normal(scale=0.5, size=shape) for shape in [(C, T), (C, T, K), (C, J)]]
    return [*coefs, np.exp(rng.normal(np.log(0.6), 0.3, size=C))]


def _driver_point(rng, inputs):
    """Random ``gamma0``, ``gamma``, ``paths`` and ``sigma`` (standardized units)."""
    C, K, J = len(inputs.channels), len(inputs.drivers), len(inputs.influencers)
    P = len(inputs.paths)
    coefs = [rng.normal(scale=0.5, size=shape) for shape in [(C, K), (C, K, J), (C, P)]]
    return [*coefs, np.exp(rng.normal(np.log(0.8), 0.3, size=(C, K)))]


def _sat_sigma_gradient(alpha, beta, delta, sigma, R, b, rss0, n, *, rss_term=True):
    """The satisfaction log-likelihood's gradient in ``sigma`` (NumPy); ``rss_term=False``
    leaves out ``rss / sigma**3``."""
    C, T, _ = beta.shape
    coef = np.concatenate(
        [alpha[..., None], beta, np.broadcast_to(delta[:, None], (C, T, delta.shape[1]))], axis=-1
    )
    rss = rss0 + ((np.einsum("ctiq,ctq->cti", R, coef) - b) ** 2).sum(axis=-1)
    g = -n.sum(axis=1) / sigma
    return g + rss.sum(axis=1) / sigma**3 if rss_term else g


def _driver_coef_gradient(
    gamma0, gamma, paths, sigma, R, b, rss0, n, path_at, *, gamma0_term=True, paths_term=True
):
    """The driver log-likelihood's gradients in ``gamma0``, ``gamma`` and ``paths`` (NumPy);
    ``gamma0_term=False`` leaves the intercept out of the residual, ``paths_term=False`` the
    paths."""
    C, K, Q = b.shape
    J = gamma.shape[2]
    coef = np.zeros((C, K, Q))
    coef[..., 0] = gamma0 * float(gamma0_term)
    coef[..., 1 : 1 + J] = gamma
    at = path_at.astype(int)
    coef[:, at[:, 0], at[:, 1]] = paths * float(paths_term)
    resid = np.einsum("ckiq,ckq->cki", R, coef) - b
    g = -np.einsum("ckiq,cki->ckq", R, resid) / sigma[..., None] ** 2
    g = np.where((n > 0)[..., None], g, 0.0)  # equations of unmeasured drivers are skipped
    return g[..., 0], g[..., 1 : 1 + J], g[:, at[:, 0], at[:, 1]]


@pytest.mark.parametrize("factor", FACTORS)
def test_satisfaction_kernel_gradient(factor):
    """Every gradient output of ``sat_kernel`` is the derivative of its log-likelihood; without
    its rss term the sigma gradient is told apart."""
    _, inputs, arguments = _problem(factor)
    data = arguments.likelihood[:4]
    assert (np.abs(data[0]).sum(axis=-2) == 0).any(), "no zero column for an unmeasured term"
    rng = np.random.default_rng(11)
    for _ in range(3):
        params = _sat_point(rng, inputs)
        _, *gradients = sat_kernel(*params, *data)
        steps = [0.1, 0.1, 0.1, 0.1 * params[3]]
        assert max(_kernel_errors(sat_kernel, params, data, gradients, steps)) <= TOL
        numpy, mutant = (
            _kernel_errors(sat_kernel, params, data, [*gradients[:3], g_sigma], steps)[3]
            for g_sigma in (
                _sat_sigma_gradient(*params, *data),
                _sat_sigma_gradient(*params, *data, rss_term=False),
            )
        )
        assert numpy <= TOL and mutant > MUTANT


@WITH_PATHS
@pytest.mark.parametrize("factor", FACTORS)
def test_driver_kernel_gradient(factor, paths):
    """Every gradient output of ``driver_kernel`` is the derivative of its log-likelihood, also
    where a driver is not measured (``n == 0``: no likelihood, zero gradient); without the
    intercept's share of the residual (or, with paths, the paths') the coefficient gradients
    are told apart."""
    _, inputs, arguments = _problem(factor, paths)
    data = arguments.likelihood[4:]
    n, path_at = data[3], data[4]
    assert (n == 0).any() and (n > 0).any()
    assert (np.abs(data[0]).sum(axis=-2) == 0).any(), "no zero column for an unmeasured term"
    assert data[0].shape[-1] == 1 + len(inputs.influencers) + (2 if paths else 0)  # d1, d3
    rng = np.random.default_rng(12)
    for _ in range(3):
        params = _driver_point(rng, inputs)
        _, *gradients = driver_kernel(*params, *data)
        steps = [0.1, 0.1, 0.1, 0.1 * params[3]]
        assert max(_kernel_errors(driver_kernel, params, data, gradients, steps)) <= TOL
        assert np.all(gradients[3][n == 0] == 0.0)
        unmeasured = n[:, path_at[:, 0].astype(int)] == 0
        assert np.all(gradients[2][unmeasured] == 0.0)
        mutants = [{"gamma0_term": False}] + ([{"paths_term": False}] if paths else [])
        for options in [{}, *mutants]:
            g_coef = _driver_coef_gradient(*params, *data, **options)
            errors = _kernel_errors(driver_kernel, params, data, [*g_coef, gradients[3]], steps)
            if options:
                assert max(errors[:3]) > MUTANT, options
            else:
                assert max(errors[:3]) <= TOL


# -- 2. the whole density ------------------------------------------------------------------------


def _density(arguments, layout):
    """The compiled density as a function of the four free vectors concatenated, and the
    largest finite-difference step along each coordinate."""
    cuts = np.cumsum([layout[v].size for v in FREE_VARS])[:-1]

    def f(x):
        return float(density_kernel(*np.split(x, cuts), *arguments.flat())[0])

    # the density bends faster along the log spreads than along the rest (it is quadratic in the
    # raw vectors, where any step is exact): from a step of 0.3 on, the extrapolation along a
    # spread is misled at some points
    steps = [np.full(layout[v].size, 0.1 if v == "log_scales" else 1.0) for v in FREE_VARS]
    return f, np.concatenate(steps)


def _intercepts_likelihood_share(point, arguments, layout):
    """What the satisfaction likelihood adds to the gradient of the intercepts' raw variables:
    ``d loglik / d alpha * d alpha / d raw``."""
    log_scales, mean_raw, coef_raw, log_noise = point
    prior, likelihood = arguments.prior, arguments.likelihood
    alpha, beta, _, delta, *_ = coefficients_kernel(np.exp(log_scales), mean_raw, coef_raw, *prior)
    sigma = np.exp(log_noise[: alpha.shape[0]])
    g_alpha = sat_kernel(alpha, beta, delta, sigma, *likelihood[:4])[1]
    sd = prior.prior_sd[3]
    share = g_alpha * sd / np.sqrt(1.0 + prior.a_info * sd**2)
    out = np.zeros(layout["coef_raw"].size)
    block = layout["coef_raw"].block("alpha")
    out[block.start : block.stop] = share.ravel()
    return out


def _paths_likelihood_share(point, arguments, layout):
    """What the driver likelihood adds to the gradient of the paths' raw variables:
    ``d loglik / d path * d path / d raw`` (zero where a path is masked)."""
    log_scales, mean_raw, coef_raw, log_noise = point
    prior, likelihood = arguments.prior, arguments.likelihood
    scales = np.exp(log_scales)
    _, _, gamma, _, gamma0, paths = coefficients_kernel(scales, mean_raw, coef_raw, *prior)
    C, K = gamma0.shape
    sigma = np.exp(log_noise[C:]).reshape(C, K)
    g_paths = driver_kernel(gamma0, gamma, paths, sigma, *likelihood[4:])[3]
    spread = layout["log_scales"].unpack(scales)["path_spread"]
    share = g_paths * prior.pmask * spread / np.sqrt(1.0 + prior.p_info * spread**2)
    out = np.zeros(layout["coef_raw"].size)
    block = layout["coef_raw"].block("paths")
    out[block.start : block.stop] = share.ravel()
    return out


@WITH_PATHS
@pytest.mark.parametrize("factor", FACTORS)
def test_density_gradient(factor, paths):
    """The compiled density's whole gradient is the derivative of its value; each of three
    gradients with one term removed (four with paths) is told apart."""
    _, inputs, arguments = _problem(factor, paths)
    layout = ParameterLayout.of(inputs)
    f, steps = _density(arguments, layout)
    rate, noise_sd = arguments.hyper.scale_rate, arguments.hyper.noise_sd[0]
    rng = np.random.default_rng(13)
    for _ in range(3):
        point = [rng.normal(scale=0.8, size=layout[v].size) for v in FREE_VARS]
        x = np.concatenate(point)
        _, *gradients = density_kernel(*point, *arguments.flat())
        g = dict(zip(FREE_VARS, gradients, strict=True))
        assert fd_error(f, x, np.concatenate(gradients), steps) <= TOL
        mutants = {
            "log_scales": g["log_scales"] - (2.0 - rate * np.exp(point[0])),
            "log_noise": g["log_noise"] + np.exp(point[3]) ** 2 / noise_sd**2,
            "coef_raw": g["coef_raw"] - _intercepts_likelihood_share(point, arguments, layout),
        }
        broken_paths = g["coef_raw"] - _paths_likelihood_share(point, arguments, layout)
        assert bool(paths) == bool(np.any(broken_paths != g["coef_raw"]))
        for name, mutant in [*mutants.items(), ("coef_raw", broken_paths)][: 3 + bool(paths)]:
            broken = np.concatenate([mutant if v == name else g[v] for v in FREE_VARS])
            assert fd_error(f, x, broken, steps) > MUTANT, name


# -- 3. the model on statistics against the model on rows ----------------------------------------


def _gradient_function(model):
    logp = model.logp()
    outputs = [logp, *pytensor.grad(logp, model.value_vars)]
    return pytensor.function(model.value_vars, outputs, mode="FAST_COMPILE")


def test_statistics_gradient_equals_rows_gradient():
    """The reference model's autodiff gradient and the compiled density's equal the autodiff
    gradient of the same model written row by row (survey weights, unmeasured terms, paths from
    and to a driver not measured in a channel, drivers without paths), and the log densities
    differ by a constant; without the likelihood's share of the intercepts' or the paths' raw
    gradient the statistics gradient is told apart. (Without paths the statistics model is held
    to its value before paths existed: tests/test_density.py.)"""
    survey, inputs, arguments = _problem(1.0, PATHS)
    rows = row_data(survey.frame, inputs)
    assert len(rows.weight) == int(inputs.std.n.sum()) and rows.weight.std() > 0.1
    f_rows = _gradient_function(build_row_model(inputs, rows))
    f_stats = [
        _gradient_function(build_reference_model(inputs)),
        _gradient_function(build_model(inputs)),
    ]
    layout = ParameterLayout.of(inputs)
    coef_raw = FREE_VARS.index("coef_raw")
    rng = np.random.default_rng(14)
    gaps = []
    for _ in range(3):
        point = [rng.normal(scale=0.8, size=layout[v].size) for v in FREE_VARS]
        logp_rows, *g_rows = f_rows(*point)
        for f in f_stats:
            logp, *g = f(*point)
            assert relative_error(np.concatenate(g), np.concatenate(g_rows)) <= 1e-8
            gaps.append(float(logp_rows - logp))
        for share in (_intercepts_likelihood_share, _paths_likelihood_share):
            broken = [*g]
            broken[coef_raw] = g[coef_raw] - share(point, arguments, layout)
            assert relative_error(np.concatenate(broken), np.concatenate(g_rows)) > MUTANT
    assert np.ptp(gaps) <= 1e-8 * abs(float(logp_rows))
