"""A loaded model and what every planner session shares about it, loaded once per process.

:func:`load_bundle` loads a model artefact and prepares its :class:`ModelBundle`: the
:class:`~whatif.analysis.engine.ScenarioEngine`, one :class:`~whatif.app.controls.Control` per
influencer and driver, the weights over the years, the priority map and the data and diagnostics
tables. A module-level cache keyed by the folder and its manifest's modification time holds one
bundle per model. :func:`available_models` lists the model folders a session can switch to.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from whatif.analysis.results import PriorityMap
from whatif.app.controls import Control, build_controls
from whatif.report.format import period

__all__ = ["ModelBundle", "available_models", "clear_cache", "load_bundle", "manifest_key"]


@dataclass
class ModelBundle:
    """A loaded model and everything every session of the planner shares about it.

    Attributes
    ----------
    path
        The artefact folder.
    model
        The :class:`~whatif.fitting.fitted.FittedModel`.
    engine
        Its prepared :class:`~whatif.analysis.engine.ScenarioEngine`.
    channels
        Channel ids in display order (the spec's order when it lists them all).
    years
        Observed years; ``next_year`` is the default scenario year: the year after the last, or
        the one period of a survey without a year column (``single_period``).
    controls
        One :class:`Control` per measured influencer and driver, in spec order.
    """

    path: Path
    model: Any
    engine: Any
    channels: list[str]
    years: list[int]
    controls: dict[str, Control]
    _group_means: pd.DataFrame  # (channel x year) rows, term columns; binaries are shares
    _cache: dict = field(default_factory=dict)

    @property
    def next_year(self) -> int:
        """The default scenario year: the year after the last; a survey without a year column is
        one period with no year after it, so its scenarios are for that period."""
        return self.engine.default_year

    @property
    def single_period(self) -> bool:
        """The survey had no year column: ``years`` holds its one period's stored value."""
        return self.model.single_period

    def year_label(self, year: int) -> str:
        """A year as a label (``2026``), or ``Survey period`` for a survey without a year column."""
        return period(year, self.single_period).capitalize()

    def in_year(self, year: int) -> str:
        """A year in a sentence: ``in 2026``, or ``in the survey period``."""
        return f"in {'the ' if self.single_period else ''}{period(year, self.single_period)}"

    @property
    def flagged(self) -> bool:
        return self.model.flagged

    def label(self, name: str) -> str:
        return self.model.spec.label_of(name)

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def fit_date(self) -> str:
        """The fit date, as ``YYYY-MM-DD HH:MM`` (UTC) when it is an ISO timestamp."""
        raw = str(self.model.manifest.get("fit_date", ""))
        return raw[:16].replace("T", " ") if len(raw) >= 16 else raw or "unknown"

    def kept[T](self, key: str, make: Callable[[], T]) -> T:
        """``make()``, made once per model and kept with it under ``key`` (for what every session
        of the planner shows alike)."""
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    def population_year(self, year: int) -> int:
        """The observed year whose respondents a scenario for ``year`` acts on."""
        return year if year in self.years else self.years[-1]

    def current_mean(self, target: str, year: int, channels: tuple[str, ...] | list[str]) -> float:
        """Volume-weighted mean of an influencer (share for a binary) or driver rating."""
        key = ("means", target)
        if key not in self._cache:
            table = self._group_means[target].unstack("year")
            self._cache[key] = (
                table,
                {c: i for i, c in enumerate(table.index)},
                {y: i for i, y in enumerate(table.columns)},
            )
        table, rows, cols = self._cache[key]
        values = table.to_numpy()[[rows[c] for c in channels], cols[self.population_year(year)]]
        vol = self.engine.volumes(year)[[self.engine.channels.index(c) for c in channels]]
        keep = np.isfinite(values)
        if not keep.any():
            return float("nan")
        return float(np.dot(values[keep], vol[keep]) / vol[keep].sum())

    def identity(self, control: Control, operation: str, year: int, channels) -> float:
        """The slider value that means *no change* for ``operation`` on this control."""
        if operation == "cap":
            return float(control.ranges["cap"][1])
        if operation == "floor":
            return float(control.ranges["floor"][0])
        if operation == "scale":
            return 1.0
        if operation in ("share", "set"):
            scope = [c for c in control.channels if c in channels] or list(control.channels)
            step = control.ranges[operation][2]
            now = self.current_mean(control.target, year, scope)
            return round(round(now / step) * step, 6)
        return 0.0

    def weights_frame(self, ci: float) -> pd.DataFrame:
        """Driver weights by channel, year and driver with mean, lo, hi and label."""
        key = ("weights", ci)
        if key not in self._cache:
            from whatif.analysis.summary import tidy_interval

            frame = tidy_interval(self.model.draws("weights"), ci)
            frame["channel"] = frame["channel"].astype(str)
            frame["driver"] = frame["driver"].astype(str)
            frame["year"] = frame["year"].astype(int)
            frame["label"] = [self.label(d) for d in frame["driver"]]
            self._cache[key] = frame
        return self._cache[key]

    def driver_effects_frame(self, ci: float) -> pd.DataFrame:
        """Weight, total effect (intervals) and relative importance share of each driver in the
        last year (see :func:`whatif.analysis.effects.driver_effects_frame`), with labels."""
        key = ("driver_effects", ci)
        if key not in self._cache:
            from whatif.analysis.effects import driver_effects_frame

            frame = driver_effects_frame(self.model, ci)
            frame["label"] = [self.label(d) for d in frame["driver"]]
            self._cache[key] = frame
        return self._cache[key]

    def paths_frame(self, ci: float) -> pd.DataFrame:
        """The measured driver paths by channel: ``driver``, ``source``, ``mean``, ``lo``,
        ``hi`` (see :func:`whatif.analysis.effects.path_rows`) and labels; empty without paths."""
        key = ("paths", ci)
        if key not in self._cache:
            from whatif.analysis.effects import path_rows

            columns = ["channel", "driver", "source", "mean", "lo", "hi"]
            frame = pd.DataFrame(path_rows(self.model, ci), columns=columns)
            frame["label"] = [self.label(d) for d in frame["driver"]]
            frame["source_label"] = [self.label(d) for d in frame["source"]]
            self._cache[key] = frame
        return self._cache[key]

    def priorities(self, ci: float) -> PriorityMap:
        """The priority map (see :func:`whatif.analysis.priorities.priority_map`), cached."""
        key = ("priorities", ci)
        if key not in self._cache:
            from whatif.analysis.priorities import priority_map

            self._cache[key] = priority_map(self.model, ci)
        return self._cache[key]

    def responses_frame(self) -> pd.DataFrame:
        """Responses with an outcome per channel (rows, labeled) and year (columns)."""
        n = self.model.aggregates["n_total"].to_pandas().loc[self.channels]
        n.index = [self.label(c) for c in n.index]
        n.columns = [self.year_label(y) for y in n.columns]
        n.index.name = "Channel"
        return n.astype(int)

    def measured_frame(self) -> pd.DataFrame:
        """Which drivers and influencers each channel measures (True/False)."""
        agg = self.model.aggregates
        drivers = agg["driver_measured"].to_pandas().loc[self.channels]
        infl = agg["influencer_measured"].to_pandas().loc[self.channels]
        frame = pd.concat([drivers, infl], axis=1).T
        frame.columns = [self.label(c) for c in frame.columns]
        kinds = ["driver"] * drivers.shape[1] + ["influencer"] * infl.shape[1]
        frame.insert(0, "kind", kinds)
        frame.index = [self.label(i) for i in frame.index]
        return frame

    def r2_frame(self) -> pd.DataFrame:
        """Mean Bayesian R-squared per channel (rows) and year (columns)."""
        if "r2" not in self._cache:
            from whatif.analysis.summary import r_squared

            r2 = r_squared(self.model).mean("sample").to_pandas().loc[self.channels]
            r2.index = [self.label(c) for c in r2.index]
            r2.columns = [self.year_label(y) for y in r2.columns]
            self._cache["r2"] = r2
        return self._cache["r2"]

    def diagnostics_rows(self) -> list[dict]:
        """Each convergence check with its value, threshold and whether it passes."""
        from whatif.fitting.diagnostics import THRESHOLDS, one_chain
        from whatif.fitting.ppc import MAX_GAP

        d = self.model.diagnostics
        single = one_chain(d)
        rows = [
            (
                "Largest R-hat",
                "not computed (1 chain)" if single else d.get("max_rhat"),
                f"<= {THRESHOLDS['max_rhat']}",
                single or d.get("max_rhat", 9) <= THRESHOLDS["max_rhat"],
                "{}" if single else "{:.3f}",
            ),
            (
                "Smallest bulk ESS",
                d.get("min_ess_bulk"),
                f">= {THRESHOLDS['min_ess_bulk']:.0f}",
                d.get("min_ess_bulk", 0) >= THRESHOLDS["min_ess_bulk"],
                "{:.0f}",
            ),
            (
                "Smallest tail ESS",
                d.get("min_ess_tail"),
                f">= {THRESHOLDS['min_ess_tail']:.0f}",
                d.get("min_ess_tail", 0) >= THRESHOLDS["min_ess_tail"],
                "{:.0f}",
            ),
            (
                "Divergent transitions",
                d.get("divergences"),
                "0",
                d.get("divergences", 1) <= THRESHOLDS["divergences"],
                "{:d}",
            ),
        ]
        out = []
        for name, value, threshold, ok, fmt in rows:
            text = "-" if value is None else fmt.format(value)
            out.append({"check": name, "value": text, "threshold": threshold, "ok": bool(ok)})
        if d.get("ppc_max_gap") is not None:  # the posterior predictive check of answer shares
            out.append(
                {
                    "check": "Largest gap in answer shares",
                    "value": f"{100 * d['ppc_max_gap']:.1f} pts",
                    "threshold": f"<= {100 * MAX_GAP:.0f} pts",
                    "ok": bool(d.get("ppc_passed")),
                }
            )
        bfmi = d.get("min_bfmi")
        if bfmi is not None:
            out.append(
                {
                    "check": "Smallest energy BFMI",
                    "value": f"{bfmi:.2f}",
                    "threshold": ">= 0.3 (advisory)",
                    "ok": bfmi >= 0.3,
                }
            )
        return out


_CACHE: dict[tuple[str, int], ModelBundle] = {}
_CACHE_LOCK = threading.Lock()


def manifest_key(path: Path) -> tuple[str, int]:
    """A model folder's cache key: its resolved path and its manifest's modification time."""
    resolved = path.resolve()
    try:
        mtime = (resolved / "manifest.json").stat().st_mtime_ns
    except OSError:
        mtime = -1
    return str(resolved), mtime


def load_bundle(path: str | Path) -> ModelBundle:
    """Load a model artefact and prepare its :class:`ModelBundle`, once per process.

    The cache is keyed by the folder and its manifest's modification time, so a refit model is
    picked up by the next session while sessions already open keep the bundle they have.

    Raises
    ------
    ArtefactError
        If the folder is missing, not an artefact, incompatible or damaged.
    """
    path = Path(path)
    key = manifest_key(path)
    with _CACHE_LOCK:
        bundle = _CACHE.get(key)
        if bundle is not None:
            return bundle
        bundle = _prepare(path)
        for old in [k for k in _CACHE if k[0] == key[0]]:
            del _CACHE[old]
        _CACHE[key] = bundle
        return bundle


def clear_cache() -> None:
    """Forget every loaded model (tests; a server never needs it)."""
    with _CACHE_LOCK:
        _CACHE.clear()


def _prepare(path: Path) -> ModelBundle:
    from whatif.analysis.engine import ScenarioEngine
    from whatif.data.moments import group_means
    from whatif.fitting.artefact import load_model

    model = load_model(path)
    engine = ScenarioEngine(model)
    spec_order = [c for c in model.spec.channels if c in engine.channels]
    channels = spec_order if len(spec_order) == len(engine.channels) else list(engine.channels)
    means = group_means(model.aggregates)
    frame = means.transpose("channel", "year", "term").to_numpy()
    index = pd.MultiIndex.from_product(
        [[str(c) for c in means["channel"].to_numpy()], [int(y) for y in means["year"].to_numpy()]],
        names=["channel", "year"],
    )
    group = pd.DataFrame(
        frame.reshape(-1, frame.shape[-1]),
        index=index,
        columns=[str(t) for t in means["term"].to_numpy()],
    )
    controls = build_controls(model, channels, group)
    bundle = ModelBundle(
        path=path,
        model=model,
        engine=engine,
        channels=channels,
        years=list(engine.years),
        controls=controls,
        _group_means=group,
    )
    engine.prepare([*bundle.years, bundle.next_year])  # so the first lever move is fast
    return bundle


def available_models(path: str | Path) -> list[Path]:
    """Artefact folders next to ``path`` (folders with a ``manifest.json``), ``path`` included."""
    path = Path(path)
    found = {path}
    parent = path.parent
    if parent.is_dir():
        for child in parent.iterdir():
            if (
                child.is_dir()
                and not child.name.startswith(".")
                and (child / "manifest.json").exists()
            ):
                found.add(child)
    return sorted(found, key=lambda p: p.name)
