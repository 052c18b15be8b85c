"""Shared fixtures: a tiny fitted model (fitted once per test session) and the demo paths."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "demo"


@pytest.fixture(scope="session")
def demo_paths() -> dict[str, Path]:
    """The committed demo survey, spec, truth and scenarios."""
    return {
        "survey": DEMO / "survey.parquet",
        "spec": DEMO / "spec.toml",
        "truth": DEMO / "truth.nc",
        "scenarios": DEMO / "scenarios",
    }


@pytest.fixture(scope="session")
def tiny_survey():
    """A small simulated survey with known truth: 2 channels x 3 years, one driver unmeasured
    in one channel, survey weights."""
    from whatif.demo import random_truth, simulate_survey, spec_for
    from whatif.survey import validate_frame

    truth = random_truth(n_channels=2, n_years=3, n_drivers=3, n_influencers=2, seed=3)
    frame = simulate_survey(truth, 400, seed=4, round_to_scale=False)
    # unrounded answers may stray past the 1-10 scale; the tiny survey tests the model, not scales
    spec = dataclasses.replace(spec_for(truth), scale=(-100.0, 100.0))
    return truth, frame, spec, validate_frame(frame, spec)


@pytest.fixture(scope="session")
def tiny_model(tiny_survey):
    """A quick fit of the tiny survey (2 chains x 300 draws): enough for plumbing tests."""
    from whatif.aggregate import aggregate
    from whatif.fit import fit_model

    _, _, spec, survey = tiny_survey
    return fit_model(aggregate(survey), spec, draws=300, tune=300, chains=2, seed=1,
                     fingerprint="tiny", source="tiny")


@pytest.fixture(scope="session")
def tiny_model_path(tiny_model, tmp_path_factory) -> Path:
    """The tiny fit saved as an artefact folder."""
    from whatif.artefact import save_model

    return save_model(tiny_model, tmp_path_factory.mktemp("models") / "tiny")
