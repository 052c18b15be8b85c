"""Saving and loading fitted models as artefact folders: netCDF + TOML + JSON, never pickle.

A folder holds ``posterior.nc`` (posterior and sample_stats, an ArviZ DataTree), ``aggregates.nc``
(the sufficient statistics the fit saw), ``spec.toml``, ``priors.toml``, ``manifest.json`` (format
version, provenance, diagnostics and a SHA-256 of every other file) and ``manifest.sha256`` (the
SHA-256 of ``manifest.json``, in ``sha256sum`` format). Loading checks the format version, both
kinds of checksum and the manifest's structure, and only ever parses data: nothing in an artefact
is executed. Artefacts written before ``manifest.sha256`` existed still load; their manifest is
checked for structure only.

Saving is atomic: files go to a hidden sibling folder that replaces the target only once complete,
in two renames no signal can come between, so an interrupted or failed save leaves any earlier
artefact at that path untouched.
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

from whatif import interrupts
from whatif.data.spec import parse_spec
from whatif.errors import ArtefactError, DamagedArtefactError, WhatifError
from whatif.fitting.fitted import FittedModel
from whatif.model.priors import Priors
from whatif.model.units import with_paths

__all__ = ["FORMAT_VERSION", "MANIFEST_CHECKSUM", "load_model", "read_manifest", "save_model"]

# Unchanged by manifest.sha256: readers of format 1 that predate it ignore the extra file.
FORMAT_VERSION = 1
FILES = ("posterior.nc", "aggregates.nc", "spec.toml", "priors.toml")
MANIFEST = "manifest.json"
MANIFEST_CHECKSUM = "manifest.sha256"


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

    Raises
    ------
    ArtefactError
        If the folder cannot be written; an earlier artefact at ``path`` is then left as it was.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ArtefactError(
            f"{path}: cannot create the folder ({err.strerror}); choose a writable --out"
        ) from None
    if path.exists() and not (path / MANIFEST).exists():
        raise ArtefactError(
            f"{path}: exists and is not a whatif model artefact; refusing to replace it, choose another --out"
        )
    tmp = path.parent / f".{path.name}.tmp-{os.getpid()}"
    old = path.parent / f".{path.name}.old-{os.getpid()}"
    had_previous = path.exists()
    committed = False
    try:
        for stale in (tmp, old):  # left by a process of the same id that was killed
            shutil.rmtree(stale, ignore_errors=True)
        tmp.mkdir()
        _write_files(model, tmp)
        _carry_folders(path, tmp)
        with interrupts.deferred():
            interrupts.check()  # an interrupt some library swallowed still writes nothing
            _swap(tmp, path, old)
            committed = True
    except BaseException as err:
        if not committed:
            with interrupts.deferred():
                shutil.rmtree(tmp, ignore_errors=True)
            if isinstance(err, OSError):
                kept = "the previous one is untouched" if had_previous else "nothing was written"
                raise ArtefactError(
                    f"{path}: could not write the artefact ({err.strerror or err}); {kept}"
                ) from None
        raise
    model.name = path.name
    return path


def _write_files(model: FittedModel, folder: Path) -> None:
    tree = xr.DataTree.from_dict(
        {
            "posterior": _encodable(model.posterior),
            "sample_stats": _encodable(model.sample_stats),
        }
    )
    tree.to_netcdf(folder / "posterior.nc", engine="h5netcdf")
    _encodable(model.aggregates).to_netcdf(folder / "aggregates.nc", engine="h5netcdf")
    (folder / "spec.toml").write_text(model.spec.to_toml(), encoding="utf-8")
    (folder / "priors.toml").write_text(
        tomli_w.dumps({"priors": model.priors.to_dict()}), encoding="utf-8"
    )
    manifest = dict(model.manifest)
    manifest["format_version"] = FORMAT_VERSION
    manifest["checksums"] = {name: _sha256(folder / name) for name in FILES}
    manifest["manifest_checksum"] = MANIFEST_CHECKSUM
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    (folder / MANIFEST_CHECKSUM).write_text(
        f"{_sha256(folder / MANIFEST)}  {MANIFEST}\n", encoding="utf-8"
    )


def _carry_folders(path: Path, tmp: Path) -> None:
    """Folders kept beside the artefact's files (the team's saved scenarios, ``scenarios/``)
    carry over to the new fit written in its place."""
    if not path.is_dir():
        return
    for child in path.iterdir():
        if child.is_dir() and not child.name.startswith("."):
            shutil.copytree(child, tmp / child.name)


def _swap(tmp: Path, path: Path, old: Path) -> None:
    """Put ``tmp`` at ``path``; the artefact there before (if any) is removed only afterwards."""
    moved = False
    try:
        if path.exists():
            os.replace(path, old)
            moved = True
        os.replace(tmp, path)
    except BaseException:
        if moved and not path.exists():
            os.replace(old, path)
        raise
    if moved:
        shutil.rmtree(old, ignore_errors=True)


def read_manifest(path: str | Path, *, files: bool = True) -> dict:
    """The manifest of an artefact folder, checked: its checksum, format version and structure.

    Parameters
    ----------
    path
        The artefact folder.
    files
        Also check that every data file is present and matches its checksum.

    Returns
    -------
    dict
        The manifest.

    Raises
    ------
    ArtefactError
        If the folder is missing, not an artefact or from an incompatible format version;
        :class:`~whatif.errors.DamagedArtefactError` if a checksum does not match, a file is
        missing or the manifest is malformed.
    """
    path = Path(path)
    if not path.exists():
        raise ArtefactError(
            f"{path}: no such model; fit one with 'whatif fit DATA --spec SPEC --out {path}'"
        )
    manifest_path = path / MANIFEST
    if not path.is_dir() or not manifest_path.exists():
        raise ArtefactError(
            f"{path}: not a whatif model artefact (no manifest.json); point to a folder written by 'whatif fit'"
        )
    try:
        raw = manifest_path.read_bytes()
        sealed = (
            (path / MANIFEST_CHECKSUM).read_text(encoding="utf-8")
            if (path / MANIFEST_CHECKSUM).exists()
            else None
        )
    except (OSError, UnicodeDecodeError) as err:
        raise ArtefactError(
            f"{path}: cannot read the artefact ({err}); check its permissions"
        ) from None
    try:
        manifest = json.loads(raw.decode("utf-8"))
    except json.JSONDecodeError as err:
        raise DamagedArtefactError(
            manifest_path, f"not valid JSON at line {err.lineno} column {err.colno}: {err.msg}"
        ) from None
    except UnicodeDecodeError:
        raise DamagedArtefactError(manifest_path, "not valid JSON: not UTF-8 text") from None
    if not isinstance(manifest, dict):
        raise DamagedArtefactError(
            manifest_path, f"holds {_kind(manifest)}, not an object of fields"
        )
    version = manifest.get("format_version")
    if not _integer(version):
        raise DamagedArtefactError(
            manifest_path,
            "the field 'format_version' is missing"
            if "format_version" not in manifest
            else _wrong("format_version", version, "integer"),
        )
    if version != FORMAT_VERSION:
        versions = manifest.get("versions")
        made_by = versions.get("whatif") if isinstance(versions, dict) else None
        raise ArtefactError(
            f"{path}: artefact format {version} (written by whatif {made_by or 'an unknown version'}) "
            f"cannot be read by this whatif (format {FORMAT_VERSION}); refit it with 'whatif fit'"
        )
    if sealed is not None and sealed.split()[:1] != [hashlib.sha256(raw).hexdigest()]:
        raise DamagedArtefactError(
            manifest_path, f"does not match {MANIFEST_CHECKSUM}: edited or corrupted after the fit"
        )
    problem = _manifest_problem(manifest)
    if problem:
        raise DamagedArtefactError(manifest_path, problem)
    if sealed is None and manifest.get("manifest_checksum"):
        raise DamagedArtefactError(path, f"'{MANIFEST_CHECKSUM}' is missing")
    for name in FILES if files else ():
        file = path / name
        if not file.exists():
            raise DamagedArtefactError(path, f"'{name}' is missing; the artefact is incomplete")
        if _sha256(file) != manifest["checksums"][name]:
            raise DamagedArtefactError(
                file, "checksum does not match the manifest; the file was changed or damaged"
            )
    return manifest


def _kind(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the value {json.dumps(value)}"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the text {json.dumps(value[:40])}"
    return "a list" if isinstance(value, list) else "an object"


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _integer(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


#: What each kind of field must be, and how a message names it.
KINDS = {
    "text": (lambda v: isinstance(v, str), "text"),
    "number": (_number, "a number"),
    "integer": (_integer, "an integer"),
    "true/false": (lambda v: isinstance(v, bool), "true or false"),
    "object": (lambda v: isinstance(v, dict), "an object"),
    "list": (lambda v: isinstance(v, list), "a list"),
    "number or null": (lambda v: v is None or _number(v), "a number"),
}


def _wrong(key: str, value, kind: str) -> str:
    ok, named = KINDS[kind]
    return "" if ok(value) else f"'{key}' is {_kind(value)}, not {named}"


#: The manifest's fields: (kind, required). Fields not listed are kept unchecked.
FIELDS = {
    "format_version": ("integer", True),
    "checksums": ("object", True),
    "fit_date": ("text", True),
    "responses": ("integer", True),
    "diagnostics": ("object", True),
    "diagnostics.passed": ("true/false", True),
    "diagnostics.max_rhat": ("number", True),
    "diagnostics.min_ess_bulk": ("number", True),
    "diagnostics.min_ess_tail": ("number", True),
    "diagnostics.divergences": ("integer", True),
    "diagnostics.min_bfmi": ("number or null", False),
    "diagnostics.chains": ("integer", False),
    "diagnostics.draws": ("integer", False),
    "complete_responses": ("integer", False),
    "fingerprint": ("text", False),
    "source": ("text", False),
    "manifest_checksum": ("text", False),
    "sampler": ("object", False),
    "timings": ("object", False),
    "versions": ("object", False),
    "years": ("list", False),
    "refit": ("object", False),
    "refit.mode": ("text", False),
    "refit.previous": ("text", False),
    "power_prior": ("object", False),
    "power_prior.a0": ("number or null", False),
    "power_prior.discount_by_year": ("object", False),
    "carried_prior": ("object", False),
    "carried_prior.a0": ("number", True),
    "carried_prior.year": ("integer", False),
}


def _manifest_problem(manifest: dict) -> str:
    """What is wrong with a manifest's structure, in a few words; empty if nothing."""
    for key, (kind, required) in FIELDS.items():
        *parents, name = key.split(".")
        holder = manifest
        for parent in parents:
            holder = holder.get(parent)
        if holder is None:  # an optional parent that is absent
            continue
        if name not in holder:
            if required:
                return f"the field '{key}' is missing"
            continue
        if holder[name] is None and not required:
            continue
        if problem := _wrong(key, holder[name], kind):
            return problem
    for name in FILES:
        if problem := _wrong(f"checksums.{name}", manifest["checksums"].get(name), "text"):
            return problem
    if manifest.get("sampler"):
        for name in ("draws", "tune", "chains", "seed"):
            if problem := _wrong(f"sampler.{name}", manifest["sampler"].get(name), "integer"):
                return problem
    groups = (
        ("timings", manifest.get("timings"), "number"),
        ("versions", manifest.get("versions"), "text"),
        (
            "power_prior.discount_by_year",
            (manifest.get("power_prior") or {}).get("discount_by_year"),
            "number",
        ),
    )
    for group, values, kind in groups:
        for name, value in (values or {}).items():
            if problem := _wrong(f"{group}.{name}", value, kind):
                return problem
    for i, year in enumerate(manifest.get("years") or []):
        if problem := _wrong(f"years[{i}]", year, "integer"):
            return problem
    return ""


def load_model(path: str | Path) -> FittedModel:
    """Load an artefact folder written by :func:`save_model`.

    Raises
    ------
    ArtefactError
        If the folder is missing, not an artefact or from an incompatible format version;
        :class:`~whatif.errors.DamagedArtefactError` if it is corrupted (a checksum does not
        match, a file is missing, the manifest is malformed).
    """
    path = Path(path)
    manifest = read_manifest(path)
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
