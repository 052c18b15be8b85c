"""Plain-text and JSON rendering of result dictionaries for the command line."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["dumps_json", "format_table", "jsonable"]


def jsonable(obj: Any) -> Any:
    """Numpy scalars, NaN and frames turned into what ``json`` writes (NaN becomes null)."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [jsonable(v) for v in obj]
    if isinstance(obj, pd.DataFrame):
        return jsonable(obj.to_dict("records"))
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def dumps_json(obj: Any) -> str:
    return json.dumps(jsonable(obj), indent=2)


def format_table(rows: list[dict] | pd.DataFrame, digits: int = 3) -> str:
    """A plain, aligned text table."""
    frame = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(rows)
    if frame.empty:
        return "(none)"
    return frame.to_string(index=False, float_format=lambda v: f"{v:.{digits}f}")
