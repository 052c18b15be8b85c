"""The Plan tab's session state: the options, the question (a budget, or a target and a
confidence), the metric and the optimized plan, with no Panel in it.

:class:`PlanState` holds what the user set; the computing is :func:`whatif.analysis.optimizer`'s.
Every setting of the options is scored once (:class:`~whatif.analysis.optimizer.PlanOptimizer`,
kept while the options, metric and year stay the same), so a budget change only re-solves the
plan. Problems a user can fix go to :attr:`error`, never raised. :meth:`load_into` hands the
plan to a :class:`~whatif.app.state.PlannerState` as its current scenario.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import param

from whatif.analysis.optimizer import OptimizationResult, PlanOptimizer, optimize
from whatif.analysis.options import OptionSet, parse_options, validate_options
from whatif.errors import ScenarioError, WhatifError

__all__ = ["OBJECTIVES", "PlanState"]

#: The two questions the Plan tab answers.
OBJECTIVES = ("budget", "target")


class PlanState(param.Parameterized):
    """One session's plan: options, question, metric and the :class:`OptimizationResult`.

    Parameters
    ----------
    planner
        The session's :class:`~whatif.app.state.PlannerState` (its model and year are used).
    """

    options_text = param.String(default="", doc="The options file's TOML, as edited.")
    options = param.ClassSelector(class_=OptionSet, default=None, allow_None=True)
    objective = param.Selector(default="budget", objects=list(OBJECTIVES))
    budget = param.Number(default=0.0, bounds=(0, None), doc="Most a plan may cost.")
    target = param.Number(default=0.1, doc="The lift a plan must reach (top-box: a share).")
    confidence = param.Number(default=0.9, bounds=(0.5, 0.99), doc="P(lift >= target) needed.")
    metric = param.String(default="mean", doc="mean, top_box or nps.")
    result = param.ClassSelector(class_=OptimizationResult, default=None, allow_None=True)
    error = param.String(default="", doc="The last problem a user can fix, in words.")

    def __init__(self, planner, **params):
        super().__init__(**params)
        self.planner = planner
        self._optimizer: tuple[tuple, PlanOptimizer] | None = None
        planner.param.watch(self._on_model, ["model_path", "year", "ci"])

    def _on_model(self, *_) -> None:
        self._optimizer = None
        if self.planner.bundle is not None and self.metric not in self.metrics:
            self.metric = self.planner.bundle.model.spec.rating.headline
        self.solve()

    @property
    def metrics(self) -> tuple[str, ...]:
        bundle = self.planner.bundle
        return bundle.model.spec.rating.metrics if bundle is not None else ("mean",)

    def load_text(self, text: str | bytes, filename: str = "<options>") -> bool:
        """Read options TOML (edited or uploaded): True and a new plan, else :attr:`error`."""
        bundle = self.planner.bundle
        try:
            if isinstance(text, bytes):
                text = text.decode("utf-8")
            options = parse_options(tomllib.loads(text), source=filename)
            if bundle is not None:
                problems = validate_options(options, bundle.model.spec, bundle.model.aggregates)
                if problems:
                    raise ScenarioError(*problems)
        except UnicodeDecodeError:
            self.error = f"{filename}: not a text file; upload an options .toml file"
            return False
        except tomllib.TOMLDecodeError as err:
            self.error = f"{filename}: not valid TOML ({err}); fix the syntax at that line"
            return False
        except WhatifError as err:
            self.error = "\n".join(err.problems)
            return False
        self._optimizer = None
        total = sum(max(o.cost(k) for k in range(len(o.settings))) for o in options.options)
        with param.parameterized.discard_events(self):
            self.param.update(options_text=text, options=options, error="")
            if not self.budget:
                self.budget = round(total / 4, -3) if total >= 4000 else total / 4
        self.solve()
        return True

    def load_file(self, path: str | Path) -> bool:
        """Read an options file from disk (the demo's)."""
        path = Path(path)
        return self.load_text(path.read_text(encoding="utf-8"), str(path))

    def optimizer(self) -> PlanOptimizer:
        """The options scored on the session's model (kept while nothing it depends on moves)."""
        planner = self.planner
        year = planner.current_scenario().year
        key = (id(planner.bundle), id(self.options), self.metric, year, planner.ci)
        if self._optimizer is None or self._optimizer[0] != key:
            scored = PlanOptimizer(
                self.options, planner.bundle.engine, self.metric, year=year, ci=planner.ci
            )
            self._optimizer = (key, scored)
        return self._optimizer[1]

    @param.depends("objective", "budget", "target", "confidence", "metric", watch=True)
    def solve(self) -> None:
        """Optimize for the current question and publish :attr:`result`."""
        planner = self.planner
        if self.options is None or planner.bundle is None:
            self.result = None
            return
        question = (
            {"budget": self.budget}
            if self.objective == "budget"
            else {"target": self.target, "confidence": self.confidence}
        )
        try:
            scored = self.optimizer()
            result = optimize(
                self.options,
                planner.bundle.engine,
                self.metric,
                ci=planner.ci,
                year=scored.year,
                optimizer=scored,
                **question,
            )
        except WhatifError as err:
            self.param.update(result=None, error="\n".join(err.problems) or str(err))
            return
        self.param.update(result=result, error="")

    def load_into(self) -> bool:
        """Make the plan the planner's current scenario (and save it); False without a plan."""
        if self.result is None or self.result.scenario is None:
            return False
        scenario = self.result.scenario
        planner = self.planner
        planner.saved = [s for s in planner.saved if s.name != scenario.name] + [scenario]
        planner.apply_scenario(scenario)
        planner.info = f"Loaded '{scenario.name}' into the levers"
        return True
