"""The rating-scale likelihood: its derivatives, its summary as cross-products, which
regressions get it, and forecasts of mean, top-box and NPS on top-heavy answers that cover the
realized change on the same respondents."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from whatif.analysis.engine import ScenarioEngine
from whatif.analysis.scenario import Lever, Scenario
from whatif.data.aggregate import aggregate
from whatif.data.ordinal import (
    answer_probabilities,
    censored_loglik,
    fit_censored,
    is_whole_scale,
    pseudo_statistics,
)
from whatif.data.rating_stats import likelihoods
from whatif.data.survey import validate_frame
from whatif.errors import DataError
from whatif.synthetic.top_heavy import (
    flip_share,
    realized_change,
    top_heavy_survey,
    top_heavy_truth,
)


def _regression(n=20000, seed=1, scale=(1, 10)):
    rng = np.random.default_rng(seed)
    X = np.column_stack([np.ones(n), rng.integers(1, 11, n), rng.poisson(2, n)]).astype(float)
    theta, sigma = np.array([4.0, 0.6, -0.3]), 1.5
    y = np.clip(np.rint(X @ theta + sigma * rng.standard_normal(n)), *scale)
    w = np.exp(0.3 * rng.standard_normal(n))
    return X, y, w / w.mean(), theta, sigma


def test_gradient_and_hessian_match_finite_differences():
    X, y, w, _, _ = _regression(n=3000)
    point = np.array([3.9, 0.62, -0.28, np.log(1.4)])
    _, grad, hess = censored_loglik(point[:-1], point[-1], X, y, w, (1, 10))
    step = 1e-5

    def value(p):
        return censored_loglik(p[:-1], p[-1], X, y, w, (1, 10), derivatives=False)

    def gradient(p):
        return censored_loglik(p[:-1], p[-1], X, y, w, (1, 10))[1]

    basis = np.eye(len(point))
    fd_grad = np.array(
        [(value(point + step * e) - value(point - step * e)) / (2 * step) for e in basis]
    )
    fd_hess = np.array(
        [(gradient(point + step * e) - gradient(point - step * e)) / (2 * step) for e in basis]
    )
    assert np.max(np.abs(fd_grad - grad)) <= 1e-6 * np.max(np.abs(grad))
    assert np.max(np.abs(fd_hess - hess)) <= 1e-6 * np.max(np.abs(hess))
    # a mutant without the censoring of the top answers is told apart
    capped = np.where(y >= 10, 9.0, y)
    assert not np.allclose(censored_loglik(point[:-1], point[-1], X, capped, w, (1, 10))[1], grad)


def test_fit_recovers_the_latent_coefficients_where_least_squares_does_not():
    X, y, w, theta, sigma = _regression()
    fit = fit_censored(X, y, w, (1, 10))
    se = np.sqrt(np.diag(np.linalg.inv(fit.information)))
    assert fit.converged
    assert np.all(np.abs(fit.theta - theta) <= 3.5 * se[:3])
    assert abs(fit.log_sigma - np.log(sigma)) <= 3.5 * se[3]
    ols = np.linalg.lstsq(X * np.sqrt(w)[:, None], y * np.sqrt(w), rcond=None)[0]
    assert abs(ols[1] - theta[1]) > 5 * se[1]  # the ceiling attenuates least squares


def test_pseudo_statistics_reproduce_the_row_likelihood_near_its_mode():
    """The Gaussian of the pseudo cross-products has the row likelihood's mode and curvature:
    differences of log-likelihood between nearby points agree to a few percent."""
    X, y, w, _, _ = _regression(n=40000, seed=2)
    fit = fit_censored(X, y, w, (1, 10))
    xx, xy, yy, n = pseudo_statistics(fit)
    cov = np.linalg.inv(fit.information)

    def gaussian(theta, log_sigma):
        s2 = np.exp(2 * log_sigma)
        return -n * log_sigma - 0.5 * (yy - 2 * theta @ xy + theta @ xx @ theta) / s2

    mode = np.append(fit.theta, fit.log_sigma)
    rng = np.random.default_rng(3)
    exact_base = censored_loglik(fit.theta, fit.log_sigma, X, y, w, (1, 10), derivatives=False)
    approx_base = gaussian(fit.theta, fit.log_sigma)
    for _ in range(5):
        # one posterior sd away in a random direction of the coefficients (sigma at its mode)
        step = rng.multivariate_normal(np.zeros(4), cov)
        step[-1] = 0.0
        p = mode + step
        exact = censored_loglik(p[:-1], p[-1], X, y, w, (1, 10), derivatives=False) - exact_base
        approx = gaussian(p[:-1], p[-1]) - approx_base
        assert approx == pytest.approx(exact, rel=0.05, abs=0.05)


def test_answer_probabilities_sum_to_one_with_open_ends():
    probs = answer_probabilities(np.array([0.0, 9.8, 20.0]), 1.5, (0, 10))
    assert probs.shape == (3, 11)
    assert np.allclose(probs.sum(-1), 1.0)
    assert probs[2, -1] == pytest.approx(1.0) and probs[0, 0] > 0.4


def test_the_likelihood_follows_the_data_and_the_spec():
    truth = top_heavy_truth(1)
    frame = top_heavy_survey(truth, 200, 1)
    spec = truth.spec()
    survey = validate_frame(frame, spec)
    assert likelihoods(survey.frame, spec) == (
        "ordinal",
        {"d1": "ordinal", "d2": "ordinal", "d3": "ordinal"},
    )
    linear = dataclasses.replace(spec, likelihood="linear")
    assert likelihoods(survey.frame, linear)[0] == "linear"
    # a continuous outcome keeps the linear likelihood; asked for the rating scale, it is refused
    frame = frame.assign(sat=frame["sat"] - 0.25)
    survey = validate_frame(frame, spec)
    assert likelihoods(survey.frame, spec)[0] == "linear"
    with pytest.raises(DataError, match=r"likelihood.*'sat'.*not whole numbers"):
        likelihoods(survey.frame, dataclasses.replace(spec, likelihood="ordinal"))
    assert is_whole_scale(np.array([1, 5, np.nan]), (1, 5))
    assert not is_whole_scale(np.array([1, 5.5]), (1, 5))


@pytest.fixture(scope="module")
def top_heavy_fit():
    from whatif.fitting.fit import fit_model

    truth = top_heavy_truth(1)
    frame = top_heavy_survey(truth, 3000, 1)
    spec = truth.spec()
    data = aggregate(validate_frame(frame, spec))
    assert data.attrs["outcome_likelihood"] == "ordinal"
    assert data["rating_fitted"].values.all() and data["driver_fitted"].values.all()
    model = fit_model(
        data, spec, draws=500, tune=500, chains=2, seed=1, fingerprint="t", source="t"
    )
    return truth, model


def _levers(truth):
    year = truth.years[-1]

    def cap(limit):
        def act(c, z, flip):
            z = z.copy()
            z[:, 0] = np.minimum(z[:, 0], limit)
            return z

        return act, Scenario(f"cap {limit}", (Lever("i1", "influencer", "cap", limit),), year=year)

    def share(change):
        def act(c, z, flip):
            return flip_share(z, flip, 1, change)

        return act, Scenario(
            f"share {change}", (Lever("i2", "influencer", "shift", change),), year=year
        )

    return [cap(1), cap(0), share(0.2), share(0.4)]


def test_lift_intervals_cover_the_realized_change_on_the_same_respondents(top_heavy_fit):
    """Top-heavy answers (half in the top two points), levers small and large (one pushes many
    answers against the ceiling): the 95% intervals of the lift in mean, top-box and NPS cover
    the change realized on the same respondents (common random numbers) at close to 95%."""
    truth, model = top_heavy_fit
    engine = ScenarioEngine(model)
    covered, total = 0, 0
    for act, scenario in _levers(truth):
        lift = engine.lift_arrays(scenario)
        real = realized_change(truth, 3000, 1, act, truth.years[-1])
        for metric, key in (("mean", "total"), ("top_box", "top_box"), ("nps", "nps")):
            lo, hi = np.quantile(lift[key], [0.025, 0.975], axis=0)
            covered += int(((lo <= real[metric]) & (real[metric] <= hi)).sum())
            total += len(real[metric])
            # never far off: within a quarter of the change or 2 points of a share
            assert np.all(
                np.abs(lift[key].mean(0) - real[metric])
                <= np.maximum(0.25 * np.abs(real[metric]), 0.02)
            )
    assert total == 24 and covered >= 20


def test_a_lever_that_changes_nothing_gives_exactly_zero(top_heavy_fit):
    truth, model = top_heavy_fit
    engine = ScenarioEngine(model)
    nothing = Scenario("nothing", (Lever("i1", "influencer", "cap", 1000),), year=truth.years[-1])
    lift = engine.lift_arrays(nothing)
    for key in ("total", "top_box", "nps", "company", "company_top_box", "company_nps"):
        assert np.all(lift[key] == 0.0), key


def test_leaving_out_the_respondents_a_lever_does_not_move_changes_no_number(
    top_heavy_fit, monkeypatch
):
    """Only respondents whose KPIs a lever changes are looked up (a cap leaves those below it
    alone): the forecast is the one computed over every respondent."""
    from whatif.analysis.answer_engine import AnswerForecast

    truth, model = top_heavy_fit
    moved = []
    choose = AnswerForecast._moved_respondents

    def counted(fixed, flipped, dx):
        rows = choose(fixed, flipped, dx)
        moved.append((len(rows), len(fixed)))
        return rows

    for _, scenario in _levers(truth):
        monkeypatch.setattr(AnswerForecast, "_moved_respondents", staticmethod(counted))
        fewer = ScenarioEngine(model).lift_arrays(scenario)
        monkeypatch.setattr(AnswerForecast, "_moved_respondents", staticmethod(lambda *a: None))
        every = ScenarioEngine(model).lift_arrays(scenario)
        for key in ("total", "direct", "top_box", "nps", "company", "company_nps"):
            np.testing.assert_allclose(fewer[key], every[key], rtol=1e-9, atol=1e-12)
    assert any(n < m for n, m in moved) and all(n > 0 for n, _ in moved)


def test_baseline_metrics_match_the_observed_answers(top_heavy_fit):
    """The model's baseline NPS and top-box of an observed year are those of its answers."""
    truth, model = top_heavy_fit
    engine = ScenarioEngine(model)
    year = truth.years[-1]
    base = engine.baseline_metrics(year)
    shares = (
        model.aggregates["answer_share"].sel(year=year).transpose("channel", "answer").to_numpy()
    )
    answers = model.aggregates["answer"].to_numpy()
    observed_top = shares[:, answers >= 9].sum(1)
    observed_nps = 100 * (observed_top - shares[:, answers <= 6].sum(1))
    assert np.allclose(base["top_box"].mean(0), observed_top, atol=0.02)
    assert np.allclose(base["nps"].mean(0), observed_nps, atol=3.0)
    assert np.allclose(base["mean"].mean(0), shares @ answers, atol=0.08)


@pytest.mark.parametrize("scale", [(1.0, 5.0), (0.0, 10.0)])
def test_other_scales_aggregate_with_the_rating_scale(scale):
    truth = top_heavy_truth(2, scale=scale)
    frame = top_heavy_survey(truth, 300, 2)
    data = aggregate(validate_frame(frame, truth.spec()))
    assert data.attrs["outcome_likelihood"] == "ordinal"
    assert data["answer"].values.tolist() == list(np.arange(scale[0], scale[1] + 1))
    assert np.allclose(data["answer_share"].sum("answer"), 1.0)
    assert isinstance(frame, pd.DataFrame)


def test_distinct_rows_are_numpys_unique_rows():
    from whatif.data.patterns import distinct_rows

    rng = np.random.default_rng(4)
    matrix = np.column_stack(
        [rng.integers(1, 11, 5000), rng.poisson(2, 5000), rng.random(5000) < 0.3, np.ones(5000)]
    ).astype(float)
    matrix[::7, 1] = 2.5  # a value between the others
    # twenty rating columns: more combinations than one integer holds
    wide = np.column_stack([matrix, rng.integers(0, 11, (5000, 20))]).astype(float)
    wide[::5, 6] = np.nan
    for rows in (matrix, wide):
        got = distinct_rows(rows)
        want = np.unique(rows, axis=0, return_inverse=True)
        np.testing.assert_array_equal(got[0], want[0])
        np.testing.assert_array_equal(got[1], want[1].ravel())


def test_answer_patterns_are_pandas_sorted_groups():
    """The integer-key patterns equal pandas' groupby over every column (sorted, missing last,
    weights and counts summed), whether rows or patterns are merged."""
    from whatif.data.patterns import answer_patterns
    from whatif.data.survey import validate_frame
    from whatif.synthetic import demo_truth, simulate_survey, spec_for

    truth = demo_truth(3)
    survey = validate_frame(simulate_survey(truth, 200, seed=3), spec_for(truth))
    frame, spec = survey.frame, survey.spec
    columns = ["channel", "year", "outcome", *spec.driver_ids, *spec.influencer_ids]
    for rows in (frame, pd.concat([frame.assign(count=2), frame.assign(count=1)])):
        counted = rows if "count" in rows else rows.assign(count=1)
        want = (
            counted.groupby(columns, dropna=False, sort=True, observed=True)[["weight", "count"]]
            .sum()
            .reset_index()
        )
        got = answer_patterns(rows, spec)
        assert len(got) < len(rows) or "count" not in rows
        pd.testing.assert_frame_equal(got, want, check_dtype=False, check_categorical=False)
