"""Rating-scale statistics of a survey: the rating-scale likelihood of each regression summed up
as cross-products the model reads like the linear ones, a sample of each group's respondents for
forecasts on the scale of answers, and the observed share of every answer.

Which likelihood (:func:`likelihoods`): by default it follows the data -- an outcome or a
single-item driver whose answers are whole numbers on a scale with whole-number ends gets the
rating-scale likelihood (:mod:`whatif.data.ordinal`); anything else (a driver that is the mean of
several items, a 0-100 index) keeps the linear-Gaussian one. ``[survey] likelihood = "linear"``
fits every regression linearly; ``"ordinal"`` asks for the rating scale and refuses answers that
are not whole numbers.

Each satisfaction regression and each driver regression is fitted per channel and year on its
rows (the model pools a driver's years by adding their statistics) -- compressed first to distinct
patterns with summed weights, which is exact -- and summed up by
:func:`whatif.data.ordinal.pseudo_statistics`. A group too small or too degenerate for the fit
to converge (every answer at one end, say) keeps its linear cross-products; ``rating_fitted``
records which groups used which.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import xarray as xr

from whatif.data.ordinal import fit_censored, is_whole_scale, pseudo_statistics
from whatif.data.patterns import GroupRows
from whatif.data.spec import Spec
from whatif.errors import DataError

__all__ = [
    "MIN_RATING_ROWS",
    "POPULATION_SIZE",
    "likelihoods",
    "rating_statistics",
]

#: A regression fitted on fewer complete rows keeps the linear likelihood.
MIN_RATING_ROWS = 30
#: Respondents kept per channel and year for forecasts on the scale of answers.
POPULATION_SIZE = 1000


def likelihoods(frame: pd.DataFrame, spec: Spec) -> tuple[str, dict[str, str]]:
    """The likelihood of the outcome and of each driver: ``"ordinal"`` or ``"linear"``.

    Parameters
    ----------
    frame
        Normalized rows (``outcome`` and one column per driver id).
    spec
        The spec; its ``likelihood`` overrides the data's choice.

    Raises
    ------
    DataError
        ``likelihood = "ordinal"`` with outcome answers that are not whole numbers on the scale.
    """
    if spec.likelihood == "linear":
        return "linear", {d.id: "linear" for d in spec.drivers}
    outcome_whole = is_whole_scale(frame["outcome"].to_numpy(float), spec.scale)
    if spec.likelihood == "ordinal" and not outcome_whole:
        values = frame["outcome"].dropna().to_numpy(float)
        odd = values[
            (values != np.rint(values)) | (values < spec.scale[0]) | (values > spec.scale[1])
        ]
        example = f" (e.g. {odd[0]:g})" if odd.size else ""
        raise DataError(
            f"{spec.source}: 'survey.likelihood' is ordinal, but column '{spec.outcome}' has "
            f"answers that are not whole numbers on the scale [{spec.scale[0]:g}, "
            f'{spec.scale[1]:g}]{example}; set likelihood = "linear" or leave it out'
        )
    drivers = {}
    for d in spec.drivers:
        whole = not d.is_item_mean and is_whole_scale(frame[d.id].to_numpy(float), spec.scale)
        drivers[d.id] = "ordinal" if whole else "linear"
    return ("ordinal" if outcome_whole else "linear"), drivers


def rating_statistics(
    frame: pd.DataFrame, spec: Spec, data: xr.Dataset, seed: int = 0
) -> xr.Dataset:
    """Add the rating-scale statistics to the aggregates of :func:`whatif.data.aggregate.finalize`.

    Parameters
    ----------
    frame
        The normalized rows the aggregates were computed from.
    spec
        The survey's spec.
    data
        The aggregates.
    seed
        Seed of the population sample.

    Returns
    -------
    xarray.Dataset
        ``data`` with ``rating_cross`` (channel, year, term, term_) and ``rating_n`` (channel, year):
        the satisfaction regressions' statistics (the linear ones where the outcome is linear or
        a group's fit fell back); ``driver_cross`` (channel, year, driver, term, term_) and
        ``driver_n`` (channel, year, driver): each driver regression's statistics over its
        design (intercept, influencers, the drivers it depends on) with the driver's own term as
        the answer (the model pools the years); ``rating_fitted`` (channel, year) and
        ``driver_fitted`` (channel, year, driver);
        ``driver_ordinal`` (driver); ``population_*`` (channel, year, respondent): a sample of
        each group's complete rows (``population_weight`` 0 pads; ``population_exact`` where it
        holds every respondent rather than a sample drawn by weight); ``answer_share`` (channel,
        year, answer) where the outcome's answers are whole numbers on the scale; attrs ``outcome_likelihood``.
    """
    outcome_kind, driver_kinds = likelihoods(frame, spec)
    drivers, influencers = spec.driver_ids, spec.influencer_ids
    K, J = len(drivers), len(influencers)
    P = K + J + 2
    channels = [str(c) for c in data["channel"].to_numpy()]
    years = [int(y) for y in data["year"].to_numpy()]
    C, T = len(channels), len(years)
    cross = data["cross"].to_numpy()
    n = data["n"].to_numpy().astype(float)
    measured = np.ones((C, P), bool)
    measured[:, 1 : 1 + K] = data["driver_measured"].to_numpy()
    measured[:, 1 + K : P - 1] = data["influencer_measured"].to_numpy()
    rows = _complete_rows(frame, spec, channels, years, measured)

    # every regression to fit: (where its statistics go, its design, its answer's term)
    tasks = []
    sat_design = np.arange(P - 1)
    if outcome_kind == "ordinal":
        tasks += [((c, t), sat_design, P - 1) for c, t in rows]
    influencer_terms = np.arange(1 + K, 1 + K + J)
    parents = {d.id: [drivers.index(s) for s in d.depends_on] for d in spec.drivers}
    for c, t in rows:
        for k, driver in enumerate(drivers):
            if driver_kinds[driver] != "ordinal" or not measured[c, 1 + k]:
                continue
            design = np.concatenate([[0], influencer_terms, [1 + s for s in parents[driver]]])
            tasks.append(((c, t, k), design.astype(int), 1 + k))
    fits = _fit_all(rows, tasks, spec.scale)

    rating_cross, rating_n = cross.copy(), n.copy()
    rating_fitted = np.zeros((C, T), bool)
    driver_cross = np.broadcast_to(cross[:, :, None], (C, T, K, P, P)).copy()
    driver_n = np.broadcast_to(n[:, :, None], (C, T, K)).copy()
    driver_fitted = np.zeros((C, T, K), bool)
    for (at, design, answer), fitted in zip(tasks, fits, strict=True):
        if fitted is None:
            continue
        if len(at) == 2:
            rating_cross[at], rating_n[at] = _embed(fitted, design, answer, P)
            rating_fitted[at] = True
        else:
            driver_cross[at], driver_n[at] = _embed(fitted, design, answer, P)
            driver_fitted[at] = True

    out = data.assign(
        rating_cross=(("channel", "year", "term", "term_"), rating_cross),
        rating_n=(("channel", "year"), rating_n),
        rating_fitted=(("channel", "year"), rating_fitted),
        driver_cross=(("channel", "year", "driver", "term", "term_"), driver_cross),
        driver_n=(("channel", "year", "driver"), driver_n),
        driver_fitted=(("channel", "year", "driver"), driver_fitted),
        driver_ordinal=(("driver",), np.array([driver_kinds[d] == "ordinal" for d in drivers])),
    )
    out = out.merge(_population(rows, spec, channels, years, seed))
    if is_whole_scale(frame["outcome"].to_numpy(float), spec.scale):
        out = out.merge(_answer_shares(rows, spec, channels, years))
    out.attrs["outcome_likelihood"] = outcome_kind
    return out


def _complete_rows(frame, spec, channels, years, measured) -> dict:
    """Each group's complete rows in the term order (unmeasured terms zero) and their weights,
    normalized to mean 1 as the cross-products are."""
    drivers, influencers = spec.driver_ids, spec.influencer_ids
    K, J = len(drivers), len(influencers)
    P = K + J + 2
    channel_index = {c: i for i, c in enumerate(channels)}
    year_index = {y: i for i, y in enumerate(years)}
    out = {}
    for (channel, year), group in frame.groupby(["channel", "year"], sort=False):
        c, t = channel_index[str(channel)], year_index[int(year)]
        values = np.zeros((len(group), P))
        values[:, 0] = 1.0
        for p, term in enumerate(drivers + influencers, start=1):
            if measured[c, p]:
                values[:, p] = group[term].to_numpy(dtype=float)
        values[:, -1] = group["outcome"].to_numpy(dtype=float)
        complete = ~np.isnan(values).any(axis=1)
        w = group["weight"].to_numpy(dtype=float)[complete]
        # patterns (Dask) stand for several rows: the weights sum to the rows they stand for
        rows = group["count"].to_numpy(dtype=float)[complete] if "count" in group else w * 0 + 1
        if complete.any() and w.sum() > 0:
            out[c, t] = GroupRows(values[complete], w * (rows.sum() / w.sum()))
    return out


def _fit_all(rows, tasks, scale) -> list:
    """:func:`_fit` of every task, on as many threads as there are cores (NumPy and SciPy
    release the GIL in the row-wise arithmetic that dominates)."""

    def fit(task):
        at, design, answer = task
        return _fit(rows[at[:2]], design, answer, scale)

    if len(tasks) < 2:
        return [fit(task) for task in tasks]
    workers = min(len(tasks), os.cpu_count() or 1)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="whatif-fit") as pool:
        return list(pool.map(fit, tasks))


def _fit(rows, design, answer, scale):
    """The rating-scale fit of ``answer`` on ``design`` over distinct patterns, or ``None``."""
    values, w = rows.values, rows.weights
    if len(w) < MIN_RATING_ROWS:
        return None
    columns = np.concatenate([design, [answer]])
    first, inverse = rows.distinct(columns)
    patterns = values[np.ix_(first, columns)]
    weights = np.bincount(inverse, weights=w, minlength=len(patterns))
    y = patterns[:, -1]
    if np.unique(y).size < 2:
        return None
    fit = fit_censored(patterns[:, :-1], y, weights, scale)
    return fit if fit.converged else None


def _embed(fit, design, answer, P):
    """The fit's statistics as a term-by-term matrix: design block, design x answer, answer^2."""
    xx, xy, yy, n = pseudo_statistics(fit)
    out = np.zeros((P, P))
    out[np.ix_(design, design)] = xx
    out[design, answer] = out[answer, design] = xy
    out[answer, answer] = yy
    return out, n


def _population(rows, spec, channels, years, seed) -> xr.Dataset:
    K, J = len(spec.driver_ids), len(spec.influencer_ids)
    C, T, M = len(channels), len(years), POPULATION_SIZE
    size = min(M, max((len(group.weights) for group in rows.values()), default=1))
    x = np.zeros((C, T, size, K))
    z = np.zeros((C, T, size, J))
    y = np.zeros((C, T, size))
    weight = np.zeros((C, T, size))
    exact = np.ones((C, T), bool)
    rng = np.random.default_rng(seed)
    for (c, t), group in rows.items():
        values, w = group.values, group.weights
        if len(w) <= size:  # every respondent (or pattern), as weighted
            pick, share = np.arange(len(w)), w / w.sum()
        else:  # drawn with probability by weight, so that each respondent drawn counts the same
            pick = np.sort(rng.choice(len(w), size=size, replace=True, p=w / w.sum()))
            share = np.full(size, 1.0 / size)
            exact[c, t] = False
        m = len(pick)
        x[c, t, :m] = values[pick, 1 : 1 + K]
        z[c, t, :m] = values[pick, 1 + K : 1 + K + J]
        y[c, t, :m] = values[pick, -1]
        weight[c, t, :m] = share
    dims = ("channel", "year", "respondent")
    return xr.Dataset(
        {
            "population_x": (dims + ("driver",), x),
            "population_z": (dims + ("influencer",), z),
            "population_y": (dims, y),
            "population_weight": (dims, weight),
            "population_exact": (("channel", "year"), exact),
        },
        coords={"respondent": np.arange(size)},
    )


def _answer_shares(rows, spec, channels, years) -> xr.Dataset:
    low, high = spec.scale
    answers = np.arange(low, high + 1.0)
    share = np.zeros((len(channels), len(years), len(answers)))
    for (c, t), group in rows.items():
        values, w = group.values, group.weights
        index = (values[:, -1] - low).astype(int)
        share[c, t] = np.bincount(index, weights=w, minlength=len(answers)) / w.sum()
    return xr.Dataset(
        {"answer_share": (("channel", "year", "answer"), share)}, coords={"answer": answers}
    )
