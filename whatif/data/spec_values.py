"""Small validators of single spec values (scale, missing codes, CSV separator, encoding, sheet).

Each takes the raw TOML value and the spec's ``bad`` callback (which collects one-line problems)
and returns the clean value, or ``None`` when the key is absent or wrong.
"""

from __future__ import annotations

import codecs
import math
from typing import Any

__all__ = ["encoding_value", "missing_codes_value", "scale_value", "separator_value", "sheet_value"]


def scale_value(value: Any, bad) -> tuple[float, float]:
    ok = (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
        and value[0] < value[1]
    )
    if not ok:
        bad(f"'survey.scale' must be [low, high] with low < high, e.g. [1, 10]; got {value!r}")
        return (1.0, 10.0)
    return (float(value[0]), float(value[1]))


def missing_codes_value(value: Any, key: str, bad) -> tuple[float, ...] | None:
    """A list of missing-value codes: finite numbers (``None`` after reporting a bad value)."""
    ok = isinstance(value, list) and all(
        isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in value
    )
    if not ok:
        bad(
            f"'{key}' must be a list of numbers that mean 'no answer', e.g. [98, 99]; got {value!r}"
        )
        return None
    return tuple(dict.fromkeys(value))


def separator_value(value: Any, bad) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) != 1:
        bad(
            f'\'survey.separator\' must be one character such as ",", ";", "\\t" or "|"; '
            f"got {value!r}"
        )
        return None
    return value


def encoding_value(value: Any, bad) -> str | None:
    if value is None:
        return None
    try:
        if not isinstance(value, str):
            raise LookupError(value)
        codecs.lookup(value)
    except LookupError:
        bad(
            f"'survey.encoding' is {value!r}, not a known text encoding; use e.g. \"utf-8\", "
            f'"cp1252" (Windows Western) or "latin-1"'
        )
        return None
    return value


def sheet_value(value: Any, bad) -> str | int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not (
        (isinstance(value, str) and value.strip()) or (isinstance(value, int) and value >= 0)
    ):
        bad(f"'survey.sheet' must be the name of a sheet (or its position from 0); got {value!r}")
        return None
    return value
