"""Johnson's relative weights: against a from-first-principles computation, their known
properties, and per draw on the tiny fit."""

from __future__ import annotations

import json

import numpy as np
import pytest

from whatif.analysis.relative_weights import (
    johnson_weights,
    relative_importance,
    relative_importance_rows,
    relative_weight_shares,
    symmetric_sqrt,
)


def _simulated(seed: int = 0, n: int = 2_000):
    """Three correlated drivers on different scales and a satisfaction built from them."""
    rng = np.random.default_rng(seed)
    latent = rng.multivariate_normal(
        np.zeros(3), [[1.0, 0.6, 0.3], [0.6, 1.0, 0.5], [0.3, 0.5, 1.0]], size=n
    )
    x = latent * np.array([1.5, 0.7, 2.5]) + np.array([6.0, 7.0, 5.0])
    y = x @ np.array([0.4, 0.9, 0.1]) + rng.normal(0, 1.0, n)
    return x, y


def _johnson_by_svd(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """Johnson (2000) as published: the orthogonal counterpart Z of the standardized design by
    SVD, satisfaction regressed on Z, the drivers regressed on Z. Returns raw weights and R^2."""
    n = len(y)
    xs = (x - x.mean(0)) / (x.std(0) * np.sqrt(n))  # xs' xs = correlation matrix
    ys = (y - y.mean()) / (y.std() * np.sqrt(n))
    p, delta, qt = np.linalg.svd(xs, full_matrices=False)
    z = p @ qt  # the orthonormal matrix closest to xs (least squares)
    beta = np.linalg.lstsq(z, ys, rcond=None)[0]
    lam = np.linalg.lstsq(z, xs, rcond=None)[0]  # xs = z @ lam
    raw = (lam**2).T @ beta**2
    fitted = xs @ np.linalg.lstsq(xs, ys, rcond=None)[0]
    return raw, float(fitted @ fitted)


def test_matches_johnsons_method_computed_from_the_design():
    x, y = _simulated()
    expected_raw, r2 = _johnson_by_svd(x, y)
    design = np.column_stack([np.ones(len(y)), x])
    weights = np.linalg.lstsq(design, y, rcond=None)[0][1:]
    cov = np.cov(x, rowvar=False, bias=True)

    shares = relative_weight_shares(cov, weights)
    np.testing.assert_allclose(shares, expected_raw / expected_raw.sum(), rtol=1e-10)

    sd = np.sqrt(np.diag(cov))
    raw = johnson_weights(cov / np.outer(sd, sd), weights * sd / y.std())
    np.testing.assert_allclose(raw, expected_raw, rtol=1e-10)
    assert raw.sum() == pytest.approx(r2, rel=1e-10)  # the raw weights add up to R^2


def test_symmetric_square_root():
    corr = np.array([[1.0, 0.6, 0.3], [0.6, 1.0, 0.5], [0.3, 0.5, 1.0]])
    root = symmetric_sqrt(corr)
    np.testing.assert_allclose(root, root.T, atol=1e-14)
    np.testing.assert_allclose(root @ root, corr, atol=1e-12)


def test_uncorrelated_drivers_get_their_squared_standardized_weights():
    sd = np.array([2.0, 0.5, 1.0, 3.0])
    weights = np.array([0.3, -1.2, 0.5, 0.1])
    shares = relative_weight_shares(np.diag(sd**2), weights)
    beta2 = (weights * sd) ** 2
    np.testing.assert_allclose(shares, beta2 / beta2.sum(), rtol=1e-12)


def test_rescaling_a_driver_changes_nothing():
    x, y = _simulated(seed=1)
    weights = np.array([0.4, 0.9, 0.1])
    cov = np.cov(x, rowvar=False)
    scale = np.array([1.0, 10.0, 0.1])  # e.g. a driver given in tenths, another in tens
    rescaled = relative_weight_shares(cov * np.outer(scale, scale), weights / scale)
    np.testing.assert_allclose(rescaled, relative_weight_shares(cov, weights), rtol=1e-10)


def test_a_collinear_pair_splits_its_share():
    # d1 and d2 the same measurement, d3 independent of both
    cov = np.array([[1.0, 1.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    for weights in ([1.0, 0.0, 1.0], [0.2, 0.8, 1.0], [0.0, 1.0, 1.0]):
        shares = relative_weight_shares(cov, np.array(weights))
        np.testing.assert_allclose(shares, [0.25, 0.25, 0.5], atol=1e-12)
    # nearly collinear: still about even, where the weights themselves are anything but
    near = np.array([[1.0, 0.98, 0.0], [0.98, 1.0, 0.0], [0.0, 0.0, 1.0]])
    shares = relative_weight_shares(near, np.array([1.0, 0.0, 1.0]))
    assert shares[0] > shares[1] > 0.8 * shares[0]
    assert shares.sum() == pytest.approx(1.0)


def test_unmeasured_drivers_are_left_out_and_one_driver_takes_everything():
    cov = np.array([[2.0, 0.5, 0.0], [0.5, 1.0, 0.0], [0.0, 0.0, 0.0]])
    weights = np.array([0.3, 0.6, 5.0])
    shares = relative_weight_shares(cov, weights, measured=np.array([True, True, False]))
    assert np.isnan(shares[2])
    np.testing.assert_allclose(shares[:2], relative_weight_shares(cov[:2, :2], weights[:2]))
    one = relative_weight_shares(cov, weights, measured=np.array([False, True, False]))
    np.testing.assert_allclose(one, [np.nan, 1.0, np.nan])


def test_vectorized_over_draws_and_groups_like_one_at_a_time():
    rng = np.random.default_rng(2)
    covs = np.stack(
        [np.cov(rng.normal(size=(50, 3)) @ rng.normal(size=(3, 3)), rowvar=False) for _ in range(4)]
    )
    weights = rng.normal(size=(7, 4, 3))  # (draw, group, driver)
    together = relative_weight_shares(covs, weights)
    assert together.shape == (7, 4, 3)
    for s in range(7):
        for g in range(4):
            np.testing.assert_allclose(
                together[s, g], relative_weight_shares(covs[g], weights[s, g]), rtol=1e-12
            )


def test_shares_on_the_tiny_fit(tiny_model):
    shares = relative_importance(tiny_model)
    assert shares.dims == ("sample", "channel", "year", "driver")
    measured = tiny_model.aggregates["driver_measured"]
    values = shares.transpose("sample", "channel", "year", "driver")
    for channel in shares["channel"].to_numpy():
        keep = measured.sel(channel=channel).to_numpy()
        part = values.sel(channel=channel).to_numpy()
        assert np.isnan(part[..., ~keep]).all()
        assert (part[..., keep] >= 0).all()
        np.testing.assert_allclose(part[..., keep].sum(-1), 1.0, rtol=1e-10)

    rows = relative_importance_rows(shares, ci=0.8)
    assert len(rows) == int(measured.sum()) * len(shares["year"])
    json.dumps(rows)
    first = rows[0]
    assert set(first) == {"channel", "year", "driver", "mean", "lo", "hi"}
    draws = shares.sel(channel=first["channel"], year=first["year"], driver=first["driver"])
    assert first["mean"] == pytest.approx(float(draws.mean()))
    assert first["lo"] == pytest.approx(float(draws.quantile(0.1)))
    assert first["hi"] == pytest.approx(float(draws.quantile(0.9)))
    assert 0 <= first["lo"] <= first["mean"] <= first["hi"] <= 1
