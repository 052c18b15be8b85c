"""Synthetic surveys with known truth: the demo data set and the small surveys of the tests."""

from whatif.exports import lazy_exports

EXPORTS = {
    "demo_truth": "whatif.synthetic.demo",
    "load_truth": "whatif.synthetic.demo",
    "random_truth": "whatif.synthetic.demo",
    "simulate_survey": "whatif.synthetic.demo",
    "spec_for": "whatif.synthetic.demo",
    "write_demo": "whatif.synthetic.demo",
}

__all__ = sorted(EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, EXPORTS)
