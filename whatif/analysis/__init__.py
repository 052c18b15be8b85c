"""What a fitted model says: scenarios and the scenario engine, summaries, total effects through
the driver paths, the priority map, the comparison of two fits, Johnson's relative weights, the
team's scenario library, paired differences of two scenarios, and their typed results.

Imports :mod:`whatif.data` and :mod:`whatif.fitting` (never the sampler stack).
"""

from whatif.exports import lazy_exports

EXPORTS = {
    "apply_operation": "whatif.analysis.scenario",
    "OPERATIONS": "whatif.analysis.scenario",
    "Lever": "whatif.analysis.scenario",
    "Scenario": "whatif.analysis.scenario",
    "load_scenario": "whatif.analysis.scenario",
    "parse_scenario": "whatif.analysis.scenario",
    "model_facts": "whatif.analysis.scenario",
    "validate_scenario": "whatif.analysis.scenario",
    "SCALE_MARGIN": "whatif.analysis.engine",
    "ScenarioEngine": "whatif.analysis.engine",
    "YearArrays": "whatif.analysis.engine",
    "scale_warnings": "whatif.analysis.engine",
    "simulate": "whatif.analysis.engine",
    "summarize_lift": "whatif.analysis.engine",
    "driver_effects_frame": "whatif.analysis.effects",
    "path_arrays": "whatif.analysis.effects",
    "path_rows": "whatif.analysis.effects",
    "propagator": "whatif.analysis.effects",
    "total_effect_rows": "whatif.analysis.effects",
    "total_effects": "whatif.analysis.effects",
    "importance": "whatif.analysis.summary",
    "r_squared": "whatif.analysis.summary",
    "summarize": "whatif.analysis.summary",
    "tidy_interval": "whatif.analysis.summary",
    "johnson_weights": "whatif.analysis.relative_weights",
    "relative_importance": "whatif.analysis.relative_weights",
    "relative_importance_rows": "whatif.analysis.relative_weights",
    "relative_weight_shares": "whatif.analysis.relative_weights",
    "symmetric_sqrt": "whatif.analysis.relative_weights",
    "QUADRANTS": "whatif.analysis.priorities",
    "priority_map": "whatif.analysis.priorities",
    "backtest": "whatif.analysis.compare",
    "compare": "whatif.analysis.compare",
    "discount_of": "whatif.analysis.compare",
    "rank_changes": "whatif.analysis.compare",
    "weight_changes": "whatif.analysis.compare",
    "ChannelLift": "whatif.analysis.results",
    "Estimate": "whatif.analysis.results",
    "LiftSummary": "whatif.analysis.results",
    "PriorityBorders": "whatif.analysis.results",
    "PriorityMap": "whatif.analysis.results",
    "PriorityPoint": "whatif.analysis.results",
    "estimate": "whatif.analysis.results",
    "LIBRARY_FOLDER": "whatif.analysis.library",
    "MAX_NAME_LENGTH": "whatif.analysis.library",
    "MAX_SCENARIO_BYTES": "whatif.analysis.library",
    "LibraryEntry": "whatif.analysis.library",
    "ScenarioExists": "whatif.analysis.library",
    "ScenarioLibrary": "whatif.analysis.library",
    "check_name": "whatif.analysis.library",
    "resolve_scenario": "whatif.analysis.library",
    "scenario_slug": "whatif.analysis.library",
    "ChannelDifference": "whatif.analysis.difference",
    "ScenarioDifference": "whatif.analysis.difference",
    "scenario_difference": "whatif.analysis.difference",
}

__all__ = sorted(EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, EXPORTS)
