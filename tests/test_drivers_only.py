"""A survey of drivers only (no ``[influencers]``), end to end: fit, summary, simulate,
priorities, brief, compare and the planner, each with an empty influencer dimension."""

from __future__ import annotations

import json

import pytest
import tomli_w
from typer.testing import CliRunner

from whatif.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def drivers_only(tmp_path_factory):
    """Two channels x two years, three drivers, no influencers: a CSV, its spec, a fit through
    ``whatif fit`` and a third year's responses kept out of the fit (for the backtest)."""
    from whatif.synthetic import random_truth, simulate_survey, spec_for

    folder = tmp_path_factory.mktemp("drivers_only")
    truth = random_truth(n_channels=2, n_years=3, n_drivers=3, n_influencers=0, seed=5)
    frame = simulate_survey(truth, 300, seed=6)  # rounded and clipped to the 1-10 scale
    spec = spec_for(truth)
    assert spec.influencers == ()
    last = int(frame["year"].max())
    survey = folder / "survey.csv"
    frame[frame["year"] < last].to_csv(survey, index=False)
    spec_path = folder / "spec.toml"
    spec_path.write_text(tomli_w.dumps(spec.to_dict()))
    assert "influencers" not in spec_path.read_text()
    model = folder / "model"
    fitted = runner.invoke(
        app,
        ["fit", str(survey), "--spec", str(spec_path), "--out", str(model)]
        + ["--draws", "200", "--tune", "200", "--chains", "2", "--seed", "1"],
    )
    assert fitted.exit_code == 0, fitted.output
    scenario = folder / "better_d1.toml"
    scenario.write_text('name = "Better d1"\n[[lever]]\ndriver = "d1"\nshift = 1.0\n')
    return {"model": model, "scenario": scenario, "frame": frame, "spec": spec, "dir": folder}


def run(*args):
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    return result


def test_summary_table_and_json_have_no_influencer_rows(drivers_only):
    table = run("summary", drivers_only["model"]).stdout
    assert "Driver weights" in table and "Influencer effects: none" in table
    assert "R-squared" in table
    data = json.loads(run("summary", drivers_only["model"], "--format", "json").stdout)
    assert data["effects"] == [] and data["direct"] == [] and data["influencers"] == []
    assert {row["driver"] for row in data["weights"]} == {"d1", "d2", "d3"}
    assert data["importance"] and data["r2"]


def test_simulate_a_driver_lever(drivers_only):
    args = ("simulate", drivers_only["model"], "--scenario", drivers_only["scenario"])
    table = run(*args).stdout
    assert "Better d1 (2023)" in table and "Channel 1" in table
    data = json.loads(run(*args, "--format", "json").stdout)
    assert data["total"]["mean"] > 0 and data["single_period"] is False
    for channel in data["channels"].values():
        assert channel["direct"] == 0 and channel["indirect"] == pytest.approx(channel["mean"])


def test_priorities_table_and_json(drivers_only):
    assert "quadrant" in run("priorities", drivers_only["model"]).stdout
    rows = json.loads(run("priorities", drivers_only["model"], "--format", "json").stdout)
    assert {r["channel"] for r in rows} == {"ch1", "ch2"}


def test_brief_html_and_pdf(drivers_only):
    html = drivers_only["dir"] / "brief.html"
    run("brief", drivers_only["model"], "--scenario", drivers_only["scenario"], "--out", html)
    text = html.read_text()
    assert "Better d1" in text and "Driver 1" in text and "Priority map" in text
    pdf = drivers_only["dir"] / "brief.pdf"
    run("brief", drivers_only["model"], "--scenario", drivers_only["scenario"], "--out", pdf)
    assert pdf.read_bytes()[:5] == b"%PDF-"


def test_compare_and_backtest(drivers_only):
    from whatif.analysis.compare import backtest
    from whatif.data.aggregate import aggregate
    from whatif.data.survey import validate_frame
    from whatif.fitting.artefact import load_model

    assert "Driver weights" in run("compare", drivers_only["model"], drivers_only["model"]).stdout
    fitted = load_model(drivers_only["model"])
    later = aggregate(validate_frame(drivers_only["frame"], drivers_only["spec"]))
    rows, info = backtest(fitted, later)
    assert info["year"] == fitted.years[-1] + 1
    assert {r["channel"] for r in rows} == {"ch1", "ch2"}
    assert all(r["lo"] < r["forecast"] < r["hi"] for r in rows)


def test_planner_session(drivers_only):
    from whatif.app.bundle import clear_cache, load_bundle
    from whatif.app.state import PlannerState

    clear_cache()
    bundle = load_bundle(drivers_only["model"])
    assert {c.kind for c in bundle.controls.values()} == {"driver"}
    assert list(bundle.measured_frame()["kind"].unique()) == ["driver"]
    state = PlannerState(bundle)
    assert state.forecast.total.mean == 0
    state.set_lever("d1", "shift", 1.0)
    assert state.error == "" and state.forecast.total.mean > 0
    filename, html = state.brief_html()
    assert filename.endswith(".html") and "Driver 1" in html
