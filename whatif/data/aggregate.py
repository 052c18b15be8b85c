"""Sufficient statistics per (channel, year): the only thing the model ever sees of the rows.

The Gaussian likelihood of both regressions depends on the data only through weighted counts and
cross-products of ``m = [1, drivers..., influencers..., outcome]``. We accumulate them once, in
mergeable partial sums (so a Dask engine can map blocks and add them up), then normalize survey
weights to mean 1 within each group so that a weighted group carries as much information as it
has responses.

Scenarios also need each influencer's distribution in each group (a cap acts on the real
distribution, not on its mean): counts and binaries keep exact weighted value shares, continuous
influencers a fine histogram with each bin's weighted mean.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from whatif.data.patterns import answer_patterns
from whatif.data.rating_stats import rating_statistics
from whatif.data.spec import Spec
from whatif.data.survey import Survey
from whatif.data.validate import measured_flags

__all__ = [
    "Layout",
    "Partial",
    "accumulate",
    "aggregate",
    "combine",
    "finalize",
    "layout_from_frame",
    "scaled_aggregates",
    "terms_of",
]

CONTINUOUS_BINS = 256
MAX_COUNT_BINS = 1024


def terms_of(spec: Spec) -> list[str]:
    """Names of the cross-product terms: intercept, drivers, influencers, outcome."""
    return ["intercept", *spec.driver_ids, *spec.influencer_ids, "outcome"]


@dataclass(frozen=True)
class Layout:
    """What must be known before the accumulating pass: groups, measured columns and bins."""

    channels: tuple[str, ...]
    years: tuple[int, ...]
    driver_measured: np.ndarray  # (channel, driver) bool
    influencer_measured: np.ndarray  # (channel, influencer) bool
    bin_low: np.ndarray  # (influencer,)
    bin_width: np.ndarray  # (influencer,)
    bin_count: np.ndarray  # (influencer,) int
    influencer_min: np.ndarray  # (channel, influencer)
    influencer_max: np.ndarray  # (channel, influencer)

    @property
    def n_bins(self) -> int:
        return int(self.bin_count.max()) if len(self.bin_count) else 1


@dataclass
class Partial:
    """Mergeable raw sums (raw survey weights) over any block of rows."""

    n_total: np.ndarray  # (C, T) rows with an outcome
    n: np.ndarray  # (C, T) complete rows
    weight_sum: np.ndarray  # (C, T) raw weight of complete rows
    cross: np.ndarray  # (C, T, P, P) sum w m m'
    mass: np.ndarray  # (C, T, J, B) raw weight per bin
    value_sum: np.ndarray  # (C, T, J, B) sum w z per bin


def layout_from_stats(
    spec: Spec,
    channels: list[str],
    years: list[int],
    present: pd.DataFrame,
    minimum: pd.DataFrame,
    maximum: pd.DataFrame,
) -> Layout:
    """Build a layout from per-channel non-missing counts and min/max of each influencer.

    What is measured where is :func:`~whatif.data.validate.measured_flags`: an influencer that
    never varies in a channel is not measured there.
    """
    influencers = spec.influencer_ids
    present = present.reindex(index=channels).fillna(0)
    driver_measured, influencer_measured = measured_flags(spec, present, minimum, maximum)
    dm = driver_measured.to_numpy(dtype=bool)
    im = (
        influencer_measured.to_numpy(dtype=bool)
        if influencers
        else np.zeros((len(channels), 0), bool)
    )
    lows, widths, counts = [], [], []
    for inf in spec.influencers:
        lo = float(np.nanmin(minimum[inf.id].to_numpy(dtype=float)))
        hi = float(np.nanmax(maximum[inf.id].to_numpy(dtype=float)))
        if inf.kind == "binary":
            lows.append(0.0), widths.append(1.0), counts.append(2)
        elif inf.kind == "count" and hi < MAX_COUNT_BINS:
            lows.append(0.0), widths.append(1.0), counts.append(int(hi) + 1)
        else:
            width = (hi - lo) / CONTINUOUS_BINS if hi > lo else 1.0
            lows.append(lo), widths.append(width), counts.append(CONTINUOUS_BINS)
    return Layout(
        channels=tuple(channels),
        years=tuple(int(y) for y in years),
        driver_measured=dm,
        influencer_measured=im,
        bin_low=np.asarray(lows, float),
        bin_width=np.asarray(widths, float),
        bin_count=np.asarray(counts, int),
        influencer_min=minimum.reindex(index=channels)[influencers].to_numpy(dtype=float)
        if influencers
        else np.zeros((len(channels), 0)),
        influencer_max=maximum.reindex(index=channels)[influencers].to_numpy(dtype=float)
        if influencers
        else np.zeros((len(channels), 0)),
    )


def layout_from_frame(frame: pd.DataFrame, spec: Spec) -> Layout:
    """The layout of an in-memory normalized frame (see :class:`whatif.data.survey.Survey`)."""
    by_channel = frame.groupby("channel")
    terms = spec.driver_ids + spec.influencer_ids
    present = by_channel[terms].count()
    influencers = spec.influencer_ids
    minimum = by_channel[influencers].min() if influencers else pd.DataFrame(index=present.index)
    maximum = by_channel[influencers].max() if influencers else pd.DataFrame(index=present.index)
    channels = sorted(frame["channel"].unique().tolist())
    years = sorted(int(y) for y in frame["year"].unique())
    return layout_from_stats(spec, channels, years, present, minimum, maximum)


def accumulate(block: pd.DataFrame, spec: Spec, layout: Layout) -> Partial:
    """Raw sums over one block of normalized rows (any subset; blocks add up with :func:`combine`)."""
    C, T = len(layout.channels), len(layout.years)
    drivers, influencers = spec.driver_ids, spec.influencer_ids
    K, J = len(drivers), len(influencers)
    P = K + J + 2
    B = layout.n_bins
    part = Partial(
        n_total=np.zeros((C, T)),
        n=np.zeros((C, T)),
        weight_sum=np.zeros((C, T)),
        cross=np.zeros((C, T, P, P)),
        mass=np.zeros((C, T, J, B)),
        value_sum=np.zeros((C, T, J, B)),
    )
    channel_index = {c: i for i, c in enumerate(layout.channels)}
    year_index = {y: i for i, y in enumerate(layout.years)}
    for (channel, year), rows in block.groupby(["channel", "year"], sort=False):
        c, t = channel_index[channel], year_index[int(year)]
        weight = rows["weight"].to_numpy(dtype=float)
        part.n_total[c, t] += len(rows)
        measured = [d for d, m in zip(drivers, layout.driver_measured[c], strict=True) if m]
        measured += [
            i for i, m in zip(influencers, layout.influencer_measured[c], strict=True) if m
        ]
        values = np.zeros((len(rows), P))
        values[:, 0] = 1.0
        for p, term in enumerate(drivers + influencers, start=1):
            if term in measured:
                values[:, p] = rows[term].to_numpy(dtype=float)
        values[:, -1] = rows["outcome"].to_numpy(dtype=float)
        complete = ~np.isnan(values).any(axis=1)
        kept, w = values[complete], weight[complete]
        part.n[c, t] += kept.shape[0]
        part.weight_sum[c, t] += w.sum()
        part.cross[c, t] += (kept * w[:, None]).T @ kept
        for j, inf in enumerate(influencers):
            if not layout.influencer_measured[c, j]:
                continue
            z = rows[inf].to_numpy(dtype=float)
            ok = ~np.isnan(z)
            idx = _bin_index(z[ok], layout, j)
            part.mass[c, t, j] += np.bincount(idx, weights=weight[ok], minlength=B)[:B]
            part.value_sum[c, t, j] += np.bincount(idx, weights=weight[ok] * z[ok], minlength=B)[:B]
    return part


def _bin_index(z: np.ndarray, layout: Layout, j: int) -> np.ndarray:
    idx = np.floor((z - layout.bin_low[j]) / layout.bin_width[j]).astype(np.int64)
    return np.clip(idx, 0, layout.bin_count[j] - 1)


def combine(parts: list[Partial]) -> Partial:
    """Add up partial sums from several blocks."""
    first, *rest = parts
    total = Partial(**{k: v.copy() for k, v in vars(first).items()})
    for part in rest:
        for key, value in vars(part).items():
            getattr(total, key).__iadd__(value)
    return total


def finalize(part: Partial, spec: Spec, layout: Layout) -> xr.Dataset:
    """Turn raw sums into the aggregated dataset the model and scenarios read.

    Returns
    -------
    xarray.Dataset
        ``n``, ``n_total``, ``weight_sum`` by (channel, year); ``cross`` by (channel, year, term,
        term_) with weights normalized to mean 1 per group; ``dist_share`` and ``dist_value`` by
        (channel, year, influencer, bin); measured flags and observed influencer ranges.
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = np.where(part.weight_sum > 0, part.n / part.weight_sum, 0.0)
        group_mass = part.mass.sum(axis=-1, keepdims=True)
        share = np.where(group_mass > 0, part.mass / group_mass, 0.0)
        value = np.where(part.mass > 0, part.value_sum / part.mass, np.nan)
    terms = terms_of(spec)
    coords = {
        "channel": list(layout.channels),
        "year": list(layout.years),
        "term": terms,
        "term_": terms,
        "driver": spec.driver_ids,
        "influencer": spec.influencer_ids,
        "bin": np.arange(layout.n_bins),
    }
    data = xr.Dataset(
        {
            "n": (("channel", "year"), part.n.astype(np.int64)),
            "n_total": (("channel", "year"), part.n_total.astype(np.int64)),
            "weight_sum": (("channel", "year"), part.weight_sum),
            "cross": (("channel", "year", "term", "term_"), part.cross * scale[..., None, None]),
            "dist_share": (("channel", "year", "influencer", "bin"), share),
            "dist_value": (("channel", "year", "influencer", "bin"), value),
            "driver_measured": (("channel", "driver"), layout.driver_measured),
            "influencer_measured": (("channel", "influencer"), layout.influencer_measured),
            "influencer_min": (("channel", "influencer"), layout.influencer_min),
            "influencer_max": (("channel", "influencer"), layout.influencer_max),
        },
        coords=coords,
    )
    data.attrs["weighted"] = int(bool(spec.weight))
    return data


def aggregate(survey: Survey) -> xr.Dataset:
    """Sufficient statistics of a validated in-memory survey (the pandas engine).

    Parameters
    ----------
    survey
        From :func:`whatif.data.survey.load_survey`.

    Returns
    -------
    xarray.Dataset
        See :func:`finalize`, plus the rating-scale statistics of
        :func:`whatif.data.rating_stats.rating_statistics`.
    """
    layout = layout_from_frame(survey.frame, survey.spec)
    # the cross-products and the answer patterns are independent passes over the rows; NumPy
    # releases the GIL in their sorting and arithmetic, so they share the cores
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="whatif-aggregate") as pool:
        patterns = pool.submit(answer_patterns, survey.frame, survey.spec)
        data = finalize(accumulate(survey.frame, survey.spec, layout), survey.spec, layout)
        return rating_statistics(patterns.result(), survey.spec, data)


#: The aggregates' statistics that grow with the number of responses.
EXTENSIVE = (
    "cross",
    "n",
    "n_total",
    "weight_sum",
    "rating_cross",
    "rating_n",
    "driver_cross",
    "driver_n",
)


def scaled_aggregates(data: xr.Dataset, factor: float) -> xr.Dataset:
    """The same aggregates as if every group had ``factor`` times as many responses (every
    extensive statistic scaled; shares, samples and ranges unchanged): for tests and benchmarks
    of large surveys."""
    out = data.copy()
    for name in EXTENSIVE:
        if name in data:
            scaled = data[name] * factor
            out[name] = scaled.astype(data[name].dtype) if data[name].dtype.kind == "i" else scaled
    return out
