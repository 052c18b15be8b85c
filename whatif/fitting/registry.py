"""The index of model artefacts under a folder (``models/index.json``), derived by scanning.

The index is never edited by hand or updated incrementally: it is rebuilt from every artefact's
``manifest.json`` (and, for artefacts whose manifest does not list its years, the ``year``
coordinate of ``aggregates.nc``), and written atomically, so it cannot go stale or half-written.
Scanning checks each artefact's checksums, its manifest's included (a damaged artefact is listed
as damaged, not by the health its manifest claims), and loads no posterior draws.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from whatif.errors import ArtefactError, DamagedArtefactError

__all__ = ["INDEX_NAME", "entry", "scan", "write_index"]

INDEX_NAME = "index.json"


def _years(path: Path, manifest: dict) -> list[int]:
    if manifest.get("years"):
        return [int(y) for y in manifest["years"]]
    import xarray as xr

    with xr.open_dataset(path / "aggregates.nc", engine="h5netcdf") as ds:
        return [int(y) for y in ds["year"].to_numpy()]


def _span(years: list[int]) -> str:
    if not years:
        return "-"
    if years == list(range(years[0], years[-1] + 1)):
        return f"{years[0]}-{years[-1]}" if len(years) > 1 else str(years[0])
    return ",".join(map(str, years))


def entry(path: str | Path) -> dict:
    """One artefact's index entry.

    Returns
    -------
    dict
        ``name``, ``years``, ``span``, ``fingerprint``, ``fit_date``, ``health`` (``healthy``,
        ``flagged``, ``damaged: <what is wrong>`` or ``unreadable``), ``responses``, ``kind`` (``fit``, ``refit``,
        ``carry-prior`` or ``freeze-past``), ``previous``, ``discount`` (the ``a0`` of a carry-prior or freeze-past refit, else the
        smallest power-prior weight it inherited, else ``None``) and
        ``problem`` (why an artefact is damaged or unreadable, else empty).
    """
    from whatif.fitting.artefact import read_manifest

    path = Path(path)
    base = {
        "name": path.name,
        "years": [],
        "span": "-",
        "fingerprint": "",
        "fit_date": "",
        "health": "unreadable",
        "responses": None,
        "kind": "",
        "previous": "",
        "discount": None,
        "problem": "",
    }
    try:
        manifest = read_manifest(path)
        years = _years(path, manifest)
    except DamagedArtefactError as err:
        where = "" if err.file == path else f"{err.file.name}: "
        return base | {"health": f"damaged: {where}{err.detail}", "problem": str(err)}
    except Exception as err:  # an unreadable artefact is listed as such, never hides the others
        return base | {"problem": f"{type(err).__name__}: {err}".splitlines()[0]}
    refit = manifest.get("refit") or {}
    prior = manifest.get("power_prior") or {}
    passed = (manifest.get("diagnostics") or {}).get("passed")
    return base | {
        "years": years,
        "span": _span(years),
        "fingerprint": manifest.get("fingerprint", ""),
        "fit_date": manifest.get("fit_date", ""),
        "health": "healthy" if passed else "flagged",
        "responses": manifest.get("responses"),
        "kind": refit.get("mode", "refit").replace("append", "refit") if refit else "fit",
        "previous": refit.get("previous", ""),
        "discount": _discount(prior)
        if "carried_prior" not in manifest
        else float(manifest["carried_prior"]["a0"]),
    }


def _discount(prior: dict) -> float | None:
    """The a0 of a carry-prior refit, or the smallest inherited year weight below 1."""
    if prior.get("a0") is not None:
        return float(prior["a0"])
    weights = [float(a) for a in (prior.get("discount_by_year") or {}).values() if float(a) < 1]
    return min(weights) if weights else None


def scan(directory: str | Path) -> list[dict]:
    """Index entries of every artefact folder directly under ``directory``, oldest fit first.

    Raises
    ------
    ArtefactError
        If ``directory`` does not exist or is not a folder.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise ArtefactError(
            f"{directory}: no such models folder; fit one with 'whatif fit DATA --spec SPEC "
            f"--out {directory}/NAME' or pass --dir"
        )
    entries = [
        entry(p)
        for p in sorted(directory.iterdir())
        if p.is_dir() and not p.name.startswith(".") and (p / "manifest.json").exists()
    ]
    return sorted(entries, key=lambda e: (e["fit_date"], e["name"]))


def write_index(directory: str | Path, entries: list[dict] | None = None) -> Path:
    """Rebuild ``directory/index.json`` from the artefacts and write it atomically.

    Raises
    ------
    ArtefactError
        If the folder is missing or the index cannot be written.
    """
    directory = Path(directory)
    entries = scan(directory) if entries is None else entries
    target = directory / INDEX_NAME
    tmp = directory / f".{INDEX_NAME}.tmp-{os.getpid()}"
    try:
        tmp.write_text(json.dumps({"models": entries}, indent=1), encoding="utf-8")
        os.replace(tmp, target)
    except BaseException as err:
        tmp.unlink(missing_ok=True)
        if isinstance(err, OSError):
            raise ArtefactError(f"{target}: cannot write the index ({err.strerror})") from None
        raise
    return target
