"""Scenario latency: one scenario and a grid of 100, on a fitted model's posterior draws.

Targets (issue 4): one scenario on 4,000 draws in under 20 ms, a grid of 100 in under 1 s, so the
planner app answers as a slider moves.

    python benchmarks/bench_scenarios.py [--model models/demo]

Prints a markdown table. The demo model from ``./dev.sh demo`` has 4 chains x 1000 draws.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from whatif.analysis.engine import ScenarioEngine, summarize_lift
from whatif.analysis.scenario import Lever, Scenario, load_scenario
from whatif.fitting.artefact import load_model


def timed(func, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def grid(engine: ScenarioEngine) -> list[Scenario]:
    """100 scenarios: caps, shifts and shares over the influencers and drivers of the model."""
    out = []
    kinds = engine._kinds
    for i in range(100):
        name = engine.influencers[i % len(engine.influencers)]
        kind = kinds[name]
        if kind == "binary":
            lever = Lever(name, "influencer", "share", (i % 10) / 10)
        elif kind == "count":
            lever = Lever(name, "influencer", "cap", 1 + i % 5)
        else:
            lever = Lever(name, "influencer", "shift", -0.1 * (i % 7))
        driver = Lever(engine.drivers[i % len(engine.drivers)], "driver", "shift", 0.05 * (i % 4))
        out.append(Scenario(f"grid {i}", (lever, driver)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="models/demo")
    parser.add_argument("--scenario", default="data/demo/scenarios/combined_plan.toml")
    args = parser.parse_args()
    start = time.perf_counter()
    model = load_model(args.model)
    load_s = time.perf_counter() - start
    start = time.perf_counter()
    engine = ScenarioEngine(model)
    prepare_s = time.perf_counter() - start
    scenario = load_scenario(Path(args.scenario))
    engine.lift_arrays(scenario)  # first call fills the per-year cache
    one = timed(lambda: engine.lift_arrays(scenario), 50)
    one_summary = timed(lambda: summarize_lift(engine.lift(scenario)), 20)
    scenarios = grid(engine)
    for s in scenarios:
        engine.lift_arrays(s)
    start = time.perf_counter()
    for s in scenarios:
        engine.lift_arrays(s)
    grid_s = time.perf_counter() - start
    print(
        f"Model {args.model}: {engine.n_draws} posterior draws, {len(engine.channels)} channels, "
        f"{len(engine.influencers)} influencers\n"
    )
    print("| step | time | target |")
    print("|---|---|---|")
    print(f"| load artefact | {load_s * 1000:.0f} ms | once per process |")
    print(f"| prepare engine | {prepare_s * 1000:.0f} ms | once per process |")
    print(f"| one scenario (arrays) | {one * 1000:.1f} ms | < 20 ms |")
    print(f"| one scenario + summary (Dataset, intervals) | {one_summary * 1000:.1f} ms | - |")
    print(f"| grid of 100 scenarios | {grid_s * 1000:.0f} ms | < 1000 ms |")


if __name__ == "__main__":
    main()
