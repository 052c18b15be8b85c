"""whatif: Bayesian key-driver simulation and what-if planning for customer experience."""

from whatif.data.spec import Spec, load_spec
from whatif.data.survey import Survey, load_survey
from whatif.errors import ArtefactError, DataError, ScenarioError, SpecError, WhatifError

__version__ = "0.1.0"

__all__ = [
    "ArtefactError",
    "DataError",
    "ScenarioError",
    "Spec",
    "SpecError",
    "Survey",
    "WhatifError",
    "__version__",
    "load_spec",
    "load_survey",
]
