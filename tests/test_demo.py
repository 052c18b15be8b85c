"""Demo data and the known-truth simulator: determinism, spec, missingness, recoverability."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from whatif.data.ordinal import fit_censored, is_whole_scale
from whatif.data.spec import load_spec
from whatif.synthetic import (
    SCALE,
    demo_truth,
    load_truth,
    path_matrices,
    random_truth,
    simulate_survey,
    spec_for,
    write_demo,
)
from whatif.synthetic.survey import outcome_of

REPO = Path(__file__).resolve().parents[1]
OUTCOME, OUTCOME_SCALE = outcome_of(demo_truth())

# What the seed research names per channel: the top driver, the top driver after it (where the
# research ranks one), and the most significant influencer. In the live-phone channels the
# contact-center studies put trust in our capacity to solve problems first (the greatest impact
# on satisfaction) and the channel's top service element right after it: timeliness in customer
# service, the representative's knowledge in tech support. Elsewhere trust is not asked, and
# timeliness (or the IVR's clarity) leads.
RESEARCH_TOP = {
    "web_self_service": ("timeliness", None, "contacts_to_resolve"),
    "ivr_self_service": ("timeliness", None, "ivr_prompts"),
    "ivr_routing": ("ivr_clarity", None, "repeat_info"),
    "phone_customer_service": ("trust", "timeliness", "resolved_timely"),
    "phone_tech_support": ("trust", "knowledge", "hard_to_understand"),
}
PHONE = ("phone_customer_service", "phone_tech_support")

# 6,000 responses per channel-year keep the standard error of a satisfaction weight under 0.02
# (asserted below), so 0.08 is over four standard errors. The answers pile up at the top (a third
# of the outcome at 10), so the regressions are the rating-scale ones the model fits
# (whatif.data.ordinal): least squares would be attenuated by the ceiling (asserted too).
WEIGHT_TOL = 0.08
LARGE_N = 6000
# Effects are fitted per channel over all years; rare binary influencers (outages at ~5%) have
# standard errors up to ~0.04, so the tolerance is in standard errors, plus 0.03 for what the
# item-mean driver (trust, two items each rounded and clipped) keeps of the ceiling.
EFFECT_Z = 4.0
EFFECT_BIAS = 0.03
# Trust is the mean of two items: the model fits it linearly, as it does any item mean, and the
# ceiling attenuates its slopes by up to ~15% (a stated limitation, docs/rating-scale.md).
ITEM_MEAN_BIAS = 0.08


@pytest.fixture(scope="module")
def truth() -> xr.Dataset:
    return demo_truth()


@pytest.fixture(scope="module")
def large(truth) -> pd.DataFrame:
    return simulate_survey(truth, LARGE_N, seed=7)


def _ols(y: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Coefficients (intercept first), their standard errors and R^2."""
    x = np.column_stack([np.ones(len(y)), x])
    coef, *_ = np.linalg.lstsq(x, y, rcond=None)
    resid = y - x @ coef
    s2 = resid @ resid / (len(y) - x.shape[1])
    se = np.sqrt(np.diag(s2 * np.linalg.inv(x.T @ x)))
    r2 = 1.0 - resid @ resid / np.sum((y - y.mean()) ** 2)
    return coef, se, float(r2)


def _rating_fit(y: np.ndarray, x: np.ndarray, scale) -> tuple[np.ndarray, np.ndarray, float]:
    """The rating-scale regression's coefficients (intercept first), their standard errors, and
    the R^2 of least squares on the answers; least squares itself for answers that are not
    whole numbers on the scale (the model's own choice, whatif.data.rating_stats)."""
    if not is_whole_scale(y, scale):
        return _ols(y, x)
    design = np.column_stack([np.ones(len(y)), x])
    fit = fit_censored(design, y, np.ones(len(y)), scale)
    se = np.sqrt(np.diag(np.linalg.inv(fit.information)))[:-1]
    return fit.theta, se, _ols(y, x)[2]


def _scores(df: pd.DataFrame, truth: xr.Dataset) -> pd.DataFrame:
    """Driver scores (the mean of a driver's items; NaN if any item is blank), one per driver."""
    spec = spec_for(truth)
    return pd.DataFrame(
        {d.id: df[list(d.columns)].mean(axis=1, skipna=False) for d in spec.drivers}
    )


def _measured(truth: xr.Dataset, channel: str) -> tuple[list[str], list[str]]:
    t = truth.sel(channel=channel)
    return (
        list(t["driver"].values[t["driver_measured"].values]),
        list(t["influencer"].values[t["influencer_measured"].values]),
    )


def _satisfaction_fits(df, truth):
    """Per channel-year OLS of satisfaction on measured drivers and influencers, complete rows."""
    scores = _scores(df, truth)
    for (channel, year), rows in df.groupby(["channel", "year"]).groups.items():
        drivers, influencers = _measured(truth, channel)
        x = pd.concat([scores.loc[rows, drivers], df.loc[rows, influencers]], axis=1)
        outcome, scale = outcome_of(truth)
        y = df.loc[rows, outcome]
        ok = x.notna().all(axis=1) & y.notna()
        coef, se, r2 = _rating_fit(y[ok].to_numpy(), x[ok].to_numpy(), scale)
        yield channel, year, drivers, influencers, coef, se, r2


def _driver_fits(df, truth):
    """Per channel OLS (all years) of each measured driver's score on the measured influencers
    and, for a driver with paths, its sources' scores (coefficients after the influencers')."""
    scores = _scores(df, truth)
    spec = spec_for(truth)
    for channel, rows in df.groupby("channel").groups.items():
        drivers, influencers = _measured(truth, channel)
        for driver in drivers:
            sources = [s for s in spec.driver(driver).depends_on if s in drivers]
            x = pd.concat([df.loc[rows, influencers], scores.loc[rows, sources]], axis=1)
            y = scores.loc[rows, driver]
            ok = y.notna() & x.notna().all(axis=1)
            if spec.driver(driver).is_item_mean:
                coef, se, _ = _ols(y[ok].to_numpy(), x[ok].to_numpy())
            else:
                coef, se, _ = _rating_fit(y[ok].to_numpy(), x[ok].to_numpy(), SCALE)
            yield channel, driver, influencers, sources, coef, se


def _sd(t: xr.Dataset, year) -> xr.DataArray:
    """Standard deviation of each influencer (binary or count) in one channel-year."""
    mean = t["influencer_mean"].sel(year=year)
    return np.sqrt(xr.where(t["kind"] == "binary", mean * (1 - mean), mean))


# --- determinism ---------------------------------------------------------------------------


def test_same_seed_same_data_other_seed_differs(truth):
    a = simulate_survey(truth, 150, seed=3)
    pd.testing.assert_frame_equal(a, simulate_survey(demo_truth(), 150, seed=3))
    assert not a.equals(simulate_survey(truth, 150, seed=4))
    xr.testing.assert_identical(truth, demo_truth(2026))
    assert not truth["weights"].equals(demo_truth(2027)["weights"])


def test_write_demo_is_deterministic_and_round_trips(tmp_path, truth):
    first = write_demo(tmp_path / "a", n=3000)
    second = write_demo(tmp_path / "b", n=3000)
    assert set(first) == {"survey", "spec", "truth"}
    a, b = pd.read_parquet(first["survey"]), pd.read_parquet(second["survey"])
    pd.testing.assert_frame_equal(a, b)
    assert len(a) == 3000
    xr.testing.assert_identical(load_truth(first["truth"]), truth)
    other = pd.read_parquet(write_demo(tmp_path / "c", seed=1, n=3000)["survey"])
    assert not a.equals(other)


# --- spec ----------------------------------------------------------------------------------


def test_written_spec_parses_names_the_data_and_matches_committed_copy(tmp_path, truth):
    paths = write_demo(tmp_path, n=2000)
    spec = load_spec(paths["spec"])
    data = pd.read_parquet(paths["survey"])
    assert sorted(spec.data_columns()) == sorted(data.columns)
    assert spec.to_dict() == spec_for(truth).to_dict()
    assert spec.channels["phone_tech_support"].label == "Live phone: software tech support"
    assert sum(c.volume for c in spec.channels.values()) == pytest.approx(1.0)
    assert spec.driver("trust").columns == ("q_trust_solve", "q_trust_confident")
    assert spec.influencer("resolved_timely").better == "higher"
    committed = REPO / "data" / "demo" / "spec.toml"
    assert paths["spec"].read_text(encoding="utf-8") == committed.read_text(encoding="utf-8")


def test_spec_without_weights_matches_unweighted_survey():
    t = random_truth(seed=1)
    df = simulate_survey(t, 50, seed=1, weights=False)
    assert sorted(spec_for(t, weights=False).data_columns()) == sorted(df.columns)


# --- truth layout --------------------------------------------------------------------------


def test_demo_truth_layout(truth):
    assert dict(truth.sizes) == {
        "channel": 5,
        "year": 5,
        "driver": 10,
        "influencer": 8,
        "edge": 2,
    }
    assert list(truth["year"].values) == [2021, 2022, 2023, 2024, 2025]
    assert truth["volume"].sum() == pytest.approx(1.0)
    assert set(truth["kind"].values) == {"count", "binary"}
    for name, dims in {
        "weights": ("channel", "year", "driver"),
        "intercept": ("channel", "year"),
        "direct": ("channel", "influencer"),
        "effects": ("channel", "driver", "influencer"),
        "driver_intercept": ("channel", "driver"),
        "sigma": ("channel",),
        "driver_sigma": ("channel", "driver"),
        "influencer_mean": ("channel", "year", "influencer"),
        "influencer_sd": ("channel", "year", "influencer"),
        "paths": ("channel", "edge"),
    }.items():
        assert truth[name].dims == dims
    dm, im = truth["driver_measured"], truth["influencer_measured"]
    assert dm.dtype == bool and im.dtype == bool
    # NaN exactly where not measured.
    assert (truth["weights"].notnull() == dm).all()
    assert (truth["driver_sigma"].notnull() == dm).all()
    assert (truth["direct"].notnull() == im).all()
    assert (truth["effects"].notnull() == (dm & im)).all()
    assert (truth["influencer_mean"].notnull() == im).all()
    assert not dm.sel(channel="web_self_service", driver="ivr_clarity")
    assert not im.sel(channel="web_self_service", influencer="ivr_prompts")
    assert im.sel(influencer="hard_to_understand").sum() == 2
    # Outages and transfers also act directly on satisfaction.
    assert (truth["direct"].sel(influencer="outage") < -0.3).all()
    assert (truth["direct"].sel(influencer="transfers").dropna("channel") < -0.1).all()
    # Outages get rarer.
    outage = truth["influencer_mean"].sel(influencer="outage")
    assert (outage.isel(year=-1) < outage.isel(year=0)).all()


def test_group_sizes_accept_int_mapping_and_dataarray():
    t = random_truth(n_channels=2, n_years=2, seed=2)

    def count(df):
        return df.groupby(["channel", "year"]).size().to_dict()

    assert count(simulate_survey(t, {"ch1": 5, "ch2": 7}, seed=0)) == {
        ("ch1", 2021): 5,
        ("ch1", 2022): 5,
        ("ch2", 2021): 7,
        ("ch2", 2022): 7,
    }
    assert count(simulate_survey(t, {("ch2", 2022): 9}, seed=0)) == {("ch2", 2022): 9}
    sizes = xr.DataArray(
        [[1, 2], [3, 4]],
        coords={"channel": ["ch1", "ch2"], "year": [2021, 2022]},
        dims=("channel", "year"),
    )
    assert count(simulate_survey(t, sizes, seed=0)) == {
        ("ch1", 2021): 1,
        ("ch1", 2022): 2,
        ("ch2", 2021): 3,
        ("ch2", 2022): 4,
    }
    with pytest.raises(ValueError, match="not in the truth"):
        simulate_survey(t, {"nope": 3}, seed=0)


def test_demo_sizes_are_unequal_and_every_group_has_several_hundred(tmp_path):
    written = write_demo(tmp_path, n=75_000)
    # The committed demo is exactly what `whatif demo-data` writes.
    for name, path in written.items():
        committed = REPO / "data" / "demo" / path.name
        assert path.read_bytes() == committed.read_bytes(), name
    df = pd.read_parquet(written["survey"])
    sizes = df.groupby(["channel", "year"]).size()
    assert len(df) == 75_000 and len(sizes) == 25
    assert sizes.min() >= 500
    by_channel = df.groupby("channel").size()
    assert by_channel.max() > 2 * by_channel.min()
    w = df["weight"]
    assert (w > 0).all() and w.mean() == pytest.approx(1.0, abs=0.02)
    # Weighted, the channels represent their share of contacts.
    share = df.groupby("channel")["weight"].sum() / w.sum()
    truth = demo_truth()
    np.testing.assert_allclose(share[truth["channel"].values], truth["volume"], atol=0.01)


# --- missingness ---------------------------------------------------------------------------


def test_missing_by_design_and_at_random(truth, large):
    spec = spec_for(truth)
    item_cells = item_missing = 0
    for channel in truth["channel"].values:
        sub = large[large["channel"] == channel]
        for d in spec.drivers:
            measured = bool(truth["driver_measured"].sel(channel=channel, driver=d.id))
            for col in d.columns:
                if not measured:
                    assert sub[col].isna().all(), (channel, col)
                else:
                    assert sub[col].notna().mean() > 0.95, (channel, col)
                    item_cells += len(sub)
                    item_missing += int(sub[col].isna().sum())
        for i in spec.influencers:
            measured = bool(truth["influencer_measured"].sel(channel=channel, influencer=i.id))
            assert sub[i.column].isna().all() != measured, (channel, i.id)
            if measured:
                assert sub[i.column].notna().all()
    # 0.02 expected; over ~500,000 answers the sampling sd is 0.0002.
    assert item_missing / item_cells == pytest.approx(0.02, abs=0.002)
    outcome = large[OUTCOME].isna()
    assert outcome.any()
    assert outcome.mean() == pytest.approx(0.005, abs=0.0015)


def test_answers_are_whole_numbers_piled_up_near_the_top(truth, large):
    """As real CX answers: the 0-10 recommend question has about half its answers at 9 or 10, a
    third or so at 10 and a tail of detractors (0-6); drivers (1-10) pile up near the top too."""
    spec = spec_for(truth)
    assert spec.outcome == OUTCOME == "recommend" and spec.scale == (0.0, 10.0)
    assert spec.rating.headline == "nps"
    answers = large[OUTCOME].dropna()
    assert ((answers >= 0) & (answers <= 10) & (answers == answers.round())).all()
    assert 0.45 < (answers >= 9).mean() < 0.65
    assert 0.25 < (answers == 10).mean() < 0.4
    assert 0.06 < (answers <= 6).mean() < 0.2
    for col in (c for d in spec.drivers for c in d.columns):
        values = large[col].dropna()
        assert ((values >= 1) & (values <= 10) & (values == values.round())).all(), col
        assert 0.25 < (values >= 9).mean() < 0.65, col
    for i in spec.influencers:
        values = large[i.column].dropna()
        assert (values >= 0).all() and (values == values.round()).all()
        if i.kind == "binary":
            assert set(values.unique()) <= {0.0, 1.0}


# --- calibration to the research -----------------------------------------------------------


def test_research_ordering_in_the_truth(truth):
    """The research's top driver leads each channel, then its runner-up; where trust is measured
    (the live-phone channels) it leads, and its weight exceeds every other driver's total effect
    (weight plus what the driver moves through the paths); the research's most significant
    influencer has the largest total effect per standard deviation."""
    channels = list(truth["channel"].values)
    for channel, (top_driver, runner_up, top_influencer) in RESEARCH_TOP.items():
        t = truth.sel(channel=channel)
        paths = path_matrices(truth)[channels.index(channel)]
        for year in truth["year"].values:
            w = t["weights"].sel(year=year).to_series().dropna()
            assert w.idxmax() == top_driver, (channel, year)
            if runner_up:
                assert w.drop(top_driver).idxmax() == runner_up, (channel, year)
            assert ("trust" in w) == (top_driver == "trust"), channel
            # A few drivers carry most of satisfaction.
            assert w.nlargest(3).sum() > 0.6 * w.sum()
            beta = t["weights"].sel(year=year).fillna(0.0).values
            reach = beta @ np.linalg.inv(np.eye(len(beta)) - paths)
            total = pd.Series(reach, index=truth["driver"].values)[w.index]
            assert total.idxmax() == top_driver, (channel, year)
            # Influencer importance: total effect on satisfaction (via drivers, their paths and
            # direct) per standard deviation of the influencer.
            total = reach @ t["effects"].fillna(0.0).values + t["direct"].values
            importance = abs(total * _sd(t, year)).to_series().dropna()
            assert importance.idxmax() == top_influencer, (channel, year)
    assert set(truth["driver"].values[truth["driver_measured"].sel(channel="ivr_routing")]) == {
        "timeliness",
        "accuracy",
        "reliability",
        "consistency",
        "ivr_clarity",
    }


def test_weights_drift_visibly_but_modestly(truth):
    change = abs(truth["weights"].diff("year")).max("year")
    assert float(change.max()) < 0.05
    assert (
        float((truth["weights"].isel(year=-1) - truth["weights"].isel(year=0)).pipe(abs).max())
        > 0.03
    )


def test_regression_recovers_weights_effects_and_r2(truth, large):
    spec = spec_for(truth)
    r2_by_channel: dict[str, list[float]] = {}
    for channel, year, drivers, influencers, coef, se, r2 in _satisfaction_fits(large, truth):
        k = len(drivers)
        true_w = truth["weights"].sel(channel=channel, year=year, driver=drivers).values
        assert se[1 : 1 + k].max() < WEIGHT_TOL / 4
        np.testing.assert_array_less(np.abs(coef[1 : 1 + k] - true_w), WEIGHT_TOL)
        true_direct = truth["direct"].sel(channel=channel, influencer=influencers).values
        err = np.abs(coef[1 + k :] - true_direct)
        np.testing.assert_array_less(err, EFFECT_BIAS + EFFECT_Z * se[1 + k :])
        r2_by_channel.setdefault(channel, []).append(r2)
    for channel, r2s in r2_by_channel.items():
        assert min(r2s) > 0.2 and max(r2s) < 0.5, (channel, r2s)

    for channel, driver, influencers, sources, coef, se in _driver_fits(large, truth):
        true_e = truth["effects"].sel(channel=channel, driver=driver, influencer=influencers)
        edges = [f"{s} -> {driver}" for s in sources]
        true_p = truth["paths"].sel(channel=channel, edge=edges).values if sources else []
        want = np.concatenate([true_e.values, true_p])
        err = np.abs(coef[1:] - want)
        bias = ITEM_MEAN_BIAS if spec.driver(driver).is_item_mean else EFFECT_BIAS
        np.testing.assert_array_less(err, bias + EFFECT_Z * se[1:], err_msg=driver)
        true_i = float(truth["driver_intercept"].sel(channel=channel, driver=driver))
        # an item mean's intercept moves with its attenuated slopes
        room = 1.0 if spec.driver(driver).is_item_mean else 0.1
        assert abs(coef[0] - true_i) < room + EFFECT_Z * se[0], (channel, driver)


def test_attention_drives_trust_in_the_live_phone_channels(truth, large):
    """The research's paths: attention -> trust and, weaker, knowledge -> trust, only where both
    ends are asked (the live-phone channels). Of trust's sources attention moves it most; per
    standard deviation it also moves trust more than any influencer does (through every path);
    and trust's weight exceeds attention's total effect (its own weight plus through trust)."""
    assert list(truth["edge"].values) == ["attention -> trust", "knowledge -> trust"]
    assert list(truth["source"].values) == ["attention", "knowledge"]
    assert list(truth["target"].values) == ["trust", "trust"]
    for edge in truth["edge"].values:
        measured = truth["paths"].sel(edge=edge).notnull().to_series().to_dict()
        assert measured == {c: c in PHONE for c in truth["channel"].values}, edge
    assert "feed_source" not in truth.attrs
    channels = list(truth["channel"].values)
    drivers = list(truth["driver"].values)
    for channel in PHONE:
        t = truth.sel(channel=channel)
        path = t["paths"].to_series()
        p = float(path["attention -> trust"])
        assert 0.3 < p < 0.7
        assert p > 2 * path.drop("attention -> trust").max()
        # every driver's total response to its influencers, through the paths
        reach = np.linalg.inv(np.eye(len(drivers)) - path_matrices(truth)[channels.index(channel)])
        through = xr.DataArray(reach, coords={"driver": drivers, "source": drivers}).dot(
            t["effects"].fillna(0.0).rename(driver="source"), dim="source"
        )
        for year in truth["year"].values:
            sd = _sd(t, year)
            on_trust = abs(through.sel(driver="trust") * sd).where(sd.notnull()).to_series()
            # Attention's score: its influencers, its own noise and rounding.
            att_var = (t["effects"].sel(driver="attention") ** 2 * sd**2).sum("influencer")
            att_sd = float(
                np.sqrt(att_var + t["driver_sigma"].sel(driver="attention") ** 2 + 1 / 12)
            )
            assert p * att_sd > 1.2 * on_trust.dropna().max(), (channel, year)
            w = t["weights"].sel(year=year)
            assert w.to_series().dropna().idxmax() == "trust"
            attention_total = float(w.sel(driver="attention") + p * w.sel(driver="trust"))
            assert float(w.sel(driver="trust")) > attention_total
    # In the survey: trust correlates with attention in the live-phone channels.
    for channel in PHONE:
        phone = large[large["channel"] == channel]
        trust = phone[["q_trust_solve", "q_trust_confident"]].mean(axis=1)
        assert trust.corr(phone["attention"]) > 0.3, channel


def test_demo_spec_declares_the_paths(truth):
    spec = load_spec(REPO / "data" / "demo" / "spec.toml")
    assert spec.driver("trust").depends_on == ("attention", "knowledge")
    assert all(not d.depends_on for d in spec.drivers if d.id != "trust")
    assert spec_for(truth).driver("trust").depends_on == ("attention", "knowledge")


def test_specs_of_random_truths_without_paths_have_no_depends_on():
    spec = spec_for(random_truth(n_drivers=4, seed=3))
    assert all(not d.depends_on for d in spec.drivers)
    assert "depends_on" not in str(spec.to_dict())


# --- random truth --------------------------------------------------------------------------


def test_random_truth_layout_and_missing_driver():
    t = random_truth(n_channels=3, n_years=2, n_drivers=4, n_influencers=3, seed=5)
    assert dict(t.sizes) == {"channel": 3, "year": 2, "driver": 4, "influencer": 3}
    assert list(t["kind"].values) == ["binary", "count", "continuous"]
    assert not bool(t["driver_measured"].sel(channel="ch2", driver="d4"))
    assert int(t["driver_measured"].sum()) == 3 * 4 - 1
    assert t["influencer_sd"].sel(influencer="i3").notnull().all()
    df = simulate_survey(t, 100, seed=0)
    assert df.loc[df["channel"] == "ch2", "d4"].isna().all()
    assert df.loc[df["channel"] == "ch1", "d4"].notna().mean() > 0.95
    full = random_truth(n_channels=3, n_drivers=4, seed=5, missing_by_design=False)
    assert bool(full["driver_measured"].all())


def test_random_truth_recovers_tightly_without_rounding():
    t = random_truth(n_channels=2, n_years=3, n_drivers=4, n_influencers=3, seed=11)
    df = simulate_survey(t, 4000, seed=12, round_to_scale=False)
    # No rounding or clipping: the model holds exactly, so errors are pure sampling error.
    for channel, year, drivers, influencers, coef, se, _ in _satisfaction_fits(df, t):
        k = len(drivers)
        true_w = t["weights"].sel(channel=channel, year=year, driver=drivers).values
        np.testing.assert_array_less(np.abs(coef[1 : 1 + k] - true_w), 4 * se[1 : 1 + k])
        assert se[1 : 1 + k].max() < 0.01
        true_d = t["direct"].sel(channel=channel, influencer=influencers).values
        np.testing.assert_array_less(np.abs(coef[1 + k :] - true_d), 4 * se[1 + k :])
        true_a = float(t["intercept"].sel(channel=channel, year=year))
        assert abs(coef[0] - true_a) < 4 * se[0]
    for channel, driver, influencers, _, coef, se in _driver_fits(df, t):
        true_e = t["effects"].sel(channel=channel, driver=driver, influencer=influencers).values
        np.testing.assert_array_less(np.abs(coef[1:] - true_e), 4 * se[1:])
        assert se[1:].max() < 0.03


# --- the fitted demo model -------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_fit(tmp_path_factory):
    """The committed demo survey fitted small (2 chains x 200 draws; the data decide the
    orderings checked here by many posterior sds) and saved, as the app and the brief read it."""
    from whatif.data.aggregate import aggregate
    from whatif.data.survey import load_survey
    from whatif.fitting.artefact import save_model
    from whatif.fitting.fit import fit_model

    demo = REPO / "data" / "demo"
    survey = load_survey(demo / "survey.parquet", demo / "spec.toml")
    model = fit_model(
        aggregate(survey),
        survey.spec,
        draws=200,
        tune=200,
        chains=2,
        seed=5,
        fingerprint=survey.fingerprint,
        source="demo",
    )
    return model, save_model(model, tmp_path_factory.mktemp("models") / "demo")


def test_the_fitted_demo_shows_the_research_orderings(demo_fit, truth):
    """Posterior means: the research's top driver (and runner-up) per channel and year; in the
    live-phone channels trust's weight exceeds every driver's total effect and leads relative
    importance, and of trust's sources attention moves it most, close to the truth."""
    from whatif.analysis.effects import path_rows, total_effects
    from whatif.analysis.relative_weights import relative_importance

    model, _ = demo_fit
    weights = model.draws("weights").mean("sample")
    totals = total_effects(model).mean("sample")
    shares = relative_importance(model).mean("sample")
    for channel, (top, runner_up, _) in RESEARCH_TOP.items():
        for year in truth["year"].values:
            w = weights.sel(channel=channel, year=year).to_series().dropna()
            assert w.idxmax() == top, (channel, year, w.to_dict())
            if runner_up:
                assert w.drop(top).idxmax() == runner_up, (channel, year)
            if top == "trust":
                total = totals.sel(channel=channel, year=year).to_series().dropna()
                assert w["trust"] > total.drop("trust").max(), (channel, year)
                share = shares.sel(channel=channel, year=year).to_series().dropna()
                assert share.idxmax() == "trust", (channel, year)
    rows = [r for r in path_rows(model) if r["driver"] == "trust"]
    assert {r["channel"] for r in rows} == set(PHONE)
    for channel in PHONE:
        into_trust = {r["source"]: r for r in rows if r["channel"] == channel}
        assert set(into_trust) == {"attention", "knowledge"}
        assert max(into_trust, key=lambda s: into_trust[s]["mean"]) == "attention"
        assert into_trust["attention"]["lo"] > into_trust["knowledge"]["hi"]
        for source, row in into_trust.items():
            true = float(truth["paths"].sel(channel=channel, edge=f"{source} -> trust"))
            assert abs(row["mean"] - true) < 0.05, (channel, source)


def test_respondents_with_the_same_changes_looked_up_together_change_no_number(
    demo_fit, monkeypatch
):
    """Respondents a scenario changes alike (all below a cap, say) have their drivers looked up
    together, as one matrix product: every forecast is the one computed respondent by respondent,
    with paths between the drivers (live phone), yes/no KPIs, driver levers and two levers."""
    import whatif.analysis.answer_engine as answer_engine
    import whatif.analysis.respondents as respondents
    from whatif.analysis.engine import ScenarioEngine
    from whatif.analysis.scenario import Lever, Scenario

    model, _ = demo_fit
    engine = ScenarioEngine(model)
    scenarios = [Scenario("attention", (Lever("attention", "driver", "shift", 0.5),))]
    for target, kind in engine._kinds.items():
        if kind == "binary":
            scenarios += [
                Scenario(target, (Lever(target, "influencer", "shift", d),)) for d in (0.1, -0.05)
            ]
        else:
            scenarios += [
                Scenario(target, (Lever(target, "influencer", "cap", 2.0),)),
                Scenario(target, (Lever(target, "influencer", "scale", 0.7),)),
            ]
    scenarios.append(
        Scenario(
            "two",
            (
                Lever("transfers", "influencer", "cap", 1.0),
                Lever("first_contact_resolution", "influencer", "shift", 0.1),
            ),
        )
    )
    grouped = []
    choose = answer_engine.alike_respondents

    def counted(fixed, flipped):
        order, groups = choose(fixed, flipped)
        grouped.append(sum(g.stop - g.start for g in groups))
        return order, groups

    monkeypatch.setattr(answer_engine, "alike_respondents", counted)
    together = [engine.lift_arrays(s) for s in scenarios]
    assert grouped and min(grouped) > 0  # in every channel, some respondents looked up together
    monkeypatch.setattr(respondents, "MIN_ALIKE", 10**9)
    alone = ScenarioEngine(model)
    for scenario, fast in zip(scenarios, together, strict=True):
        slow = alone.lift_arrays(scenario)
        for key in ("total", "direct", "top_box", "nps", "company", "company_nps"):
            np.testing.assert_allclose(
                fast[key], slow[key], rtol=1e-9, atol=1e-10, err_msg=scenario.name
            )


def test_the_app_and_the_brief_show_trust_first_and_the_attention_path(demo_fit):
    """The weights tab lists trust first in the live-phone channels, with attention's path to
    trust on top of the path table; the brief's "what drives satisfaction" section too, its
    shares Johnson's relative weights (those of the app and ``whatif summary``)."""
    import re

    from whatif.analysis.relative_weights import relative_importance
    from whatif.analysis.scenario import load_scenario
    from whatif.app.bundle import load_bundle
    from whatif.app.views.weights import effects_tables
    from whatif.report.brief_content import build_brief

    model, path = demo_fit
    label = model.spec.label_of
    bundle = load_bundle(path)
    for channel in PHONE:
        html = effects_tables(bundle, channel, 0.9)
        cells = re.findall(r"<td>(.*?)</td>", html)
        assert cells[0] == label("trust")
        paths = html.split(">Paths<")[1]
        first_path = re.findall(r"<td>(.*?)</td>", paths)[:2]
        assert first_path == [label("attention"), label("trust")]

    scenario = load_scenario(REPO / "data" / "demo" / "scenarios" / "attention_coaching.toml")
    content = build_brief(model, [scenario])["drivers"]
    shares = relative_importance(model).sel(year=content["year"]).mean("sample")
    assert [c["channel"] for c in content["channels"]] == list(PHONE)
    for channel in content["channels"]:
        top = channel["top"]
        assert top[0]["driver"] == "trust"
        assert top[0]["total_text"] == top[0]["weight_text"]  # trust moves no other driver
        for row in channel["drivers"]:
            want = float(shares.sel(channel=channel["channel"], driver=row["driver"]))
            assert row["share"] == pytest.approx(want)
        assert channel["paths"][0].startswith(f"{label('attention')} -> {label('trust')}: +0.")


def test_a_lever_on_attention_reaches_satisfaction_through_trust(demo_fit):
    """Half a rating point more individual attention in live phone reaches satisfaction through
    trust: the latent shift is attention's total effect (its weight plus its path through trust)
    times the change, all of it through the drivers; on the scale of answers the lift is less,
    since many answers already sit at the top (attention, trust and the recommend question alike),
    but still more than attention's own weight alone would give before any ceiling."""
    from whatif.analysis.effects import total_effects
    from whatif.analysis.engine import ScenarioEngine
    from whatif.analysis.scenario import load_scenario

    model, _ = demo_fit
    scenario = load_scenario(REPO / "data" / "demo" / "scenarios" / "attention_coaching.toml")
    year = int(model.aggregates["year"].to_numpy()[-1])
    engine = ScenarioEngine(model)
    lift = engine.lift_arrays(dataclasses.replace(scenario, year=year))
    assert lift["year"] == year
    channels = list(engine.channels)
    total = total_effects(model).sel(year=year, driver="attention")
    weight = model.draws("weights").sel(year=year, driver="attention")
    for channel in channels:
        got = lift["total"][:, channels.index(channel)]
        if channel not in PHONE:
            assert not got.any()
            continue
        want = 0.5 * total.sel(channel=channel).to_numpy()
        assert 0.4 * want.mean() < got.mean() < want.mean()
        assert got.mean() > 0.5 * float(weight.sel(channel=channel).mean())
        assert not lift["direct"][:, channels.index(channel)].any()
