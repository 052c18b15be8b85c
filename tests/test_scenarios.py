"""The scenario engine: exact zeros, signs, volume roll-up, real distributions, the reference
simulation in PyMC, interval coverage on known truth, validation and the CLI."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from typer.testing import CliRunner

from whatif.analysis.engine import ScenarioEngine, simulate, summarize_lift
from whatif.analysis.priorities import QUADRANTS, priority_map
from whatif.analysis.scale_warnings import scale_warnings
from whatif.analysis.scenario import Lever, Scenario, load_scenario, parse_scenario
from whatif.cli import app
from whatif.errors import ScenarioError


@pytest.fixture(scope="module")
def engine(tiny_model):
    return ScenarioEngine(tiny_model)


def lever(target, op, value, kind="influencer", channels=None):
    return Lever(target=target, kind=kind, operation=op, value=value, channels=channels)


def observed(engine):
    return engine.years[-1]


def test_a_lever_that_changes_nothing_gives_exactly_zero(engine):
    for lv in [
        lever("i2", "shift", 0.0),
        lever("i2", "cap", 1e6),
        lever("i2", "scale", 1.0),
        lever("d1", "shift", 0.0, kind="driver"),
    ]:
        for year in (observed(engine), None):
            lift = engine.lift(Scenario("noop", (lv,), year=year))
            assert np.all(lift["total"].to_numpy() == 0.0)
            assert np.all(lift["company"].to_numpy() == 0.0)
            assert np.all(lift["top_box"].to_numpy() == 0.0)


def test_a_lever_in_the_other_direction_flips_the_sign(engine, tiny_model):
    share = float(
        (tiny_model.aggregates["dist_share"] * tiny_model.aggregates["dist_value"].fillna(0))
        .sel(influencer="i1", channel="ch1")
        .isel(year=-1)
        .sum()
    )
    up = engine.lift(Scenario("up", (lever("i1", "share", share + 0.1, channels=("ch1",)),)))
    down = engine.lift(Scenario("down", (lever("i1", "share", share - 0.1, channels=("ch1",)),)))
    np.testing.assert_allclose(up["total"].to_numpy(), -down["total"].to_numpy(), atol=1e-12)
    d_up = engine.lift(Scenario("d+", (lever("d1", "shift", 0.5, kind="driver"),)))
    d_down = engine.lift(Scenario("d-", (lever("d1", "shift", -0.5, kind="driver"),)))
    np.testing.assert_allclose(d_up["total"].to_numpy(), -d_down["total"].to_numpy(), atol=1e-12)
    assert float(d_up["company"].mean()) != 0.0


def test_company_lift_is_the_volume_weighted_sum_of_channels(engine, tiny_model):
    lift = engine.lift(
        Scenario("p", (lever("i2", "cap", 1), lever("d2", "shift", 0.3, kind="driver")))
    )
    vol = lift["volume"].to_numpy()
    expected = {c.id: c.volume for c in tiny_model.spec.channels.values()}
    np.testing.assert_allclose(vol, [expected[c] / sum(expected.values()) for c in engine.channels])
    np.testing.assert_allclose(lift["company"].to_numpy(), lift["total"].to_numpy() @ vol)
    np.testing.assert_allclose(lift["total"], lift["direct"] + lift["indirect"])


def test_cap_acts_on_the_real_distribution(engine, tiny_survey):
    _, _, _, survey = tiny_survey
    year = observed(engine)
    lift = engine.lift(Scenario("cap", (lever("i2", "cap", 1),), year=year))
    rows = survey.frame.query("channel == 'ch1' and year == @year").dropna(subset=["i2"])
    w = rows["weight"].to_numpy()
    expected = np.sum(w * (np.minimum(rows["i2"], 1) - rows["i2"])) / w.sum()
    got = float(lift["influencer_change"].sel(channel="ch1", influencer="i2"))
    assert got == pytest.approx(expected, rel=1e-9)
    assert got < 0


def test_next_year_is_wider_than_an_observed_year(engine):
    levers = (lever("d1", "shift", 1.0, kind="driver"),)
    now = engine.lift(Scenario("now", levers, year=observed(engine)))
    nxt = engine.lift(Scenario("next", levers))
    assert nxt.attrs["year"] == observed(engine) + 1
    assert float(nxt["company"].std()) > float(now["company"].std())


def test_extrapolation_is_warned_about_by_name(engine):
    lift = engine.lift(Scenario("far", (lever("i2", "shift", 50, channels=("ch1",)),)))
    assert lift.attrs["warnings"] and "Influencer 2 in Channel 1" in lift.attrs["warnings"][0]
    assert "outside the range observed there" in lift.attrs["warnings"][0]
    quiet = engine.lift(Scenario("near", (lever("i2", "cap", 1),)))
    assert quiet.attrs["warnings"] == []


@pytest.mark.parametrize(
    ("baseline", "lift", "expected"),
    [
        (9.39, 1.31, "10.70 (9.39 now, +1.31) is above the top of the rating scale [1, 10]"),
        (9.39, 0.2, "9.59 (9.39 now, +0.20) is within 0.45 points of the top"),
        (1.3, -0.5, "0.80 (1.30 now, -0.50) is below the bottom of the rating scale [1, 10]"),
        (1.3, -0.2, "is within 0.45 points of the bottom"),
        (9.39, -0.2, None),  # moving away from the end it is near
        (6.0, 0.5, None),
        (9.5, 0.0, None),
    ],
)
def test_a_forecast_off_or_near_the_end_of_the_scale_is_warned_about(baseline, lift, expected):
    warnings = scale_warnings(["Phone"], np.array([baseline]), np.array([lift]), (1, 10))
    if expected is None:
        assert warnings == []
    else:
        assert len(warnings) == 1 and warnings[0].startswith("Phone: the forecast mean")
        assert expected in warnings[0] and "overstated" in warnings[0]


def test_fast_path_agrees_with_pymc_posterior_predictive(tiny_model):
    from scenario_reference import simulate_rows

    scenario = Scenario(
        "ref",
        (
            lever("i2", "cap", 1),
            lever("i1", "share", 0.2, channels=("ch2",)),
            lever("d1", "shift", 0.4, kind="driver"),
        ),
        year=2022,
    )
    fast = simulate(tiny_model, scenario)
    slow = simulate_rows(tiny_model, scenario, n_per_channel=4000, seed=3)
    for channel in fast["channel"].to_numpy():
        f = fast["total"].sel(channel=channel).to_numpy()
        s = slow["total"].sel(channel=channel).to_numpy()
        se = float(slow["se"].sel(channel=channel))
        # every draw agrees within Monte Carlo error of sampling respondents
        assert abs(f.mean() - s.mean()) < 4 * se + 1e-9
        assert np.corrcoef(f, s)[0, 1] > 0.95
        # top-box uses a normal predictive; the row simulation is the check (1.5 points of share)
        assert (
            abs(
                float(fast["top_box"].sel(channel=channel).mean())
                - float(slow["top_box"].sel(channel=channel).mean())
            )
            < 0.015
        )


def test_interval_covers_the_true_lift_on_known_truth(tiny_model, tiny_survey):
    truth = tiny_survey[0]
    engine = ScenarioEngine(tiny_model)
    year = 2022
    covered = []
    for levers in [
        (lever("i2", "cap", 1),),
        (lever("i1", "share", 0.1),),
        (lever("i2", "shift", 1),),
        (lever("i2", "scale", 0.5), lever("i1", "share", 0.3)),
        (lever("d1", "shift", 1.0, kind="driver"),),
        (lever("d2", "set", 6.0, kind="driver"),),
    ]:
        lift = engine.lift(Scenario("truth", levers, year=year))
        summary = summarize_lift(lift, ci=0.9)
        dz, dx = lift["influencer_change"], lift["driver_change"]
        w = truth["weights"].sel(year=year).fillna(0)
        unit = (w * truth["effects"].fillna(0)).sum("driver") + truth["direct"].fillna(0)
        true_lift = (unit * dz).sum("influencer") + (w * dx).sum("driver")
        for entry in summary.channels:
            truth_c = float(true_lift.sel(channel=entry.channel))
            covered.append(entry.lift.lo <= truth_c <= entry.lift.hi)
    # intervals share coefficients, so misses come in clusters; 70% guards against a broken
    # engine (wrong sign, year or volume gives near-zero coverage) without flaking on one dataset
    assert np.mean(covered) >= 0.7, covered


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"lever": [{"influencer": "i2", "cap": 1, "shift": 2}]}, "needs exactly one operation"),
        ({"lever": [{"influencer": "i1", "share": 1.4}]}, "share must be between 0 and 1"),
        ({"lever": [{"influencer": "i2", "cpa": 1}]}, "unknown key 'cpa' (did you mean 'cap'?)"),
        ({"lever": [{"cap": 1}]}, "name exactly one of influencer"),
        ({"nmae": "x"}, "unknown key 'nmae' (did you mean 'name'?)"),
        ({"lever": [{"influencer": "i2", "cap": float("nan")}]}, "cap must be a finite number"),
        ({"lever": [{"influencer": "i2", "scale": -1}]}, "scale must be 0 or more"),
    ],
)
def test_malformed_scenarios_are_rejected(raw, expected):
    with pytest.raises(ScenarioError, match=re.escape(expected)):
        parse_scenario(raw, source="s.toml")


@pytest.mark.parametrize(
    ("levers", "year", "expected"),
    [
        ((lever("i_2", "cap", 1),), None, "unknown influencer (did you mean 'i2'?)"),
        ((lever("d1", "cap", 1),), None, "unknown influencer ('d1' is a driver"),
        (
            (lever("d3", "shift", 1, kind="driver", channels=("ch2",)),),
            None,
            "not measured in channel 'ch2'",
        ),
        ((lever("i2", "share", 0.5),), None, "share applies to binary influencers only"),
        ((lever("i2", "cap", 1, channels=("ch9",)),), None, "unknown channel 'ch9'"),
        ((lever("i2", "cap", 1),), 2030, "year 2030 is outside what the model can speak for"),
        ((lever("i2", "cap", -3),), None, "cap = -3 is below 0, but counts are 0 or more"),
        ((lever("i1", "floor", 2),), None, "floor = 2 is outside 0-1"),
    ],
)
def test_scenarios_are_checked_against_the_model(engine, levers, year, expected):
    with pytest.raises(ScenarioError) as info:
        engine.lift(Scenario("bad", levers, year=year))
    assert expected in str(info.value)


def test_a_scenario_file_without_levers_is_an_error(tmp_path):
    path = tmp_path / "empty.toml"
    path.write_text('name = "Nothing yet"\n')
    with pytest.raises(
        ScenarioError, match=r"empty\.toml: no levers; add at least one \[\[lever\]\]"
    ):
        load_scenario(path)


def test_scenario_round_trips_through_toml(tmp_path):
    scenario = Scenario(
        "Plan",
        (lever("i2", "cap", 3, channels=("ch1",)), lever("d1", "shift", 0.5, kind="driver")),
        year=2023,
        description="x",
    )
    path = tmp_path / "plan.toml"
    path.write_text(scenario.to_toml())
    assert load_scenario(path) == scenario


def test_demo_scenarios_parse(demo_paths):
    files = sorted(demo_paths["scenarios"].glob("*.toml"))
    assert len(files) >= 4
    names = {load_scenario(f).name for f in files}
    assert "Cap IVR prompts at 3" in names


def test_priority_map_marks_fix_first_only_for_low_performers(tiny_model):
    pmap = priority_map(tiny_model, channel="ch1")
    table = pmap.to_frame()
    assert set(table["channel"]) == {"ch1"}
    assert (table.loc[~table["low_performance"], "p_fix_first"] == 0).all()
    fix = table[table["quadrant"] == "fix first"]
    assert (fix["p_fix_first"] >= 0.5).all()
    assert table["p_high_importance"].between(0, 1).all()


def test_priority_quadrant_zone_and_probability_follow_one_rule(tiny_model):
    """Each point's quadrant is where it is drawn against its channel-year borders, and its
    P(important) is the posterior share of weights above the same border."""
    pmap = priority_map(tiny_model)
    weights = tiny_model.draws("weights")
    assert {(b.channel, b.year) for b in pmap.borders} == {(p.channel, p.year) for p in pmap.points}
    for point in pmap.points:
        border = pmap.border(point.channel, point.year)
        high = point.median > border.importance
        low = point.performance < border.performance
        assert point.quadrant == QUADRANTS[(high, low)]
        in_zone = high and low  # the shaded box: above the importance and left of performance
        assert (point.quadrant == "fix first") == in_zone
        draws = weights.sel(channel=point.channel, year=point.year, driver=point.driver).to_numpy()
        assert point.p_high_importance == pytest.approx(np.mean(draws > border.importance))
        if high:
            assert point.p_high_importance >= 0.5
    assert pmap.select(channel="ch1").to_dict()["points"][0]["channel"] == "ch1"


def test_simulate_command_json_shape_and_side_by_side(tiny_model_path, tmp_path):
    a = tmp_path / "a.toml"
    a.write_text('name = "Cap"\n[[lever]]\ninfluencer = "i2"\ncap = 1\n')
    b = tmp_path / "b.toml"
    b.write_text('name = "Shift"\n[[lever]]\ndriver = "d1"\nshift = 0.5\n')
    runner = CliRunner()
    result = runner.invoke(
        app,
        ["simulate", str(tiny_model_path), "--scenario", str(a), "--format", "json", "--ci", "0.8"],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert set(data) >= {"scenario", "year", "ci", "total", "channels", "top_box", "warnings"}
    assert data["ci"] == 0.8 and set(data["total"]) == {"mean", "lo", "hi", "p_positive"}
    assert set(data["channels"]["ch1"]) >= {"mean", "lo", "hi", "p_positive", "direct", "indirect"}
    both = runner.invoke(
        app, ["simulate", str(tiny_model_path), "--scenario", str(a), "--scenario", str(b)]
    )
    assert both.exit_code == 0 and "Cap (" in both.output and "Shift (" in both.output


def test_simulate_command_errors_are_one_line(tiny_model_path, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[[lever]]\ninfluencer = "i9"\ncap = 1\n')
    result = CliRunner().invoke(app, ["simulate", str(tiny_model_path), "--scenario", str(bad)])
    assert (
        result.exit_code == 2
        and "unknown influencer" in result.output
        and "Traceback" not in result.output
    )
    missing = CliRunner().invoke(
        app, ["simulate", str(tiny_model_path), "--scenario", str(tmp_path / "no.toml")]
    )
    assert missing.exit_code == 2 and "scenario file not found" in missing.output
    ci = CliRunner().invoke(
        app, ["simulate", str(tiny_model_path), "--scenario", str(bad), "--ci", "90"]
    )
    assert ci.exit_code == 2 and "--ci must be a probability" in ci.output
