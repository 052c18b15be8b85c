"""Artefacts: round trip, atomic replacement, integrity (the manifest included), clear errors for
what is not one, and the diagnostics verdict of a one-chain fit."""

from __future__ import annotations

import copy
import dataclasses
import json
import shutil

import numpy as np
import pytest
import xarray as xr
from typer.testing import CliRunner

from whatif.cli import app
from whatif.errors import ArtefactError, DamagedArtefactError
from whatif.fitting.artefact import load_model, save_model
from whatif.fitting.diagnostics import compute_diagnostics, verdict
from whatif.fitting.registry import entry, scan


def test_round_trip_keeps_draws_aggregates_spec_and_manifest(tiny_model, tiny_model_path):
    loaded = load_model(tiny_model_path)
    np.testing.assert_array_equal(
        loaded.posterior["weights"].to_numpy(), tiny_model.posterior["weights"].to_numpy()
    )
    np.testing.assert_array_equal(
        loaded.aggregates["cross"].to_numpy(), tiny_model.aggregates["cross"].to_numpy()
    )
    assert loaded.aggregates["driver_measured"].dtype == bool
    assert loaded.spec.to_dict() == tiny_model.spec.to_dict()
    assert loaded.priors == tiny_model.priors
    assert loaded.manifest["fingerprint"] == "tiny"
    assert set(loaded.diagnostics) >= {
        "max_rhat",
        "min_ess_bulk",
        "min_ess_tail",
        "divergences",
        "min_bfmi",
    }
    assert loaded.name == "tiny"
    # artefacts are data only: netCDF (HDF5), TOML and JSON
    for name in ("posterior.nc", "aggregates.nc"):
        assert (tiny_model_path / name).read_bytes()[:8] == b"\x89HDF\r\n\x1a\n"
    json.loads((tiny_model_path / "manifest.json").read_text())


def test_failed_save_leaves_previous_artefact_untouched(
    tiny_model, tiny_model_path, tmp_path, monkeypatch
):
    target = tmp_path / "m"
    shutil.copytree(tiny_model_path, target)
    before = (target / "manifest.json").read_bytes()

    def explode(*args, **kwargs):
        raise KeyboardInterrupt  # as if the user pressed Ctrl-C mid-write

    monkeypatch.setattr("whatif.fitting.artefact.tomli_w.dumps", explode)
    with pytest.raises(KeyboardInterrupt):
        save_model(tiny_model, target)
    assert (target / "manifest.json").read_bytes() == before
    assert load_model(target).manifest == json.loads(before)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".m.")]


def test_save_replaces_an_existing_artefact(tiny_model, tmp_path):
    path = save_model(tiny_model, tmp_path / "m")
    save_model(tiny_model, path)
    assert load_model(path).manifest["fingerprint"] == "tiny"


def test_refuses_to_overwrite_a_folder_that_is_not_an_artefact(tiny_model, tmp_path):
    (tmp_path / "precious").mkdir()
    (tmp_path / "precious" / "notes.txt").write_text("keep me")
    with pytest.raises(ArtefactError, match="not a whatif model artefact"):
        save_model(tiny_model, tmp_path / "precious")
    assert (tmp_path / "precious" / "notes.txt").read_text() == "keep me"


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (lambda p: shutil.rmtree(p), "no such model"),
        (lambda p: (p / "manifest.json").unlink(), "not a whatif model artefact"),
        (lambda p: (p / "manifest.json").write_text("{oops"), "not valid JSON at line 1 column 2"),
        (lambda p: _set_format(p, 99), "artefact format 99"),
        (lambda p: (p / "aggregates.nc").write_bytes(b"garbage"), "checksum does not match"),
        (lambda p: (p / "spec.toml").unlink(), "'spec.toml' is missing"),
    ],
)
def test_broken_artefacts_give_one_line_errors(tiny_model_path, tmp_path, damage, expected):
    path = tmp_path / "m"
    shutil.copytree(tiny_model_path, path)
    damage(path)
    with pytest.raises(ArtefactError, match=expected) as info:
        load_model(path)
    assert "\n" not in str(info.value)


def _set_format(path, version):
    manifest = json.loads((path / "manifest.json").read_text())
    manifest["format_version"] = version
    (path / "manifest.json").write_text(json.dumps(manifest))


# -- the manifest's own checksum and structure -----------------------------------------------


@pytest.fixture
def copied(tiny_model_path, tmp_path):
    path = tmp_path / "models" / "m"
    shutil.copytree(tiny_model_path, path)
    return path


def _legacy(path, edit=None):
    """Make ``path`` look written before manifest.sha256 existed, then apply ``edit``."""
    manifest = json.loads((path / "manifest.json").read_text())
    manifest.pop("manifest_checksum")
    if edit is not None:
        manifest = edit(manifest) or manifest
    (path / "manifest.json").write_text(json.dumps(manifest, indent=1))
    (path / "manifest.sha256").unlink()


def test_the_manifest_is_sealed_by_its_checksum(copied):
    digest = (copied / "manifest.sha256").read_text().split()
    assert digest[1] == "manifest.json" and len(digest[0]) == 64
    manifest = (copied / "manifest.json").read_text()
    responses = json.loads(manifest)["responses"]
    edited = manifest.replace(f'"responses": {responses}', f'"responses": {responses + 1}')
    assert edited != manifest
    (copied / "manifest.json").write_text(edited)
    with pytest.raises(DamagedArtefactError) as info:
        load_model(copied)
    assert str(info.value) == (
        f"{copied / 'manifest.json'}: damaged (does not match manifest.sha256: edited or "
        f"corrupted after the fit); refit or restore it"
    )


def test_a_sealed_manifest_without_its_checksum_file_is_damaged(copied):
    (copied / "manifest.sha256").unlink()
    with pytest.raises(DamagedArtefactError, match="'manifest.sha256' is missing"):
        load_model(copied)


def test_a_legacy_artefact_without_the_manifest_checksum_still_loads(tiny_model, copied):
    _legacy(copied)
    loaded = load_model(copied)
    assert loaded.manifest["responses"] == tiny_model.manifest["responses"]
    assert entry(copied)["health"] in ("healthy", "flagged")


def _set(path: str | tuple, value):
    def edit(manifest):
        *parents, name = path.split(".") if isinstance(path, str) else path
        holder = manifest
        for parent in parents:
            holder = holder[parent]
        if value is _DELETE:
            del holder[name]
        else:
            holder[name] = value

    return edit


_DELETE = object()


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (_set("diagnostics", _DELETE), "the field 'diagnostics' is missing"),
        (
            _set("diagnostics.passed", "yes"),
            """'diagnostics.passed' is the text "yes", not true or false""",
        ),
        (_set("diagnostics.max_rhat", None), "'diagnostics.max_rhat' is null, not a number"),
        (_set("responses", "2385"), """'responses' is the text "2385", not an integer"""),
        (_set("checksums", []), "'checksums' is a list, not an object"),
        (
            _set(("checksums", "posterior.nc"), 7),
            "'checksums.posterior.nc' is the number 7, not text",
        ),
        (_set("sampler.draws", 1.5), "'sampler.draws' is the number 1.5, not an integer"),
        (_set("fit_date", _DELETE), "the field 'fit_date' is missing"),
        (_set("format_version", _DELETE), "the field 'format_version' is missing"),
        (lambda m: [m], "holds a list, not an object of fields"),
    ],
)
def test_a_malformed_manifest_is_one_line_naming_the_file(copied, edit, expected):
    _legacy(copied, edit)
    with pytest.raises(DamagedArtefactError) as info:
        load_model(copied)
    assert str(info.value) == (
        f"{copied / 'manifest.json'}: damaged ({expected}); refit or restore it"
    )


def test_damaged_artefacts_are_listed_as_damaged(copied, tiny_model_path):
    models = copied.parent
    shutil.copytree(tiny_model_path, models / "fine")
    shutil.copytree(copied, models / "edited")
    manifest = json.loads((models / "edited" / "manifest.json").read_text())
    manifest["diagnostics"]["passed"] = True
    (models / "edited" / "manifest.json").write_text(json.dumps(manifest))
    (copied / "aggregates.nc").write_bytes(b"garbage")
    listed = {e["name"]: e for e in scan(models)}
    assert listed["fine"]["health"] in ("healthy", "flagged")
    assert listed["edited"]["health"] == (
        "damaged: manifest.json: does not match manifest.sha256: edited or corrupted after the fit"
    )
    assert listed["m"]["health"].startswith("damaged: aggregates.nc: checksum does not match")
    table = CliRunner().invoke(app, ["models", "--dir", str(models)])
    assert table.exit_code == 0, table.output
    assert "damaged: manifest.json" in table.stdout and "damaged: aggregates.nc" in table.stdout


def test_summary_and_the_app_report_a_damaged_manifest_in_one_line(copied):
    from whatif.app.provider import ModelProvider

    (copied / "manifest.json").write_text((copied / "manifest.json").read_text() + " ")
    result = CliRunner().invoke(app, ["summary", str(copied)])
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines() == [
        f"error: {copied / 'manifest.json'}: damaged (does not match manifest.sha256: edited or "
        f"corrupted after the fit); refit or restore it"
    ]
    provider = ModelProvider(copied).start().wait(60)
    assert provider.status == "error"
    assert provider.error == result.stderr.splitlines()[0].removeprefix("error: ")


# -- failed saves ----------------------------------------------------------------------------


@pytest.mark.parametrize("previous", [True, False])
def test_a_failed_save_says_whether_there_was_a_previous_artefact(
    tiny_model, tiny_model_path, tmp_path, monkeypatch, previous
):
    target = tmp_path / "m"
    if previous:
        shutil.copytree(tiny_model_path, target)

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("whatif.fitting.artefact.tomli_w.dumps", full)
    with pytest.raises(ArtefactError) as info:
        save_model(tiny_model, target)
    kept = "the previous one is untouched" if previous else "nothing was written"
    assert str(info.value) == (
        f"{target}: could not write the artefact (No space left on device); {kept}"
    )
    assert target.exists() == previous
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


# -- one chain -------------------------------------------------------------------------------


def _draws(chains: int, divergences: int = 0):
    rng = np.random.default_rng(0)
    posterior = xr.Dataset({"x": (("chain", "draw"), rng.normal(size=(chains, 1000)))})
    diverging = np.zeros((chains, 1000), dtype=bool)
    diverging[0, :divergences] = True
    stats = xr.Dataset(
        {
            "diverging": (("chain", "draw"), diverging),
            "energy": (("chain", "draw"), rng.normal(size=(chains, 1000))),
        }
    )
    return posterior, stats


def test_one_chain_is_not_flagged_for_its_missing_r_hat():
    diag = compute_diagnostics(*_draws(1))
    assert diag["chains"] == 1 and not np.isfinite(diag["max_rhat"])
    assert diag["passed"]
    text = verdict(diag)
    assert text.startswith("Healthy fit:") and "R-hat was not computed" in text
    assert "disagree" not in text and "nan" not in text


def test_one_chain_is_still_flagged_for_divergences_and_few_draws():
    diag = compute_diagnostics(*_draws(1, divergences=3))
    assert not diag["passed"]
    text = verdict(diag)
    assert "3 divergent transitions" in text and "R-hat was not computed" in text
    assert "disagree" not in text and "nan" not in text
    few = verdict(diag | {"divergences": 0, "min_ess_bulk": 50.0, "passed": False})
    assert "too few independent draws (ESS 50 < 400)" in few and "disagree" not in few


def test_two_chains_still_compare():
    diag = compute_diagnostics(*_draws(2))
    assert np.isfinite(diag["max_rhat"]) and "chains agree" in verdict(diag)


def test_summary_of_a_one_chain_fit_says_r_hat_was_not_computed(tiny_model, tmp_path):
    one = dataclasses.replace(
        tiny_model,
        posterior=tiny_model.posterior.isel(chain=[0]),
        sample_stats=tiny_model.sample_stats.isel(chain=[0]),
        manifest=copy.deepcopy(tiny_model.manifest),
    )
    one.manifest["diagnostics"] = compute_diagnostics(one.posterior, one.sample_stats)
    path = save_model(one, tmp_path / "one")
    result = CliRunner().invoke(app, ["summary", str(path)])
    assert result.exit_code == 0, result.output
    line = next(x for x in result.stdout.splitlines() if x.startswith("Diagnostics:"))
    assert line.startswith("Diagnostics: R-hat not computed (1 chain), min ESS bulk")
    assert "R-hat was not computed" in result.stdout and "disagree" not in result.stdout
