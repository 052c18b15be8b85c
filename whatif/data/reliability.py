"""Whether a multi-item driver's items hang together: Cronbach's alpha, McDonald's omega and
corrected item-rest correlations, per driver and channel.

A driver given as ``items = [...]`` is the mean of its items, which is only one thing if the
items measure one thing. Everything here is read off each item set's covariance matrix in a
channel, over the responses (with an outcome) that answer every item of the driver, unweighted:
reliability is a property of the questions as answered, not of the population the survey weights
stand for. The matrices are sufficient statistics, gathered once when the survey is validated
(:func:`item_moments`, a few ``bincount`` passes over the rows), so a million rows cost little.

*Cronbach's alpha* (Cronbach 1951), of the sum of the raw items:
``alpha = p / (p - 1) * (1 - trace(S) / sum(S))`` for ``p`` items with covariance ``S``.

*McDonald's omega* (total, McDonald 1999, eq. 6.20b), of the same sum under a one-factor model
``S = l l' + diag(psi)``: ``omega = sum(l)**2 / (sum(l)**2 + sum(psi))``. The loadings come from
iterated principal axis factoring of the item correlations (Harman 1976, ch. 8: communalities
start at the squared multiple correlations and are replaced by those of the first factor until
they settle, a least-squares fit of the off-diagonal correlations) and are scaled back to the
items' units; a communality is kept at most 1. With two items the one-factor model is not
identified; the iteration settles on equal standardized loadings ``sqrt(r)``, so omega is then
the Spearman-Brown reliability ``2 r / (1 + r)`` of the standardized items. For parallel items
alpha equals omega; for congeneric items (unequal loadings) alpha is the lower one.

*Item-rest correlation*: each item's correlation with the sum of the driver's other items (the
item itself left out of the total, so it does not correlate with itself).

The thresholds of :func:`reliability_problems` are the customary ones: alpha below 0.7
(Nunnally 1978) or an item correlating below 0.3 with the rest.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from whatif.data.spec import Spec

__all__ = [
    "ALPHA_MIN",
    "ITEM_REST_MIN",
    "MIN_RESPONSES",
    "ItemMoments",
    "ItemReliability",
    "cronbach_alpha",
    "item_moments",
    "item_reliability",
    "item_rest_correlations",
    "mcdonald_omega",
    "one_factor_loadings",
    "reliability_problems",
]

#: Cronbach's alpha below which a driver's items are flagged.
ALPHA_MIN = 0.7
#: Item-rest correlation below which an item is flagged.
ITEM_REST_MIN = 0.3
#: Fewest complete responses in a channel for its reliability to be reported.
MIN_RESPONSES = 10
_MAX_ITER = 1_000
_TOL = 1e-10


@dataclass(frozen=True, eq=False)
class ItemMoments:
    """Sufficient statistics of one multi-item driver's items in one channel.

    Attributes
    ----------
    driver, channel
        Driver id and channel id.
    items
        The item columns, in spec order.
    n
        Responses answering every item.
    mean, cov
        The items' means ``(p,)`` and covariance matrix ``(p, p)`` (divisor ``n``) over them.
    """

    driver: str
    channel: str
    items: tuple[str, ...]
    n: int
    mean: np.ndarray
    cov: np.ndarray


@dataclass(frozen=True)
class ItemReliability:
    """How well one driver's items hang together in one channel.

    Attributes
    ----------
    driver, channel
        Driver id and channel id.
    n
        Responses answering every item.
    alpha, omega
        Cronbach's alpha and McDonald's omega (total) of the items' sum (NaN if undefined, e.g.
        an item without variance).
    item_rest
        ``(item, correlation with the sum of the other items)`` in spec order.
    """

    driver: str
    channel: str
    n: int
    alpha: float
    omega: float
    item_rest: tuple[tuple[str, float], ...]

    @property
    def weakest(self) -> tuple[str, float]:
        """The item that correlates least with the rest (the first one, if all are NaN)."""
        values = np.array([r for _, r in self.item_rest])
        if np.isnan(values).all():
            return self.item_rest[0]
        return self.item_rest[int(np.nanargmin(values))]

    def to_dict(self) -> dict:
        item, r = self.weakest
        return {
            "driver": self.driver,
            "channel": self.channel,
            "n": self.n,
            "alpha": self.alpha,
            "omega": self.omega,
            "weakest_item": item,
            "item_rest": r,
        }


def item_moments(
    spec: Spec,
    columns: Mapping[str, pd.Series | np.ndarray],
    channel: pd.Series | np.ndarray,
    keep: pd.Series | np.ndarray | None = None,
) -> tuple[ItemMoments, ...]:
    """Item means and covariances of every multi-item driver, per channel.

    Parameters
    ----------
    spec
        The spec: which drivers are means of items, and of which columns.
    columns
        The checked numeric item columns by column name (missing answers NaN), all of one length.
    channel
        Each row's channel id.
    keep
        Which rows count (e.g. those with an outcome); default every row.

    Returns
    -------
    tuple of ItemMoments
        Per multi-item driver (spec order) and channel (sorted) with any complete response.
    """
    if not any(driver.is_item_mean for driver in spec.drivers):
        return ()
    codes, channels = pd.factorize(channel, sort=True)
    if keep is not None:
        codes = np.where(np.asarray(keep, bool), codes, -1)
    size = len(channels)
    out = []
    for driver in spec.drivers:
        if not driver.is_item_mean:
            continue
        values = np.column_stack([np.asarray(columns[c], dtype=float) for c in driver.columns])
        complete = ~np.isnan(values).any(axis=1) & (codes >= 0)
        group, values = codes[complete], values[complete]
        n = np.bincount(group, minlength=size)
        # shifting by the overall means first keeps the sums of squares from cancelling
        shift = values.mean(axis=0) if len(values) else np.zeros(values.shape[1])
        values = values - shift
        p = values.shape[1]
        sums = np.stack([np.bincount(group, values[:, i], size) for i in range(p)], axis=-1)
        cross = np.empty((size, p, p))
        for i in range(p):
            for j in range(i, p):
                cross[:, i, j] = cross[:, j, i] = np.bincount(
                    group, values[:, i] * values[:, j], size
                )
        for g in np.flatnonzero(n):
            mean = sums[g] / n[g]
            out.append(
                ItemMoments(
                    driver=driver.id,
                    channel=str(channels[g]),
                    items=driver.columns,
                    n=int(n[g]),
                    mean=mean + shift,
                    cov=cross[g] / n[g] - np.outer(mean, mean),
                )
            )
    return tuple(out)


def cronbach_alpha(cov: np.ndarray) -> np.ndarray:
    """Cronbach's alpha of the sum of items from their covariance ``(..., p, p)``, ``p >= 2``."""
    cov = np.asarray(cov, float)
    p = cov.shape[-1]
    total = cov.sum(axis=(-2, -1))
    trace = np.trace(cov, axis1=-2, axis2=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return p / (p - 1) * (1 - trace / total)


def item_rest_correlations(cov: np.ndarray) -> np.ndarray:
    """Each item's correlation with the sum of the other items, from the covariance ``(..., p, p)``.

    Returns
    -------
    numpy.ndarray
        ``(..., p)``; NaN for an item (or a rest) without variance.
    """
    cov = np.asarray(cov, float)
    variance = np.diagonal(cov, axis1=-2, axis2=-1)
    row = cov.sum(axis=-1)
    total = row.sum(axis=-1, keepdims=True)
    with_rest = row - variance
    rest_variance = total - 2 * row + variance
    with np.errstate(invalid="ignore", divide="ignore"):
        return with_rest / np.sqrt(variance * rest_variance)


def one_factor_loadings(corr: np.ndarray) -> np.ndarray:
    """Standardized loadings of a one-factor model, by iterated principal axis factoring.

    Parameters
    ----------
    corr
        ``(..., p, p)`` item correlation matrices.

    Returns
    -------
    numpy.ndarray
        ``(..., p)`` loadings, signed so that they sum to a non-negative number; communalities
        (squared loadings) at most 1.
    """
    corr = np.asarray(corr, float)
    p = corr.shape[-1]
    eye = np.eye(p, dtype=bool)
    try:
        communality = 1 - 1 / np.diagonal(np.linalg.inv(corr), axis1=-2, axis2=-1)
    except np.linalg.LinAlgError:  # a singular matrix: start from the largest correlations
        communality = np.abs(np.where(eye, 0.0, corr)).max(axis=-1)
    communality = np.clip(np.nan_to_num(communality), 0.0, 1.0)
    for _ in range(_MAX_ITER):
        reduced = np.where(eye, communality[..., None, :], corr)
        values, vectors = np.linalg.eigh(reduced)
        loadings = vectors[..., -1] * np.sqrt(np.clip(values[..., -1:], 0.0, None))
        updated = np.minimum(loadings**2, 1.0)
        settled = np.max(np.abs(updated - communality)) < _TOL
        communality = updated
        if settled:
            break
    loadings = np.sign(loadings) * np.sqrt(communality)
    flip = np.where(loadings.sum(axis=-1, keepdims=True) < 0, -1.0, 1.0)
    return loadings * flip


def mcdonald_omega(cov: np.ndarray) -> np.ndarray:
    """McDonald's omega (total) of the sum of items, from their covariance ``(..., p, p)``.

    The one-factor loadings of :func:`one_factor_loadings` (on the correlations) in the items'
    units ``l_j = loading_j * sd_j``, uniquenesses ``psi_j = var_j - l_j**2``, and
    ``omega = sum(l)**2 / (sum(l)**2 + sum(psi))``. NaN where an item has no variance.
    """
    cov = np.asarray(cov, float)
    sd = np.sqrt(np.diagonal(cov, axis1=-2, axis2=-1))
    usable = np.all(sd > 0, axis=-1)
    safe = np.where(usable[..., None], sd, 1.0)
    corr = np.where(usable[..., None, None], cov / (safe[..., :, None] * safe[..., None, :]), 0.0)
    corr = np.where(np.eye(cov.shape[-1], dtype=bool), 1.0, corr)
    loadings = one_factor_loadings(corr) * safe
    common = loadings.sum(axis=-1) ** 2
    unique = (safe**2 - loadings**2).sum(axis=-1)
    return np.where(usable, common / (common + unique), np.nan)


def item_reliability(moments: tuple[ItemMoments, ...] | list[ItemMoments]) -> list[ItemReliability]:
    """Alpha, omega and item-rest correlations of each driver and channel with enough responses.

    Parameters
    ----------
    moments
        As gathered by :func:`item_moments` (``Survey.item_moments``).

    Returns
    -------
    list of ItemReliability
        In the order of ``moments``; channels with fewer than ``MIN_RESPONSES`` complete
        responses are left out.
    """
    out = []
    for m in moments:
        if m.n < MIN_RESPONSES:
            continue
        rest = item_rest_correlations(m.cov)
        out.append(
            ItemReliability(
                driver=m.driver,
                channel=m.channel,
                n=m.n,
                alpha=float(cronbach_alpha(m.cov)),
                omega=float(mcdonald_omega(m.cov)),
                item_rest=tuple((item, float(r)) for item, r in zip(m.items, rest, strict=True)),
            )
        )
    return out


def reliability_problems(rel: ItemReliability) -> str | None:
    """Why a driver's items do not hang together in a channel, or ``None`` if they do.

    Returns
    -------
    str or None
        E.g. ``"Cronbach's alpha is 0.41, below 0.7; item 'q3' correlates 0.05 with the rest,
        below 0.3"``.
    """
    parts = []
    if rel.alpha < ALPHA_MIN:
        parts.append(f"Cronbach's alpha is {_two(rel.alpha)}, below {ALPHA_MIN:g}")
    weak = [(item, r) for item, r in rel.item_rest if r < ITEM_REST_MIN]
    if len(rel.item_rest) == 2 and weak:
        parts.append(f"its two items correlate {_two(weak[0][1])}, below {ITEM_REST_MIN:g}")
    elif len(weak) == 1:
        item, r = weak[0]
        parts.append(f"item '{item}' correlates {_two(r)} with the rest, below {ITEM_REST_MIN:g}")
    elif weak:
        said = ", ".join(f"'{item}' ({_two(r)})" for item, r in weak)
        parts.append(f"items {said} correlate below {ITEM_REST_MIN:g} with the rest")
    return "; ".join(parts) or None


def _two(value: float) -> str:
    """Two decimals, without the sign of a value that rounds to zero."""
    return f"{round(value, 2) + 0.0:.2f}"
