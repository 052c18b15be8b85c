"""Numbers as people read them, the same in the command line, the brief and the app.

Honest by construction: an interval is never written as a single number (digits are added until
its ends differ), a probability never reads 100% or 0% (``> 99%`` and ``< 1%``), a small negative
part keeps its sign, and a channel no lever touches reads "not affected" instead of a zero.

Each metric has its unit: a change of mean satisfaction in rating points (``+0.12``), of the
top-box share in percentage points (``+5.2 pts``), of NPS in NPS points (``+2.4 NPS points``);
:func:`change`, :func:`change_interval`, :func:`level` and :func:`level_interval` write any of
them by name (``mean``, ``top_box``, ``nps``).

Every function takes ``minus``: the typographic minus sign (U+2212) for the brief and the app,
``"-"`` for plain-text tables and anything a script may parse.
"""

from __future__ import annotations

import math

__all__ = [
    "MINUS",
    "NOT_AFFECTED",
    "SURVEY_PERIOD",
    "UNITS",
    "change",
    "change_interval",
    "decimals",
    "interval",
    "level",
    "level_interval",
    "nps_level",
    "nps_points",
    "percent",
    "period",
    "points",
    "probability",
    "share_points",
    "signed",
]

MINUS = "\u2212"
NOT_AFFECTED = "not affected"
#: What a survey without a year column calls its one period (its stored year is no year).
SURVEY_PERIOD = "survey period"
_MAX_DIGITS = 6
#: The unit a change of each metric is counted in, as written after the number.
UNITS = {"mean": "points", "top_box": "pts", "nps": "NPS points"}
#: Decimals a change of each metric starts from (``None``: :func:`decimals` of the numbers).
_CHANGE_DIGITS = {"mean": None, "top_box": 1, "nps": 1}


def decimals(*values: float, least: int = 2) -> int:
    """Decimals for a set of numbers read together (a mean and its interval).

    ``least`` from a tenth up, one more for every further power of ten below it (0.01 gets
    three), and at most six.
    """
    finite = [abs(v) for v in values if math.isfinite(v) and v != 0]
    if not finite:
        return least
    largest = max(finite)
    extra = max(0, -math.floor(math.log10(largest)) - 1) if largest < 0.1 else 0
    return min(_MAX_DIGITS, least + extra)


def _digits_apart(lo: float, hi: float, digits: int) -> int:
    """``digits``, increased until ``lo`` and ``hi`` print differently (within reason)."""
    while digits < _MAX_DIGITS and lo != hi and f"{lo:.{digits}f}" == f"{hi:.{digits}f}":
        digits += 1
    return digits


def signed(value: float, digits: int = 2, minus: str = MINUS) -> str:
    """``+0.08``, ``-0.004`` (with ``minus``), and ``0.00`` for a zero at that precision."""
    if not math.isfinite(value):
        return "n/a"
    shown = digits
    while float(f"{value:.{shown}f}") == 0 and value != 0 and shown < _MAX_DIGITS:
        shown += 1  # a small part keeps its sign and size instead of reading as zero
    if float(f"{value:.{shown}f}") == 0:
        return f"{0:.{digits}f}"
    return f"{value:+.{shown}f}".replace("-", minus)


def points(value: float, digits: int | None = None, minus: str = MINUS) -> str:
    """A lift in rating points, signed, with :func:`decimals` unless ``digits`` is given."""
    return signed(value, decimals(value) if digits is None else digits, minus)


def interval(
    lo: float,
    hi: float,
    digits: int | None = None,
    *,
    scale: float = 1.0,
    unit: str = "",
    minus: str = MINUS,
    style: str = "to",
) -> str:
    """An interval whose ends never print alike: ``+0.08 to +0.12`` or ``[+0.08, +0.12]``.

    Parameters
    ----------
    lo, hi
        The ends.
    digits
        Decimals to start from (default :func:`decimals` of the ends).
    scale
        Factor applied before printing (100 for a share in percentage points).
    unit
        Appended to each end (e.g. ``" pts"``).
    style
        ``"to"`` (prose) or ``"brackets"`` (tables).
    """
    lo, hi = lo * scale, hi * scale
    digits = _digits_apart(lo, hi, decimals(lo, hi) if digits is None else digits)
    a, b = signed(lo, digits, minus) + unit, signed(hi, digits, minus) + unit
    return f"[{a}, {b}]" if style == "brackets" else f"{a} to {b}"


def share_points(share: float, digits: int = 1, minus: str = MINUS) -> str:
    """A change of a share in percentage points: ``0.052`` -> ``+5.2 pts``."""
    return f"{signed(100 * share, digits, minus)} pts"


def percent(share: float, digits: int = 0) -> str:
    """A level as a percentage: ``0.31`` -> ``31%``."""
    return f"{100 * share:.{digits}f}%"


def period(year: int, single_period: bool = False) -> str:
    """A scenario's year as people read it: ``2026``, or ``survey period`` for a survey without
    a year column (put "the" before it in a sentence)."""
    return SURVEY_PERIOD if single_period else str(year)


def probability(p: float) -> str:
    """A probability as people read it: ``57%``, never ``100%`` or ``0%`` from rounding."""
    if not math.isfinite(p):
        return "n/a"
    if p > 0.99:
        return "> 99%"
    if p < 0.01:
        return "< 1%"
    return f"{100 * p:.0f}%"


def nps_points(change: float, digits: int = 1, minus: str = MINUS) -> str:
    """A change of NPS in NPS points: ``2.4`` -> ``+2.4 NPS points``."""
    return f"{signed(change, digits, minus)} {UNITS['nps']}"


def nps_level(value: float, digits: int = 1, minus: str = MINUS) -> str:
    """An NPS as CX teams write it, signed on its -100 to 100 scale: ``+31.8``, ``-4.0``."""
    return signed(value, digits, minus)


def _metric(metric: str) -> str:
    if metric not in UNITS:
        raise ValueError(f"unknown metric {metric!r}: one of {', '.join(UNITS)}")
    return metric


def change(
    metric: str, value: float, digits: int | None = None, minus: str = MINUS, unit: bool = True
) -> str:
    """A change of ``metric`` with its unit: ``+0.12 points``, ``+5.2 pts``, ``+2.4 NPS points``.

    Parameters
    ----------
    metric
        ``mean`` (rating points), ``top_box`` (a share, written in percentage points) or ``nps``
        (NPS points).
    value
        The change (a share for ``top_box``: 0.05 is 5 points).
    digits
        Decimals (default: :func:`decimals` for ``mean``, one for the others).
    unit
        Write the unit (leave it out in a table whose heading names it).
    """
    digits = _CHANGE_DIGITS[_metric(metric)] if digits is None else digits
    if metric == "mean":
        number = points(value, digits, minus)
    else:
        number = signed(100 * value if metric == "top_box" else value, digits, minus)
    return f"{number} {UNITS[metric]}" if unit else number


def change_interval(
    metric: str, lo: float, hi: float, *, minus: str = MINUS, style: str = "to", unit: bool = True
) -> str:
    """The interval of a change of ``metric``, its unit written once after it:
    ``+1.1 to +3.8 NPS points``, ``[+1.5, +4.6] pts`` (ends never print alike)."""
    digits = _CHANGE_DIGITS[_metric(metric)]
    scale = 100.0 if metric == "top_box" else 1.0
    text = interval(lo, hi, digits, scale=scale, minus=minus, style=style)
    return f"{text} {UNITS[metric]}" if unit else text


def _level_digits(metric: str) -> int:
    return {"mean": 2, "top_box": 1, "nps": 1}[_metric(metric)]


def _level_text(metric: str, value: float, digits: int, minus: str) -> str:
    if metric == "top_box":
        return percent(value, digits)
    if metric == "nps":
        return nps_level(value, digits, minus)
    return f"{value:.{digits}f}".replace("-", minus)


def level(metric: str, value: float, minus: str = MINUS) -> str:
    """A level of ``metric``: mean satisfaction ``7.85``, top-box share ``48.2%``, NPS ``+31.8``."""
    return _level_text(metric, value, _level_digits(metric), minus)


def level_interval(
    metric: str, lo: float, hi: float, *, minus: str = MINUS, style: str = "to"
) -> str:
    """The interval of a level of ``metric``, its ends never printing alike: ``7.80 to 7.90``,
    ``[46.0%, 50.3%]``, ``+30.1 to +33.5``."""
    digits = _level_digits(metric)
    a, b = _level_text(metric, lo, digits, minus), _level_text(metric, hi, digits, minus)
    while a == b and lo != hi and digits < _MAX_DIGITS:
        digits += 1
        a, b = _level_text(metric, lo, digits, minus), _level_text(metric, hi, digits, minus)
    return f"[{a}, {b}]" if style == "brackets" else f"{a} to {b}"
