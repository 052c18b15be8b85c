"""Driver paths in effect: scenarios propagate through the paths, total effects, the summary's
paths, total effects and relative importance, the app's tables and the brief's path lines."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from whatif.analysis.effects import (
    driver_effects_frame,
    path_rows,
    propagator,
    total_effect_rows,
    total_effects,
)
from whatif.analysis.engine import ScenarioEngine
from whatif.analysis.scenario import Lever, Scenario
from whatif.analysis.summary import summarize

#: d1 -> d2 and d2 -> d3: a lever on d1 reaches d3 only through d2.
PATHS = (("d2", "d1"), ("d3", "d2"))


@pytest.fixture(scope="module")
def path_model():
    """Two channels x two years, three drivers (d3 not measured in ch2), two influencers and a
    chain of two paths: a quick fit, enough to check the arithmetic."""
    from whatif.data.aggregate import aggregate
    from whatif.data.survey import validate_frame
    from whatif.fitting.fit import fit_model
    from whatif.synthetic import random_truth, simulate_survey, spec_for

    truth = random_truth(n_channels=2, n_years=2, n_drivers=3, n_influencers=2, seed=5, paths=PATHS)
    frame = simulate_survey(truth, 300, seed=6, round_to_scale=False)
    spec = dataclasses.replace(spec_for(truth), scale=(-100.0, 100.0))
    data = aggregate(validate_frame(frame, spec))
    return fit_model(data, spec, draws=100, tune=200, chains=2, seed=2)


@pytest.fixture(scope="module")
def path_artefact(path_model, tmp_path_factory):
    from whatif.fitting.artefact import save_model

    return save_model(path_model, tmp_path_factory.mktemp("models") / "paths")


@pytest.fixture(scope="module")
def engine(path_model):
    return ScenarioEngine(path_model)


def _driver(target, shift, channels=None):
    return Lever(target, "driver", "shift", shift, channels=channels)


def _by_hand(model):
    """Weights (S, C, T, K), own-equation effects (S, C, K, J), direct (S, C, J) and the path
    matrix B (S, C, K, K) straight from the posterior, NaN -> 0, B built edge by edge."""
    drivers = model.spec.driver_ids
    weights = np.nan_to_num(model.draws("weights").to_numpy())
    effects = np.nan_to_num(model.draws("effects").to_numpy())
    direct = np.nan_to_num(model.draws("direct").to_numpy())
    paths = model.draws("paths")
    b = np.zeros(weights.shape[:2] + (len(drivers), len(drivers)))
    for e, (k, s) in enumerate(zip(paths["target"].values, paths["source"].values, strict=True)):
        b[:, :, drivers.index(k), drivers.index(s)] = np.nan_to_num(paths.values[:, :, e])
    return weights, effects, direct, b


def test_propagator_is_the_inverse_of_i_minus_b():
    rng = np.random.default_rng(0)
    b = np.tril(rng.normal(size=(4, 5, 5)), k=-1)
    want = np.linalg.inv(np.eye(5) - b)
    np.testing.assert_allclose(propagator(b), want, atol=1e-12)
    assert np.array_equal(propagator(np.zeros((2, 3, 3))), np.broadcast_to(np.eye(3), (2, 3, 3)))


def test_a_driver_lever_moves_satisfaction_by_its_total_effect(path_model, engine):
    """Per draw, a shift of d1 by d in ch1 moves satisfaction by w' (I - B)^-1 e_1 d, with
    (I - B)^-1 from numpy's inverse of the posterior's paths; all of it through the drivers."""
    weights, _, _, b = _by_hand(path_model)
    year = engine.years[-1]
    lift = engine.lift(Scenario("d1", (_driver("d1", 0.5, ("ch1",)),), year=year))
    inverse = np.linalg.inv(np.eye(3) - b[:, 0])  # (S, K, K)
    want = np.einsum("sk,sk->s", weights[:, 0, -1], inverse[:, :, 0]) * 0.5
    np.testing.assert_allclose(lift["total"].sel(channel="ch1").to_numpy(), want, atol=1e-10)
    np.testing.assert_array_equal(lift["direct"].to_numpy(), 0.0)
    np.testing.assert_array_equal(lift["total"].sel(channel="ch2").to_numpy(), 0.0)
    # the paths matter: the weight alone is not the answer
    alone = weights[:, 0, -1, 0] * 0.5
    assert np.abs(want - alone).mean() > 1e-3
    # and the total effect the summary reports is the same number
    total = total_effects(path_model).sel(channel="ch1", year=year, driver="d1").to_numpy()
    np.testing.assert_allclose(total * 0.5, want, atol=1e-10)


def test_an_influencer_lever_propagates_along_the_chain(path_model, engine):
    """The count influencer i2 shifted by 1 in ch1, propagated by hand: d1 by its effect, d2 by
    its own plus the path from d1, d3 by its own plus the path from d2."""
    weights, effects, direct, b = _by_hand(path_model)
    year = engine.years[-1]
    lift = engine.lift(
        Scenario("i2", (Lever("i2", "influencer", "shift", 1.0, channels=("ch1",)),), year=year)
    )
    dz = float(lift["influencer_change"].sel(channel="ch1", influencer="i2"))
    assert dz == pytest.approx(1.0)
    j = 1
    d1 = effects[:, 0, 0, j] * dz
    d2 = effects[:, 0, 1, j] * dz + b[:, 0, 1, 0] * d1
    d3 = effects[:, 0, 2, j] * dz + b[:, 0, 2, 1] * d2
    w = weights[:, 0, -1]
    via = w[:, 0] * d1 + w[:, 1] * d2 + w[:, 2] * d3
    got = lift.sel(channel="ch1")
    np.testing.assert_allclose(got["direct"].to_numpy(), direct[:, 0, j] * dz, atol=1e-10)
    np.testing.assert_allclose(got["indirect"].to_numpy(), via, atol=1e-10)
    np.testing.assert_allclose(got["total"].to_numpy(), direct[:, 0, j] * dz + via, atol=1e-10)


def test_with_the_paths_at_zero_the_engine_is_the_one_without_paths(path_model):
    """B = 0: every lift is the engine without paths (w' Gamma dz + delta dz + w' dx)."""
    zero = path_model.posterior.assign(paths=path_model.posterior["paths"] * 0.0)
    flat = ScenarioEngine(dataclasses.replace(path_model, posterior=zero))
    weights, effects, direct, _ = _by_hand(path_model)
    year = flat.years[-1]
    scenario = Scenario(
        "both",
        (Lever("i2", "influencer", "shift", 1.0), _driver("d1", 0.3), _driver("d2", -0.2)),
        year=year,
    )
    lift = flat.lift_arrays(scenario)
    dz, dx = lift["influencer_change"], lift["driver_change"]
    w = weights[:, :, -1]
    want = (
        np.einsum("sck,sckj,cj->sc", w, effects, dz)
        + np.einsum("scj,cj->sc", direct, dz)
        + np.einsum("sck,ck->sc", w, dx)
    )
    np.testing.assert_allclose(lift["total"], want, atol=1e-12)


def test_without_paths_the_engine_is_unchanged(tiny_model):
    """A model without paths: the same arrays as before paths existed, exactly."""
    engine = ScenarioEngine(tiny_model)
    assert engine._propagate is None  # noqa: SLF001 - nothing propagated without paths
    arrays = engine.year_arrays(engine.years[-1])
    assert arrays.total_weights is arrays.weights
    weights = np.nan_to_num(tiny_model.draws("weights").to_numpy())[:, :, -1]
    effects = np.nan_to_num(tiny_model.draws("effects").to_numpy())
    direct = np.nan_to_num(tiny_model.draws("direct").to_numpy())
    want = np.einsum("sck,sckj->scj", weights, effects) + direct
    assert np.array_equal(arrays.unit_lift, want)
    total = total_effects(tiny_model)
    assert total.equals(tiny_model.draws("weights").transpose(*total.dims))
    assert path_rows(tiny_model) == []


def test_summary_has_paths_total_effects_and_relative_importance(path_model):
    result = summarize(path_model, ci=0.8)
    for key in ("weights", "effects", "direct", "importance", "r2", "diagnostics"):
        assert key in result
    paths = result["paths"]
    # d3 is not measured in ch2: its path is left out there
    assert {(r["channel"], r["driver"], r["source"]) for r in paths} == {
        ("ch1", "d2", "d1"),
        ("ch1", "d3", "d2"),
        ("ch2", "d2", "d1"),
    }
    for row in paths:
        assert set(row) == {"channel", "driver", "source", "mean", "lo", "hi"}
        assert row["lo"] <= row["mean"] <= row["hi"]
    draws = path_model.draws("paths").sel(channel="ch1", edge="d1 -> d2")
    row = next(r for r in paths if r["channel"] == "ch1" and r["driver"] == "d2")
    assert row["mean"] == pytest.approx(float(draws.mean()))
    assert row["lo"] == pytest.approx(float(draws.quantile(0.1)))

    totals = result["total_effects"]
    assert totals == total_effect_rows(path_model, 0.8)
    assert len(totals) == len(result["weights"])
    for row in totals:
        assert set(row) == {"channel", "year", "driver", "mean", "lo", "hi"}
    # d3 is the end of the chain: its total effect is its weight
    weights = {(r["channel"], r["year"], r["driver"]): r["mean"] for r in result["weights"]}
    for row in totals:
        if row["driver"] == "d3":
            assert row["mean"] == pytest.approx(weights[(row["channel"], row["year"], "d3")])

    shares = result["relative_importance"]
    assert shares and set(shares[0]) == {"channel", "year", "driver", "mean", "lo", "hi"}
    sums: dict = {}
    for row in shares:
        key = (row["channel"], row["year"])
        sums[key] = sums.get(key, 0.0) + row["mean"]
    assert len(sums) == 4
    for value in sums.values():
        assert value == pytest.approx(1.0, abs=1e-6)


def test_the_summary_command_prints_the_new_keys_and_sections(path_artefact):
    import json

    from typer.testing import CliRunner

    from whatif.cli import app

    runner = CliRunner()
    out = runner.invoke(app, ["summary", str(path_artefact), "--format", "json"])
    assert out.exit_code == 0, out.output
    result = json.loads(out.stdout)
    assert len(result["paths"]) == 3
    assert result["total_effects"] and result["relative_importance"]
    text = runner.invoke(app, ["summary", str(path_artefact)]).stdout
    assert "Driver paths" in text
    assert "Total effects on satisfaction" in text
    assert "Johnson's relative weights" in text


def test_driver_effects_frame_is_the_last_year_of_weights_and_total_effects(path_model):
    frame = driver_effects_frame(path_model, ci=0.8)
    year = int(path_model.aggregates["year"].to_numpy()[-1])
    totals = {
        (r["channel"], r["driver"]): r
        for r in total_effect_rows(path_model, 0.8)
        if r["year"] == year
    }
    assert set(zip(frame["channel"], frame["driver"], strict=True)) == set(totals)
    for row in frame.itertuples():
        want = totals[(row.channel, row.driver)]
        assert row.total == pytest.approx(want["mean"])
        assert row.total_lo == pytest.approx(want["lo"])
        assert row.weight_lo <= row.weight <= row.weight_hi
    np.testing.assert_allclose(frame.groupby("channel")["share"].sum(), 1.0, atol=1e-6)


def _path_line(model, row) -> str:
    from whatif.report.format import interval, points

    label = model.spec.label_of
    estimate = f"{points(row['mean'])} {interval(row['lo'], row['hi'], style='brackets')}"
    return f"{label(row['source'])} -> {label(row['driver'])}: {estimate}"


def test_the_app_shows_total_effects_and_paths(path_model, path_artefact):
    from whatif.app.bundle import load_bundle
    from whatif.app.views.weights import effects_tables

    bundle = load_bundle(path_artefact)
    frame = bundle.paths_frame(0.9)
    assert len(frame) == 3 and set(frame["channel"]) == {"ch1", "ch2"}
    assert bundle.driver_effects_frame(0.9) is bundle.driver_effects_frame(0.9)  # cached
    html = effects_tables(bundle, "ch1", 0.9)
    assert "Total effect" in html and "Relative importance" in html and "Paths" in html
    row = next(r for r in path_rows(path_model, 0.9) if r["channel"] == "ch1")
    source, rest = _path_line(path_model, row).split(" -> ")
    effect = rest.split(": ")[1]
    assert f"<td>{source}</td>" in html and effect in html
    assert "Paths" not in effects_tables(bundle, "nowhere", 0.9)

    from whatif.app.state import PlannerState
    from whatif.app.views.weights import WeightsPanel

    state = PlannerState(bundle)
    panel = WeightsPanel(state)
    assert panel._tables.object == effects_tables(bundle, state.focus_channel, state.ci)  # noqa: SLF001


def test_the_brief_lists_the_paths_next_to_total_effects(path_model):
    import html as html_lib

    from whatif.report.brief import render_html
    from whatif.report.format import points

    model = dataclasses.replace(
        path_model, spec=dataclasses.replace(path_model.spec, scale=(1, 10))
    )
    scenario = Scenario("attention", (_driver("d1", 0.3, ("ch1",)),))
    page = html_lib.unescape(render_html(model, [scenario], ci=0.9))
    for row in path_rows(model, 0.9):
        if row["channel"] == "ch1":
            assert _path_line(model, row) in page
    assert "total effect" in page
    last = int(model.aggregates["year"].to_numpy()[-1])
    for row in total_effect_rows(model, 0.9):
        if row["channel"] == "ch1" and row["year"] == last:  # all three drivers are shown
            assert f"total {points(row['mean'])})" in page
