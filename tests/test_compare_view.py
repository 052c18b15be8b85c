"""The compare tab and the save question without a browser: the team's scenarios with who and
when, the paired difference of any two, deleting only after asking, overwriting only after asking."""

from __future__ import annotations

import pytest

from whatif.analysis.library import ScenarioLibrary
from whatif.app.bundle import load_bundle
from whatif.app.state import PlannerState


@pytest.fixture(scope="module")
def bundle(tiny_model_path):
    return load_bundle(tiny_model_path)


@pytest.fixture
def state(bundle, tmp_path):
    return PlannerState(bundle, library=ScenarioLibrary(tmp_path / "library"), user="alice")


def _count(bundle):
    return next(c for c in bundle.controls.values() if c.measure == "count")


def test_the_compare_tab_shows_the_difference_of_two_saved_scenarios(state, bundle):
    from whatif.app.views.compare import ComparePanel

    panel = ComparePanel(state)
    assert "Save two scenarios" in panel._difference.object
    count = _count(bundle)
    state.set_lever(count.target, "scale", 0.5)
    state.save_current("Half")
    state.set_lever(count.target, "scale", 0.0)
    state.save_current("None at all")
    assert "saved by alice" in panel._library.object
    assert panel._first.value == "Half" and panel._second.value == "None at all"
    html = panel._difference.object
    assert "P(B beats A)" in html and "Company mean satisfaction (points)" in html
    assert " to " in html  # an interval, never one number
    assert "A: Half · B: None at all" in html
    panel._first.value = "None at all"
    panel._second.value = "None at all"
    assert "no difference" in panel._difference.object


def test_deleting_from_the_compare_tab_asks_first(state, bundle):
    from whatif.app.views.compare import ComparePanel

    panel = ComparePanel(state)
    state.save_current("Doomed")
    panel._pick.value = "Doomed"
    panel._remove.clicks += 1
    assert panel._asking.visible and "for everyone using this model?" in panel._confirm.object
    assert [s.name for s in state.saved] == ["Doomed"]
    panel._no.clicks += 1
    assert not panel._asking.visible and [s.name for s in state.saved] == ["Doomed"]
    panel._remove.clicks += 1
    panel._yes.clicks += 1
    assert state.saved == [] and not panel._asking.visible


def test_a_taken_name_asks_in_the_scenario_bar(state, bundle):
    from whatif.app.views.save_prompt import SavePrompt

    prompt = SavePrompt(state)
    state.save_current("Plan")
    assert not prompt._layout.visible
    state.set_lever(_count(bundle).target, "scale", 0.5)
    state.save_current("Plan")
    assert prompt._layout.visible and "Plan (2)" in prompt._rename.label
    prompt._rename.clicks += 1
    assert not prompt._layout.visible
    assert [s.name for s in state.saved] == ["Plan", "Plan (2)"]
    assert state.saved_scenario("Plan").levers == ()
