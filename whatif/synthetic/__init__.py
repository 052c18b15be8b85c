"""Synthetic surveys with known truth: the demo data set and the small surveys of the tests.

:mod:`~whatif.synthetic.design` holds the survey format and the demo's design tables,
:mod:`~whatif.synthetic.truth` turns them (or a seed) into a truth, :mod:`~whatif.synthetic.survey`
draws responses from a truth, and :mod:`~whatif.synthetic.files` writes the spec, survey and truth
files (``whatif demo-data``). Imports :mod:`whatif.data` only.
"""

from whatif.exports import lazy_exports

EXPORTS = {
    "TopHeavyTruth": "whatif.synthetic.top_heavy",
    "flip_share": "whatif.synthetic.top_heavy",
    "realized_change": "whatif.synthetic.top_heavy",
    "top_heavy_survey": "whatif.synthetic.top_heavy",
    "top_heavy_truth": "whatif.synthetic.top_heavy",
    "BASE_WEIGHTS": "whatif.synthetic.design",
    "CHANNELS": "whatif.synthetic.design",
    "DIRECT": "whatif.synthetic.design",
    "DIRECT_JITTER": "whatif.synthetic.design",
    "DRIVERS": "whatif.synthetic.design",
    "EFFECTS": "whatif.synthetic.design",
    "EFFECT_JITTER": "whatif.synthetic.design",
    "EFFECT_MULTIPLIERS": "whatif.synthetic.design",
    "INFLUENCERS": "whatif.synthetic.design",
    "ITEM_SD": "whatif.synthetic.design",
    "OUTCOME": "whatif.synthetic.design",
    "PATHS": "whatif.synthetic.design",
    "ROUNDING_VAR": "whatif.synthetic.design",
    "SATISFACTION": "whatif.synthetic.design",
    "SCALE": "whatif.synthetic.design",
    "WEIGHT_DRIFT": "whatif.synthetic.design",
    "WEIGHT_SPREAD": "whatif.synthetic.design",
    "WEIGHT_TREND": "whatif.synthetic.design",
    "YEARS": "whatif.synthetic.design",
    "YEAR_SHARE": "whatif.synthetic.design",
    "demo_truth": "whatif.synthetic.truth",
    "path_matrices": "whatif.synthetic.truth",
    "random_truth": "whatif.synthetic.truth",
    "simulate_survey": "whatif.synthetic.survey",
    "load_truth": "whatif.synthetic.files",
    "spec_for": "whatif.synthetic.files",
    "write_demo": "whatif.synthetic.files",
    "DEMO_ALERTS": "whatif.synthetic.kpis",
    "DEMO_MONTHS": "whatif.synthetic.kpis",
    "IVR_REDESIGN": "whatif.synthetic.kpis",
    "OUTAGE_MONTH": "whatif.synthetic.kpis",
    "demo_kpis": "whatif.synthetic.kpis",
    "write_demo_kpis": "whatif.synthetic.kpis",
}

__all__ = sorted(EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, EXPORTS)
