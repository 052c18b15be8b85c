"""Each sampled respondent's influencer changes under a scenario's levers, and which respondents
a scenario changes alike (:mod:`whatif.analysis.answer_engine` looks those up together).
"""

from __future__ import annotations

import numpy as np

from whatif.analysis.scenario import apply_operation
from whatif.data.patterns import distinct_rows

__all__ = ["MIN_ALIKE", "alike_respondents", "respondent_changes"]

#: Fewest respondents with the same influencer changes whose drivers are looked up together
#: (:mod:`whatif.analysis.answer_engine`); with fewer, a look-up per respondent costs less.
MIN_ALIKE = 16


def respondent_changes(
    levers, kinds: dict[str, str], influencers: list[str], z: np.ndarray, w: np.ndarray, dz
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each sampled respondent's influencer changes from the levers acting on their channel.

    Counts and continuous values move as each operation says (counts not below zero), shifted
    alike so that their weighted mean is the change computed on the group's whole distribution
    ``dz`` (the sample says who moves and by how much; the distribution, how much on average).
    A binary KPI moved up is gained in full by respondents without it, each with the same chance
    (down: lost by those with it), the chance set by ``dz``; with several binary levers a
    respondent's chance is the mean of theirs.

    Returns
    -------
    fixed ``(M, J)``, flipped ``(M, J)``, chance ``(M,)``
    """
    M, J = z.shape
    fixed, flipped = np.zeros((M, J)), np.zeros((M, J))
    chances, counted = np.zeros(M), np.zeros(M)
    for lever in levers:
        j = influencers.index(lever.target)
        if kinds[lever.target] == "binary":
            if dz[j] == 0:
                continue
            gain = (1.0 - z[:, j]) if dz[j] > 0 else -z[:, j]
            pool = float(w @ np.abs(gain))
            chance = min(abs(dz[j]) / pool, 1.0) if pool > 0 else 0.0
            flipped[:, j] = gain
            chances += chance * (gain != 0)
            counted += gain != 0
            continue
        new = apply_operation(lever.operation, lever.value, z[:, j])
        if kinds[lever.target] == "count":
            new = np.maximum(new, 0.0)
        fixed[:, j] += new - z[:, j]
    for j in range(J):
        if np.any(fixed[:, j]) or (dz[j] and not np.any(flipped[:, j])):
            # the sample's mean change corrected to the distribution's by a common shift (a
            # ratio would explode where the sample's mean change is near zero)
            fixed[:, j] += dz[j] - float(w @ fixed[:, j])
    chance = np.where(counted > 0, chances / np.maximum(counted, 1), 0.0)
    return fixed, flipped, chance


def alike_respondents(fixed: np.ndarray, flipped: np.ndarray) -> tuple[np.ndarray | None, list]:
    """An order of the respondents that puts those with the same influencer changes side by
    side, and the slices of that order holding the groups of at least :data:`MIN_ALIKE` of them,
    first (the other respondents after them).

    Parameters
    ----------
    fixed, flipped
        The respondents' count/continuous changes and binary gains ``(M, J)``
        (:func:`respondent_changes`).

    Returns
    -------
    order ``(M,)`` and the groups' slices; ``(None, [])`` without any such group
    """
    if not len(fixed):
        return None, []
    changes = np.hstack([fixed, flipped])
    changes = changes[:, np.any(changes != 0, axis=0)]  # KPIs no lever changes tell no one apart
    group = distinct_rows(changes)[1] if changes.shape[1] else np.zeros(len(changes), np.intp)
    sizes = np.bincount(group)
    large = sizes >= MIN_ALIKE
    if not large.any():
        return None, []
    order = np.argsort(np.where(large[group], group, len(sizes)), kind="stable")
    bounds = np.concatenate([[0], np.cumsum(sizes[large])])
    return order, [slice(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
