"""Fitting and keeping fits: sampling (nutpie), the fitted model, diagnostics, artefact folders,
the models index, the yearly refit and its frozen past.

Imports :mod:`whatif.data` and :mod:`whatif.model`. Loading a fitted model (:func:`load_model`)
never imports the sampler stack; :func:`fit_model` does, when called.
"""

from whatif.exports import lazy_exports

EXPORTS = {
    "MAX_GAP": "whatif.fitting.ppc",
    "PPC_DRAWS": "whatif.fitting.ppc",
    "answer_check": "whatif.fitting.ppc",
    "predicted_shares": "whatif.fitting.ppc",
    "with_rating_statistics": "whatif.fitting.merge",
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
    "plan_refit": "whatif.fitting.refit",
    "refit": "whatif.fitting.refit",
    "frozen_posterior": "whatif.fitting.frozen",
    "YEARLY": "whatif.fitting.merge",
    "check_changes": "whatif.fitting.merge",
    "conform_aggregates": "whatif.fitting.merge",
    "discount_aggregates": "whatif.fitting.merge",
    "merge_aggregates": "whatif.fitting.merge",
    "spec_changes": "whatif.fitting.merge",
}

__all__ = sorted(EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, EXPORTS)
