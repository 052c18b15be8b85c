"""Plan optimizer latency on a fitted model's posterior draws.

Targets (issue 16): 10 options with 3-5 settings each on 4,000 draws: a budget optimum in under
1 s and a 20-point frontier in under 5 s; the planner app answers a budget change in under 1 s.

    python benchmarks/bench_optimize.py [--model models/demo] [--options data/demo/options.toml]

Prints a markdown table (median of a few runs). The demo model from ``./dev.sh demo`` has
4 chains x 1000 draws; the demo options are 10 options with 3-5 settings (about 2.4 million plans).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bench_scenarios import timed  # the benchmarks' one timer (this folder is on the path)

from whatif.analysis.engine import ScenarioEngine
from whatif.analysis.optimizer import PlanOptimizer, optimize
from whatif.analysis.options import load_options
from whatif.analysis.plan_search import plan_count
from whatif.fitting.artefact import load_model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=Path("models/demo"))
    parser.add_argument("--options", type=Path, default=Path("data/demo/options.toml"))
    parser.add_argument("--budget", type=float, default=500_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    model = load_model(args.model)
    engine = ScenarioEngine(model)
    options = load_options(args.options)
    sizes = [len(o.settings) for o in options.options]
    engine.lift_arrays(options.scenario(((0, 0),)))  # warm the per-year arrays
    draws = engine.lift_arrays(options.scenario(()))["company"].shape[0]
    scored = {}

    def score(metric: str):
        scored[metric] = PlanOptimizer(options, engine, metric)

    def budget_alone(metric: str):
        scored[metric].maximize(args.budget)

    def frontier(metric: str):
        scored[metric].frontier(20)

    def whole(metric: str):
        optimize(options, engine, metric, budget=args.budget)

    def target(metric: str):
        top = float(scored[metric].values[0].max())
        optimize(options, engine, metric, target=top, confidence=0.9, optimizer=scored[metric])

    print(
        f"{len(sizes)} options, {min(sizes)}-{max(sizes)} settings, {plan_count(sizes):,} plans, "
        f"{draws:,} draws\n"
    )
    print("| metric | step | seconds |")
    print("|---|---|---|")
    for metric in ("mean", "top_box"):
        steps = [
            ("score every setting once", score),
            ("budget optimum (scored)", budget_alone),
            ("20-point frontier (scored)", frontier),
            ("target at 90% (scored)", target),
            ("whole command: score, optimum and frontier", whole),
        ]
        for name, step in steps:
            print(
                f"| {metric} | {name} | {timed(lambda s=step, m=metric: s(m), args.repeat):.3f} |"
            )


if __name__ == "__main__":
    main()
