"""Shared fixtures: a tiny fitted model (fitted once per test session) and the demo paths."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "demo"


def pytest_configure(config):
    """One BLAS thread, as the command line runs (whatif.threads)."""
    from whatif.threads import limit_blas_threads

    limit_blas_threads()


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
    from whatif.data.survey import validate_frame
    from whatif.synthetic import random_truth, simulate_survey, spec_for

    truth = random_truth(n_channels=2, n_years=3, n_drivers=3, n_influencers=2, seed=3)
    frame = simulate_survey(truth, 400, seed=4, round_to_scale=False)
    # unrounded answers may stray past the 1-10 scale; the tiny survey tests the model, not scales
    spec = dataclasses.replace(spec_for(truth), scale=(-100.0, 100.0))
    return truth, frame, spec, validate_frame(frame, spec)


@pytest.fixture(scope="session")
def tiny_model(tiny_survey):
    """A quick fit of the tiny survey (2 chains x 300 draws): enough for plumbing tests."""
    from whatif.data.aggregate import aggregate
    from whatif.fitting.fit import fit_model

    _, _, spec, survey = tiny_survey
    return fit_model(
        aggregate(survey),
        spec,
        draws=300,
        tune=300,
        chains=2,
        seed=1,
        fingerprint="tiny",
        source="tiny",
    )


@pytest.fixture(scope="session")
def tiny_model_path(tiny_model, tmp_path_factory) -> Path:
    """The tiny fit saved as an artefact folder."""
    from whatif.fitting.artefact import save_model

    return save_model(tiny_model, tmp_path_factory.mktemp("models") / "tiny")


# -- browser tests (the planner app) -------------------------------------------------------------

#: Flags for Debian's chromium in a sandbox-less, offline container.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium_executable() -> str | None:
    """Debian's chromium (Playwright cannot download its own browsers here)."""
    import os
    import shutil

    return (
        os.environ.get("WHATIF_CHROMIUM")
        or shutil.which("chromium")
        or shutil.which("chromium-browser")
    )


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """pytest-playwright's launch arguments, pointed at the system chromium."""
    executable = chromium_executable()
    if not executable:
        if os.environ.get("CI"):  # CI installs chromium: a browser test must never skip there
            pytest.fail("chromium not found: dev.sh should have installed it")
        pytest.skip("chromium not found: install it or set WHATIF_CHROMIUM=/path/to/chromium")
    return {
        **browser_type_launch_args,
        "executable_path": executable,
        "args": CHROMIUM_ARGS,
        "headless": True,
    }
