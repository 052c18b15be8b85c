"""The main job: `whatif demo` makes data if missing, fits once, reuses the fit, serves the app."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

import whatif.app.server
import whatif.pipeline
from whatif.cli import app
from whatif.data.spec import load_spec
from whatif.data.survey import fingerprint_files
from whatif.fitting.artefact import load_model, save_model


def test_demo_fits_once_then_reuses_the_model(tmp_path, monkeypatch, tiny_model_path):
    monkeypatch.chdir(tmp_path)
    served, fitted = [], []

    def fake_fit(data, spec, out, **kwargs):
        """The tiny model, saved as if fitted on the demo files (their fingerprint)."""
        fitted.append((data, out, kwargs))
        model = load_model(tiny_model_path)
        model.manifest["fingerprint"] = fingerprint_files([Path(data)], load_spec(spec))
        save_model(model, out)

    monkeypatch.setattr(whatif.pipeline, "fit_to_artefact", fake_fit)
    monkeypatch.setattr(whatif.app.server, "serve", lambda path, **kw: served.append((path, kw)))
    runner = CliRunner()
    first = runner.invoke(app, ["demo", "--no-show", "--port", "5999"])
    assert first.exit_code == 0, first.output
    assert (tmp_path / "data/demo/survey.parquet").exists()  # demo data written when missing
    assert len(fitted) == 1 and fitted[0][2]["chains"] == 4 and fitted[0][2]["draws"] == 1000
    second = runner.invoke(app, ["demo", "--no-show"])
    assert second.exit_code == 0, second.output
    assert len(fitted) == 1  # reused
    assert "demo model: models/demo" in second.output
    assert [str(p) for p, _ in served] == ["models/demo", "models/demo"]
    assert served[0][1]["port"] == 5999 and served[0][1]["show"] is False
    # new demo data (a newer whatif, a regenerated survey): the stale model is fitted again
    survey = tmp_path / "data/demo/survey.parquet"
    pd.read_parquet(survey).iloc[:-1].to_parquet(survey)
    third = runner.invoke(app, ["demo", "--no-show"])
    assert third.exit_code == 0, third.output
    assert len(fitted) == 2 and "changed since models/demo was fitted" in third.output
