"""The planner's state without a browser: levers, forecast, scenarios, errors, sessions."""

from __future__ import annotations

import shutil
import time
import tomllib

import numpy as np
import pytest

from whatif.analysis.library import ScenarioLibrary
from whatif.analysis.scenario import Lever, Scenario, parse_scenario
from whatif.app.bundle import available_models, load_bundle
from whatif.app.provider import ModelProvider
from whatif.app.state import PlannerState
from whatif.app.text import slugify
from whatif.report.format import percent


@pytest.fixture(scope="module")
def bundle(tiny_model_path):
    return load_bundle(tiny_model_path)


@pytest.fixture
def library(tmp_path):
    """A team library of its own per test (the tiny model's folder is shared by the session)."""
    return ScenarioLibrary(tmp_path / "library")


@pytest.fixture
def state(bundle, library):
    return PlannerState(bundle, library=library)


def _count_and_binary(bundle):
    count = next(c for c in bundle.controls.values() if c.measure == "count")
    binary = next(c for c in bundle.controls.values() if c.measure == "binary")
    return count, binary


def test_starts_at_no_change(state, bundle):
    assert state.ready
    assert state.year == bundle.next_year
    assert state.channels == bundle.channels
    assert state.forecast.to_dict()["total"] == {
        "mean": 0.0,
        "lo": 0.0,
        "hi": 0.0,
        "p_positive": 0.0,
    }
    assert not state.has_levers
    assert state.current_scenario().levers == ()


def test_controls_pick_the_natural_operation_per_kind(bundle):
    count, binary = _count_and_binary(bundle)
    assert count.operations == ("cap", "scale")
    assert binary.operations == ("share", "shift")
    drivers = [c for c in bundle.controls.values() if c.kind == "driver"]
    assert drivers and all(c.operations == ("shift",) for c in drivers)
    # what a scenario file may also use, each with a slider range
    assert set(count.accepted) == {"cap", "scale", "floor", "shift", "set"}
    assert set(binary.accepted) == {"share", "shift", "set", "cap", "floor", "scale"}
    assert all(set(c.accepted) == {"shift", "scale", "set"} for c in drivers)
    start, end, step = count.ranges["cap"]
    assert start <= count.low and end >= count.high and step == 1
    assert 0 <= binary.low <= binary.high <= 1
    assert "observed" in count.observed_text()


def test_moving_a_lever_changes_the_forecast(state, bundle):
    count, _ = _count_and_binary(bundle)
    start, _, _ = count.ranges["cap"]
    state.set_lever(count.target, "cap", start)
    total = state.forecast.to_dict()["total"]
    assert total["mean"] != 0.0
    assert total["lo"] <= total["mean"] <= total["hi"]
    assert set(state.forecast.to_dict()["channels"]) == set(bundle.channels)
    assert state.lift["company"].shape == (bundle.engine.n_draws,)
    assert state.current_scenario().levers == (Lever(count.target, "influencer", "cap", start),)
    # capping lowers the count: the sign of the lift follows the direct and indirect effects
    draws = state.lift["company"].to_numpy()
    assert np.isclose(draws.mean(), total["mean"])


def test_a_driver_lever_shifts_satisfaction_by_its_weight(state, bundle):
    driver = next(c for c in bundle.controls.values() if c.kind == "driver")
    state.set_lever(driver.target, "shift", 0.5)
    assert state.forecast.to_dict()["total"]["mean"] != 0.0
    assert state.describe(state.active_levers()[0][1]).endswith("+0.50 rating points")


def test_reset_gives_zero_lift(state, bundle):
    count, binary = _count_and_binary(bundle)
    state.set_lever(count.target, "scale", 0.5)
    state.set_lever(binary.target, "share", 0.05)
    assert state.forecast.to_dict()["total"]["mean"] != 0.0
    state.reset()
    assert state.settings == {}
    total = state.forecast.to_dict()["total"]
    assert total["mean"] == total["lo"] == total["hi"] == 0.0
    assert all(entry["mean"] == 0.0 for entry in state.forecast.to_dict()["channels"].values())


def test_the_no_change_value_removes_the_lever(state, bundle):
    count, binary = _count_and_binary(bundle)
    state.set_lever(count.target, "scale", 0.5)
    state.set_lever(count.target, "scale", 1.0)
    assert count.target not in state.settings
    state.set_lever(binary.target, "share", state.identity(binary.target, "share"))
    assert binary.target not in state.settings
    assert state.lever_value(count.target) == ("cap", count.ranges["cap"][1])
    driver = next(c for c in bundle.controls.values() if c.kind == "driver")
    with pytest.raises(ValueError):
        state.set_lever(driver.target, "cap", 1)


def test_share_lever_describes_from_and_to(state, bundle):
    _, binary = _count_and_binary(bundle)
    state.set_lever(binary.target, "share", 0.05)
    text = state.describe(state.active_levers()[0][1])
    assert f"-> {percent(0.05)}" in text and "share" in text


def test_channels_scope_the_levers(state, bundle):
    count, _ = _count_and_binary(bundle)
    only = bundle.channels[:1]
    state.channels = only
    state.set_lever(count.target, "scale", 0.5)
    ((_, lever),) = state.active_levers()
    assert lever.channels == tuple(only)
    others = [c for c in bundle.channels if c not in only]
    assert all(state.forecast.to_dict()["channels"][c]["mean"] == 0.0 for c in others)
    assert state.forecast.to_dict()["channels"][only[0]]["mean"] != 0.0


def test_a_lever_not_measured_in_the_chosen_channels_is_left_out_with_a_note(state, bundle):
    partial = next(
        (c for c in bundle.controls.values() if len(c.channels) < len(bundle.channels)), None
    )
    assert partial is not None, "the tiny model leaves a driver unmeasured in one channel"
    elsewhere = [c for c in bundle.channels if c not in partial.channels]
    state.channels = elsewhere
    op = partial.default_operation
    start, end, _ = partial.ranges[op]
    state.set_lever(partial.target, op, end if op != "cap" else start)
    assert state.active_levers() == []
    assert any(partial.label in note for note in state.notes)


def test_the_year_moves_the_forecast_to_an_observed_year(state, bundle):
    count, _ = _count_and_binary(bundle)
    state.set_lever(count.target, "scale", 0.5)
    state.year = bundle.years[0]
    assert state.forecast.to_dict()["year"] == bundle.years[0]
    assert state.current_scenario().year == bundle.years[0]
    state.year = bundle.next_year
    assert state.current_scenario().year is None  # the default, left out of the file


def test_saved_scenarios_round_trip_to_toml(state, bundle, tmp_path):
    count, binary = _count_and_binary(bundle)
    state.set_lever(count.target, "cap", count.ranges["cap"][0])
    state.set_lever(binary.target, "share", 0.1)
    saved = state.save_current("Fewer and rarer")
    assert [s.name for s in state.saved] == ["Fewer and rarer"]
    assert "Saved" in state.info
    filename, text = state.scenario_toml(saved)
    assert filename == "fewer_and_rarer.toml"
    assert parse_scenario(tomllib.loads(text)) == saved

    other = PlannerState(bundle, library=ScenarioLibrary(tmp_path / "elsewhere"))
    loaded = other.load_toml(text.encode(), filename)
    assert loaded == saved
    assert other.error == ""
    assert other.settings == state.settings
    assert other.scenario_name == "Fewer and rarer"
    assert other.forecast.to_dict()["total"] == pytest.approx(state.forecast.to_dict()["total"])
    assert [s.name for s in other.saved] == ["Fewer and rarer"]


def test_saving_under_a_taken_name_asks_to_overwrite_or_rename(state, bundle):
    count, _ = _count_and_binary(bundle)
    assert state.save_current("A") is not None
    state.set_lever(count.target, "scale", 0.5)
    assert state.save_current("a") is None  # the same file name: asks, saves nothing
    assert state.team.pending_save["existing"] == "A"
    assert state.team.pending_save["suggestion"] == "a (2)"
    assert state.saved_scenario("A").levers == ()
    assert state.team.overwrite() is not None
    assert state.saved_scenario("a").levers and state.team.pending_save == {}
    state.save_current("a")
    assert state.team.save_as() is not None
    assert [s.name for s in state.saved] == ["a", "a (2)"]
    state.save_current("a")
    state.team.cancel()
    assert [s.name for s in state.saved] == ["a", "a (2)"] and state.team.pending_save == {}


def test_an_empty_name_is_refused_with_a_message(state, bundle):
    count, _ = _count_and_binary(bundle)
    state.set_lever(count.target, "scale", 0.5)
    assert state.save_current("   ") is None
    assert "Not saved: the scenario has no name" in state.error
    assert state.saved == [] and state.scenario_name == "My scenario"


def test_deleting_asks_first(state, bundle):
    state.save_current("Keep me")
    state.team.ask_delete("Keep me")
    assert state.team.pending_delete == "Keep me"
    assert [s.name for s in state.saved] == ["Keep me"]  # nothing gone before the answer
    state.team.cancel()
    assert [s.name for s in state.saved] == ["Keep me"]
    state.team.ask_delete("Keep me")
    state.team.confirm_delete()
    assert state.saved == [] and "Deleted 'Keep me'" in state.info


def test_comparison_lists_the_current_and_the_saved_scenarios(state, bundle):
    count, _ = _count_and_binary(bundle)
    state.set_lever(count.target, "scale", 0.5)
    state.save_current("Half")
    state.reset()
    state.scenario_name = "Nothing"
    rows = state.comparison()
    assert [title for title, _, _ in rows] == ["Nothing (current)", "Half"]
    frame = state.comparison_frame()
    assert list(frame.columns) == ["Nothing (current)", "Half"]
    assert frame.loc["Levers", "Nothing (current)"] == "none"
    assert "Company lift (points)" in frame.index
    state.apply_scenario(state.saved_scenario("Half"))  # unchanged since saved: shown once
    assert [title for title, _, _ in state.comparison()] == ["Half"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (b'name = "broken\n', "not valid TOML"),
        (b'name = "x"\n[[lever]]\ninfluencer = "nope"\ncap = 1\n', "unknown influencer"),
        (
            b'name = "x"\n[[lever]]\ninfluencer = "i1"\ncap = 1\nscale = 2\n',
            "exactly one operation",
        ),
        (b'name = "x"\nyear = 1990\n', "outside what the model can speak for"),
        (b"\xff\xfe\x00", "not a text file"),
        (b"# padding\n" * 8000, "too large for a scenario file"),
    ],
)
def test_loading_a_bad_toml_sets_an_error_message(state, text, expected):
    before = dict(state.forecast.to_dict()["total"])
    assert state.load_toml(text, "bad.toml") is None
    assert expected in state.error
    assert "bad.toml" in state.error or "text file" in state.error
    assert "Traceback" not in state.error
    assert state.saved == [] and state.forecast.to_dict()["total"] == before


def test_levers_no_control_can_show_are_kept_as_extra_levers(state, bundle):
    _, binary = _count_and_binary(bundle)
    count, _ = _count_and_binary(bundle)
    scenario = Scenario(
        "Mixed",
        (
            Lever(binary.target, "influencer", "shift", 0.1),  # shown on the share's control
            Lever(count.target, "influencer", "scale", 0.5, tuple(bundle.channels[:1])),
            Lever(count.target, "influencer", "cap", 1.0),  # a second lever on one target
        ),
    )
    state.apply_scenario(scenario)
    assert state.settings == {count.target: ("scale", 0.5), binary.target: ("shift", 0.1)}
    assert state.scopes == {count.target: tuple(bundle.channels[:1])}
    assert [lever.operation for lever in state.extra_levers] == ["cap"]
    assert set(state.current_scenario().levers) == set(scenario.levers)
    state.reset()
    assert state.extra_levers == [] and state.scopes == {}


def test_example_scenarios_that_fit_the_model_are_offered(state, tmp_path, bundle):
    count, _ = _count_and_binary(bundle)
    (tmp_path / "good.toml").write_text(
        f'name = "Good"\n[[lever]]\ninfluencer = "{count.target}"\nscale = 0.5\n'
    )
    (tmp_path / "other_model.toml").write_text(
        'name = "Other"\n[[lever]]\ninfluencer = "ivr_prompts"\ncap = 3\n'
    )
    (tmp_path / "broken.toml").write_text("name = \n")
    added = state.load_directory(tmp_path)
    assert [s.name for s in added] == ["Good"]


def test_sessions_are_independent_and_share_one_loaded_model(tiny_model_path, bundle, library):
    assert load_bundle(tiny_model_path) is bundle  # loaded once per process
    one = PlannerState(bundle, library=library, user="alice")
    two = PlannerState(bundle, library=ScenarioLibrary(library.folder))
    count, _ = _count_and_binary(bundle)
    one.set_lever(count.target, "scale", 0.5)
    one.save_current("Mine")
    assert two.settings == {} and two.saved == []  # until it looks again
    assert two.team.refresh()
    assert [s.name for s in two.saved] == ["Mine"]  # the team library is shared
    assert two.team.caption("Mine").startswith("saved by alice, 20")
    three = PlannerState(bundle, library=ScenarioLibrary(library.folder))  # a reload
    assert [s.name for s in three.saved] == ["Mine"]
    assert two.forecast.to_dict()["total"]["mean"] == 0.0
    assert one.forecast.to_dict()["total"]["mean"] != 0.0


def test_a_lever_move_answers_fast(state, bundle):
    count, _ = _count_and_binary(bundle)
    start, end, _ = count.ranges["cap"]
    state.set_lever(count.target, "cap", end - 1)  # warm
    t0 = time.perf_counter()
    for value in (start, end - 1, start):
        state.set_lever(count.target, "cap", value)
    assert (time.perf_counter() - t0) / 3 < 0.5


def test_a_broken_artefact_is_an_error_message_not_an_exception(tiny_model_path, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(tiny_model_path, broken)
    (broken / "aggregates.nc").write_bytes(b"not a netcdf file")
    state = PlannerState()
    assert state.load_model(broken) is False
    assert "checksum does not match" in state.error
    assert not state.ready and state.forecast is None
    assert state.load_model(tmp_path / "missing") is False
    assert "no such model" in state.error


def test_the_provider_loads_in_the_background(tiny_model_path, tmp_path):
    provider = ModelProvider(tiny_model_path).start().wait(120)
    assert provider.status == "ready" and provider.bundle is load_bundle(tiny_model_path)
    missing = ModelProvider(tmp_path / "nothing").start().wait(30)
    assert missing.status == "error" and "no such model" in missing.error
    no_data = ModelProvider(
        tmp_path / "demo", fit_from=(tmp_path / "none.parquet", tmp_path / "spec.toml")
    )
    no_data.start().wait(30)
    assert no_data.status == "error" and "whatif demo-data" in no_data.error


def test_available_models_lists_artefact_siblings(tiny_model_path, tmp_path):
    models = tmp_path / "models"
    shutil.copytree(tiny_model_path, models / "a")
    shutil.copytree(tiny_model_path, models / "b")
    (models / "not_a_model").mkdir()
    assert [p.name for p in available_models(models / "a")] == ["a", "b"]


def test_the_brief_of_the_current_scenario_is_html(state, bundle):
    count, _ = _count_and_binary(bundle)
    state.set_lever(count.target, "scale", 0.5)
    state.scenario_name = "Half the count"
    filename, html = state.brief_html()
    assert filename == "brief_half_the_count.html"
    assert html.lstrip().lower().startswith("<!doctype html") and "Half the count" in html


def test_download_names_are_slugs():
    assert slugify("Cap IVR prompts at 3!") == "cap_ivr_prompts_at_3"
    assert slugify("***") == "scenario"
