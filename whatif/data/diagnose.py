"""Warnings on valid but suspicious data, printed by ``whatif check``; nothing here changes data.

*Far-out influencer values.* In each channel, the values of a count or continuous influencer are
sorted; a value is flagged when an empty stretch wider than ``GAP`` times the interquartile range
separates it (and everything beyond it) from the middle half of the values. For a count the range
is taken as at least 1, so counts that are mostly 0 still have a scale. For a continuous influencer
only far values given by at least two responses are flagged: a code repeats, while the far tail of
a skewed measurement (a lognormal handle time, say) is made of distinct values. A "don't know"
code such as 99 among counts of 0 to 8 sits far beyond such a gap; the tail of an ordinary skewed
count comes in small steps and does not.

*Perfectly collinear drivers.* In each channel, over the responses that answer every driver
measured there, the drivers are taken in spec order and each is regressed on those before it: one
with (numerically) no residual variance is an exact linear function of them, and a driver with no
variance at all takes one value in every response.

*Items that do not hang together.* A driver that is the mean of several items, in a channel where
Cronbach's alpha of its items is below 0.7 or an item correlates below 0.3 with the rest
(:mod:`whatif.data.reliability`).

*Paths left out everywhere* (a note, not a warning). A path ``source -> driver`` from a spec's
``depends_on`` is left out in every channel that does not measure both drivers; when no channel
measures both, the path is left out of the whole model, which the spec does not show.
"""

from __future__ import annotations

import numpy as np

from whatif.data.reliability import item_reliability, reliability_problems
from whatif.data.survey import Survey

__all__ = [
    "GAP",
    "collinearity_warnings",
    "far_out",
    "outlier_warnings",
    "path_notes",
    "reliability_warnings",
    "survey_warnings",
]

#: How many interquartile ranges of empty values make a value "far out".
GAP = 10.0
MIN_VALUES = 10  # fewer answers in a channel say nothing about its bulk
SHOWN = 3  # far-out values listed by value; more are given as a range
COLLINEAR_TOL = 1e-9  # residual variance share below which a driver is an exact combination


def _channel_part(survey: Survey, channel: str) -> str:
    return f", channel '{channel}'" if survey.spec.channel else ""


def _number(value: float) -> str:
    return f"{value:g}"


def far_out(values: np.ndarray, count: bool) -> tuple[np.ndarray, np.ndarray, float, float]:
    """The far-out values of one influencer in one channel (see the module docstring).

    Parameters
    ----------
    values
        Its answers there, without missing ones.
    count
        Whether it is a count (else continuous).

    Returns
    -------
    far, rows, q1, q3
        The flagged distinct values (sorted), how many responses have each, and the quartiles.
    """
    q1, q3 = np.quantile(values, [0.25, 0.75])
    spread = max(q3 - q1, 1.0 if count else 0.0)
    distinct, rows = np.unique(values, return_counts=True)
    flagged = np.zeros(len(distinct), bool)
    if spread > 0:
        above = np.flatnonzero(distinct > q3)
        below = np.flatnonzero(distinct < q1)[::-1]
        for side, edge in ((above, q3), (below, q1)):
            steps = np.abs(np.diff(np.concatenate([[edge], distinct[side]])))
            beyond = np.flatnonzero(steps > GAP * spread)
            if beyond.size:
                flagged[side[beyond[0] :]] = True
    if not count:
        flagged &= rows >= 2
    return distinct[flagged], rows[flagged], float(q1), float(q3)


def outlier_warnings(survey: Survey) -> list[str]:
    """One line per count or continuous influencer and channel with far-out values.

    Returns
    -------
    list of str
        Each names the column, the channel, how many responses have which values, and suggests
        the ``missing = [...]`` that would read them as missing.
    """
    spec, frame = survey.spec, survey.frame
    codes = spec.missing_codes()
    warnings = []
    rows_of = frame.groupby("channel").indices
    for channel in survey.channels:
        rows = rows_of[channel]
        for inf in spec.influencers:
            if inf.kind == "binary" or not survey.influencer_measured.loc[channel, inf.id]:
                continue
            values = frame[inf.id].to_numpy(dtype=float)[rows]
            values = values[~np.isnan(values)]
            if len(values) < MIN_VALUES:
                continue
            far, rows_at, q1, q3 = far_out(values, inf.kind == "count")
            if not far.size:
                continue
            count = int(rows_at.sum())
            if far.size <= SHOWN:
                shown = " or ".join(_number(v) for v in far)
                suggested = sorted({*codes.get(inf.column, ()), *far.tolist()})
                fix = (
                    f"if {'it is a code' if far.size == 1 else 'they are codes'} for 'don't "
                    f"know', add missing = [{', '.join(_number(v) for v in suggested)}] to "
                    f"[influencers.{inf.id}]"
                )
            else:
                shown = f"{far.size} values from {_number(far[0])} to {_number(far[-1])}"
                fix = (
                    "check them; a code for 'don't know' belongs in missing = [...] of "
                    f"[influencers.{inf.id}]"
                )
            warnings.append(
                f"{survey.source}: column '{inf.column}'{_channel_part(survey, channel)}: "
                f"{count} response{'s' if count != 1 else ''} at {shown}, far outside the rest "
                f"of its values (middle half {_number(q1)} to {_number(q3)}); {fix}"
            )
    return warnings


def _names(ids: list[str]) -> str:
    quoted = [f"'{i}'" for i in ids]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


def collinearity_warnings(survey: Survey) -> list[str]:
    """One line per driver, per channel, that is constant or an exact linear function of the
    drivers before it in the spec.
    """
    spec, frame = survey.spec, survey.frame
    low, high = spec.scale
    constant_tol = 1e-12 * max(high - low, 1.0) ** 2
    warnings = []
    rows_of = frame.groupby("channel").indices
    for channel in survey.channels:
        drivers = [d for d in spec.driver_ids if survey.driver_measured.loc[channel, d]]
        values = frame[drivers].to_numpy(dtype=float)[rows_of[channel]]
        values = values[~np.isnan(values).any(axis=1)]
        if len(values) < 2:
            continue
        centered = values - values.mean(axis=0)
        cov = centered.T @ centered / len(values)
        kept: list[int] = []
        where = f"{survey.source}: channel '{channel}'" if spec.channel else survey.source
        for k, driver in enumerate(drivers):
            if cov[k, k] <= constant_tol:
                warnings.append(
                    f"{where}: driver '{driver}' takes one value ({_number(values[0, k])}) in "
                    "every complete response, so its weight cannot be estimated there; check "
                    "its column"
                )
                continue
            if kept:
                beta = np.linalg.lstsq(cov[np.ix_(kept, kept)], cov[kept, k], rcond=None)[0]
                residual = cov[k, k] - cov[k, kept] @ beta
                if residual <= COLLINEAR_TOL * cov[k, k]:
                    size = np.abs(beta) * np.sqrt(np.diag(cov)[kept] / cov[k, k])
                    partners = [drivers[kept[i]] for i in np.flatnonzero(size > 1e-6)]
                    warnings.append(
                        f"{where}: driver '{driver}' is an exact linear function of "
                        f"{_names(partners)} (perfectly collinear), so the model cannot tell "
                        "their weights apart; drop one, or make them one driver with "
                        "items = [...]"
                    )
                    continue
            kept.append(k)
    return warnings


def reliability_warnings(survey: Survey) -> list[str]:
    """One line per multi-item driver and channel whose items do not hang together: Cronbach's
    alpha below 0.7 or an item correlating below 0.3 with the rest (naming the item)."""
    warnings = []
    for rel in item_reliability(survey.item_moments):
        problems = reliability_problems(rel)
        if problems is None:
            continue
        warnings.append(
            f"{survey.source}: driver '{rel.driver}'{_channel_part(survey, rel.channel)}: its "
            f"items do not hang together ({problems}); check for a reversed or off-topic item, "
            "or make the items separate drivers"
        )
    return warnings


def survey_warnings(survey: Survey) -> list[str]:
    """Valid but suspicious data, one line each: influencer values far outside the rest of their
    channel's (likely "don't know" codes), perfectly collinear or constant drivers, and
    multi-item drivers whose items do not hang together."""
    return outlier_warnings(survey) + collinearity_warnings(survey) + reliability_warnings(survey)


def _asked_in(survey: Survey, driver: str) -> str:
    channels = [c for c in survey.channels if survey.driver_measured.loc[c, driver]]
    return ", ".join(channels) if survey.spec.channel else "the survey"


def path_notes(survey: Survey) -> list[str]:
    """One line per path of the spec whose two drivers no channel measures together, so that the
    path is left out everywhere (naming the path, where each end is asked and how to fix it)."""
    notes = []
    measured = survey.driver_measured
    for driver, source in survey.spec.paths:
        if (measured[driver] & measured[source]).any():
            continue
        notes.append(
            f"{survey.source}: path '{source} -> {driver}' (drivers.{driver}.depends_on) is left "
            f"out in every channel: no channel measures both '{source}' (asked in: "
            f"{_asked_in(survey, source)}) and '{driver}' (asked in: {_asked_in(survey, driver)}); "
            f"ask both in one channel, or remove '{source}' from drivers.{driver}.depends_on"
        )
    return notes
