"""Artefacts: round trip, atomic replacement, and clear errors for what is not one."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from whatif.errors import ArtefactError
from whatif.fitting.artefact import load_model, save_model


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
        (lambda p: (p / "manifest.json").write_text("{oops"), "manifest is not valid JSON"),
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
