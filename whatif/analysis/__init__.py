"""What a fitted model says: scenarios and the scenario engine, summaries, the priority map,
the comparison of two fits, and their typed results.

Imports :mod:`whatif.data` and :mod:`whatif.fitting` (never the sampler stack).
"""

from whatif.exports import lazy_exports

EXPORTS = {
    "OPERATIONS": "whatif.analysis.scenario",
    "Lever": "whatif.analysis.scenario",
    "Scenario": "whatif.analysis.scenario",
    "load_scenario": "whatif.analysis.scenario",
    "parse_scenario": "whatif.analysis.scenario",
    "model_facts": "whatif.analysis.scenario",
    "validate_scenario": "whatif.analysis.scenario",
    "ScenarioEngine": "whatif.analysis.engine",
    "simulate": "whatif.analysis.engine",
    "summarize_lift": "whatif.analysis.engine",
    "importance": "whatif.analysis.summary",
    "r_squared": "whatif.analysis.summary",
    "summarize": "whatif.analysis.summary",
    "tidy_interval": "whatif.analysis.summary",
    "QUADRANTS": "whatif.analysis.priorities",
    "priority_map": "whatif.analysis.priorities",
    "backtest": "whatif.analysis.compare",
    "compare": "whatif.analysis.compare",
    "discount_of": "whatif.analysis.compare",
    "rank_changes": "whatif.analysis.compare",
    "weight_changes": "whatif.analysis.compare",
}

__all__ = sorted(EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, EXPORTS)
