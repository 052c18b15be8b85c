"""Distinct answer patterns, found by sorting integers instead of rows.

The rating-scale fits (:mod:`whatif.data.rating_stats`) read each group's rows merged into
distinct patterns of the columns a regression uses, with summed weights: exact, and a large
saving wherever few columns take few values (a driver's regression on yes/no and count
influencers). Rows of ratings have few distinct values per column, so each column is coded by its
values in order (:func:`column_codes`), the codes of several columns are combined into one
integer per row (:func:`combined_key`, re-numbered densely whenever the product of their
ranges would overflow), and one sort of those integers finds the patterns, in the order
``numpy.unique(rows, axis=0)`` and pandas' sorted ``groupby`` give them (tested).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from whatif.data.spec import Spec

__all__ = ["GroupRows", "answer_patterns", "column_codes", "combined_key", "distinct_rows"]

_KEY_LIMIT = 2**62
_SMALL_RANGE = 1 << 20


def column_codes(column: np.ndarray) -> tuple[np.ndarray, int]:
    """Codes ``0 .. levels-1`` of a column's values in increasing order, missing values last.

    Whole numbers over a modest range are coded by subtraction (no sort); anything else by
    :func:`numpy.unique`.

    Returns
    -------
    codes (n,) int64, levels
    """
    values = np.asarray(column)
    if values.dtype.kind not in "biuf":
        codes, uniques = pd.factorize(values, sort=True, use_na_sentinel=True)
        codes = codes.astype(np.int64)
        codes[codes < 0] = len(uniques)
        return codes, len(uniques) + 1
    values = values.astype(float, copy=False)
    missing = np.isnan(values)
    present = values[~missing]
    if present.size == 0:
        return np.zeros(len(values), np.int64), 1
    low, high = present.min(), present.max()
    if high - low < _SMALL_RANGE and np.all(present == np.rint(present)):
        codes = np.where(missing, high - low + 1, values - low).astype(np.int64)
        return codes, int(high - low) + 2
    levels, codes = np.unique(values, return_inverse=True)
    return codes.ravel().astype(np.int64), len(levels)


def combined_key(codes: list[np.ndarray], levels: list[int]) -> np.ndarray:
    """One integer per row whose order is the lexicographic order of the rows' codes."""
    key = np.zeros(len(codes[0]) if codes else 0, np.int64)
    span = 1
    for column, n in zip(codes, levels, strict=True):
        if span * n >= _KEY_LIMIT:  # re-number the key so far densely, keeping its order
            distinct, key = np.unique(key, return_inverse=True)
            key, span = key.ravel().astype(np.int64), len(distinct)
        key = key * n + column
        span *= n
    return key


class GroupRows:
    """One group's complete rows and their weights, each column coded once, so that the
    distinct patterns of any set of columns cost one sort of integers."""

    def __init__(self, values: np.ndarray, weights: np.ndarray):
        self.values, self.weights = values, weights
        coded = [column_codes(column) for column in values.T]
        self.codes = [codes for codes, _ in coded]
        self.levels = [levels for _, levels in coded]

    def distinct(self, columns) -> tuple[np.ndarray, np.ndarray]:
        """The first row of each distinct pattern of ``columns`` and each row's pattern, in the
        order of ``numpy.unique(values[:, columns], axis=0)``."""
        columns = list(columns)
        key = combined_key([self.codes[c] for c in columns], [self.levels[c] for c in columns])
        _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
        return first, inverse.ravel()


def distinct_rows(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows of ``matrix`` and each row's index among them, as
    ``numpy.unique(matrix, axis=0, return_inverse=True)`` gives them (same order), faster."""
    first, inverse = GroupRows(matrix, np.ones(len(matrix))).distinct(range(matrix.shape[1]))
    return matrix[first], inverse


def _frame_codes(series: pd.Series) -> tuple[np.ndarray, int]:
    if isinstance(series.dtype, pd.CategoricalDtype):  # in the categories' order, as groupby
        codes = series.cat.codes.to_numpy().astype(np.int64)
        levels = len(series.cat.categories)
        codes[codes < 0] = levels
        return codes, levels + 1
    return column_codes(series.to_numpy())


def answer_patterns(frame: pd.DataFrame, spec: Spec) -> pd.DataFrame:
    """Normalized rows (or patterns) merged into distinct patterns of every column the model
    reads, with summed ``weight`` and ``count``: the rating-scale fits and the respondent sample
    of :func:`whatif.data.rating_stats.rating_statistics` read them as they read rows (Dask
    partitions merge this way). Sorted by the columns, missing values last, as pandas'
    ``groupby(columns, sort=True, dropna=False)`` sorts them."""
    columns = ["channel", "year", "outcome", *spec.driver_ids, *spec.influencer_ids]
    coded = [_frame_codes(frame[column]) for column in columns]
    key = combined_key([codes for codes, _ in coded], [levels for _, levels in coded])
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    inverse = inverse.ravel()
    counts = frame["count"].to_numpy(float) if "count" in frame else np.ones(len(frame))
    out = frame.iloc[first][columns].reset_index(drop=True)
    out["weight"] = np.bincount(inverse, weights=frame["weight"].to_numpy(float))
    count = np.bincount(inverse, weights=counts)
    out["count"] = count.astype(frame["count"].dtype) if "count" in frame else count.astype(int)
    return out
