"""The synthetic surveys' files: the spec of a simulated survey, and the demo's survey, spec and
truth written to (and the truth read back from) disk.

``whatif demo-data`` calls :func:`write_demo`; the committed ``data/demo`` is its output, byte for
byte.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import xarray as xr

from whatif.data.spec import Channel, Driver, Influencer, Spec
from whatif.synthetic.design import CHANNELS, SCALE, YEAR_SHARE
from whatif.synthetic.survey import outcome_of, simulate_survey
from whatif.synthetic.truth import demo_truth

__all__ = ["load_truth", "spec_for", "write_demo"]


def spec_for(truth: xr.Dataset, *, weights: bool = True) -> Spec:
    """The spec that maps :func:`~whatif.synthetic.survey.simulate_survey`'s columns onto the model.

    Parameters
    ----------
    truth
        The truth the survey was drawn from.
    weights
        Whether the survey has a ``weight`` column (``simulate_survey(..., weights=...)``).

    Returns
    -------
    whatif.data.spec.Spec
        With the truth's labels, influencer kinds and ``better``, channel labels and volumes, and
        its driver paths as ``depends_on``.
    """
    sources = {}
    if "paths" in truth:
        for k, source in zip(truth["target"].values, truth["source"].values, strict=True):
            sources.setdefault(str(k), []).append(str(source))
    drivers = tuple(
        Driver(
            id=str(k),
            columns=tuple(str(cols).split()),
            label=str(label),
            depends_on=tuple(sources.get(str(k), ())),
        )
        for k, cols, label in zip(
            truth["driver"].values,
            truth["driver_columns"].values,
            truth["driver_label"].values,
            strict=True,
        )
    )
    influencers = tuple(
        Influencer(
            id=str(j), column=str(j), kind=str(kind), better=str(better) or None, label=str(label)
        )
        for j, kind, better, label in zip(
            truth["influencer"].values,
            truth["kind"].values,
            truth["better"].values,
            truth["influencer_label"].values,
            strict=True,
        )
    )
    channels = {
        str(c): Channel(id=str(c), label=str(label), volume=round(float(v), 6))
        for c, label, v in zip(
            truth["channel"].values,
            truth["channel_label"].values,
            truth["volume"].values,
            strict=True,
        )
    }
    outcome, outcome_scale = outcome_of(truth)
    return Spec(
        outcome=outcome,
        drivers=drivers,
        influencers=influencers,
        channel="channel",
        year="year",
        weight="weight" if weights else None,
        scale=(min(SCALE[0], outcome_scale[0]), max(SCALE[1], outcome_scale[1])),
        channels=channels,
    )


def _toml_value(value) -> str:
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid TOML basic string
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return repr(value)


def _spec_toml(spec: Spec, truth: xr.Dataset) -> str:
    """Spec TOML laid out for people: short arrays, and where each column is measured."""
    labels = dict(zip(truth["channel"].values, truth["channel_label"].values, strict=True))

    def where(measured: xr.DataArray) -> str:
        channels = measured["channel"].values
        names = [str(labels[c]) for c in channels[measured.values]]
        others = [str(labels[c]) for c in channels[~measured.values]]
        if not others:
            return "all channels"
        if len(others) < len(names):
            return "all channels except " + ", ".join(others)
        return ", ".join(names)

    raw = spec.to_dict()
    lines = [
        "# whatif demo survey: how the columns of survey.parquet map onto the model.",
        "# Synthetic data calibrated to published customer-experience research (whatif.synthetic).",
        "# The outcome is the 0-10 question 'How likely are you to recommend us to a friend or",
        "# colleague?' (NPS: 9-10 promoters, 0-6 detractors); drivers are rated elements of the",
        "# contact, answered 1-10; influencers are operational facts joined to each response.",
        "# Answers pile up near the top of the scale, as real CX answers do. Each driver and",
        "# influencer is measured only in the channels noted; elsewhere its column is empty by design.",
        "",
        "[survey]",
    ]
    lines += [f"{key} = {_toml_value(value)}" for key, value in raw["survey"].items()]
    for section, measured in (
        ("drivers", "driver_measured"),
        ("influencers", "influencer_measured"),
    ):
        lines += ["", f"# {section.capitalize()}"]
        dim = "driver" if section == "drivers" else "influencer"
        for key, entry in raw.get(section, {}).items():
            lines += [
                "",
                f"# measured in: {where(truth[measured].sel({dim: key}))}",
                f"[{section}.{key}]",
            ]
            lines += [f"{k} = {_toml_value(v)}" for k, v in entry.items()]
    lines += ["", "# Channels: display label and share of contact volume"]
    for key, entry in raw.get("channels", {}).items():
        lines += ["", f"[channels.{key}]"]
        lines += [f"{k} = {_toml_value(v)}" for k, v in entry.items()]
    return "\n".join(lines) + "\n"


def _demo_sizes(truth: xr.Dataset, n: int) -> xr.DataArray:
    """Split ``n`` responses over channel-years by the demo's sampling shares, summing to n."""
    share = np.outer([c[3] for c in CHANNELS], YEAR_SHARE)
    share = share / share.sum()
    raw = share * n
    sizes = np.floor(raw).astype(np.int64)
    order = np.argsort(-(raw - sizes), axis=None, kind="stable")
    sizes.flat[order[: n - sizes.sum()]] += 1
    return xr.DataArray(
        sizes,
        coords={"channel": truth["channel"].values, "year": truth["year"].values},
        dims=("channel", "year"),
    )


def write_demo(
    out_dir: str | Path = "data/demo", seed: int = 2026, n: int = 75_000
) -> dict[str, Path]:
    """Write the demo's survey, spec and truth.

    Parameters
    ----------
    out_dir
        Folder to write into (created if needed).
    seed
        Seed of the truth and of the survey draw.
    n
        Total number of responses, split unequally over channels and years.

    Returns
    -------
    dict[str, pathlib.Path]
        Paths under ``"survey"`` (``survey.parquet``), ``"spec"`` (``spec.toml``) and
        ``"truth"`` (``truth.nc``).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    truth = demo_truth(seed)
    survey = simulate_survey(truth, _demo_sizes(truth, n), seed)
    paths = {"survey": out / "survey.parquet", "spec": out / "spec.toml", "truth": out / "truth.nc"}
    survey.to_parquet(paths["survey"], index=False)
    paths["spec"].write_text(_spec_toml(spec_for(truth), truth), encoding="utf-8")
    truth.to_netcdf(paths["truth"], engine="h5netcdf")
    return paths


def load_truth(path: str | Path) -> xr.Dataset:
    """Read a truth written by :func:`write_demo` (netCDF) fully into memory.

    Parameters
    ----------
    path
        The ``truth.nc`` file.

    Returns
    -------
    xarray.Dataset
        The truth, with boolean masks and string coordinates restored.
    """
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        truth = ds.load()
    for name in ("driver_measured", "influencer_measured"):
        truth[name] = truth[name].astype(bool)
    return truth
