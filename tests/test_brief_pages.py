"""The brief of one scenario fits two A4 pages: each demo scenario's PDF, pages counted."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = sorted((ROOT / "data" / "demo" / "scenarios").glob("*.toml"))


@pytest.fixture(scope="module")
def demo_model(demo_paths, tmp_path_factory):
    """``models/demo`` when it is fitted on the current demo data, else a quick fit of it."""
    from whatif.data.spec import load_spec
    from whatif.data.survey import fingerprint_files
    from whatif.errors import ArtefactError
    from whatif.fitting.artefact import load_model

    fingerprint = fingerprint_files([demo_paths["survey"]], load_spec(demo_paths["spec"]))
    try:
        model = load_model(ROOT / "models" / "demo")
        if model.manifest.get("fingerprint") == fingerprint:
            return model
    except ArtefactError:
        pass
    from whatif.pipeline import fit_to_artefact

    out = tmp_path_factory.mktemp("models") / "demo"
    fit_to_artefact(
        demo_paths["survey"], demo_paths["spec"], out, draws=150, tune=150, chains=2, seed=0
    )
    return load_model(out)


def test_there_are_demo_scenarios():
    assert len(SCENARIOS) >= 4


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_one_scenarios_brief_fits_two_a4_pages(demo_model, path):
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    from whatif.analysis.scenario import load_scenario
    from whatif.report.brief import render_html

    html = render_html(demo_model, [load_scenario(path)], ci=0.9)
    document = HTML(string=html, url_fetcher=URLFetcher(allowed_protocols=("data",))).render()
    sizes = {(round(p.width), round(p.height)) for p in document.pages}
    assert sizes == {(794, 1123)}, f"not A4 pages: {sizes}"  # CSS pixels of 210 x 297 mm
    assert 1 <= len(document.pages) <= 2, f"{path.name}: {len(document.pages)} pages"
