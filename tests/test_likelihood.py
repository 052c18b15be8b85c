"""The likelihood on sufficient statistics equals the row-by-row likelihood it replaces."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from whatif.data.aggregate import aggregate
from whatif.data.survey import validate_frame
from whatif.model import build_reference_model, build_row_model, prepare_inputs, row_data
from whatif.model.likelihood import (
    factorize,
    loglik_from_factors,
    loglik_from_rows,
    loglik_from_stats,
)
from whatif.model.priors import Priors
from whatif.synthetic import random_truth, simulate_survey, spec_for

RTOL = 1e-8


def _rows(rng, n, p, missing=()):
    x = np.column_stack([np.ones(n), rng.normal(size=(n, p - 1))])
    x[:, list(missing)] = 0.0  # a term not measured in this group: all zeros
    y = x @ rng.normal(size=p) + rng.normal(size=n)
    w = rng.lognormal(0.0, 0.3, n)
    return x, y, w * n / w.sum()


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("missing", [(), (2,), (1, 4)])
def test_stats_and_factors_equal_rows(weighted, missing):
    rng = np.random.default_rng(7)
    x, y, w = _rows(rng, 400, 6, missing)
    w = w if weighted else np.ones_like(y)
    xx, xy, yy, n = (x * w[:, None]).T @ x, (x * w[:, None]).T @ y, (w * y) @ y, w.sum()
    R, b, rss0 = factorize(xx, xy, yy)
    for _ in range(5):
        coef, sigma = rng.normal(size=6), rng.uniform(0.3, 2.0)
        ref = loglik_from_rows(y, x, coef, sigma, w)
        assert loglik_from_stats(n, yy, xy, xx, coef, sigma) == pytest.approx(ref, rel=RTOL)
        assert loglik_from_factors(n, rss0, R, b, coef, sigma) == pytest.approx(ref, rel=RTOL)


def test_factors_batched_and_at_a_million_rows():
    """Batched factors agree group by group, also with sums of a million-row scale."""
    rng = np.random.default_rng(3)
    groups = [_rows(rng, 300, 5, m) for m in [(), (3,), (2, 4)]]
    scale = 3000.0  # as if each group had 900k rows with the same moments
    xx = np.stack([(x * w[:, None]).T @ x for x, _, w in groups]) * scale
    xy = np.stack([(x * w[:, None]).T @ y for x, y, w in groups]) * scale
    yy = np.array([(w * y) @ y for _, y, w in groups]) * scale
    n = np.array([w.sum() for *_, w in groups]) * scale
    R, b, rss0 = factorize(xx, xy, yy)
    coef = rng.normal(size=(3, 5)) * 0.1
    sigma = np.array([0.8, 1.1, 0.9])
    ref = loglik_from_stats(n, yy, xy, xx, coef, sigma)
    assert np.allclose(loglik_from_factors(n, rss0, R, b, coef, sigma), ref, rtol=RTOL, atol=0)


@pytest.fixture(scope="module")
def survey_problem():
    """Three channels x two years, a driver missing by design, survey weights, real rows, and
    driver paths d1 -> d2 and d1 -> d3 -> d2 (the last two masked where d3 is not measured)."""
    truth = random_truth(n_channels=3, n_years=2, n_drivers=3, n_influencers=3, seed=11)
    frame = simulate_survey(truth, 250, seed=11)
    # the linear likelihood, written row by row below (the rating scale's: tests/test_ordinal.py)
    spec = dataclasses.replace(spec_for(truth), likelihood="linear")
    survey = validate_frame(frame, spec, min_group=30)
    data = aggregate(survey)
    assert not data["driver_measured"].values.all()  # missing-by-design is exercised
    inputs = prepare_inputs(data, Priors(), [("d2", "d1"), ("d3", "d1"), ("d2", "d3")])
    assert not inputs.path_mask.all()
    return survey, inputs


def _random_points(model, rng, count):
    start = model.initial_point()
    for _ in range(count):
        yield {k: v + rng.normal(scale=0.5, size=np.shape(v)) for k, v in start.items()}


def _row_reference(rows, inputs, out):
    """Row-level log-likelihoods in standardized units from the model's data-unit outputs."""
    std = inputs.std
    K, J = len(inputs.drivers), len(inputs.influencers)
    w, m = rows.weight, rows.design
    sd, mean = std.sd, std.mean
    c, t = rows.channel, rows.year
    alpha = (
        out["intercept"]
        - std.mean[-1]
        + (out["weights"] * (inputs.driver_mask * mean[1 : 1 + K])[:, None, :]).sum(-1)
        + (out["direct"] * inputs.influencer_mask * mean[1 + K : -1]).sum(-1)[:, None]
    ) / sd[-1]
    beta = out["weights"] * sd[1 : 1 + K] / sd[-1]
    delta = out["direct"] * sd[1 + K : -1] / sd[-1]
    sigma = out["sigma"] / sd[-1]
    sat = 0.0
    for i in range(len(w)):
        coef = np.concatenate([[alpha[c[i], t[i]]], beta[c[i], t[i]], delta[c[i]]])
        sat += loglik_from_rows(
            m[i : i + 1, -1], m[i : i + 1, :-1], coef, sigma[c[i]], w[i : i + 1]
        )
    gamma = out["effects"] * sd[1 + K : -1][None, :] / sd[1 : 1 + K][:, None]
    # paths in data units -> the standardized (driver, source) matrix, and their intercept share
    paths = np.zeros((len(inputs.channels), K, K))
    shift = np.zeros((len(inputs.channels), K))
    for e, (k, source) in enumerate(inputs.edges):
        paths[:, k, source] = out["paths"][:, e] * sd[1 + source] / sd[1 + k]
        shift[:, k] += out["paths"][:, e] * mean[1 + source]
    gamma0 = (
        out["driver_intercept"]
        - mean[1 : 1 + K]
        + (out["effects"] * mean[1 + K : -1]).sum(-1)
        + shift
    ) / sd[1 : 1 + K]
    dsig = out["driver_sigma"] / sd[1 : 1 + K]
    drv = 0.0
    for k in range(K):
        x = m[:, 1 + k]
        mu = gamma0[c, k] + (gamma[c, k] * m[:, 1 + K : 1 + K + J]).sum(-1)
        mu = mu + (paths[c, k] * m[:, 1 : 1 + K]).sum(-1)
        ll = w * (
            -0.5 * np.log(2 * np.pi) - np.log(dsig[c, k]) - 0.5 * ((x - mu) / dsig[c, k]) ** 2
        )
        drv += (ll * inputs.driver_mask[c, k]).sum()
    return sat, drv


def test_model_potentials_equal_rows(survey_problem):
    """The model's likelihood Potentials equal a row-by-row computation from its data-unit
    outputs (on the reference form; tests/test_density.py ties the fitted form to it)."""
    survey, inputs = survey_problem
    rows = row_data(survey.frame, inputs)
    assert len(rows.weight) == int(inputs.std.n.sum())
    model = build_reference_model(inputs)
    names = [
        "satisfaction_loglik",
        "driver_loglik",
        "weights",
        "direct",
        "effects",
        "intercept",
        "driver_intercept",
        "sigma",
        "driver_sigma",
        "paths",
    ]
    outs = model.replace_rvs_by_values([model[v] for v in names])
    fn = model.compile_fn(outs, inputs=model.value_vars, mode="FAST_COMPILE")
    rng = np.random.default_rng(5)
    for point in _random_points(model, rng, 3):
        out = dict(zip(names, fn(point), strict=True))
        sat, drv = _row_reference(rows, inputs, out)
        assert float(out["satisfaction_loglik"]) == pytest.approx(sat, rel=RTOL)
        assert float(out["driver_loglik"]) == pytest.approx(drv, rel=RTOL)


def test_row_model_equals_model(survey_problem):
    """build_row_model has the same log density as the model on statistics at random points."""
    survey, inputs = survey_problem
    rows = row_data(survey.frame, inputs)
    stats_model, row_model = build_reference_model(inputs), build_row_model(inputs, rows)
    f_stats = stats_model.compile_logp(mode="FAST_COMPILE")
    f_rows = row_model.compile_logp(mode="FAST_COMPILE")
    rng = np.random.default_rng(9)
    for point in _random_points(stats_model, rng, 3):
        assert float(f_rows(point)) == pytest.approx(float(f_stats(point)), rel=RTOL)
