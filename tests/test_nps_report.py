"""NPS and top-box as CX teams read them: the JSON of ``whatif simulate`` and ``whatif summary``,
tables, the brief's headline sentence and the planner lead with the spec's headline metric.

A tiny survey on a 0-10 scale (NPS reported, the headline by default) is fitted once for this
module; the session's tiny fit (conftest), read on a 1-10 scale, stands for a scale without NPS.
"""

from __future__ import annotations

import dataclasses
import json
import re

import numpy as np
import pytest
from typer.testing import CliRunner

from whatif.analysis.engine import ScenarioEngine, summarize_lift
from whatif.analysis.results import Estimate, LiftSummary
from whatif.analysis.scenario import Lever, Scenario
from whatif.analysis.summary import summarize
from whatif.app.bundle import load_bundle
from whatif.app.outcomes import forecast_table
from whatif.app.state import PlannerState
from whatif.cli import app
from whatif.data.rating import LIKELIHOODS
from whatif.report import format as fmt
from whatif.report.brief import render_html
from whatif.report.brief_content import build_brief, headline
from whatif.report.metrics import lift_texts, ordered_metrics
from whatif.report.terminal import lift_report

SHIFT = Scenario("Better d1", (Lever("d1", "driver", "shift", 0.5),))
NOTHING = Scenario("Nothing", (Lever("d1", "driver", "shift", 0.0),))


@pytest.fixture(scope="module")
def nps_model(tmp_path_factory):
    """A tiny survey on 0-10 (2 channels x 2 years, answers piled near the top), fitted quickly
    and saved: ``(model, path)``."""
    from whatif.data.aggregate import aggregate
    from whatif.data.survey import validate_frame
    from whatif.fitting.artefact import save_model
    from whatif.fitting.fit import fit_model
    from whatif.synthetic import random_truth, simulate_survey, spec_for

    truth = random_truth(n_channels=2, n_years=2, n_drivers=2, n_influencers=2, seed=5)
    frame = simulate_survey(truth, 200, seed=6, round_to_scale=False)
    spec = dataclasses.replace(spec_for(truth), scale=(0.0, 10.0))
    for column in [spec.outcome] + [c for d in spec.drivers for c in d.columns]:
        frame[column] = np.clip(np.rint(frame[column] + 2.0), 0, 10)  # most answers 8 to 10
    model = fit_model(
        aggregate(validate_frame(frame, spec)),
        spec,
        draws=100,
        tune=150,
        chains=2,
        seed=1,
        fingerprint="nps",
        source="nps",
    )
    return model, save_model(model, tmp_path_factory.mktemp("models") / "nps")


@pytest.fixture(scope="module")
def one_to_ten(tiny_model):
    """The session's tiny fit read on a 1-10 scale: mean leads, no NPS."""
    spec = dataclasses.replace(tiny_model.spec, scale=(1.0, 10.0))
    return dataclasses.replace(tiny_model, spec=spec, name="tiny")


def _with_rating(model, **keys):
    return dataclasses.replace(model, spec=dataclasses.replace(model.spec, **keys))


def _run(*args) -> str:
    result = CliRunner().invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result.output


def _headings(text: str) -> list[str]:
    return re.findall(r"^(\S.*) lift in .* \(mean \[", text, re.M)


# -- simulate --------------------------------------------------------------------------------


def test_simulate_json_has_top_box_and_nps_as_the_issue_says(nps_model, tmp_path):
    model, path = nps_model
    scenario = tmp_path / "s.toml"
    scenario.write_text(SHIFT.to_toml())
    data = json.loads(_run("simulate", path, "--scenario", scenario, "--format", "json"))
    assert set(data["top_box"]) == {"total"} and set(data["nps"]) == {"total"}
    assert set(data["top_box"]["total"]) == {"mean", "lo", "hi"}
    assert set(data["nps"]["total"]) == {"mean", "lo", "hi", "p_positive"}
    for channel in data["channels"].values():
        assert set(channel["top_box"]) == {"mean", "lo", "hi"}
        assert set(channel["nps"]) == {"mean", "lo", "hi", "p_positive"}
    # the numbers are the engine's: NPS in points, top-box as a share
    arrays = ScenarioEngine(model).lift_arrays(SHIFT)
    assert data["nps"]["total"]["mean"] == pytest.approx(arrays["company_nps"].mean())
    assert data["top_box"]["total"]["mean"] == pytest.approx(arrays["company_top_box"].mean())
    assert data["channels"]["ch1"]["nps"]["p_positive"] == pytest.approx(
        np.mean(arrays["nps"][:, 0] > 0)
    )
    assert 0 < data["top_box"]["total"]["mean"] < 1 < data["nps"]["total"]["mean"]


def test_simulate_json_without_nps_on_a_scale_that_reports_none(tiny_model_path, tmp_path):
    scenario = tmp_path / "s.toml"
    scenario.write_text(SHIFT.to_toml())
    data = json.loads(_run("simulate", tiny_model_path, "--scenario", scenario, "--format", "json"))
    assert "nps" not in data and all("nps" not in c for c in data["channels"].values())
    assert set(data["top_box"]["total"]) == {"mean", "lo", "hi"}


def test_the_table_leads_with_nps_on_0_to_10(nps_model, tmp_path):
    model, path = nps_model
    scenario = tmp_path / "s.toml"
    scenario.write_text(SHIFT.to_toml())
    text = _run("simulate", path, "--scenario", scenario)
    assert _headings(text) == ["NPS", "Top-box share (9-10)", "Mean satisfaction"]
    assert text.startswith("NPS lift in NPS points (mean [90% interval]):")
    nps = summarize_lift(ScenarioEngine(model).lift(SHIFT), 0.9, flagged=model.flagged).nps
    company = re.search(r"^company +(.*)$", text, re.M).group(1)
    assert company.startswith(f"{fmt.signed(nps.mean, 1, '-')} [")
    assert f"P>0 {fmt.probability(nps.p_positive)}" in company


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        ({}, ["Mean satisfaction", "Top-box share (9-10)"]),
        ({"headline": "top_box"}, ["Top-box share (9-10)", "Mean satisfaction"]),
        ({"bottom_box": 6}, ["Mean satisfaction", "Top-box share (9-10)", "NPS"]),
        (
            {"bottom_box": 6, "headline": "nps"},
            ["NPS", "Top-box share (9-10)", "Mean satisfaction"],
        ),
        ({"top_box": 10, "headline": "top_box"}, ["Top-box share (10)", "Mean satisfaction"]),
    ],
)
def test_the_table_follows_the_headline_of_a_1_to_10_spec(one_to_ten, keys, expected):
    model = _with_rating(one_to_ten, **keys)
    summary = summarize_lift(ScenarioEngine(model).lift(SHIFT), 0.9)
    assert _headings(lift_report([summary], model)) == expected


def test_a_lever_that_changes_nothing_gives_exactly_zero_on_every_metric(nps_model, one_to_ten):
    for model in (nps_model[0], one_to_ten):
        arrays = ScenarioEngine(model).lift_arrays(NOTHING)
        for key in ("company", "company_top_box", "total", "top_box"):
            assert np.all(arrays[key] == 0), key
        summary = summarize_lift(ScenarioEngine(model).lift(NOTHING), 0.9)
        for metric in model.spec.rating.metrics:
            e = summary.metric(metric)
            assert (e.mean, e.lo, e.hi) == (0.0, 0.0, 0.0), metric
            assert all(c.metric(metric).mean == 0 for c in summary.channels)
        assert "not affected" in lift_report([summary], model)
    arrays = ScenarioEngine(nps_model[0]).lift_arrays(NOTHING)
    assert np.all(arrays["company_nps"] == 0) and np.all(arrays["nps"] == 0)


# -- summary ---------------------------------------------------------------------------------


def test_summary_reports_the_baseline_of_every_metric_per_channel_and_year(nps_model):
    model, path = nps_model
    data = json.loads(_run("summary", path, "--format", "json"))
    assert data["headline"] == "nps" and data["likelihood"] in LIKELIHOODS
    rows = data["metrics"]
    assert {(r["channel"], r["year"], r["metric"]) for r in rows} == {
        (c, y, m) for c in model.channels for y in model.years for m in ("mean", "top_box", "nps")
    }
    engine = ScenarioEngine(model)
    for row in rows:
        assert set(row) == {"channel", "year", "metric", "mean", "lo", "hi"}
        draws = engine.baseline_metrics(row["year"])[row["metric"]]
        draws = draws[:, engine.channels.index(row["channel"])]
        assert row["mean"] == pytest.approx(draws.mean())
        assert row["lo"] < row["mean"] < row["hi"]
    nps = [r for r in rows if r["metric"] == "nps"]
    top = [r for r in rows if r["metric"] == "top_box"]
    assert all(-100 <= r["mean"] <= 100 for r in nps) and all(0 < r["mean"] < 1 for r in top)
    table = _run("summary", path)
    header = re.search(r"^ *channel +year +(.*)$", table, re.M).group(1)
    assert header.strip().startswith("NPS ")
    assert header.index("NPS") < header.index("Top-box share (9-10)") < header.index("Mean")
    first = rows[0]
    assert "Likelihood of the answers: " in table
    assert fmt.level("mean", first["mean"], minus="-") in table


def test_summary_on_a_scale_without_nps(one_to_ten):
    data = summarize(one_to_ten, 0.8)
    assert data["headline"] == "mean" and data["likelihood"] == "linear"
    assert {r["metric"] for r in data["metrics"]} == {"mean", "top_box"}
    assert len(data["metrics"]) == 2 * len(one_to_ten.channels) * len(one_to_ten.years)


# -- brief -----------------------------------------------------------------------------------


def test_the_brief_headline_speaks_nps_first(nps_model):
    model, _ = nps_model
    brief = build_brief(model, [SHIFT])
    nps = summarize_lift(ScenarioEngine(model).lift(SHIFT), 0.9).nps
    sentence = brief["headline"]
    verb = "raise" if nps.mean > 0 else "lower"
    assert sentence.startswith(
        f"\u201cBetter d1\u201d would {verb} NPS by {abs(nps.mean):.1f} points"
    )
    assert sentence.index("NPS") < sentence.index("9 or 10") < sentence.index("average customer")
    assert sentence.endswith(
        f"the chance that it improves NPS at all is {fmt.probability(nps.p_positive)}."
    )
    html = render_html(model, [SHIFT])
    assert '<th class="num">NPS</th>' in html and "NPS points" in html


def test_a_brief_without_nps_has_no_nps_column(one_to_ten):
    html = render_html(one_to_ten, [SHIFT])
    assert '<th class="num">NPS</th>' not in html
    assert (
        "would raise average customer satisfaction" in build_brief(one_to_ten, [SHIFT])["headline"]
    )


def test_headline_sentences_per_headline_metric():
    summary = LiftSummary(
        scenario="Calls",
        year=2026,
        ci=0.9,
        total=Estimate(0.12, 0.05, 0.2, 0.97),
        top_box=Estimate(0.031, 0.015, 0.046),
        channels=(),
        nps=Estimate(2.44, 1.1, 3.8, 0.96),
    )
    scale = {"label": "0\u201310", "top_box": "9 or 10", "metrics": ("nps", "top_box", "mean")}
    assert headline("Calls", summary, scale) == (
        "\u201cCalls\u201d would raise NPS by 2.4 points in 2026 (90% chance: between +1.1 and "
        "+3.8), raise the share of customers who answer 9 or 10 by 3.1 percentage points and "
        "raise average customer satisfaction by 0.12 points on the 0\u201310 scale; the chance "
        "that it improves NPS at all is 96%."
    )
    top_first = headline("Calls", summary, {**scale, "metrics": ("top_box", "mean")})
    assert top_first.startswith(
        "\u201cCalls\u201d would raise the share of customers who answer 9 or 10 by 3.1 "
        "percentage points in 2026 (90% chance: between +1.5 and +4.6 percentage points) and "
        "raise average customer satisfaction"
    )
    assert top_first.endswith("improves satisfaction at all is 97%.")  # read from the mean
    zero = Estimate(0.0, 0.0, 0.0, 0.0)
    none = dataclasses.replace(summary, total=zero, top_box=zero, nps=zero)
    assert headline("Calls", none, scale).startswith(
        "\u201cCalls\u201d would leave NPS, the share of customers who answer 9 or 10 and "
        "average customer satisfaction unchanged in 2026"
    )


# -- the planner -------------------------------------------------------------------------------


def test_the_planner_leads_with_nps_and_shows_every_metric(nps_model):
    model, path = nps_model
    state = PlannerState(load_bundle(path))
    assert [t.metric for t in state.metric_texts()] == ["nps", "top_box", "mean"]
    assert [t.value for t in state.metric_texts()] == ["0.0 NPS points", "0.0 pts", "0.00 points"]
    state.set_lever("d1", "shift", 0.5)
    texts = state.metric_texts()
    expected = summarize_lift(ScenarioEngine(model).lift(state.current_scenario()), state.ci)
    assert texts[0].estimate == expected.nps and texts[0].value == fmt.nps_points(expected.nps.mean)
    assert texts[0].interval == fmt.change_interval("nps", expected.nps.lo, expected.nps.hi)
    assert texts[1].probability is None  # a top-box lift carries no P(> 0)
    channel = state.metric_texts("ch2")[0]
    assert channel.estimate == expected.channel("ch2").nps
    # the levels before the change: the engine's baseline, channels weighted by volume
    engine = ScenarioEngine(model)
    year = state.lift.attrs["year"]
    base = engine.baseline_metrics(year)
    levels = state.baseline_levels()
    assert list(levels) == ["nps", "top_box", "mean"]
    assert levels["nps"] == pytest.approx((base["nps"] @ engine.volumes(year)).mean())
    assert state.baseline_levels("ch1")["top_box"] == pytest.approx(base["top_box"][:, 0].mean())
    header, rows = forecast_table(
        state.forecast, state.lift, model.spec.rating, state.bundle.channels
    )
    assert header[2:4] == ["NPS now", "NPS lift"]
    assert header[6].startswith("Top-box share (9-10) lift") and header[7].startswith("Mean")
    assert rows[0][2] == fmt.level("nps", levels["nps"]) and rows[0][3] == texts[0].value
    assert "NPS" in state.comparison_frame().index


def test_the_planner_on_a_scale_without_nps(one_to_ten):
    rating = one_to_ten.spec.rating
    summary = summarize_lift(ScenarioEngine(one_to_ten).lift(SHIFT), 0.9)
    assert ordered_metrics(rating) == ("mean", "top_box")
    texts = lift_texts(summary, rating)
    assert [t.label for t in texts] == ["Mean satisfaction", "Top-box share (9-10)"]
    assert texts[0].probability == fmt.probability(summary.total.p_positive)


def test_a_forecast_does_not_depend_on_which_year_was_asked_first(nps_model):
    """The last observed year's respondents stand for that year and the next: each year's
    answer-scale forecast uses its own coefficients' predictions, whichever year was asked
    first in the process (the engine's tables are keyed by them)."""
    from whatif.analysis.engine import ScenarioEngine

    model, _ = nps_model
    last = int(model.aggregates["year"].values[-1])
    lever = (Lever("d1", "driver", "shift", 0.5),)
    observed, forecast = Scenario("o", lever, year=last), Scenario("f", lever, year=last + 1)
    first_observed = ScenarioEngine(model)
    first_observed.lift_arrays(observed)
    after_observed = first_observed.lift_arrays(forecast)
    first_forecast = ScenarioEngine(model)
    alone = first_forecast.lift_arrays(forecast)
    for key in ("company", "company_top_box", "company_nps"):
        np.testing.assert_array_equal(after_observed[key], alone[key])
    before = ScenarioEngine(model)
    before.lift_arrays(forecast)
    np.testing.assert_array_equal(
        before.lift_arrays(observed)["company"],
        ScenarioEngine(model).lift_arrays(observed)["company"],
    )
