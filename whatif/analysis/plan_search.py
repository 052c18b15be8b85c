"""The searches behind the plan optimizer, on plain arrays: a plan picks at most one setting of
each option, and these functions find the best one.

Options are given per option ``o`` as arrays over its settings ``k``: a value (the expected lift
of the setting alone), a cost, and the option's fixed cost, paid once when any setting is used. A
plan is a tuple of ``(o, k)`` pairs sorted by ``o``.

* :func:`best_plans`: the plans of largest total value within a budget, best first: a
  multiple-choice knapsack, solved exactly as a mixed-integer program by HiGHS
  (``scipy.optimize.milp``, relative gap 0), one binary per setting and one "option used" binary
  per option for its fixed cost; each further plan is the optimum with the earlier ones cut off.
  Ties in value go to the cheaper plan.
* :func:`pareto_plans`: every plan no other plan beats (as cheap or cheaper, and more value):
  an exact dynamic search adding one option at a time and dropping what is beaten, so the whole
  efficient frontier comes at once.
* :func:`cheapest_reaching`: the cheapest plan whose per-draw lift (the sum of its settings'
  draws) reaches a target in at least ``need`` draws: a depth-first branch and bound, exact over
  the draws. A branch is cut when it already costs more than the best plan found, or when even
  adding every remaining option's best draw-by-draw gain would leave too few draws at the target.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp

__all__ = [
    "SearchOutcome",
    "all_plans",
    "best_plans",
    "cheapest_reaching",
    "pareto_plans",
    "plan_count",
]

Plan = tuple[tuple[int, int], ...]
#: Plans whose value is within this share of the largest setting value count as equally good.
VALUE_TOLERANCE = 1e-7
#: Branch-and-bound nodes visited before the search gives up (and says so).
NODE_LIMIT = 2_000_000


def plan_count(sizes: list[int]) -> int:
    """How many plans ``sizes`` (settings per option) allow, doing nothing included."""
    return math.prod(n + 1 for n in sizes)


def all_plans(sizes: list[int]) -> list[Plan]:
    """Every plan: each option unused or at one of its settings."""
    choices = [[None, *range(n)] for n in sizes]
    return [
        tuple((o, k) for o, k in enumerate(combo) if k is not None)
        for combo in itertools.product(*choices)
    ]


def best_plans(
    values: list[np.ndarray],
    costs: list[np.ndarray],
    fixed: np.ndarray,
    budget: float,
    count: int = 1,
) -> list[Plan]:
    """The ``count`` plans of largest total value whose cost is at most ``budget``, best first.

    Parameters
    ----------
    values, costs
        Per option, the value and cost of each setting.
    fixed
        Per option, the cost added once when it is used.
    budget
        The most a plan may cost.
    count
        How many plans (fewer when fewer fit the budget).
    """
    sizes = [len(v) for v in values]
    n_settings, n_options = sum(sizes), len(sizes)
    flat_values = np.concatenate(values) if n_settings else np.zeros(0)
    flat_costs = np.concatenate(costs) if n_settings else np.zeros(0)
    value_scale = max(float(np.abs(flat_values).max(initial=0.0)), 1e-300)
    cost_scale = max(float(flat_costs.max(initial=0.0)), float(np.max(fixed, initial=0.0)), 1.0)
    v = np.concatenate([flat_values / value_scale, np.zeros(n_options)])
    c = np.concatenate([flat_costs, fixed]) / cost_scale
    owner = np.repeat(np.arange(n_options), sizes)
    link = np.zeros((n_options, n_settings + n_options))
    link[owner, np.arange(n_settings)] = 1.0
    link[np.arange(n_options), n_settings + np.arange(n_options)] = -1.0
    base = [
        LinearConstraint(link, 0.0, 0.0),  # a used option takes exactly one setting
        LinearConstraint(c[None, :], -np.inf, budget / cost_scale + 1e-12),
    ]
    found: list[Plan] = []
    cuts: list[LinearConstraint] = []
    for _ in range(count):
        x = _solve(-v, base + cuts)
        if x is None:
            break
        best = float(v @ x)
        # among the plans as good as the best, the cheapest
        x = _solve(c, base + cuts + [LinearConstraint(v[None, :], best - VALUE_TOLERANCE, np.inf)])
        chosen = np.flatnonzero(x[:n_settings] > 0.5)
        found.append(_as_plan(chosen, sizes))
        cuts.append(_cut(chosen, n_settings, n_settings + n_options))
    return found


def pareto_plans(
    values: list[np.ndarray], costs: list[np.ndarray], fixed: np.ndarray
) -> tuple[np.ndarray, np.ndarray, list[Plan]]:
    """The plans no other plan beats, by increasing cost: ``(costs, values, plans)``.

    A plan is beaten by one that costs as much or less and has more value (or the same value
    for less). The best plan within any budget is the last of these that fits it.
    """
    cost, value = np.zeros(1), np.zeros(1)
    picks = np.full((1, len(values)), -1, dtype=np.int32)  # setting per option, -1 unused
    scale = max((float(np.abs(v).max(initial=0.0)) for v in values), default=0.0)
    tolerance = VALUE_TOLERANCE * max(scale, 1e-300)
    for o, (v, c) in enumerate(zip(values, costs, strict=True)):
        n = len(v)
        cost = np.concatenate([cost, (cost[:, None] + c[None, :] + fixed[o]).ravel()])
        value = np.concatenate([value, (value[:, None] + v[None, :]).ravel()])
        grown = np.repeat(picks, n, axis=0)
        grown[:, o] = np.tile(np.arange(n), len(picks))
        picks = np.concatenate([picks, grown])
        order = np.lexsort((-value, cost))
        cost, value, picks = cost[order], value[order], picks[order]
        before = np.concatenate([[-np.inf], np.maximum.accumulate(value)[:-1]])
        keep = value > before + tolerance
        cost, value, picks = cost[keep], value[keep], picks[keep]
    plans = [tuple((o, int(k)) for o, k in enumerate(row) if k >= 0) for row in picks]
    return cost, value, plans


def _solve(objective: np.ndarray, constraints: list[LinearConstraint]) -> np.ndarray | None:
    result = milp(
        objective,
        constraints=constraints,
        integrality=np.ones_like(objective),
        bounds=Bounds(0, 1),
        options={"mip_rel_gap": 0.0},
    )
    return None if result.x is None else np.round(result.x)


def _cut(chosen: np.ndarray, n_settings: int, width: int) -> LinearConstraint:
    """Rules out exactly the plan ``chosen`` (the settings it picks): a "no-good" cut."""
    row = np.zeros(width)
    row[:n_settings] = -1.0
    row[chosen] = 1.0
    return LinearConstraint(row[None, :], -np.inf, len(chosen) - 1)


def _as_plan(chosen: np.ndarray, sizes: list[int]) -> Plan:
    starts = np.concatenate([[0], np.cumsum(sizes)])
    plan = []
    for index in chosen:
        o = int(np.searchsorted(starts, index, side="right") - 1)
        plan.append((o, int(index - starts[o])))
    return tuple(plan)


@dataclass(frozen=True)
class SearchOutcome:
    """What :func:`cheapest_reaching` found: the plan (``None``: none reaches the target) and
    whether the search was complete (``False``: it stopped at its node limit)."""

    plan: Plan | None
    complete: bool
    nodes: int


def cheapest_reaching(
    draws: list[np.ndarray],
    costs: list[np.ndarray],
    fixed: np.ndarray,
    target: float,
    need: int,
    exclude: frozenset = frozenset(),
    node_limit: int = NODE_LIMIT,
) -> SearchOutcome:
    """The cheapest plan whose summed draws reach ``target`` in at least ``need`` draws.

    Parameters
    ----------
    draws
        Per option, the lift draws of each setting, shape (settings, draws).
    costs, fixed
        As :func:`best_plans`.
    target
        The lift a draw must reach (``>=``).
    need
        How many draws must reach it (``ceil(confidence * draws)``).
    exclude
        Plans not to return (already ruled out by an exact check).
    node_limit
        Nodes to visit before giving up.

    Among plans of equal cost the one with the larger mean lift is returned.
    """
    n_options = len(draws)
    n_draws = draws[0].shape[1] if n_options else 0
    gains = [np.maximum(d.max(axis=0), 0.0) for d in draws]
    optimistic = np.zeros((n_options + 1, n_draws))
    for o in range(n_options - 1, -1, -1):
        optimistic[o] = optimistic[o + 1] + gains[o]
    orders = [np.argsort(c, kind="stable") for c in costs]
    tolerance = 1e-9 * max(1.0, float(max((c.max(initial=0) for c in costs), default=0.0)))
    best = {"cost": math.inf, "mean": -math.inf, "plan": None}
    nodes = 0

    def reaches(lift: np.ndarray) -> bool:
        return int(np.count_nonzero(lift >= target)) >= need

    def visit(o: int, lift: np.ndarray, cost: float, chosen: tuple) -> bool:
        nonlocal nodes
        nodes += 1
        if nodes > node_limit:
            return False
        if cost > best["cost"] + tolerance:
            return True
        if chosen not in exclude and reaches(lift):
            mean = float(lift.mean())
            if cost < best["cost"] - tolerance or mean > best["mean"]:
                best.update(cost=cost, mean=mean, plan=chosen)
            # a costlier extension cannot be better; one of equal cost may lift more
        if o == n_options or not reaches(lift + optimistic[o]):
            return True
        if not visit(o + 1, lift, cost, chosen):
            return False
        for k in orders[o]:
            step = costs[o][k] + fixed[o]
            if not visit(o + 1, lift + draws[o][k], cost + step, (*chosen, (o, int(k)))):
                return False
        return True

    complete = visit(0, np.zeros(n_draws), 0.0, ())
    return SearchOutcome(plan=best["plan"], complete=complete, nodes=nodes)
