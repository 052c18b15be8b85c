"""The plan optimizer: which costed options to take, and at which setting, for the most lift.

Every setting of every option is scored once, alone, over all posterior draws, by anything that
turns a scenario into lift draws (:class:`LiftScorer`: the
:class:`~whatif.analysis.engine.ScenarioEngine` is one). Then:

* **mean** satisfaction is linear in the levers, and options act on different influencers or
  channels, so a plan's per-draw lift is exactly the sum of its settings' lifts. The largest
  expected lift within a budget is a multiple-choice knapsack, solved exactly as a mixed-integer
  program (:func:`~whatif.analysis.plan_search.best_plans`), and the frontier is the exact set of
  unbeaten plans (:func:`~whatif.analysis.plan_search.pareto_plans`); the cheapest plan reaching a target with a
  given probability is found exactly over the draws by branch and bound
  (:func:`~whatif.analysis.plan_search.cheapest_reaching`).
* **top_box** and **nps** are not additive, so plans are scored by the scorer itself, exactly.
  With at most :data:`EXHAUSTIVE_PLANS` plans every plan is scored and the answer is exact. With
  more, the search runs on the sums of the settings' lifts (first order): up to
  :data:`CANDIDATES` plans of the first-order frontier within the budget are scored exactly and
  the best is chosen; the result says so and states the gap: the best first-order value plus the
  largest excess of an exact over a first-order value among the candidates, less the best exact
  value (a plan outside the candidates cannot do better unless its interactions are larger).

:func:`optimize` returns an :class:`OptimizationResult`: the chosen :class:`Plan`, the efficient
frontier (for increasing budgets, the best plan and its lift) and how exact it is.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from whatif.analysis.options import OptionSet
from whatif.analysis.plan_search import (
    all_plans,
    best_plans,
    cheapest_reaching,
    pareto_plans,
    plan_count,
)
from whatif.analysis.results import Estimate, estimate
from whatif.analysis.scenario import Scenario
from whatif.errors import WhatifError

__all__ = [
    "CANDIDATES",
    "EXHAUSTIVE_PLANS",
    "METRIC_KEYS",
    "Choice",
    "FrontierPoint",
    "LiftScorer",
    "OptimizationResult",
    "Plan",
    "PlanOptimizer",
    "optimize",
]

#: Metric -> (company draws key, per-channel draws key) of ``lift_arrays``.
METRIC_KEYS = {
    "mean": ("company", "total"),
    "top_box": ("company_top_box", "top_box"),
    "nps": ("company_nps", "nps"),
}
#: Non-additive metrics: up to this many plans, every plan is scored exactly.
EXHAUSTIVE_PLANS = 2048
#: Non-additive metrics beyond that: first-order candidates scored exactly.
CANDIDATES = 100
#: Frontier points a result carries by default.
FRONTIER_POINTS = 20


class LiftScorer(Protocol):
    """What the optimizer needs of a model: lift draws of a scenario and the channels' names.

    ``lift_arrays(scenario)`` returns, per metric of :data:`METRIC_KEYS`, the company draws
    (sample,) and the per-channel draws (sample, channel).
    """

    channels: list[str]

    def lift_arrays(self, scenario: Scenario) -> Mapping[str, Any]: ...


@dataclass(frozen=True)
class Choice:
    """One option of a plan at one of its settings."""

    option: str
    setting: float
    cost: float

    def to_dict(self) -> dict:
        return {"option": self.option, "setting": self.setting, "cost": self.cost}


@dataclass(frozen=True)
class Plan:
    """A plan: its choices, cost and company lift (with P(lift >= target) given a target).

    ``channels`` holds ``(channel, lift, affected)`` per channel, in the model's order.
    """

    choices: tuple[Choice, ...]
    cost: float
    lift: Estimate
    p_target: float | None = None
    channels: tuple[tuple[str, Estimate, bool], ...] = ()

    def to_dict(self) -> dict:
        return {
            "choices": [c.to_dict() for c in self.choices],
            "cost": self.cost,
            "lift": self.lift.to_dict(),
            "p_target": self.p_target,
        }


@dataclass(frozen=True)
class FrontierPoint:
    """The best plan within a budget: what the next unit of money buys, along the frontier."""

    budget: float
    plan: Plan

    def to_dict(self) -> dict:
        lift = self.plan.lift
        return {
            "cost": self.plan.cost,
            "lift": {"mean": lift.mean, "lo": lift.lo, "hi": lift.hi},
            "choices": [c.to_dict() for c in self.plan.choices],
        }


@dataclass(frozen=True)
class OptimizationResult:
    """What ``whatif optimize`` reports: the plan, the frontier, and how exact they are.

    Attributes
    ----------
    metric, objective
        The metric optimized and ``max_lift`` (within ``budget``) or ``min_cost`` (reaching
        ``target`` with probability ``confidence``).
    plan
        The chosen plan; ``None`` when no plan reaches the target.
    scenario
        The plan as a scenario (``None`` with no plan).
    exact
        Whether the plan and frontier are proven optimal; ``note`` says why not and the gap.
    """

    metric: str
    objective: str
    budget: float | None
    target: float | None
    confidence: float | None
    currency: str
    ci: float
    plan: Plan | None
    frontier: tuple[FrontierPoint, ...]
    scenario: Scenario | None = None
    exact: bool = True
    note: str = ""

    def to_dict(self) -> dict:
        """The JSON shape of ``whatif optimize --format json``."""
        return {
            "metric": self.metric,
            "objective": self.objective,
            "budget": self.budget,
            "target": self.target,
            "confidence": self.confidence,
            "currency": self.currency,
            "plan": self.plan.to_dict() if self.plan is not None else None,
            "frontier": [point.to_dict() for point in self.frontier],
        }


class PlanOptimizer:
    """The settings of an option set scored once; best plans for budgets and targets.

    Parameters
    ----------
    options
        The options (checked against the model).
    scorer
        Turns a scenario into lift draws (:class:`LiftScorer`).
    metric
        ``mean``, ``top_box`` or ``nps``.
    year
        The scenario year (``None``: the model's default).
    ci
        Probability of the intervals.
    """

    def __init__(
        self,
        options: OptionSet,
        scorer: LiftScorer,
        metric: str = "mean",
        year: int | None = None,
        ci: float = 0.9,
        exhaustive_plans: int = EXHAUSTIVE_PLANS,
        candidates: int = CANDIDATES,
    ):
        if metric not in METRIC_KEYS:
            raise WhatifError(f"metric must be one of {', '.join(METRIC_KEYS)}, got '{metric}'")
        self.options, self.scorer, self.metric = options, scorer, metric
        self.year, self.ci = year, ci
        self.additive = metric == "mean"
        self.candidates = candidates
        self.sizes = [len(o.settings) for o in options.options]
        self.costs = [np.asarray(o.costs, float) for o in options.options]
        self.fixed = np.array([o.fixed_cost for o in options.options], float)
        self._exact: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}
        self.draws, self.channel_draws = [], []
        for index, size in enumerate(self.sizes):
            singles = [self.exact_draws(((index, k),)) for k in range(size)]
            self.draws.append(np.stack([s[0] for s in singles]))
            self.channel_draws.append(np.stack([s[1] for s in singles]))
        self.values = [d.mean(axis=1) for d in self.draws]
        self.exhaustive = not self.additive and plan_count(self.sizes) <= exhaustive_plans
        self._plans = all_plans(self.sizes) if self.exhaustive else None
        self._pareto = None

    # -- draws --------------------------------------------------------------------------------

    def exact_draws(self, plan: tuple) -> tuple[np.ndarray, np.ndarray]:
        """Company (sample,) and channel (sample, channel) draws of a plan, from the scorer."""
        key = tuple(sorted(plan))
        if key not in self._exact:
            arrays = self.scorer.lift_arrays(self.options.scenario(key, year=self.year))
            company, channel = METRIC_KEYS[self.metric]
            if company not in arrays:
                raise WhatifError(
                    f"--metric {self.metric}: this model reports no {self.metric} lift "
                    "(NPS needs a scale with bottom_box); choose mean or top_box"
                )
            self._exact[key] = (np.asarray(arrays[company]), np.asarray(arrays[channel]))
        return self._exact[key]

    def first_order(self, plan: tuple) -> tuple[np.ndarray, np.ndarray]:
        """The sum of the plan's settings' draws (exact for the mean)."""
        company = np.zeros(self.draws[0].shape[1]) if self.draws else np.zeros(0)
        channel = np.zeros(self.channel_draws[0].shape[1:]) if self.draws else np.zeros((0, 0))
        for o, k in plan:
            company = company + self.draws[o][k]
            channel = channel + self.channel_draws[o][k]
        return company, channel

    def plan_draws(self, plan: tuple) -> tuple[np.ndarray, np.ndarray]:
        """The exact draws of a plan: summed for the mean, scored for other metrics."""
        if self.additive and plan:
            return self.first_order(plan)
        return self.exact_draws(plan)

    def cost(self, plan: tuple) -> float:
        return self.options.cost(plan)

    # -- searches ------------------------------------------------------------------------------

    def maximize(self, budget: float) -> tuple[tuple, float | None]:
        """The plan of largest expected lift costing at most ``budget``, and its gap: how much
        more a plan outside the candidates scored could lift (``None`` when exact)."""
        if self.exhaustive:
            fits = [p for p in self._plans if self.cost(p) <= budget + 1e-9]
            return self._best_exact(fits), None
        if self.additive:
            found = best_plans(self.values, self.costs, self.fixed, budget)
            return (found[0] if found else ()), None
        return self._best_candidate(budget)

    def pareto(self) -> tuple[np.ndarray, np.ndarray, list[tuple]]:
        """The plans no other plan beats on first-order expected lift, by increasing cost."""
        if self._pareto is None:
            self._pareto = pareto_plans(self.values, self.costs, self.fixed)
        return self._pareto

    def _best_candidate(self, budget: float) -> tuple[tuple, float]:
        """Non-additive metric, too many plans to score: the first-order frontier's plans that
        fit the budget, the best :attr:`candidates` of them scored exactly, and the gap."""
        costs, values, plans = self.pareto()
        fits = np.flatnonzero(costs <= budget + 1e-9)[::-1][: self.candidates]
        found = [plans[i] for i in fits]
        best = self._best_exact(found)
        first = np.array([values[i] for i in fits])
        exact = np.array([float(self.plan_draws(p)[0].mean()) for p in found])
        excess = max(0.0, float((exact - first).max()))
        gap = max(0.0, float(first.max()) + excess - float(self.plan_draws(best)[0].mean()))
        return best, gap

    def gap_note(self, gap: float) -> str:
        """The words that state a non-additive search's gap."""
        return (
            f"{plan_count(self.sizes):,} plans are too many to score each: each plan is the best "
            f"of up to {self.candidates} first-order frontier plans within its budget, scored "
            f"exactly; a plan outside them could lift at most {gap:.3g} more, if its "
            "interactions are no larger than theirs"
        )

    def _best_exact(self, plans: list[tuple]) -> tuple:
        def rank(plan):
            return (-float(self.plan_draws(plan)[0].mean()), self.cost(plan))

        return min(plans, key=rank) if plans else ()

    def cheapest(self, target: float, confidence: float) -> tuple[tuple | None, str]:
        """The cheapest plan with P(lift >= target) >= confidence (``None``: none), and a note."""
        n_draws = self.draws[0].shape[1] if self.draws else 1
        need = math.ceil(confidence * n_draws - 1e-9)

        def reaches(plan) -> bool:
            return int(np.count_nonzero(self.plan_draws(plan)[0] >= target)) >= need

        if self.exhaustive:
            hits = [p for p in self._plans if reaches(p)]
            if not hits:
                return None, ""
            return min(hits, key=lambda p: (self.cost(p), -self.plan_draws(p)[0].mean())), ""
        excluded: set = set()
        for _ in range(1 if self.additive else self.candidates):
            outcome = cheapest_reaching(
                self.draws, self.costs, self.fixed, target, need, frozenset(excluded)
            )
            stopped = (
                ""
                if outcome.complete
                else f"the search stopped after {outcome.nodes:,} plans; a cheaper plan may exist"
            )
            if outcome.plan is None or self.additive or reaches(outcome.plan):
                note = stopped
                if not self.additive and outcome.plan is not None:
                    note = (
                        "the cheapest plan reaching the target on first-order draws that also "
                        "reaches it scored exactly; a cheaper plan whose first-order draws fall "
                        "short could reach it"
                    )
                return outcome.plan, note
            excluded.add(outcome.plan)
        return (
            None,
            "no plan among the first-order candidates reaches the target when scored exactly",
        )

    def frontier(
        self, points: int = FRONTIER_POINTS
    ) -> tuple[list[tuple[float, tuple]], float | None]:
        """``(budget, best plan)`` for ``points`` budgets from 0 to the cost of the best plan of
        all, each plan better than the one before (a budget that buys nothing more is left out),
        and the largest gap of :meth:`maximize` among them (``None`` when exact)."""
        if self.additive:
            costs, _, plans = self.pareto()
            budgets = np.linspace(0.0, float(costs[-1]), max(points, 2))
            chosen = [
                plans[int(np.searchsorted(costs, b + 1e-9, side="right")) - 1] for b in budgets
            ]
            gaps: list[float] = []
        else:
            top, _ = self.maximize(math.inf)
            budgets = np.linspace(0.0, self.cost(top), max(points, 2))
            chosen, gaps = [], []
            for budget in budgets:
                plan, gap = self.maximize(float(budget))
                chosen.append(plan)
                gaps += [] if gap is None else [gap]
        out: list[tuple[float, tuple]] = []
        best_value = -math.inf
        for budget, plan in zip(budgets, chosen, strict=True):
            value = float(self.plan_draws(plan)[0].mean())
            if out and value <= best_value:
                continue  # a cheaper plan found at a smaller budget is as good
            best_value = value
            out.append((float(budget), plan))
        return out, max(gaps) if gaps else None

    # -- results -------------------------------------------------------------------------------

    def plan_result(self, plan: tuple, target: float | None = None, exact: bool = True) -> Plan:
        """A :class:`Plan` of ``plan`` (its draws from the scorer when ``exact``)."""
        company, channel = self.exact_draws(plan) if exact else self.plan_draws(plan)
        choices = []
        for o, k in sorted(plan):
            option = self.options.options[o]
            choices.append(
                Choice(
                    option=option.name,
                    setting=option.settings[k],
                    cost=option.cost(k),
                )
            )
        channels = tuple(
            (name, estimate(channel[:, c], self.ci), bool(np.any(channel[:, c] != 0)))
            for c, name in enumerate(self.scorer.channels)
        )
        return Plan(
            choices=tuple(choices),
            cost=self.cost(plan),
            lift=estimate(company, self.ci),
            p_target=None if target is None else float(np.mean(company >= target)),
            channels=channels,
        )


def optimize(
    options: OptionSet,
    scorer: LiftScorer,
    metric: str = "mean",
    *,
    budget: float | None = None,
    target: float | None = None,
    confidence: float = 0.9,
    ci: float = 0.9,
    year: int | None = None,
    frontier_points: int = FRONTIER_POINTS,
    optimizer: PlanOptimizer | None = None,
) -> OptimizationResult:
    """The best plan of ``options``: most lift within ``budget``, or the cheapest reaching
    ``target`` with probability ``confidence``; with the efficient frontier.

    Parameters
    ----------
    options
        The candidate actions (checked against the model with
        :func:`~whatif.analysis.options.validate_options`).
    scorer
        A :class:`LiftScorer` (a :class:`~whatif.analysis.engine.ScenarioEngine`).
    metric
        ``mean`` (rating points), ``top_box`` (a share: 0.05 is 5 points) or ``nps`` (points).
    budget, target
        Exactly one: the most a plan may cost, or the lift it must reach.
    confidence
        With a target: the posterior probability the lift must reach it with.
    ci
        Probability of the intervals.
    year
        The scenario year (``None``: the model's default).
    frontier_points
        Budgets along the frontier.
    optimizer
        A :class:`PlanOptimizer` of these options already scored (reuse it for many budgets).

    Returns
    -------
    OptimizationResult
        ``plan`` is ``None`` when no plan reaches the target.
    """
    if (budget is None) == (target is None):
        raise WhatifError("give either a budget or a target (with a confidence), not both")
    if budget is not None and (not math.isfinite(budget) or budget < 0):
        raise WhatifError(f"budget must be 0 or more, got {budget:g}")
    if target is not None and not 0 < confidence < 1:
        raise WhatifError(
            f"confidence must be a probability between 0 and 1 (e.g. 0.9), got {confidence:g}"
        )
    engine = optimizer or PlanOptimizer(options, scorer, metric, year, ci)
    points, frontier_gap = engine.frontier(frontier_points)
    frontier = tuple(
        FrontierPoint(budget=b, plan=engine.plan_result(p, exact=False)) for b, p in points
    )
    if budget is not None:
        plan, gap = engine.maximize(budget)
        note = "" if gap is None else engine.gap_note(max(gap, frontier_gap or 0.0))
        objective = "max_lift"
    else:
        plan, note = engine.cheapest(target, confidence)
        if frontier_gap is not None:
            note = "; ".join(filter(None, [note, "frontier: " + engine.gap_note(frontier_gap)]))
        objective = "min_cost"
    return OptimizationResult(
        metric=metric,
        objective=objective,
        budget=budget,
        target=target,
        confidence=confidence if target is not None else None,
        currency=options.currency,
        ci=ci,
        plan=None if plan is None else engine.plan_result(plan, target),
        frontier=frontier,
        scenario=None if plan is None else _plan_scenario(options, plan, year, budget, target),
        exact=not note,
        note=note,
    )


def _plan_scenario(options: OptionSet, plan: tuple, year, budget, target) -> Scenario:
    currency = f" {options.currency}" if options.currency else ""
    goal = f"budget {budget:,.0f}{currency}" if budget is not None else f"target {target:g}"
    return options.scenario(plan, name=f"Optimized plan ({goal})", year=year)
