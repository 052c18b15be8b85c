"""whatif: Bayesian key-driver simulation and what-if planning for customer experience."""

from whatif.errors import ArtefactError, DataError, ScenarioError, SpecError, WhatifError
from whatif.spec import Spec, load_spec
from whatif.survey import Survey, load_survey

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
