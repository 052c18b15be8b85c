"""Fitting and keeping fits: sampling (nutpie), the fitted model, diagnostics, artefact folders,
the models index, the yearly refit and its frozen past.

Imports :mod:`whatif.data` and :mod:`whatif.model`. Loading a fitted model (:func:`load_model`)
never imports the sampler stack; :func:`fit_model` does, when called.
"""

from whatif.exports import lazy_exports

EXPORTS = {
    "FittedModel": "whatif.fitting.fitted",
    "package_versions": "whatif.fitting.fitted",
    "THRESHOLDS": "whatif.fitting.diagnostics",
    "compute_diagnostics": "whatif.fitting.diagnostics",
    "verdict": "whatif.fitting.diagnostics",
    "FORMAT_VERSION": "whatif.fitting.artefact",
    "load_model": "whatif.fitting.artefact",
    "save_model": "whatif.fitting.artefact",
    "INDEX_NAME": "whatif.fitting.registry",
    "entry": "whatif.fitting.registry",
    "scan": "whatif.fitting.registry",
    "write_index": "whatif.fitting.registry",
    "fit_model": "whatif.fitting.fit",
    "RefitPlan": "whatif.fitting.refit",
    "conform_aggregates": "whatif.fitting.refit",
    "discount_aggregates": "whatif.fitting.refit",
    "merge_aggregates": "whatif.fitting.refit",
    "plan_refit": "whatif.fitting.refit",
    "refit": "whatif.fitting.refit",
    "spec_changes": "whatif.fitting.refit",
    "frozen_posterior": "whatif.fitting.frozen",
}

__all__ = sorted(EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, EXPORTS)
