"""The Plan tab without a browser: options in, a budget or target set, the plan out and into the
levers; the tab's widgets follow the state."""

from __future__ import annotations

import tomli_w

from whatif.analysis.engine import summarize_lift
from whatif.app.bundle import load_bundle
from whatif.app.plan_state import PlanState
from whatif.app.state import PlannerState

OPTIONS = {
    "currency": "EUR",
    "option": [
        {"name": "Cap i2", "influencer": "i2", "cap": [0, 1, 2], "cost": [90, 50, 20]},
        {"name": "Train d1", "driver": "d1", "shift": [0.2, 0.5], "cost": [40, 100]},
        {"name": "Train d2", "driver": "d2", "shift": [0.3], "cost": [60]},
    ],
}


def _plan(tiny_model_path):
    planner = PlannerState(load_bundle(tiny_model_path))
    plan = PlanState(planner)
    assert plan.load_text(tomli_w.dumps(OPTIONS), "options.toml")
    return planner, plan


def test_a_budget_gives_the_optimum_and_a_budget_change_resolves(tiny_model_path):
    planner, plan = _plan(tiny_model_path)
    plan.budget = 100.0
    first = plan.result
    assert first is not None and first.objective == "max_lift" and first.plan.cost <= 100
    scored = plan.optimizer()
    plan.budget = 250.0
    assert plan.optimizer() is scored  # a budget change re-solves; the settings stay scored
    assert plan.result.plan.lift.mean >= first.plan.lift.mean
    costs = [p.plan.cost for p in plan.result.frontier]
    assert costs == sorted(costs)


def test_a_target_and_the_plan_loaded_into_the_levers(tiny_model_path):
    planner, plan = _plan(tiny_model_path)
    plan.param.update(objective="target", target=1e-6, confidence=0.6)
    result = plan.result
    assert result.objective == "min_cost" and result.plan.p_target >= 0.6
    assert plan.load_into()
    current = planner.current_scenario()
    assert {lever.target for lever in current.levers} == {
        lever.target for lever in result.scenario.levers
    }
    forecast = summarize_lift(planner.bundle.engine.lift(current), planner.ci)
    assert forecast.total.mean == result.plan.lift.mean
    plan.target = 1000.0
    assert plan.result.plan is None and not plan.load_into()


def test_bad_options_are_an_error_not_an_exception(tiny_model_path):
    planner, plan = _plan(tiny_model_path)
    before = plan.result
    assert not plan.load_text('[[option]]\nname = "A"\ninfluencer = "i9"\ncap = [1]\ncost = [1]\n')
    assert "unknown influencer" in plan.error and "i9" in plan.error
    assert plan.result is before
    assert not plan.load_text("[[option]\n", "up.toml") and "not valid TOML" in plan.error


def test_the_tab_shows_the_plan_and_the_frontier(tiny_model_path):
    from whatif.app.views.plan import PlanPanel

    planner, plan = _plan(tiny_model_path)
    panel = PlanPanel(plan)
    plan.budget = 150.0
    assert "Cost <b>" in panel._summary.object
    assert len(panel._chart.source.data["cost"]) == len(plan.result.frontier)
    assert panel._chart.chosen.data["cost"] == [plan.result.plan.cost]
    panel._objective.value = "target"
    assert plan.objective == "target" and panel._confidence.visible
