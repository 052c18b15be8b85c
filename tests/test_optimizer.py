"""The plan optimizer against brute force: every combination of small option sets scored, on a
scorer of known truth (additive mean, a saturating top-box) and on the tiny fitted model."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest
import tomli_w
from typer.testing import CliRunner

from whatif.analysis.engine import ScenarioEngine
from whatif.analysis.optimizer import PlanOptimizer, optimize
from whatif.analysis.options import Option, OptionSet
from whatif.analysis.plan_search import best_plans, pareto_plans
from whatif.analysis.scenario import Lever, Scenario
from whatif.cli import app

DRAWS = 400
VOLUME = np.array([0.6, 0.4])


class KnownScorer:
    """Lift draws of known truth: each (target, value) adds fixed per-channel draws to the mean;
    top-box saturates (``0.1 tanh(3 mean)``), so it does not add up."""

    channels = ["a", "b"]

    def __init__(self, table: dict):
        self.table = table
        self.calls = 0

    def lift_arrays(self, scenario: Scenario) -> dict:
        self.calls += 1
        total = np.zeros((DRAWS, 2))
        for lever in scenario.levers:
            total = total + self.table[(lever.target, lever.value)]
        top = 0.1 * np.tanh(3 * total)
        return {
            "total": total,
            "company": total @ VOLUME,
            "top_box": top,
            "company_top_box": top @ VOLUME,
        }


def random_options(seed: int, n_options: int = 4, settings: int = 3, fixed: bool = True):
    """Options on different targets with random lifts (some negative) and costs."""
    rng = np.random.default_rng(seed)
    options, table = [], {}
    for o in range(n_options):
        values = tuple(float(v) for v in range(1, settings + 1))
        costs = tuple(float(c) for c in rng.integers(1, 60, settings))
        level = rng.normal(0.1, 0.08, settings)
        for value, mean in zip(values, level, strict=True):
            table[(f"t{o}", value)] = rng.normal(mean, 0.05, (DRAWS, 1)) * rng.uniform(0.3, 1.5, 2)
        options.append(
            Option(
                name=f"option {o}",
                target=f"t{o}",
                kind="influencer",
                operation="set",
                settings=values,
                costs=costs,
                fixed_cost=float(rng.integers(0, 20)) if fixed else 0.0,
            )
        )
    return OptionSet(tuple(options), currency="EUR"), KnownScorer(table)


def every_plan(options: OptionSet):
    ranges = [[None, *range(len(o.settings))] for o in options.options]
    for combo in itertools.product(*ranges):
        yield tuple((o, k) for o, k in enumerate(combo) if k is not None)


def brute_force(options, scorer, metric, budget=None, target=None, confidence=0.9):
    """The best plan by scoring every combination with the scorer itself."""
    key = {"mean": "company", "top_box": "company_top_box"}[metric]
    rows = []
    for plan in every_plan(options):
        draws = scorer.lift_arrays(options.scenario(plan))[key]
        rows.append((plan, options.cost(plan), float(draws.mean()), draws))
    if budget is not None:
        fits = [r for r in rows if r[1] <= budget]
        return max(fits, key=lambda r: (r[2], -r[1]))
    need = math.ceil(confidence * DRAWS - 1e-9)
    hits = [r for r in rows if np.count_nonzero(r[3] >= target) >= need]
    return min(hits, key=lambda r: (r[1], -r[2])) if hits else None


def chosen_plan(result, options):
    names = [o.name for o in options.options]
    return tuple(
        (names.index(c.option), options.options[names.index(c.option)].settings.index(c.setting))
        for c in result.plan.choices
    )


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("metric", ["mean", "top_box"])
def test_budget_optimum_equals_brute_force(seed, metric):
    options, scorer = random_options(seed)
    total = sum(max(o.costs) + o.fixed_cost for o in options.options)
    optimizer = PlanOptimizer(options, scorer, metric)
    for budget in np.linspace(0, total, 7):
        result = optimize(options, scorer, metric, budget=float(budget), optimizer=optimizer)
        best = brute_force(options, scorer, metric, budget=float(budget))
        assert result.plan.cost <= budget
        assert result.plan.lift.mean == pytest.approx(best[2], abs=1e-12)
        assert result.exact


@pytest.mark.parametrize("seed", range(4))
def test_top_box_beyond_exhaustive_search_is_within_its_stated_gap(seed):
    options, scorer = random_options(seed, n_options=5)
    optimizer = PlanOptimizer(options, scorer, "top_box", exhaustive_plans=0, candidates=50)
    total = sum(max(o.costs) + o.fixed_cost for o in options.options)
    for budget in np.linspace(0, total, 6)[1:]:
        plan, gap = optimizer.maximize(float(budget))
        best = brute_force(options, scorer, "top_box", budget=float(budget))
        value = float(optimizer.plan_draws(plan)[0].mean())
        assert gap is not None and gap >= 0
        assert best[2] - value <= gap + 1e-12
    result = optimize(options, scorer, "top_box", budget=float(total / 2), optimizer=optimizer)
    assert not result.exact and "could lift at most" in result.note


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("metric", ["mean", "top_box"])
def test_cheapest_plan_reaching_a_target_equals_brute_force(seed, metric):
    options, scorer = random_options(seed)
    optimizer = PlanOptimizer(options, scorer, metric)
    top = brute_force(options, scorer, metric, budget=math.inf)[2]
    for share in (0.2, 0.5, 0.8, 1.5):
        target = share * top
        for confidence in (0.5, 0.9):
            result = optimize(
                options, scorer, metric, target=target, confidence=confidence, optimizer=optimizer
            )
            best = brute_force(options, scorer, metric, target=target, confidence=confidence)
            if best is None:
                assert result.plan is None and result.scenario is None
                continue
            assert result.plan.cost == pytest.approx(best[1])
            assert result.plan.p_target >= confidence
            assert result.to_dict()["objective"] == "min_cost"


@pytest.mark.parametrize("seed", range(4))
def test_milp_frontier_and_brute_force_agree(seed):
    options, scorer = random_options(seed, n_options=5)
    optimizer = PlanOptimizer(options, scorer)
    costs, values, plans = pareto_plans(optimizer.values, optimizer.costs, optimizer.fixed)
    assert np.all(np.diff(costs) > 0) and np.all(np.diff(values) > 0)
    for budget in np.linspace(0, costs[-1] * 1.1, 15):
        (milp_plan,) = best_plans(optimizer.values, optimizer.costs, optimizer.fixed, budget)
        best = brute_force(options, scorer, "mean", budget=float(budget))
        frontier_best = values[np.searchsorted(costs, budget, side="right") - 1]
        assert float(optimizer.plan_draws(milp_plan)[0].mean()) == pytest.approx(best[2], abs=1e-12)
        assert frontier_best == pytest.approx(best[2], abs=1e-12)


@pytest.mark.parametrize("metric", ["mean", "top_box"])
def test_frontier_is_monotone_and_each_point_is_the_best_within_its_budget(metric):
    options, scorer = random_options(11, n_options=5)
    result = optimize(options, scorer, metric, budget=50.0)
    points = result.frontier
    assert len(points) >= 3
    costs = [p.plan.cost for p in points]
    lifts = [p.plan.lift.mean for p in points]
    assert costs[0] == 0 and lifts[0] == 0
    assert all(b > a for a, b in zip(costs, costs[1:], strict=False))
    assert all(b > a for a, b in zip(lifts, lifts[1:], strict=False))
    for point in points:
        best = brute_force(options, scorer, metric, budget=point.budget)
        assert point.plan.lift.mean == pytest.approx(best[2], abs=1e-12)
        assert point.plan.lift.lo <= point.plan.lift.mean <= point.plan.lift.hi


def test_doubled_costs_and_doubled_budget_give_the_same_plan():
    options, scorer = random_options(5, n_options=5)
    doubled = OptionSet(
        tuple(
            Option(
                **{
                    **o.__dict__,
                    "costs": tuple(2 * c for c in o.costs),
                    "fixed_cost": 2 * o.fixed_cost,
                }
            )
            for o in options.options
        )
    )
    for budget in (20.0, 60.0, 110.0):
        once = optimize(options, scorer, budget=budget)
        twice = optimize(doubled, scorer, budget=2 * budget)
        assert [c.option for c in once.plan.choices] == [c.option for c in twice.plan.choices]
        assert [c.setting for c in once.plan.choices] == [c.setting for c in twice.plan.choices]
        assert twice.plan.cost == 2 * once.plan.cost
    target = optimize(options, scorer, target=0.1, confidence=0.8)
    target2 = optimize(doubled, scorer, target=0.1, confidence=0.8)
    assert target2.plan.cost == 2 * target.plan.cost


def test_an_option_that_costs_more_and_lifts_less_is_never_chosen():
    options, scorer = random_options(3, n_options=4, fixed=False)
    # a setting of option 0 that costs more than its best setting and lifts less
    best_k = int(np.argmax([scorer.table[("t0", v)].mean() for v in options.options[0].settings]))
    worse = 99.0
    scorer.table[("t0", worse)] = scorer.table[("t0", options.options[0].settings[best_k])] * 0.5
    first = options.options[0]
    padded = Option(
        **{
            **first.__dict__,
            "settings": (*first.settings, worse),
            "costs": (*first.costs, first.costs[best_k] + 1),
        }
    )
    # and an option that lowers satisfaction at every setting, for free
    for value in (1.0, 2.0):
        scorer.table[("harm", value)] = -np.abs(
            np.random.default_rng(1).normal(0.1, 0.02, (DRAWS, 2))
        )
    harm = Option("harm", "harm", "influencer", "set", (1.0, 2.0), (0.0, 0.0))
    options = OptionSet((padded, *options.options[1:], harm))
    total = sum(max(o.costs) for o in options.options)
    for budget in np.linspace(0, total, 9):
        result = optimize(options, scorer, budget=float(budget))
        plans = [result.plan] + [p.plan for p in result.frontier]
        for plan in plans:
            assert "harm" not in [c.option for c in plan.choices]
            assert worse not in [c.setting for c in plan.choices if c.option == first.name]


def test_the_plan_is_neither_nothing_nor_everything_at_its_first_setting():
    # the first setting is cheap and weak, the last strong and worth its price
    table, options = {}, []
    rng = np.random.default_rng(0)
    for o in range(3):
        for value, mean in zip((1.0, 2.0, 3.0), (0.01, 0.05, 0.30), strict=True):
            table[(f"t{o}", value)] = rng.normal(mean, 0.01, (DRAWS, 2))
        costs = (10.0, 30.0, 40.0) if o < 2 else (10.0, 30.0, 200.0)
        options.append(Option(f"option {o}", f"t{o}", "influencer", "set", (1.0, 2.0, 3.0), costs))
    options, scorer = OptionSet(tuple(options)), KnownScorer(table)
    budget = 90.0
    result = optimize(options, scorer, budget=budget)
    best = brute_force(options, scorer, "mean", budget=budget)
    plan = chosen_plan(result, options)
    assert plan == best[0]
    assert plan != () and plan != ((0, 0), (1, 0), (2, 0))
    assert plan == ((0, 2), (1, 2), (2, 0))


# -- on the fitted model ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def engine(tiny_model):
    return ScenarioEngine(tiny_model)


def tiny_options() -> OptionSet:
    return OptionSet(
        (
            Option("Cap i2", "i2", "influencer", "cap", (0.0, 1.0, 2.0), (90.0, 50.0, 20.0)),
            Option(
                "Raise i1 in ch1",
                "i1",
                "influencer",
                "shift",
                (0.05, 0.1),
                (30.0, 70.0),
                10.0,
                ("ch1",),
            ),
            Option("Train d1", "d1", "driver", "shift", (0.2, 0.5), (40.0, 100.0)),
            Option("Train d2", "d2", "driver", "shift", (0.3,), (60.0,)),
        ),
        currency="EUR",
    )


def test_mean_lifts_of_options_add_up_exactly_in_the_engine(engine):
    options = tiny_options()
    for plan in every_plan(options):
        if len(plan) < 2:
            continue
        combined = engine.lift_arrays(options.scenario(plan))
        singles = [engine.lift_arrays(options.scenario((choice,))) for choice in plan]
        np.testing.assert_allclose(
            combined["company"], sum(s["company"] for s in singles), rtol=0, atol=1e-12
        )
        np.testing.assert_allclose(
            combined["total"], sum(s["total"] for s in singles), rtol=0, atol=1e-12
        )


@pytest.mark.parametrize("metric", ["mean", "top_box"])
def test_the_engine_optimum_equals_brute_force(engine, metric):
    options = tiny_options()
    optimizer = PlanOptimizer(options, engine, metric)
    for budget in (0.0, 60.0, 150.0, 400.0):
        result = optimize(options, engine, metric, budget=budget, optimizer=optimizer)
        best = brute_force(options, engine, metric, budget=budget)
        assert result.plan.lift.mean == pytest.approx(best[2], abs=1e-12)


def test_cli_json_has_the_documented_shape_and_out_round_trips(tiny_model_path, tmp_path):
    path = tmp_path / "options.toml"
    path.write_text(tomli_w.dumps(tiny_options().to_dict()))
    runner = CliRunner()
    out = tmp_path / "plan.toml"
    args = ["optimize", str(tiny_model_path), "--options", str(path), "--budget", "150"]
    result = runner.invoke(app, [*args, "--format", "json", "--out", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert list(data) == [
        "metric",
        "objective",
        "budget",
        "target",
        "confidence",
        "currency",
        "plan",
        "frontier",
    ]
    assert data["objective"] == "max_lift" and data["budget"] == 150 and data["target"] is None
    assert data["currency"] == "EUR" and data["metric"] == "mean"
    plan = data["plan"]
    assert list(plan) == ["choices", "cost", "lift", "p_target"]
    assert plan["p_target"] is None
    assert list(plan["lift"]) == ["mean", "lo", "hi", "p_positive"]
    assert all(list(c) == ["option", "setting", "cost"] for c in plan["choices"])
    # a choice's cost includes its option's fixed cost, so the plan's cost is their sum
    assert plan["cost"] == sum(c["cost"] for c in plan["choices"])
    for point in data["frontier"]:
        assert list(point) == ["cost", "lift", "choices"]
        assert list(point["lift"]) == ["mean", "lo", "hi"]
    simulated = runner.invoke(
        app, ["simulate", str(tiny_model_path), "--scenario", str(out), "--format", "json"]
    )
    assert simulated.exit_code == 0, simulated.output
    total = json.loads(simulated.stdout)["total"]
    assert total == plan["lift"]


def test_cli_target_table_and_no_plan(tiny_model_path, tmp_path):
    path = tmp_path / "options.toml"
    path.write_text(tomli_w.dumps(tiny_options().to_dict()))
    runner = CliRunner()
    base = ["optimize", str(tiny_model_path), "--options", str(path)]
    result = runner.invoke(app, [*base, "--target", "1e-6", "--confidence", "0.6"])
    assert result.exit_code == 0, result.output
    assert "The cheapest plan lifting mean satisfaction" in result.stdout
    assert "Efficient frontier" in result.stdout and "P(lift >= " in result.stdout
    impossible = runner.invoke(app, [*base, "--target", "1000", "--format", "json"])
    assert impossible.exit_code == 1
    assert json.loads(impossible.stdout)["plan"] is None
    assert "no plan reaches the target" in impossible.stderr
    table = runner.invoke(app, [*base, "--target", "1000"])
    assert table.exit_code == 1 and "No plan reaches the target" in table.stdout


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--budget", "10", "--target", "0.1"], "not both"),
        ([], "not both"),
        (["--budget", "-5"], "--budget must be a finite amount, 0 or more"),
        (["--budget", "inf"], "--budget must be a finite amount, 0 or more"),
        (["--budget", "nan"], "--budget must be a finite amount, 0 or more"),
        (["--target", "inf"], "--target must be a finite lift"),
        (["--budget", "10", "--metric", "nps"], "--metric must be one of mean, top_box"),
        (["--target", "0.1", "--confidence", "1.5"], "--confidence must be a probability"),
        (["--budget", "10", "--year", "1990"], "--year: year 1990 is outside"),
    ],
)
def test_cli_refuses_bad_arguments_in_one_line(tiny_model_path, tmp_path, extra, message):
    path = tmp_path / "options.toml"
    path.write_text(tomli_w.dumps(tiny_options().to_dict()))
    result = CliRunner().invoke(
        app, ["optimize", str(tiny_model_path), "--options", str(path), *extra]
    )
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], lines
    assert "Traceback" not in result.output


def test_levers_are_the_options_settings():
    options = tiny_options()
    scenario = options.scenario(((0, 1), (1, 0)))
    assert scenario.levers == (
        Lever("i2", "influencer", "cap", 1.0),
        Lever("i1", "influencer", "shift", 0.05, ("ch1",)),
    )
    assert options.cost(((0, 1), (1, 0))) == 50.0 + 30.0 + 10.0
    assert options.options[1].cost(0) == 40.0


def test_the_brief_shows_the_plan_and_its_frontier(tiny_model_path, tmp_path):
    path = tmp_path / "options.toml"
    path.write_text(tomli_w.dumps(tiny_options().to_dict()))
    out = tmp_path / "brief.html"
    args = ["brief", str(tiny_model_path), "--options", str(path), "--budget", "150"]
    result = CliRunner().invoke(app, [*args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    html = out.read_text()
    data = json.loads(
        CliRunner()
        .invoke(
            app,
            [
                "optimize",
                str(tiny_model_path),
                "--options",
                str(path),
                "--budget",
                "150",
                "--format",
                "json",
            ],
        )
        .stdout
    )
    assert 'id="plan"' in html and "Efficient frontier" in html
    assert html.count("data:image/svg+xml;base64,") >= 3
    for choice in data["plan"]["choices"]:
        assert choice["option"] in html
    assert f"{data['plan']['cost']:,.0f} EUR" in html
    assert "Optimized plan (budget 150 EUR)" in html
