"""Satisfaction's latent shift for respondents a scenario changes alike (everyone below a cap,
everyone at 7 prompts capped at 3, everyone who could gain a yes/no KPI): in a draw, their
drivers' latent shifts are the same, so the drivers' answer changes are small matrix products
instead of a table look-up per respondent and draw (:mod:`whatif.analysis.answer_engine`).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from whatif.analysis.answers import grid_positions, look_up, look_up_shared

__all__ = ["ChannelPaths", "alike_latent"]


@dataclasses.dataclass(frozen=True)
class ChannelPaths:
    """A channel's paths between drivers in the draws at hand: the mean path matrix ``(K, K)``
    and which paths exist (``linked[k, s]``: driver ``s`` moves driver ``k``); ``None`` without
    paths."""

    mean: np.ndarray | None
    linked: np.ndarray | None

    def upstream(self, k: int, moved) -> list[int]:
        """The drivers among ``moved`` with a path into driver ``k``, in order."""
        if self.linked is None:
            return []
        return sorted(s for s in moved if self.linked[k, s])


def alike_latent(
    out,
    changes,
    dx,
    rows,
    groups,
    measured,
    tables,
    slot,
    grid,
    plan,
    *,
    weights,
    direct,
    own_effects,
    paths,
) -> None:
    """Satisfaction's latent shift per draw and respondent for groups of respondents with the
    same influencer changes, into the groups' columns of ``out`` ``(S, M)``.

    In a draw, a driver's latent shift is then the same for every respondent of a group (unless
    a path brings it the answers of a driver upstream), so its answer changes are the table's
    interpolation weights of the draws times the table's columns the shifts reach
    (:func:`~whatif.analysis.answers.interpolation_weights`); the weighted sum of every such
    driver's and the direct effects is one matrix product per group. Drivers downstream on a
    path are looked up one by one.

    Parameters
    ----------
    out
        ``(S, M)``, written in the groups' columns.
    changes
        Each group's influencer changes ``(U, J)``.
    dx
        The driver levers' latent shifts ``(K,)``.
    rows, groups
        The respondents of ``out``'s columns (their tables' rows), and each group's slice of
        them.
    measured
        The channel's drivers, in path order.
    tables, slot, grid
        The rated drivers' answer-change tables ``(K', M_all, G)`` (``slot[k]``: driver ``k``'s)
        over the shifts ``grid``.
    plan
        The channel's :class:`ChannelPaths`.
    weights, direct, own_effects, paths
        The channel's draws, as :meth:`whatif.analysis.answer_engine.AnswerForecast.lift`
        takes them.
    """
    S = weights.shape[0]
    changed = np.flatnonzero(np.any(changes != 0, axis=0))
    drivers: list[int] = []  # the drivers the scenario moves, in order
    later = set()  # those a path brings the answers of a moved driver
    for k in measured:
        if plan.upstream(k, drivers):
            later.add(k)
        if k in later or changed.size or dx[k]:
            drivers.append(k)
    rated = [k for k in drivers if k not in later and k in slot]
    latent_only = [k for k in drivers if k not in later and k not in slot]
    dz = changes[:, changed]  # (U, J')
    shift = (
        np.einsum("skj,uj->sku", own_effects[:, drivers][:, :, changed], dz)
        + dx[drivers][None, :, None]
    )  # (S, K', U)
    at = {k: i for i, k in enumerate(drivers)}
    index, frac = grid_positions(grid, shift[:, [at[k] for k in rated]])
    first = index.min(axis=0)  # (R, U)
    width = index.max(axis=0) - first + 2
    draw = np.arange(S)[:, None]
    sources = np.array([slot[k] for k in rated], np.intp)
    feeds = set() if plan.linked is None else {k for k in drivers if plan.linked[:, k].any()}
    for u, part in enumerate(groups):
        r = rows[part]
        offset = np.concatenate([[0], np.cumsum(width[:, u])])
        n = int(offset[-1])
        # the draws' weights on the tables' columns: rated drivers, latent drivers, direct
        mix = np.zeros((S, n + len(latent_only) + 1))
        column = offset[:-1] + index[:, :, u] - first[:, u]  # (S, R)
        mix[draw, column] = weights[:, rated] * (1.0 - frac[:, :, u])
        mix[draw, column + 1] = weights[:, rated] * frac[:, :, u]
        for i, k in enumerate(latent_only):
            mix[:, n + i] = weights[:, k] * shift[:, at[k], u]
        if changed.size:
            mix[:, -1] = direct[:, changed] @ dz[u]
        block = np.repeat(np.arange(len(rated)), width[:, u])
        cell = np.arange(n) - offset[block] + first[block, u]
        columns = np.ones((mix.shape[1], len(r)))
        columns[:n] = tables[sources[block][:, None], r[None, :], cell[:, None]]
        latent = mix @ columns
        if later:
            moved = {}  # the answer changes the drivers downstream read
            for k in rated:
                if k in feeds:
                    moved[k] = look_up_shared(tables[slot[k]], grid, shift[:, at[k], u], r)
            for k in latent_only:
                moved[k] = np.repeat(shift[:, at[k], u, None], len(r), axis=1)
            for k in drivers:
                if k not in later:
                    continue
                change = shift[:, at[k], u, None]
                for src in plan.upstream(k, moved):
                    change = change + paths[:, k, src, None] * moved[src]
                if k in slot:
                    change = look_up(tables[slot[k]], grid, change, r)
                moved[k] = change
                latent += weights[:, k, None] * change
        out[:, part] = latent
