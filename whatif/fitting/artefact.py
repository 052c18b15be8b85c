"""Saving and loading fitted models as artefact folders: netCDF + TOML + JSON, never pickle.

A folder holds ``posterior.nc`` (posterior and sample_stats, an ArviZ DataTree), ``aggregates.nc``
(the sufficient statistics the fit saw), ``spec.toml``, ``priors.toml`` and ``manifest.json``
(format version, provenance, diagnostics and a SHA-256 of every file). Loading checks the format
version and the checksums, and only ever parses data: nothing in an artefact is executed.

Saving is atomic: files go to a hidden sibling folder that replaces the target only once complete,
so an interrupted or failed save leaves any earlier artefact at that path untouched.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tomllib
from pathlib import Path

import tomli_w
import xarray as xr

from whatif.data.spec import parse_spec
from whatif.errors import ArtefactError, WhatifError
from whatif.fitting.fitted import FittedModel
from whatif.model.priors import Priors
from whatif.model.units import with_paths

__all__ = ["FORMAT_VERSION", "load_model", "save_model"]

FORMAT_VERSION = 1
FILES = ("posterior.nc", "aggregates.nc", "spec.toml", "priors.toml")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _encodable(ds: xr.Dataset) -> xr.Dataset:
    """Object-dtype string coords become fixed unicode so h5netcdf writes them without pickling."""
    out = ds.copy()
    for name, coord in out.coords.items():
        if coord.dtype == object:
            out = out.assign_coords({name: coord.astype(str)})
    for name, var in out.data_vars.items():
        if var.dtype == object:
            out[name] = var.astype(str)
        elif var.dtype == bool:
            out[name] = var.astype("int8")
            out[name].attrs["whatif_bool"] = 1
    return out


def _decoded(ds: xr.Dataset) -> xr.Dataset:
    for name, var in ds.data_vars.items():
        if var.attrs.get("whatif_bool"):
            ds[name] = var.astype(bool)
            ds[name].attrs.pop("whatif_bool", None)
    return ds


def save_model(model: FittedModel, path: str | Path) -> Path:
    """Write a fitted model to an artefact folder, atomically.

    Parameters
    ----------
    model
        From :func:`whatif.fitting.fit.fit_model`.
    path
        Target folder (e.g. ``models/demo``); its parent is created if needed.

    Returns
    -------
    Path
        The folder written.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ArtefactError(
            f"{path}: cannot create the folder ({err.strerror}); choose a writable --out"
        ) from None
    if path.exists() and not (path / "manifest.json").exists():
        raise ArtefactError(
            f"{path}: exists and is not a whatif model artefact; refusing to replace it, choose another --out"
        )
    tmp = path.parent / f".{path.name}.tmp-{os.getpid()}"
    old = path.parent / f".{path.name}.old-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        tmp.mkdir()
        tree = xr.DataTree.from_dict(
            {
                "posterior": _encodable(model.posterior),
                "sample_stats": _encodable(model.sample_stats),
            }
        )
        tree.to_netcdf(tmp / "posterior.nc", engine="h5netcdf")
        _encodable(model.aggregates).to_netcdf(tmp / "aggregates.nc", engine="h5netcdf")
        (tmp / "spec.toml").write_text(model.spec.to_toml(), encoding="utf-8")
        (tmp / "priors.toml").write_text(
            tomli_w.dumps({"priors": model.priors.to_dict()}), encoding="utf-8"
        )
        manifest = dict(model.manifest)
        manifest["format_version"] = FORMAT_VERSION
        manifest["checksums"] = {name: _sha256(tmp / name) for name in FILES}
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
        if path.exists():
            os.replace(path, old)
        os.replace(tmp, path)
    except OSError as err:
        shutil.rmtree(tmp, ignore_errors=True)
        if old.exists() and not path.exists():
            os.replace(old, path)
        raise ArtefactError(
            f"{path}: could not write the artefact ({err.strerror}); the previous one is untouched"
        ) from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if old.exists() and not path.exists():
            os.replace(old, path)
        raise
    shutil.rmtree(old, ignore_errors=True)
    model.name = path.name
    return path


def load_model(path: str | Path) -> FittedModel:
    """Load an artefact folder written by :func:`save_model`.

    Raises
    ------
    ArtefactError
        If the folder is missing, not an artefact, from an incompatible format version, or
        corrupted (a checksum does not match).
    """
    path = Path(path)
    if not path.exists():
        raise ArtefactError(
            f"{path}: no such model; fit one with 'whatif fit DATA --spec SPEC --out {path}'"
        )
    manifest_path = path / "manifest.json"
    if not path.is_dir() or not manifest_path.exists():
        raise ArtefactError(
            f"{path}: not a whatif model artefact (no manifest.json); point to a folder written by 'whatif fit'"
        )
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ArtefactError(
            f"{manifest_path}: manifest is not valid JSON; the artefact is damaged, refit it"
        ) from None
    version = manifest.get("format_version")
    if version != FORMAT_VERSION:
        made_by = manifest.get("versions", {}).get("whatif", "an unknown version")
        raise ArtefactError(
            f"{path}: artefact format {version} (written by whatif {made_by}) cannot be read by this "
            f"whatif (format {FORMAT_VERSION}); refit it with 'whatif fit'"
        )
    for name in FILES:
        file = path / name
        if not file.exists():
            raise ArtefactError(
                f"{path}: '{name}' is missing; the artefact is incomplete, refit it"
            )
        if _sha256(file) != manifest.get("checksums", {}).get(name):
            raise ArtefactError(
                f"{file}: checksum does not match the manifest; the file was changed or damaged, refit it"
            )
    try:
        tree = xr.open_datatree(path / "posterior.nc", engine="h5netcdf").load()
        aggregates = _decoded(xr.open_dataset(path / "aggregates.nc", engine="h5netcdf").load())
        spec = parse_spec(
            tomllib.loads((path / "spec.toml").read_text(encoding="utf-8")),
            source=str(path / "spec.toml"),
        )
        priors = Priors.from_dict(
            tomllib.loads((path / "priors.toml").read_text(encoding="utf-8"))["priors"]
        )
    except WhatifError as err:
        raise ArtefactError(f"{path}: {err}") from None
    except Exception as err:  # a damaged netCDF can fail in many ways; none is the user's code
        raise ArtefactError(
            f"{path}: cannot read the artefact ({type(err).__name__}: {err}); refit it"
        ) from None
    # an artefact from before driver paths has no ``paths``: it has none
    posterior = with_paths(_decoded(tree["posterior"].to_dataset()))
    stats = _decoded(tree["sample_stats"].to_dataset())
    return FittedModel(posterior, stats, aggregates, spec, priors, manifest, name=path.name)
