"""Forecasts on the scale of answers: how a shift of a respondent's latent score changes the
answer they give, for the rating-scale model (:mod:`whatif.data.ordinal`).

A respondent who answered ``a`` has a latent score in ``[a - 1/2, a + 1/2)`` (open-ended at the
ends of the scale), distributed there as the model's normal around their predicted score. A lever
shifts that latent score by ``delta``; the new answer is the shifted score rounded and clipped to
the scale. :func:`change_tables` tabulates, per respondent, the expected change of the answer, of
being top-box and of being a detractor over a grid of shifts, once; a scenario then costs one
table look-up per respondent and draw (:func:`look_up`, :func:`look_up_many`), or, for
respondents whose shifts are the same, one small matrix product (:func:`look_up_shared`).
Conditioning on the answers given is what makes the forecast respondent by respondent: someone
already at the top cannot go higher, someone just below it moves up by the share of their
interval the shift carries past the cut.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr

from whatif.data.rating import RatingScale

__all__ = [
    "GRID_STEP",
    "change_tables",
    "grid_positions",
    "interpolation_weights",
    "look_up",
    "look_up_many",
    "look_up_sums",
    "look_up_shared",
    "shift_grid",
]

#: Spacing of the tabulated shifts, in rating points (linear interpolation between them).
GRID_STEP = 0.1


def shift_grid(scale: tuple[float, float]) -> np.ndarray:
    """Latent shifts tabulated: the whole span of the scale each way (beyond, nothing changes)."""
    span = scale[1] - scale[0] + 1.0
    return np.arange(-span, span + GRID_STEP / 2, GRID_STEP)


def _survival(cut, low_end, high_end, mu, sigma):
    """P(latent >= cut | latent in [low_end, high_end)) for a normal(mu, sigma) latent."""
    lo = ndtr((low_end - mu) / sigma)
    hi = ndtr((high_end - mu) / sigma)
    at = ndtr((np.clip(cut, low_end, high_end) - mu) / sigma)
    mass = hi - lo
    # an answer far in the tail of its prediction: its interval's mass underflows; uniform there
    width = np.where(np.isfinite(high_end - low_end), high_end - low_end, 1.0)
    uniform = np.clip((high_end - cut) / width, 0.0, 1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        exact = (hi - at) / mass
    return np.where(mass > 1e-12, np.clip(exact, 0.0, 1.0), uniform)


def change_tables(
    answers: np.ndarray,
    mu: np.ndarray,
    sigma: float,
    rating: RatingScale,
    grid: np.ndarray,
    which: tuple[str, ...] = ("mean", "top_box", "bottom_box"),
) -> dict[str, np.ndarray]:
    """Per respondent and shift, the expected change of the answer and of its top/bottom box.

    Parameters
    ----------
    answers
        Whole-number answers ``(M,)``.
    mu
        Each respondent's predicted latent score ``(M,)`` (posterior mean).
    sigma
        The latent sd (posterior mean).
    rating
        The scale with its top-box and detractor cuts.
    grid
        Latent shifts (:func:`shift_grid`).
    which
        Tables to compute: ``mean`` (rating points), ``top_box`` and ``bottom_box`` (probability
        changes; ``bottom_box`` only where the scale reports NPS).

    Returns
    -------
    dict of arrays ``(M, G)``
    """
    low, high = rating.low, rating.high
    a = np.asarray(answers, float)[:, None, None]
    mu = np.asarray(mu, float)[:, None, None]
    low_end = np.where(a <= low, -np.inf, a - 0.5)
    high_end = np.where(a >= high, np.inf, a + 0.5)
    shift = grid[None, :, None]
    out = {}
    if "mean" in which:
        # E[answer'] = low + sum_k P(answer' >= k) for k = low+1 .. high
        cuts = np.arange(low + 1.0, high + 1.0)[None, None, :] - 0.5 - shift
        expected = low + _survival(cuts, low_end, high_end, mu, sigma).sum(axis=-1)
        out["mean"] = expected - a[:, :, 0]
    if "top_box" in which:
        cut = rating.top_box - 0.5 - shift
        now = (a[:, :, 0] >= rating.top_box).astype(float)
        out["top_box"] = _survival(cut, low_end, high_end, mu, sigma)[..., 0] - now
    if "bottom_box" in which and rating.bottom_box is not None:
        cut = rating.bottom_box + 0.5 - shift
        now = (a[:, :, 0] <= rating.bottom_box).astype(float)
        out["bottom_box"] = (1.0 - _survival(cut, low_end, high_end, mu, sigma))[..., 0] - now
    return out


def look_up(
    table: np.ndarray, grid: np.ndarray, shifts: np.ndarray, rows: np.ndarray | None = None
) -> np.ndarray:
    """Interpolate each respondent's table at their shifts.

    Parameters
    ----------
    table
        ``(M, G)`` from :func:`change_tables`.
    grid
        The shifts it was tabulated at (evenly spaced).
    shifts
        ``(S, M)`` latent shifts per draw and respondent.
    rows
        The table's rows (respondents) the ``M`` columns of ``shifts`` are, in that order;
        ``None``: all of them.

    Returns
    -------
    ndarray ``(S, M)``
    """
    return look_up_many({"table": table}, grid, shifts, rows)["table"]


def look_up_many(
    tables: dict[str, np.ndarray],
    grid: np.ndarray,
    shifts: np.ndarray,
    rows: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """:func:`look_up` of several tables of the same respondents at the same shifts: where the
    shifts fall on the grid is found once for all of them (the same numbers, less work).

    Parameters
    ----------
    tables
        Name -> ``(M, G)`` table from :func:`change_tables`.
    grid
        The shifts they were tabulated at (evenly spaced).
    shifts
        ``(S, M)`` latent shifts per draw and respondent.
    rows
        The tables' rows (respondents) the ``M`` columns of ``shifts`` are, in that order;
        ``None``: all of them.

    Returns
    -------
    dict of ndarray ``(S, M)``, by the tables' names
    """
    index, frac = _flat_positions(grid, shifts, rows)
    return {name: _interpolate(table, index, frac) for name, table in tables.items()}


def look_up_sums(
    tables: dict[str, np.ndarray],
    grid: np.ndarray,
    shifts: np.ndarray,
    weights: np.ndarray,
    rows: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """The weighted sum over respondents of :func:`look_up_many`'s values, per draw: what a
    forecast needs of them, without keeping every respondent's (the same numbers, to rounding).

    Parameters
    ----------
    tables, grid, shifts, rows
        As :func:`look_up_many`.
    weights
        Each respondent's weight ``(M,)``, or per draw ``(S, M)``.

    Returns
    -------
    dict of ndarray ``(S,)``, by the tables' names
    """
    index, frac = _flat_positions(grid, shifts, rows)
    weights = np.asarray(weights, float)
    out = {}
    for name, table in tables.items():
        value = _interpolate(table, index, frac)
        out[name] = value @ weights if weights.ndim == 1 else np.einsum("sm,sm->s", value, weights)
    return out


def _interpolate(table, index, frac):
    flat = table.ravel()
    below = np.take(flat, index)
    value = np.take(flat[1:], index)  # the grid point above (the flat array one on)
    value -= below
    value *= frac
    value += below
    return value


def _flat_positions(grid, shifts, rows):
    """Where ``shifts`` ``(S, M)`` fall in the flattened tables of the respondents ``rows``: the
    flat index of the grid point below each, and the fraction of the step beyond it."""
    step = grid[1] - grid[0]
    G = len(grid)
    position = shifts - grid[0]
    position *= 1.0 / step
    np.clip(position, 0.0, G - 1.000001, out=position)
    index = position.astype(np.intp)
    frac = position
    frac -= index
    # one flat gather per neighbor is several times faster than 2-D fancy indexing
    rows = np.arange(shifts.shape[-1]) if rows is None else np.asarray(rows, np.intp)
    index += (rows * G)[None, :]
    return index, frac


def grid_positions(grid: np.ndarray, shifts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where ``shifts`` (any shape) fall on the evenly spaced ``grid``: the grid point below each
    and the fraction of the step beyond it, clipped to the grid's ends as :func:`look_up_many`
    clips them."""
    position = np.clip(
        (np.asarray(shifts, float) - grid[0]) / (grid[1] - grid[0]), 0.0, len(grid) - 1.000001
    )
    index = position.astype(np.intp)
    return index, position - index


def interpolation_weights(grid: np.ndarray, shifts: np.ndarray) -> tuple[int, np.ndarray]:
    """:func:`look_up`'s linear interpolation at shifts that every respondent shares, as weights
    on the grid points the shifts reach.

    Parameters
    ----------
    grid
        The tabulated shifts (evenly spaced).
    shifts
        ``(S,)`` one latent shift per draw.

    Returns
    -------
    first, weights
        The first grid point reached and the weights ``(S, n)`` of the ``n`` points from it on:
        a table's interpolated values are ``weights @ table[:, first:first + n].T``.
    """
    index, frac = grid_positions(grid, shifts)
    first = int(index.min())
    weights = np.zeros((len(index), int(index.max()) - first + 2))
    draw = np.arange(len(index))
    weights[draw, index - first] = 1.0 - frac
    weights[draw, index - first + 1] = frac
    return first, weights


def look_up_shared(
    table: np.ndarray, grid: np.ndarray, shifts: np.ndarray, rows: np.ndarray | None = None
) -> np.ndarray:
    """:func:`look_up` where every respondent has the same shift in a draw: the interpolation
    weights of the draws times the table's columns they reach, one small matrix product instead
    of a look-up per respondent and draw (the same numbers, to rounding).

    Parameters
    ----------
    table
        ``(M, G)`` from :func:`change_tables`.
    grid
        The shifts it was tabulated at (evenly spaced).
    shifts
        ``(S,)`` the latent shift of every respondent in each draw.
    rows
        The table's rows (respondents) to look up, in that order; ``None``: all of them.

    Returns
    -------
    ndarray ``(S, len(rows))``
    """
    first, weights = interpolation_weights(grid, shifts)
    columns = table[:, first : first + weights.shape[1]]
    return weights @ (columns if rows is None else columns[rows]).T
