"""Merging a previous fit's stored aggregates with a new year's, along ``year``.

Channels may be added or dropped (groups a side does not have get zero responses, as
:func:`whatif.data.aggregate.finalize` gives any empty group). A driver or influencer may be dropped
from the spec: the earlier years keep the sub-matrix of their cross-products, which are exactly
the statistics of the regression without that term (rows that missed only the dropped term stay
left out). Adding a driver or influencer, changing an influencer's kind or the rating scale, or
measuring a term in a channel where it was not measured before cannot be reconciled from
aggregates and is an error. Influencer distributions are kept per year as they are: every bin
carries its own weighted share and mean value (``dist_share``, ``dist_value``), so a count's
bin *k* is the value *k* in every year and a continuous influencer keeps the 256-bin histogram
of its own year's range; the shorter side is padded with empty bins (share 0, value NaN).
Nothing is re-binned, so nothing is lost.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from whatif.data.spec import Spec
from whatif.errors import DataError, SpecError

__all__ = [
    "YEARLY",
    "check_changes",
    "conform_aggregates",
    "discount_aggregates",
    "merge_aggregates",
    "spec_changes",
    "with_rating_statistics",
]

#: Aggregate variables that have a ``year`` dimension (merged by concatenation).
YEARLY = (
    "n",
    "n_total",
    "weight_sum",
    "cross",
    "dist_share",
    "dist_value",
    "rating_cross",
    "rating_n",
    "rating_fitted",
    "driver_cross",
    "driver_n",
    "driver_fitted",
    "answer_share",
    "population_x",
    "population_z",
    "population_y",
    "population_weight",
    "population_exact",
)
_FILL = {
    "n": 0,
    "n_total": 0,
    "weight_sum": 0.0,
    "cross": 0.0,
    "dist_share": 0.0,
    "dist_value": np.nan,
    "rating_cross": 0.0,
    "rating_n": 0.0,
    "rating_fitted": False,
    "driver_cross": 0.0,
    "driver_n": 0.0,
    "driver_fitted": False,
    "answer_share": 0.0,
    "population_x": 0.0,
    "population_z": 0.0,
    "population_y": 0.0,
    "population_weight": 0.0,
    "population_exact": True,
}


def spec_changes(old: Spec, new: Spec) -> dict:
    """What differs between the previous fit's spec and the new one.

    Returns
    -------
    dict
        ``drivers_added``, ``drivers_dropped``, ``influencers_added``, ``influencers_dropped``
        (lists of ids), ``kind_changed`` (``id: [old, new]``), ``scale_changed`` (``[old, new]`` or
        ``None``), ``items_changed`` (driver ids whose item columns differ), ``weighting``
        (``[old, new]`` when one spec has survey weights and the other not, else ``None``) and,
        when a spec has driver paths, ``paths_added`` and ``paths_dropped`` (``"source ->
        driver"`` labels).
    """
    od, nd = old.driver_ids, new.driver_ids
    oi, ni = old.influencer_ids, new.influencer_ids
    common_inf = [j for j in ni if j in oi]
    common_drv = [k for k in nd if k in od]
    return {
        "drivers_added": [k for k in nd if k not in od],
        "drivers_dropped": [k for k in od if k not in nd],
        "influencers_added": [j for j in ni if j not in oi],
        "influencers_dropped": [j for j in oi if j not in ni],
        "kind_changed": {
            j: [old.influencer(j).kind, new.influencer(j).kind]
            for j in common_inf
            if old.influencer(j).kind != new.influencer(j).kind
        },
        "scale_changed": [list(old.scale), list(new.scale)]
        if tuple(old.scale) != tuple(new.scale)
        else None,
        "items_changed": [k for k in common_drv if old.driver(k).columns != new.driver(k).columns],
        "weighting": [bool(old.weight), bool(new.weight)]
        if bool(old.weight) != bool(new.weight)
        else None,
    } | _path_changes(old, new)


def _path_changes(old: Spec, new: Spec) -> dict:
    """Paths added and dropped; nothing for two specs without paths (a refit's changes keep
    the keys they had before paths existed)."""
    if not (old.paths or new.paths):
        return {}
    was, now = set(old.paths), set(new.paths)
    return {
        "paths_added": [f"{s} -> {k}" for k, s in new.paths if (k, s) not in was],
        "paths_dropped": [f"{s} -> {k}" for k, s in old.paths if (k, s) not in now],
    }


def check_changes(changes: dict, source: str) -> list[str]:
    """Raise on changes aggregates cannot absorb; return notes for the ones they can."""
    problems = []
    for kind in ("drivers", "influencers"):
        if changes[f"{kind}_added"]:
            problems.append(
                f"{source}: {kind} {', '.join(changes[f'{kind}_added'])} are new in this spec; the "
                f"earlier years have no statistics for them, so fit all years' files with 'whatif "
                f"fit' or leave them out of the spec"
            )
    for j, (was, now) in changes["kind_changed"].items():
        problems.append(
            f"{source}: influencer '{j}' was {was} and is now {now}; its values are not comparable "
            f"across years, keep kind = \"{was}\" or fit all years' files with 'whatif fit'"
        )
    if changes["scale_changed"]:
        was, now = changes["scale_changed"]
        problems.append(
            f"{source}: the rating scale changed from {was} to {now}; ratings on different scales "
            f"cannot share one model, rescale the new file to {was}"
        )
    if problems:
        raise SpecError(*problems)
    notes = []
    for kind in ("drivers", "influencers"):
        if changes[f"{kind}_dropped"]:
            notes.append(
                f"{kind} dropped from the spec: {', '.join(changes[f'{kind}_dropped'])}; the "
                f"earlier years are refitted without them (rows that missed only them stay "
                f"left out)"
            )
    if changes["items_changed"]:
        notes.append(
            f"drivers made of different item columns than before: "
            f"{', '.join(changes['items_changed'])} (kept: same driver, new items)"
        )
    for kind in ("added", "dropped"):
        if changes.get(f"paths_{kind}"):
            notes.append(
                f"driver paths {kind}: {', '.join(changes[f'paths_{kind}'])}; every year is "
                f"refitted {'with' if kind == 'added' else 'without'} them (the statistics hold "
                f"the drivers' cross-products)"
            )
    if changes["weighting"]:
        was, now = changes["weighting"]
        notes.append(
            f"survey weights {'dropped' if was else 'added'}: earlier years are "
            f"{'weighted' if was else 'unweighted'}, the new file {'weighted' if now else 'not'}"
        )
    return notes


def conform_aggregates(aggregates: xr.Dataset, spec: Spec) -> xr.Dataset:
    """Restrict and reorder stored aggregates to the drivers and influencers of ``spec``.

    The cross-products of a subset of terms are the sufficient statistics of the regression on
    that subset, so dropping a term is exact.
    """
    from whatif.data.aggregate import terms_of

    terms = terms_of(spec)
    return aggregates.sel(
        term=terms, term_=terms, driver=spec.driver_ids, influencer=spec.influencer_ids
    )


def _names(values) -> list:
    return [v.item() if hasattr(v, "item") else v for v in np.asarray(values)]


def merge_aggregates(
    previous: xr.Dataset, new: xr.Dataset, *, replace: bool = False
) -> tuple[xr.Dataset, dict, list[str]]:
    """Append the new aggregates to the previous ones along ``year``.

    Parameters
    ----------
    previous, new
        Aggregates over the same drivers and influencers in the same order (see
        :func:`conform_aggregates`).
    replace
        Years present on both sides are taken from ``new``; without it they are an error.

    Returns
    -------
    merged
        Years sorted; channels the union of both (sorted); bins padded to the longer side.
    info
        ``previous_years``, ``new_years``, ``replaced_years``, ``channels_added``,
        ``channels_dropped``.
    notes
        What was reconciled.

    Raises
    ------
    DataError
        A year already fitted (without ``replace``), or a term measured in a channel on one side
        only.
    """
    notes: list[str] = []
    old_years = [int(y) for y in previous["year"].to_numpy()]
    new_years = [int(y) for y in new["year"].to_numpy()]
    overlap = sorted(set(old_years) & set(new_years))
    if overlap and not replace:
        which = (
            f"years {', '.join(map(str, overlap))} are"
            if len(overlap) > 1
            else (f"year {overlap[0]} is")
        )
        raise DataError(
            f"{which} already in the previous fit; give a file with only new years, or --replace "
            f"to refit those years from the new file"
        )
    if overlap:
        kept = [y for y in old_years if y not in overlap]
        previous = previous.sel(year=kept)
        notes.append(f"replaced year {', '.join(map(str, overlap))} with the new file's data")
        old_years = kept
    old_ch, new_ch = _names(previous["channel"]), _names(new["channel"])
    channels = sorted(set(old_ch) | set(new_ch))
    added = [c for c in new_ch if c not in old_ch]
    dropped = [c for c in old_ch if c not in new_ch]
    if added:
        notes.append(
            f"new channels {', '.join(added)}: no earlier years, their weights start this year"
        )
    if dropped:
        notes.append(
            f"channels {', '.join(dropped)} are not in the new file: their weights are carried "
            f"by the random walk without new data"
        )
    common = [c for c in old_ch if c in new_ch]
    problems = []
    for flag, dim in (("driver_measured", "driver"), ("influencer_measured", "influencer")):
        was = previous[flag].sel(channel=common)
        now = new[flag].sel(channel=common)
        for c in common:
            for term in _names(was[dim]):
                a, b = (
                    bool(was.sel(channel=c, **{dim: term})),
                    bool(now.sel(channel=c, **{dim: term})),
                )
                if a != b:
                    problems.append(
                        f"{dim} '{term}' is {'measured' if b else 'not measured'} in channel '{c}' "
                        f"in the new file but was {'measured' if a else 'not measured'} before; "
                        f"the model measures a term in a channel in every year or none, so fit all "
                        f"years' files with 'whatif fit' (or blank the column in the new file)"
                    )
    if problems:
        raise DataError(*problems)

    bins = max(previous.sizes["bin"], new.sizes["bin"])
    previous, new = with_rating_statistics(previous), with_rating_statistics(new)
    size = max(previous.sizes.get("respondent", 0), new.sizes.get("respondent", 0))
    answers = new["answer"].to_numpy() if "answer" in new.coords else None
    pieces = []
    for side in (previous, new):
        if side.sizes["year"] == 0:
            continue
        names = [v for v in YEARLY if v in side and (v != "answer_share" or answers is not None)]
        index = {"channel": channels, "bin": np.arange(bins)}
        if size:
            index["respondent"] = np.arange(size)
        if answers is not None and "answer" in side.dims:
            index["answer"] = answers
        yearly = side[names].reindex(index, fill_value=_FILL)
        if answers is not None and "answer_share" not in side:
            yearly["answer_share"] = xr.DataArray(
                np.zeros((len(channels), side.sizes["year"], len(answers))),
                dims=("channel", "year", "answer"),
                coords={"channel": channels, "year": side["year"], "answer": answers},
            )
        pieces.append(yearly)
    merged = xr.concat(pieces, dim="year", join="exact").sortby("year")
    for var in ("n", "n_total"):
        merged[var] = merged[var].astype(np.int64)
    for flag in ("driver_measured", "influencer_measured"):
        merged[flag] = previous[flag].reindex(channel=channels, fill_value=False) | new[
            flag
        ].reindex(channel=channels, fill_value=False)
    merged["driver_ordinal"] = new["driver_ordinal"]
    merged["influencer_min"] = np.fmin(
        previous["influencer_min"].reindex(channel=channels),
        new["influencer_min"].reindex(channel=channels),
    )
    merged["influencer_max"] = np.fmax(
        previous["influencer_max"].reindex(channel=channels),
        new["influencer_max"].reindex(channel=channels),
    )
    merged = merged.transpose("channel", "year", ...)
    merged.attrs = dict(new.attrs)
    merged.attrs["weighted"] = int(
        bool(previous.attrs.get("weighted", 0)) or bool(new.attrs.get("weighted", 0))
    )
    if previous.sizes["bin"] != new.sizes["bin"]:
        notes.append(
            f"influencer distributions kept per year; bins padded to {bins} (a count's bin is its "
            f"value, a continuous influencer keeps its own year's histogram)"
        )
    info = {
        "previous_years": old_years,
        "new_years": new_years,
        "replaced_years": overlap,
        "channels_added": added,
        "channels_dropped": dropped,
    }
    return merged, info, notes


def with_rating_statistics(aggregates: xr.Dataset) -> xr.Dataset:
    """Aggregates of a fit from before the rating-scale likelihood, completed with its linear
    statistics (:mod:`whatif.data.rating_stats`): every group linear, no population sample."""
    if "rating_cross" in aggregates:
        return aggregates
    out = aggregates.copy()
    K = aggregates.sizes["driver"]
    out["rating_cross"] = aggregates["cross"]
    out["rating_n"] = aggregates["n"].astype(float)
    out["rating_fitted"] = xr.zeros_like(aggregates["n"], dtype=bool)
    out["driver_cross"] = aggregates["cross"].expand_dims(driver=aggregates["driver"], axis=2)
    out["driver_n"] = aggregates["n"].astype(float).expand_dims(driver=aggregates["driver"], axis=2)
    out["driver_fitted"] = xr.zeros_like(out["driver_n"], dtype=bool)
    out["driver_ordinal"] = xr.DataArray(np.zeros(K, bool), dims="driver")
    out.attrs["outcome_likelihood"] = aggregates.attrs.get("outcome_likelihood", "linear")
    return out


def discount_aggregates(aggregates: xr.Dataset, discount_by_year: dict[int, float]) -> xr.Dataset:
    """Scale each year's ``n`` and cross-products by its power-prior weight ``a0``.

    The Gaussian log-likelihood on sufficient statistics is linear in ``n`` and ``cross``, so the
    scaled aggregates give the likelihood raised to ``a0``; group means and covariances (``cross``
    over ``n``) are unchanged.
    """
    years = [int(y) for y in aggregates["year"].to_numpy()]
    a0 = xr.DataArray(
        [float(discount_by_year.get(y, 1.0)) for y in years], dims="year", coords={"year": years}
    )
    if bool((a0 == 1.0).all()):
        return aggregates
    out = aggregates.copy()
    for name in ("n", "cross", "rating_n", "rating_cross", "driver_n", "driver_cross"):
        if name in aggregates:
            out[name] = aggregates[name] * a0
    return out
