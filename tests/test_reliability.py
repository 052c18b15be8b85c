"""Item reliability of multi-item drivers: alpha, omega and item-rest correlations against known
values, the warnings on items that do not hang together, and what ``whatif check`` prints."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from whatif.cli import app
from whatif.data.diagnose import reliability_warnings, survey_warnings
from whatif.data.reliability import (
    cronbach_alpha,
    item_moments,
    item_reliability,
    item_rest_correlations,
    mcdonald_omega,
    one_factor_loadings,
)
from whatif.data.spec import parse_spec
from whatif.data.survey import validate_frame

#: Five respondents, three items: small enough to check by hand.
HAND = np.array(
    [[4, 5, 4], [2, 3, 3], [5, 5, 4], [3, 2, 2], [4, 4, 5]],
    dtype=float,
)


def one_factor_cov(loadings, unique) -> np.ndarray:
    """The covariance of items under a one-factor model ``l l' + diag(psi)``."""
    loadings = np.asarray(loadings, float)
    return np.outer(loadings, loadings) + np.diag(unique)


def population_omega(loadings, unique) -> float:
    return float(np.sum(loadings) ** 2 / (np.sum(loadings) ** 2 + np.sum(unique)))


def test_alpha_by_its_formula_on_a_hand_made_matrix():
    k = HAND.shape[1]
    item_var = HAND.var(axis=0, ddof=1).sum()  # 1.3 + 1.7 + 1.3
    total_var = HAND.sum(axis=1).var(ddof=1)  # sums 13, 8, 14, 7, 13: squares 4+9+9+16+4, / 4
    assert item_var == pytest.approx(4.3)
    assert total_var == pytest.approx(10.5)
    expected = k / (k - 1) * (1 - item_var / total_var)  # 1.5 * (1 - 4.3 / 10.5) = 31 / 35
    assert cronbach_alpha(np.cov(HAND, rowvar=False)) == pytest.approx(expected)
    assert expected == pytest.approx(31 / 35)
    # the divisor of the covariance does not matter
    assert cronbach_alpha(np.cov(HAND, rowvar=False, bias=True)) == pytest.approx(expected)


def test_item_rest_correlations_are_those_of_each_item_with_the_sum_of_the_others():
    found = item_rest_correlations(np.cov(HAND, rowvar=False))
    for j in range(HAND.shape[1]):
        rest = HAND.sum(axis=1) - HAND[:, j]
        assert found[j] == pytest.approx(np.corrcoef(HAND[:, j], rest)[0, 1])


def test_parallel_items_alpha_equals_omega():
    loadings, unique = [0.8] * 4, [0.36] * 4
    cov = one_factor_cov(loadings, unique)
    assert cronbach_alpha(cov) == pytest.approx(mcdonald_omega(cov), abs=1e-10)
    assert mcdonald_omega(cov) == pytest.approx(population_omega(loadings, unique), abs=1e-10)


def test_tau_equivalent_items_alpha_equals_omega_in_raw_units():
    # equal loadings in raw units, unequal error variances: alpha is exact, and omega agrees
    loadings, unique = [1.2] * 4, [0.5, 1.0, 2.0, 0.8]
    cov = one_factor_cov(loadings, unique)
    assert cronbach_alpha(cov) == pytest.approx(population_omega(loadings, unique), abs=1e-10)
    assert mcdonald_omega(cov) == pytest.approx(population_omega(loadings, unique), abs=1e-8)


def test_congeneric_items_omega_recovers_the_loadings_and_alpha_is_lower():
    loadings, unique = np.array([1.6, 1.1, 0.6, 0.3]), np.array([0.4, 0.6, 0.9, 1.0])
    cov = one_factor_cov(loadings, unique)
    sd = np.sqrt(np.diag(cov))
    fitted = one_factor_loadings(cov / np.outer(sd, sd)) * sd
    np.testing.assert_allclose(fitted, loadings, atol=1e-6)
    omega = mcdonald_omega(cov)
    assert omega == pytest.approx(population_omega(loadings, unique), abs=1e-8)
    assert cronbach_alpha(cov) < omega - 0.01


def test_congeneric_simulated_omega_at_least_alpha():
    rng = np.random.default_rng(7)
    loadings, unique = np.array([1.5, 1.0, 0.5, 0.4, 0.3]), np.full(5, 0.8)
    factor = rng.normal(size=(5_000, 1))
    items = factor * loadings + rng.normal(size=(5_000, 5)) * np.sqrt(unique)
    cov = np.cov(items, rowvar=False)
    assert mcdonald_omega(cov) >= cronbach_alpha(cov)
    assert mcdonald_omega(cov) == pytest.approx(population_omega(loadings, unique), abs=0.01)


def test_two_items_omega_is_spearman_brown_and_vectorized_over_channels():
    covs = np.array([[[1.0, r], [r, 1.0]] for r in (0.2, 0.5, 0.8)])
    np.testing.assert_allclose(mcdonald_omega(covs), [2 * r / (1 + r) for r in (0.2, 0.5, 0.8)])
    np.testing.assert_allclose(cronbach_alpha(covs), mcdonald_omega(covs))


def test_an_item_without_variance_gives_nan_not_an_error():
    cov = np.array([[1.0, 0.5, 0.0], [0.5, 1.0, 0.0], [0.0, 0.0, 0.0]])
    assert np.isnan(mcdonald_omega(cov))
    assert np.isnan(item_rest_correlations(cov)[2])


ITEM_SPEC = {
    "survey": {"outcome": "sat", "channel": "channel", "year": "year"},
    "drivers": {
        "speed": {"column": "q_speed"},
        "trust": {"items": ["t1", "t2", "t3", "t4"]},
        "care": {"items": ["c1", "c2"]},
    },
}


def item_frame(n: int = 600, seed: int = 0, random_item: str | None = None) -> pd.DataFrame:
    """Two channels: trust's four items and care's two track their own factor, unless one item is
    replaced by noise in the phone channel."""
    rng = np.random.default_rng(seed)
    channel = np.repeat(["web", "phone"], n // 2)
    trust, care = rng.normal(size=n), rng.normal(size=n)
    frame = {
        "channel": channel,
        "year": np.tile([2024, 2025], n // 2),
        "sat": np.clip(np.round(6 + trust + care + rng.normal(size=n)), 1, 10),
        "q_speed": rng.integers(1, 11, n).astype(float),
    }
    for item, factor in (("t1", trust), ("t2", trust), ("t3", trust), ("t4", trust)):
        frame[item] = np.clip(np.round(6 + 1.5 * factor + rng.normal(size=n)), 1, 10)
    for item in ("c1", "c2"):
        frame[item] = np.clip(np.round(6 + 1.5 * care + rng.normal(size=n)), 1, 10)
    frame = pd.DataFrame(frame)
    if random_item:
        phone = frame["channel"] == "phone"
        frame.loc[phone, random_item] = rng.integers(1, 11, int(phone.sum())).astype(float)
    frame.loc[[3, 10], "t2"] = np.nan  # an unanswered item leaves that response out
    frame.loc[5, "sat"] = np.nan  # and so does a missing outcome
    return frame


def test_item_moments_match_the_complete_responses_of_each_channel():
    frame = item_frame()
    spec = parse_spec(ITEM_SPEC)
    survey = validate_frame(frame, spec)
    assert [(m.driver, m.channel) for m in survey.item_moments] == [
        ("trust", "phone"),
        ("trust", "web"),
        ("care", "phone"),
        ("care", "web"),
    ]
    for m in survey.item_moments:
        items = list(m.items)
        rows = frame[(frame["channel"] == m.channel) & frame["sat"].notna()][items].dropna()
        assert m.n == len(rows)
        np.testing.assert_allclose(m.mean, rows.mean().to_numpy())
        np.testing.assert_allclose(m.cov, np.cov(rows.to_numpy(), rowvar=False, bias=True))
    # straight from arrays
    direct = item_moments(spec, frame, frame["channel"].to_numpy(), frame["sat"].notna().to_numpy())
    np.testing.assert_allclose(direct[0].cov, survey.item_moments[0].cov)


def test_consistent_items_raise_no_warning():
    survey = validate_frame(item_frame(), parse_spec(ITEM_SPEC))
    assert reliability_warnings(survey) == []
    for rel in item_reliability(survey.item_moments):
        assert rel.alpha > 0.7 and rel.omega >= rel.alpha - 1e-9
        assert min(r for _, r in rel.item_rest) > 0.5


def test_a_random_item_among_consistent_ones_is_named():
    survey = validate_frame(item_frame(random_item="t3"), parse_spec(ITEM_SPEC))
    warnings = reliability_warnings(survey)
    assert len(warnings) == 1, warnings
    assert "driver 'trust', channel 'phone'" in warnings[0]
    assert "item 't3' correlates" in warnings[0]
    assert warnings[0] in survey_warnings(survey)
    rows = item_reliability(survey.item_moments)
    rel = next(r for r in rows if r.driver == "trust" and r.channel == "phone")
    assert rel.weakest[0] == "t3" and rel.weakest[1] < 0.3


def test_two_unrelated_items_are_flagged_with_their_alpha():
    survey = validate_frame(item_frame(random_item="c2"), parse_spec(ITEM_SPEC))
    (warning,) = reliability_warnings(survey)
    assert "driver 'care', channel 'phone'" in warning
    assert "Cronbach's alpha" in warning and "its two items correlate" in warning


def test_check_prints_the_table_and_the_warning(tmp_path):
    frame = item_frame(random_item="t3")
    data, spec = tmp_path / "survey.csv", tmp_path / "spec.toml"
    frame.to_csv(data, index=False)
    spec.write_text(
        '[survey]\noutcome = "sat"\nchannel = "channel"\nyear = "year"\n'
        '[drivers.speed]\ncolumn = "q_speed"\n'
        '[drivers.trust]\nitems = ["t1", "t2", "t3", "t4"]\n'
        '[drivers.care]\nitems = ["c1", "c2"]\n'
    )
    result = CliRunner().invoke(app, ["check", str(data), "--spec", str(spec)])
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.output.splitlines() if line.startswith("warning: ")]
    assert len(warnings) == 1 and "item 't3'" in warnings[0], result.output
    assert "Item reliability of multi-item drivers" in result.output
    table = result.output.split("Item reliability of multi-item drivers")[1]
    assert "alpha" in table and "omega" in table
    phone_trust = next(
        line for line in table.splitlines() if "trust" in line and "phone" in line
    ).split()
    assert "t3" in phone_trust
