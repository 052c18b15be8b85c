"""Two scenarios on paired posterior draws: B minus A, its interval and P(B beats A), in the
analysis, in words, and in ``whatif simulate`` with a scenario saved by name."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from typer.testing import CliRunner

from whatif.analysis.difference import scenario_difference
from whatif.analysis.engine import ScenarioEngine
from whatif.analysis.library import ScenarioLibrary
from whatif.analysis.scenario import Lever, Scenario
from whatif.cli import app
from whatif.report import format as fmt
from whatif.report.difference import NO_DIFFERENCE, difference_rows

CAP = Lever("i2", "influencer", "cap", 1.0)  # the tiny model: i1 is binary, i2 a count
SHARE = Lever("i1", "influencer", "share", 0.9)


@pytest.fixture(scope="module")
def engine(tiny_model):
    return ScenarioEngine(tiny_model)


def test_b_is_a_plus_one_lever_so_the_difference_is_that_levers_lift_draw_by_draw(engine):
    first, second = Scenario("A", (CAP,)), Scenario("B", (CAP, SHARE))
    diff = scenario_difference(engine, first, second, ci=0.9)
    alone = engine.lift_arrays(Scenario("L", (SHARE,)))
    for metric, key in (("mean", "company"), ("top_box", "company_top_box")):
        truth = alone[key]
        e = diff.metric(metric)
        assert e.mean == pytest.approx(truth.mean(), abs=1e-12)
        lo, hi = np.quantile(truth, [0.05, 0.95])
        assert (e.lo, e.hi) == pytest.approx((lo, hi), abs=1e-9)
        assert e.p_positive == pytest.approx(np.mean(truth > 0))
    for c, channel in enumerate(engine.channels):
        assert diff.channel(channel).metric("mean").mean == pytest.approx(
            alone["total"][:, c].mean(), abs=1e-12
        )
    assert (diff.first, diff.second, diff.same) == ("A", "B", False)


def test_pairing_cancels_what_both_plans_share(engine):
    """With both plans pulling the same lever, unpaired draws would give a wide interval; paired,
    the difference is exactly the part only B adds (here: the lever pulled twice as far)."""
    one = Scenario("once", (Lever("i2", "influencer", "shift", -0.5),))
    two = Scenario("twice", (Lever("i2", "influencer", "shift", -1.0),))
    diff = scenario_difference(engine, one, two)
    lift_one = engine.lift_arrays(one)["company"]
    lift_two = engine.lift_arrays(two)["company"]
    assert diff.metric("mean").mean == pytest.approx(lift_one.mean())
    paired_width = diff.metric("mean").hi - diff.metric("mean").lo
    shuffled = lift_two - np.random.default_rng(0).permutation(lift_one)  # as if independent
    unpaired_width = np.subtract(*np.quantile(shuffled, [0.95, 0.05]))
    assert paired_width < unpaired_width
    assert diff.metric("mean").p_positive == pytest.approx(np.mean(lift_one > 0))


def test_a_scenario_against_itself_is_no_difference(engine):
    scenario = Scenario("A", (CAP,))
    diff = scenario_difference(engine, scenario, Scenario("A again", (CAP,)))
    assert diff.same and all(c.same for c in diff.channels)
    rows = difference_rows(diff)
    assert all(r["difference"] == NO_DIFFERENCE and r["beats"] == "" for r in rows)
    as_dict = diff.to_dict()
    assert as_dict["same"] and set(as_dict["company"]) == set(engine.rating.metrics)
    assert set(as_dict["company"]["mean"]) == {"mean", "lo", "hi", "p_beats"}


def test_rows_read_in_each_metrics_units_and_never_hide_uncertainty(engine):
    diff = scenario_difference(engine, Scenario("A", (CAP,)), Scenario("B", (CAP, SHARE)))
    rows = {r["what"]: r for r in difference_rows(diff, minus="-")}
    mean = diff.metric("mean")
    row = rows["Company mean satisfaction (points)"]
    assert row["difference"] == fmt.points(
        mean.mean, fmt.decimals(mean.mean, mean.lo, mean.hi), "-"
    )
    low, high = row["interval"].split(" to ")
    assert low != high
    assert row["beats"] == fmt.probability(mean.p_positive)
    top = rows["Company top-box share (pts)"]["difference"]
    # the tiny model's scale (-100 to 100) puts no answer in the top box: identical in every draw
    assert top == "no difference" if "top_box" in diff.same_metrics else top.endswith(" pts")
    assert len(rows) == len(diff.metrics) + len(engine.channels)


def test_simulate_prints_the_paired_difference_and_takes_saved_names(tiny_model_path, tmp_path):
    model = tmp_path / "tiny"
    shutil.copytree(tiny_model_path, model)
    library = ScenarioLibrary.for_model(model)
    library.save(Scenario("Cap only", (CAP,)), user="alice")
    library.save(Scenario("Cap and share", (CAP, SHARE)))
    result = CliRunner().invoke(
        app, ["simulate", str(model), "--scenario", "Cap only", "--scenario", "cap and share"]
    )
    assert result.exit_code == 0, result.output
    assert (
        "Difference 'Cap and share' minus 'Cap only' on the same posterior draws" in result.stdout
    )
    assert "P(beats)" in result.stdout and "Company mean satisfaction (points)" in result.stdout
    missing = CliRunner().invoke(app, ["simulate", str(model), "--scenario", "Cap onyl"])
    assert missing.exit_code == 2
    line = missing.stderr.strip()
    assert line.startswith("error: --scenario 'Cap onyl': no such file, and no saved scenario")
    assert "did you mean 'Cap only'" in line and "\n" not in line
    brief = CliRunner().invoke(
        app, ["brief", str(model), "--scenario", "Cap only", "--out", str(tmp_path / "b.html")]
    )
    assert brief.exit_code == 0, brief.output
    assert "Cap only" in (tmp_path / "b.html").read_text()
