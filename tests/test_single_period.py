"""A survey without channel and year columns, with a single driver and no influencers: one
period, so scenarios are for that period (no forecast year) and no text prints a year."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from whatif.cli import app

runner = CliRunner()

SPEC = """[survey]
outcome = "sat"

[drivers.ease]
column = "ease"
label = "Ease of contact"
"""


@pytest.fixture(scope="module")
def single(tmp_path_factory):
    """600 answers on a 1-10 scale (satisfaction linear in one rated driver), fitted through
    ``whatif fit``, and a scenario raising the driver by one point."""
    folder = tmp_path_factory.mktemp("single_period")
    rng = np.random.default_rng(7)
    ease = np.clip(np.round(rng.normal(6.5, 1.6, 600)), 1, 10)
    sat = np.clip(np.round(2.0 + 0.6 * ease + rng.normal(0, 1.0, 600)), 1, 10)
    survey = folder / "survey.csv"
    pd.DataFrame({"sat": sat, "ease": ease}).to_csv(survey, index=False)
    spec = folder / "spec.toml"
    spec.write_text(SPEC)
    model = folder / "model"
    fitted = runner.invoke(
        app,
        ["fit", str(survey), "--spec", str(spec), "--out", str(model)]
        + ["--draws", "200", "--tune", "200", "--chains", "2", "--seed", "1"],
    )
    assert fitted.exit_code == 0, fitted.output
    scenario = folder / "easier.toml"
    scenario.write_text('name = "Easier"\n[[lever]]\ndriver = "ease"\nshift = 1.0\n')
    return {"model": model, "scenario": scenario, "survey": survey, "spec": spec, "dir": folder}


def invoke(*args):
    result = runner.invoke(app, [str(a) for a in args])
    assert "Traceback" not in result.output
    return result


def run(*args):
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    return result


def test_the_default_scenario_year_is_the_survey_period(single):
    """No random-walk step into an invented next year: the default is the observed period."""
    from whatif.analysis.engine import ScenarioEngine
    from whatif.analysis.scenario import load_scenario
    from whatif.fitting.artefact import load_model

    fitted = load_model(single["model"])
    assert fitted.single_period and fitted.years == [0]
    engine = ScenarioEngine(fitted)
    assert engine.default_year == 0
    scenario = load_scenario(single["scenario"])
    default = engine.lift(scenario)
    observed = engine.lift(scenario.__class__(scenario.name, scenario.levers, year=0))
    assert default.attrs["year"] == 0 and default.attrs["observed_year"] == 1
    np.testing.assert_array_equal(default["company"], observed["company"])


def test_check_prints_responses_per_channel_without_a_year(single):
    out = run("check", single["survey"], "--spec", single["spec"]).stdout
    assert "Responses per channel:" in out and "and year" not in out


def test_summary_prints_no_year(single):
    table = run("summary", single["model"]).stdout
    assert "One survey period" in table and "Influencer effects: none" in table
    assert "channel driver" in table and not re.search(r"^\s*channel\s+year", table, re.M)
    data = json.loads(run("summary", single["model"], "--format", "json").stdout)
    assert data["single_period"] is True and data["effects"] == [] and data["direct"] == []
    assert [row["year"] for row in data["weights"]] == [0]


def test_simulate_labels_the_survey_period(single):
    args = ("simulate", single["model"], "--scenario", single["scenario"])
    table = run(*args).stdout
    assert "Easier (survey period)" in table and "(1)" not in table and "(0)" not in table
    data = json.loads(run(*args, "--format", "json").stdout)
    assert data["year"] == 0 and data["single_period"] is True
    assert data["total"]["mean"] > 0


def test_a_year_in_a_scenario_or_option_is_a_one_line_error(single):
    dated = single["dir"] / "dated.toml"
    dated.write_text('name = "x"\nyear = 2026\n[[lever]]\ndriver = "ease"\nshift = 1\n')
    result = invoke("simulate", single["model"], "--scenario", dated)
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        f"error: {dated}: year 2026: the survey has no year column, so the model knows one "
        "period and scenarios are for it; leave 'year' out"
    ]
    option = invoke("priorities", single["model"], "--year", "2026")
    assert option.exit_code == 2 and "leave --year out" in option.stderr


def test_priorities_print_no_year(single):
    table = run("priorities", single["model"]).stdout
    assert "ease" in table and "year" not in table.splitlines()[0]
    rows = json.loads(run("priorities", single["model"], "--format", "json").stdout)
    assert [r["year"] for r in rows] == [0]


def test_brief_speaks_of_the_survey_period(single):
    out = single["dir"] / "brief.html"
    run("brief", single["model"], "--scenario", single["scenario"], "--out", out)
    html = out.read_text()
    assert "in the survey period" in html and "Survey period" in html
    assert "Scenario year" not in html and "Survey years" not in html
    assert "(forecast)" not in html and "0&#39;s" not in html and "0's" not in html


def test_planner_offers_the_survey_period_only(single):
    from whatif.app.bundle import clear_cache, load_bundle
    from whatif.app.state import PlannerState

    clear_cache()
    bundle = load_bundle(single["model"])
    assert bundle.single_period and bundle.next_year == 0
    assert bundle.year_label(0) == "Survey period" and bundle.in_year(0) == "in the survey period"
    assert list(bundle.responses_frame().columns) == ["Survey period"]
    state = PlannerState(bundle)
    assert state.year_options == {"Survey period": 0} and state.year == 0
    state.set_lever("ease", "shift", 1.0)
    assert state.error == "" and state.forecast.total.mean > 0
    assert state.current_scenario().year is None
    assert state.comparison_frame().loc["Year"].tolist() == ["Survey period"]
