"""The main job: `whatif demo` makes data if missing, fits once, reuses the fit, serves the app."""

from __future__ import annotations

import shutil

from typer.testing import CliRunner

import whatif.app.server
import whatif.pipeline
from whatif.cli import app


def test_demo_fits_once_then_reuses_the_model(tmp_path, monkeypatch, tiny_model_path):
    monkeypatch.chdir(tmp_path)
    served, fitted = [], []

    def fake_fit(data, spec, out, **kwargs):
        fitted.append((data, out, kwargs))
        shutil.copytree(tiny_model_path, out)

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
