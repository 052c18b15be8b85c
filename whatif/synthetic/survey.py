"""Survey simulation: draw responses from a truth (:mod:`whatif.synthetic.truth`).

Satisfaction is generated from the *observed* (rounded, clipped) driver scores, so the
satisfaction regression is exactly linear in the survey's columns; only the outcome's own rounding
and clipping blur it. Likewise a driver with paths (a truth's ``paths``) is generated from its
sources' observed scores, its sources first. Influencers are drawn independently of each other
(Poisson counts, Bernoulli flags, normal continuous values).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import xarray as xr

from whatif.data.paths import path_order
from whatif.synthetic.design import ITEM_SD, OUTCOME, SCALE
from whatif.synthetic.truth import path_matrices

__all__ = ["outcome_of", "simulate_survey"]


def simulate_survey(
    truth: xr.Dataset,
    n_per_group: int | Mapping | xr.DataArray,
    seed: int,
    *,
    round_to_scale: bool = True,
    item_missing: float = 0.02,
    outcome_missing: float = 0.005,
    weights: bool = True,
) -> pd.DataFrame:
    """Draw survey responses from a truth.

    Parameters
    ----------
    truth
        From :func:`~whatif.synthetic.truth.demo_truth`,
        :func:`~whatif.synthetic.truth.random_truth` or :func:`~whatif.synthetic.files.load_truth`.
    n_per_group
        Responses per channel-year: one number for every group, a mapping by channel id (every
        year) or by ``(channel, year)``, or a DataArray over ``channel`` (and optionally
        ``year``). Groups left out get no responses.
    seed
        Random seed; the same truth, sizes and seed give an identical frame.
    round_to_scale
        Round driver items and the outcome to integers and clip them to their scales, as
        respondents answer. Satisfaction is generated from the rounded driver scores either way.
    item_missing
        Share of driver answers (each item column where the driver is measured) left blank.
    outcome_missing
        Share of ``overall_sat`` answers left blank.
    weights
        Add a ``weight`` column: survey weights that make each year's channels represent their
        contact volume, times lognormal post-stratification noise; mean about 1.

    Returns
    -------
    pandas.DataFrame
        One row per response: ``channel``, ``year``, ``overall_sat``, driver columns (items for
        item drivers), influencer columns, and ``weight``. Drivers and influencers not measured in
        a channel are NaN in every row of that channel.
    """
    if not (0 <= item_missing < 1 and 0 <= outcome_missing < 1):
        raise ValueError("item_missing and outcome_missing must be shares in [0, 1)")
    rng = np.random.default_rng(seed)
    counts = _group_sizes(truth, n_per_group)
    total = sum(counts.values())
    if total == 0:
        raise ValueError("n_per_group gives no responses")

    channels = list(truth["channel"].values)
    years = [int(y) for y in truth["year"].values]
    drivers = list(truth["driver"].values)
    columns = [c.split() for c in truth["driver_columns"].values]
    influencers = list(truth["influencer"].values)
    kinds = truth["kind"].values
    item_sd = float(truth.attrs.get("item_sd", ITEM_SD))
    paths = path_matrices(truth)
    order = range(len(drivers))
    if paths is not None:
        edges = list(zip(truth["target"].values, truth["source"].values, strict=True))
        order = [drivers.index(k) for k in path_order(drivers, edges)]
    low, high = SCALE
    outcome, outcome_scale = outcome_of(truth)
    volume = truth["volume"].values
    n_years = sum(1 for y in years if any(counts.get((c, y), 0) for c in channels))

    frames = []
    for ci, ch in enumerate(channels):
        d_meas = truth["driver_measured"].values[ci]
        i_meas = truth["influencer_measured"].values[ci]
        for ti, year in enumerate(years):
            n = counts.get((ch, year), 0)
            if n == 0:
                continue
            p = truth.isel(channel=ci, year=ti)
            infl = np.full((n, len(influencers)), np.nan)
            for ji in np.flatnonzero(i_meas):
                m = float(p["influencer_mean"].values[ji])
                if kinds[ji] == "count":
                    infl[:, ji] = rng.poisson(m, n)
                elif kinds[ji] == "binary":
                    infl[:, ji] = rng.random(n) < m
                else:
                    infl[:, ji] = m + float(p["influencer_sd"].values[ji]) * rng.standard_normal(n)
            x = np.nan_to_num(infl)

            sd = p["driver_sigma"].values
            noise = np.zeros((n, len(drivers)))
            for ki in np.flatnonzero(d_meas):
                own = sd[ki] ** 2 - (item_sd**2 / len(columns[ki]) if len(columns[ki]) > 1 else 0)
                noise[:, ki] = np.sqrt(own) * rng.standard_normal(n)
            latent = (
                np.nan_to_num(p["driver_intercept"].values)
                + x @ np.nan_to_num(p["effects"].values).T
                + noise
            )

            out: dict[str, np.ndarray] = {}
            score = np.full((n, len(drivers)), np.nan)
            for ki in order:
                cols = columns[ki]
                if paths is not None:
                    latent[:, ki] += np.nan_to_num(score) @ paths[ci, ki]
                if not d_meas[ki]:
                    for col in cols:
                        out[col] = np.full(n, np.nan)
                    continue
                items = []
                for col in cols:
                    value = latent[:, ki]
                    if len(cols) > 1:
                        value = value + item_sd * rng.standard_normal(n)
                    if round_to_scale:
                        value = np.clip(np.rint(value), low, high)
                    out[col] = value
                    items.append(value)
                score[:, ki] = np.mean(items, axis=0)

            sat = (
                float(p["intercept"])
                + np.nan_to_num(score) @ np.nan_to_num(p["weights"].values)
                + x @ np.nan_to_num(p["direct"].values)
                + float(p["sigma"]) * rng.standard_normal(n)
            )
            if round_to_scale:
                sat = np.clip(np.rint(sat), *outcome_scale)

            for ki, cols in enumerate(columns):
                if d_meas[ki] and item_missing > 0:
                    for col in cols:
                        out[col] = np.where(rng.random(n) < item_missing, np.nan, out[col])
            if outcome_missing > 0:
                sat = np.where(rng.random(n) < outcome_missing, np.nan, sat)

            frame = {
                "channel": np.full(n, ch, dtype=object),
                "year": np.full(n, year),
                outcome: sat,
                **{col: out[col] for cols in columns for col in cols},  # spec order, not draw order
            }
            frame.update({j: infl[:, ji] for ji, j in enumerate(influencers)})
            if weights:
                base = volume[ci] * total / (n_years * n)
                frame["weight"] = base * np.exp(0.3 * rng.standard_normal(n) - 0.045)
            frames.append(pd.DataFrame(frame))
    df = pd.concat(frames, ignore_index=True)
    df["year"] = df["year"].astype(np.int64)
    return df


def outcome_of(truth: xr.Dataset) -> tuple[str, tuple[float, float]]:
    """The truth's outcome column and its scale (the demo asks "how likely are you to recommend
    us", 0-10; other truths overall satisfaction on the drivers' 1-10)."""
    if "outcome" in truth.attrs:
        return str(truth.attrs["outcome"]), (
            float(truth.attrs["outcome_low"]),
            float(truth.attrs["outcome_high"]),
        )
    return OUTCOME, SCALE


def _group_sizes(truth: xr.Dataset, n_per_group) -> dict[tuple[str, int], int]:
    channels = [str(c) for c in truth["channel"].values]
    years = [int(y) for y in truth["year"].values]
    sizes: dict[tuple[str, int], int] = {}
    if isinstance(n_per_group, xr.DataArray):
        da = n_per_group
        if "year" not in da.dims:
            da = da.expand_dims(year=years)
        for c in channels:
            for y in years:
                if c in da["channel"].values and y in da["year"].values:
                    sizes[(c, y)] = int(da.sel(channel=c, year=y))
    elif isinstance(n_per_group, Mapping):
        for key, value in n_per_group.items():
            if isinstance(key, tuple):
                sizes[(str(key[0]), int(key[1]))] = int(value)
            else:
                sizes.update({(str(key), y): int(value) for y in years})
        unknown = {c for c, _ in sizes} - set(channels)
        if unknown:
            raise ValueError(f"n_per_group names channels not in the truth: {sorted(unknown)}")
    else:
        sizes = {(c, y): int(n_per_group) for c in channels for y in years}
    if any(v < 0 for v in sizes.values()):
        raise ValueError("n_per_group must not be negative")
    return sizes
