"""What a fitted model says: scenarios and the scenario engine, summaries, total effects through
the driver paths, the priority map, the comparison of two fits, Johnson's relative weights, and
their typed results.

Imports :mod:`whatif.data` and :mod:`whatif.fitting` (never the sampler stack).
"""

from whatif.exports import lazy_exports

EXPORTS = {
    "GRID_STEP": "whatif.analysis.answers",
    "change_tables": "whatif.analysis.answers",
    "look_up": "whatif.analysis.answers",
    "shift_grid": "whatif.analysis.answers",
    "MAX_ANSWER_DRAWS": "whatif.analysis.answer_engine",
    "AnswerForecast": "whatif.analysis.answer_engine",
    "is_rating_model": "whatif.analysis.answer_engine",
    "respondent_changes": "whatif.analysis.answer_engine",
    "apply_operation": "whatif.analysis.scenario",
    "OPERATIONS": "whatif.analysis.scenario",
    "Lever": "whatif.analysis.scenario",
    "Scenario": "whatif.analysis.scenario",
    "load_scenario": "whatif.analysis.scenario",
    "parse_scenario": "whatif.analysis.scenario",
    "model_facts": "whatif.analysis.scenario",
    "validate_scenario": "whatif.analysis.scenario",
    "SCALE_MARGIN": "whatif.analysis.scale_warnings",
    "ScenarioEngine": "whatif.analysis.engine",
    "YearArrays": "whatif.analysis.engine",
    "scale_warnings": "whatif.analysis.scale_warnings",
    "simulate": "whatif.analysis.engine",
    "summarize_lift": "whatif.analysis.lift_summary",
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
    "baseline_metric_rows": "whatif.analysis.summary",
    "likelihood_of": "whatif.analysis.summary",
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
}

__all__ = sorted(EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, EXPORTS)
