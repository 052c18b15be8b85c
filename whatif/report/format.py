"""Numbers as people read them, the same in the command line, the brief and the app.

Honest by construction: an interval is never written as a single number (digits are added until
its ends differ), a probability never reads 100% or 0% (``> 99%`` and ``< 1%``), a small negative
part keeps its sign, and a channel no lever touches reads "not affected" instead of a zero.

Every function takes ``minus``: the typographic minus sign (U+2212) for the brief and the app,
``"-"`` for plain-text tables and anything a script may parse.
"""

from __future__ import annotations

import math

__all__ = [
    "MINUS",
    "NOT_AFFECTED",
    "SURVEY_PERIOD",
    "decimals",
    "interval",
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
