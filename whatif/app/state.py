"""State and computing of the planner app: levers -> scenario -> forecast, with no Panel in it.

The planner's views (:mod:`whatif.app.views`) only show what this module holds and call its
methods; everything here can be driven and tested without a browser or a server.

* :func:`load_bundle` loads a model artefact once per process (a module-level cache keyed by the
  folder and its manifest's modification time) and prepares what every session shares: the
  :class:`~whatif.analysis.engine.ScenarioEngine`, one :class:`Control` per influencer and driver, the
  weights over the years, the priority map and the data and diagnostics tables.
* :class:`ModelProvider` does the same in a background thread, fitting the demo model first when
  it is missing, so that a server stays responsive and can show progress meanwhile.
* :class:`PlannerState` is one user's session: the levers, the year, the channels, the saved
  scenarios and the computed forecast. Sessions never share a state.
"""

from __future__ import annotations

import math
import re
import sys
import threading
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import param

from whatif.analysis.scenario import Lever, Scenario, parse_scenario, validate_scenario
from whatif.errors import ArtefactError, ScenarioError, WhatifError

__all__ = [
    "DEFAULT_CI",
    "Control",
    "ModelBundle",
    "ModelProvider",
    "PlannerState",
    "available_models",
    "clear_cache",
    "format_points",
    "format_share",
    "get_provider",
    "load_bundle",
    "slugify",
]

DEFAULT_CI = 0.9
#: Operations offered per kind of control (the first is the default).
NATURAL_OPERATIONS = {
    "count": ("cap", "scale"),
    "binary": ("share",),
    "continuous": ("shift",),
    "driver": ("shift",),
}
_TOL = 1e-9


# -- formatting ----------------------------------------------------------------------------------


def format_points(value: float, digits: int = 2) -> str:
    """A signed number of satisfaction points, e.g. ``+0.12``."""
    if value is None or not math.isfinite(value):
        return "-"
    if abs(value) < 0.5 * 10**-digits:
        value = 0.0
    return f"{value:+.{digits}f}"


def format_share(value: float, digits: int = 0, signed: bool = False) -> str:
    """A share as a percentage, e.g. ``12%`` (or ``+1.3 pts`` with ``signed``)."""
    if value is None or not math.isfinite(value):
        return "-"
    if signed:
        return f"{100 * value:+.{max(digits, 1)}f} pts"
    return f"{100 * value:.{digits}f}%"


def slugify(name: str) -> str:
    """A file-name-safe version of a scenario name."""
    slug = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
    return slug or "scenario"


def _nice_step(span: float) -> float:
    """A round step near ``span / 100`` (1, 2 or 5 times a power of ten)."""
    if span <= 0 or not math.isfinite(span):
        return 0.01
    raw = span / 100
    power = 10 ** math.floor(math.log10(raw))
    for mult in (1, 2, 5, 10):
        if raw <= mult * power:
            return mult * power
    return 10 * power


# -- controls ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Control:
    """One sidebar control: an influencer in its own units, or a driver shifted in rating points.

    Attributes
    ----------
    target
        Influencer or driver id.
    kind
        ``"influencer"`` or ``"driver"`` (the lever's kind).
    measure
        ``"count"``, ``"binary"``, ``"continuous"`` or ``"driver"``.
    label
        Human label from the spec.
    operations
        The operations the control offers; the first is the default.
    ranges
        ``(start, end, step)`` of the slider per operation.
    channels
        Channels where the target is measured.
    low, high
        Observed range over those channels and all years (values; shares for binaries; mean
        ratings for drivers).
    better
        ``"lower"``, ``"higher"`` or ``None``: which way is good, when the spec says.
    """

    target: str
    kind: str
    measure: str
    label: str
    operations: tuple[str, ...]
    ranges: dict[str, tuple[float, float, float]]
    channels: tuple[str, ...]
    low: float
    high: float
    better: str | None = None

    @property
    def default_operation(self) -> str:
        return self.operations[0]

    def observed_text(self) -> str:
        """The observed range in words, e.g. ``observed 0-12``."""
        if self.measure == "binary":
            return (
                f"observed {format_share(self.low)}-{format_share(self.high)} by channel and year"
            )
        if self.measure == "driver":
            return f"mean rating {self.low:.1f}-{self.high:.1f} by channel and year"
        return f"observed {self.low:g}-{self.high:g}"


def _build_controls(model, channels: list[str], means: pd.DataFrame) -> dict[str, Control]:
    agg = model.aggregates
    spec = model.spec
    controls: dict[str, Control] = {}
    imeasured = agg["influencer_measured"]
    zmin, zmax = agg["influencer_min"], agg["influencer_max"]
    for infl in spec.influencers:
        measured = tuple(c for c in channels if bool(imeasured.sel(channel=c, influencer=infl.id)))
        if not measured:
            continue
        low = float(np.nanmin(zmin.sel(influencer=infl.id, channel=list(measured)).to_numpy()))
        high = float(np.nanmax(zmax.sel(influencer=infl.id, channel=list(measured)).to_numpy()))
        measure = infl.kind
        if measure == "binary":
            shares = means.loc[(list(measured), slice(None)), infl.id].to_numpy(float)
            shares = shares[np.isfinite(shares)]
            low, high = (float(shares.min()), float(shares.max())) if shares.size else (0.0, 1.0)
            ranges = {"share": (0.0, 1.0, 0.01)}
        elif measure == "count":
            ranges = {
                "cap": (math.floor(low), max(math.ceil(high), math.floor(low) + 1), 1.0),
                "scale": (0.0, 2.0, 0.05),
            }
        else:
            span = (high - low) or 1.0
            step = _nice_step(span)
            half = step * math.ceil(span / 2 / step)
            ranges = {"shift": (-half, half, step)}
        controls[infl.id] = Control(
            target=infl.id,
            kind="influencer",
            measure=measure,
            label=infl.label or infl.id,
            operations=NATURAL_OPERATIONS[measure],
            ranges=ranges,
            channels=measured,
            low=low,
            high=high,
            better=infl.better,
        )
    dmeasured = agg["driver_measured"]
    scale_low, scale_high = spec.scale
    span = (scale_high - scale_low) / 6
    step = _nice_step(span * 3)
    half = step * math.ceil(span / step)
    for driver in spec.drivers:
        measured = tuple(c for c in channels if bool(dmeasured.sel(channel=c, driver=driver.id)))
        if not measured:
            continue
        ratings = means.loc[(list(measured), slice(None)), driver.id].to_numpy(float)
        ratings = ratings[np.isfinite(ratings)]
        controls[driver.id] = Control(
            target=driver.id,
            kind="driver",
            measure="driver",
            label=driver.label or driver.id,
            operations=NATURAL_OPERATIONS["driver"],
            ranges={"shift": (-half, half, step)},
            channels=measured,
            low=float(ratings.min()),
            high=float(ratings.max()),
            better="higher",
        )
    return controls


# -- the model bundle, loaded once per process ------------------------------------------------


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
        Observed years; ``next_year`` is the year after the last.
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
        return self.years[-1] + 1

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
        if operation == "scale":
            return 1.0
        if operation == "share":
            scope = [c for c in control.channels if c in channels] or list(control.channels)
            return round(self.current_mean(control.target, year, scope), 2)
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

    def priority_frame(self, ci: float) -> pd.DataFrame:
        """The priority map (see :func:`whatif.analysis.priorities.priority_map`)."""
        key = ("priorities", ci)
        if key not in self._cache:
            from whatif.analysis.priorities import priority_map

            self._cache[key] = priority_map(self.model, ci).to_frame()
        return self._cache[key]

    def responses_frame(self) -> pd.DataFrame:
        """Responses with an outcome per channel (rows, labelled) and year (columns)."""
        n = self.model.aggregates["n_total"].to_pandas().loc[self.channels]
        n.index = [self.label(c) for c in n.index]
        n.columns = [str(y) for y in n.columns]
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
            r2.columns = [str(y) for y in r2.columns]
            self._cache["r2"] = r2
        return self._cache["r2"]

    def diagnostics_rows(self) -> list[dict]:
        """Each convergence check with its value, threshold and whether it passes."""
        from whatif.fitting.diagnostics import THRESHOLDS

        d = self.model.diagnostics
        rows = [
            (
                "Largest R-hat",
                d.get("max_rhat"),
                f"<= {THRESHOLDS['max_rhat']}",
                d.get("max_rhat", 9) <= THRESHOLDS["max_rhat"],
                "{:.3f}",
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


def _manifest_key(path: Path) -> tuple[str, int]:
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
    key = _manifest_key(path)
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
    controls = _build_controls(model, channels, group)
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


# -- loading (and fitting) in the background ---------------------------------------------------


class ModelProvider:
    """Loads one model folder in a background thread, fitting it first if asked and missing.

    One provider exists per folder and process (see :func:`get_provider`); every session that
    needs the model waits on the same one.

    Parameters
    ----------
    path
        The artefact folder.
    fit_from
        ``(survey, spec)`` files to fit the model from when the folder does not exist yet
        (the demo model); ``None`` means a missing folder is an error.
    fit_options
        Keyword arguments of :func:`whatif.pipeline.fit_to_artefact` (draws, tune, chains, seed).
    """

    def __init__(
        self,
        path: str | Path,
        fit_from: tuple[Path, Path] | None = None,
        fit_options: dict | None = None,
    ):
        self.path = Path(path)
        self.fit_from = fit_from
        self.fit_options = dict(fit_options or {})
        self.status = "idle"  # idle, fitting, loading, ready, error
        self.message = ""
        self.error = ""
        self.stage = ""  # the fit's last progress line
        self.started = 0.0
        self.finished = 0.0
        self.bundle: ModelBundle | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._key: tuple[str, int] | None = None

    @property
    def done(self) -> bool:
        return self.status in ("ready", "error")

    @property
    def elapsed(self) -> float:
        end = self.finished if self.done and self.finished else time.monotonic()
        return max(0.0, end - self.started) if self.started else 0.0

    def start(self) -> ModelProvider:
        """Start loading (once); returns at once. A model refit since is loaded afresh."""
        with self._lock:
            if self.status == "ready" and _manifest_key(self.path) != self._key:
                self.status = "idle"  # refit since: load the new one
            if self.status in ("idle", "error"):
                self.status, self.error = "loading", ""
                self.started, self.finished = time.monotonic(), 0.0
                self._thread = threading.Thread(
                    target=self._run, name=f"whatif-load-{self.path.name}", daemon=True
                )
                self._thread.start()
        return self

    def wait(self, timeout: float | None = None) -> ModelProvider:
        """Block until loading ends (for the command line and tests)."""
        if self._thread is not None:
            self._thread.join(timeout)
        return self

    def _run(self) -> None:
        try:
            if (
                not (self.path / "manifest.json").exists()
                and self.fit_from is not None
                and not self.path.exists()
            ):
                survey, spec = self.fit_from
                if not Path(survey).exists():
                    raise ArtefactError(
                        f"{self.path}: no model yet, and no demo survey at {survey} to fit it from; "
                        "run 'whatif demo-data' first"
                    )
                self.status = "fitting"
                self.message = (
                    f"Fitting the model {self.path.name} from {survey} "
                    "(first run only; it takes a few minutes)"
                )
                self._fit(survey, spec)
            self.status = "loading"
            self.message = f"Loading the model {self.path.name}"
            self._key = _manifest_key(self.path)
            self.bundle = load_bundle(self.path)
            self.status = "ready"
            self.message = ""
        except WhatifError as err:
            self.error = "\n".join(err.problems) or str(err)
            self.status = "error"
        except Exception as err:  # never let a server thread die silently
            self.error = f"{self.path}: could not load the model ({type(err).__name__}: {err})"
            self.status = "error"
        finally:
            self.finished = time.monotonic()

    def _fit(self, survey: Path, spec: Path) -> None:
        """Run the fit pipeline, showing its progress lines in :attr:`stage` and on stderr."""
        from whatif.pipeline import fit_to_artefact

        def relay(message: str) -> None:
            self.stage = message
            print(f"whatif: {message}", file=sys.stderr, flush=True)

        try:
            fit_to_artefact(survey, spec, self.path, **self.fit_options, log=relay)
        finally:
            self.stage = ""


_PROVIDERS: dict[str, ModelProvider] = {}
_PROVIDERS_LOCK = threading.Lock()


def get_provider(
    path: str | Path, fit_from: tuple[Path, Path] | None = None, fit_options: dict | None = None
) -> ModelProvider:
    """The process-wide :class:`ModelProvider` of a model folder (created on first use)."""
    key = str(Path(path).resolve())
    with _PROVIDERS_LOCK:
        provider = _PROVIDERS.get(key)
        if provider is None:
            provider = _PROVIDERS[key] = ModelProvider(path, fit_from, fit_options)
        elif fit_from is not None and provider.fit_from is None:
            provider.fit_from, provider.fit_options = fit_from, dict(fit_options or {})
        return provider


# -- one user's session ---------------------------------------------------------------------------


class PlannerState(param.Parameterized):
    """One planner session: levers, year, channels, saved scenarios and the forecast.

    Set the levers with :meth:`set_lever` (or load a scenario); the forecast is recomputed at
    once and published in :attr:`forecast` (the :func:`~whatif.analysis.engine.summarize_lift` dict)
    and :attr:`lift` (the draws). Problems a user can fix are put in :attr:`error`, never
    raised.
    """

    model_path = param.String(default="", doc="The artefact folder in use.")
    ci = param.Number(default=DEFAULT_CI, bounds=(0.5, 0.99), doc="Probability of the intervals.")
    year = param.Integer(
        default=None,
        allow_None=True,
        doc="Scenario year: an observed year or the next one (default).",
    )
    channels = param.List(
        default=[], item_type=str, doc="Channels the sidebar's levers apply to (all by default)."
    )
    focus_channel = param.String(default="", doc="Channel of the weights and priority charts.")
    scenario_name = param.String(default="My scenario", doc="Name of the current scenario.")
    description = param.String(default="", doc="Description of the current scenario.")
    settings = param.Dict(default={}, doc="Sidebar levers: target -> (operation, value).")
    scopes = param.Dict(default={}, doc="Target -> channels, for levers loaded with their own.")
    extra_levers = param.List(default=[], doc="Loaded levers no sidebar control can show.")
    saved = param.List(default=[], doc="Saved scenarios (Scenario objects), in saving order.")

    forecast = param.Dict(default=None, allow_None=True, doc="summarize_lift of the scenario.")
    lift = param.Parameter(default=None, doc="The lift draws (xarray.Dataset) of the scenario.")
    notes = param.List(default=[], doc="Notes on levers left out (not measured where chosen).")
    error = param.String(default="", doc="The last problem a user can fix, in words.")
    info = param.String(default="", doc="The last confirmation (saved, loaded), in words.")

    def __init__(self, bundle: ModelBundle | None = None, **params):
        super().__init__(**params)
        self.bundle: ModelBundle | None = None
        self._summaries: dict[tuple, dict] = {}
        if bundle is not None:
            self.use_bundle(bundle)
        elif self.model_path:
            self.load_model(self.model_path)

    # -- model --------------------------------------------------------------------------------

    def load_model(self, path: str | Path) -> bool:
        """Switch to the model at ``path`` (loading it if needed); False and :attr:`error` if broken."""
        try:
            bundle = load_bundle(path)
        except WhatifError as err:
            self.bundle = None
            self.param.update(
                model_path=str(path),
                forecast=None,
                lift=None,
                error="\n".join(err.problems) or str(err),
            )
            return False
        self.use_bundle(bundle)
        return True

    def use_bundle(self, bundle: ModelBundle) -> None:
        """Use an already loaded model: levers reset, saved scenarios kept if they still apply."""
        self.bundle = bundle
        self._summaries = {}
        kept = [
            s
            for s in self.saved
            if not validate_scenario(s, bundle.model.spec, bundle.model.aggregates)
        ]
        focus = self.focus_channel if self.focus_channel in bundle.channels else bundle.channels[0]
        with param.parameterized.discard_events(self):
            self.param.update(
                model_path=str(bundle.path),
                year=bundle.next_year,
                channels=list(bundle.channels),
                focus_channel=focus,
                settings={},
                scopes={},
                extra_levers=[],
                saved=kept,
                error="",
                info="",
            )
        self.recompute()
        # every view reads the new model: announce it once, after the forecast is ready
        self.param.trigger("model_path")

    @property
    def ready(self) -> bool:
        return self.bundle is not None

    @property
    def year_options(self) -> dict[str, int]:
        """Label -> year of the years a scenario can be set in."""
        if not self.bundle:
            return {}
        options = {str(y): y for y in self.bundle.years}
        options[f"{self.bundle.next_year} (forecast)"] = self.bundle.next_year
        return options

    # -- levers -------------------------------------------------------------------------------

    def control(self, target: str) -> Control:
        return self.bundle.controls[target]

    def identity(self, target: str, operation: str) -> float:
        """The value of ``operation`` on ``target`` that changes nothing (this year, these channels)."""
        return self.bundle.identity(self.control(target), operation, self._year(), self.channels)

    def lever_value(self, target: str) -> tuple[str, float]:
        """The control's operation and value (the no-change value when it is not set)."""
        if target in self.settings:
            return self.settings[target]
        op = self.control(target).default_operation
        return op, self.identity(target, op)

    def set_lever(self, target: str, operation: str, value: float) -> None:
        """Set one sidebar lever (a no-change value removes it) and recompute."""
        control = self.control(target)
        if operation not in control.operations:
            raise ValueError(f"{target}: operation {operation} is not one of {control.operations}")
        settings = dict(self.settings)
        if abs(float(value) - self.identity(target, operation)) <= _TOL:
            settings.pop(target, None)
        else:
            settings[target] = (operation, float(value))
        self.settings = settings

    def reset(self) -> None:
        """Every lever back to no change (and every channel in scope)."""
        self.param.update(
            settings={},
            scopes={},
            extra_levers=[],
            error="",
            info="",
            channels=list(self.bundle.channels) if self.bundle else [],
        )

    def _year(self) -> int:
        if self.year is None and self.bundle:
            return self.bundle.next_year
        return self.year

    def _scope(self, control: Control) -> tuple[str, ...] | None:
        if control.target in self.scopes:
            return tuple(self.scopes[control.target])
        chosen = set(self.channels)
        if chosen >= set(self.bundle.channels):
            return None
        return tuple(c for c in control.channels if c in chosen)

    def active_levers(self) -> list[tuple[Control | None, Lever]]:
        """The levers of the current scenario, with their control (None for extra levers)."""
        out = []
        for target in self.bundle.controls:
            if target not in self.settings:
                continue
            control = self.control(target)
            op, value = self.settings[target]
            channels = self._scope(control)
            if channels == ():
                continue
            out.append((control, Lever(target, control.kind, op, value, channels)))
        out.extend((None, lever) for lever in self.extra_levers)
        return out

    def current_scenario(self) -> Scenario:
        """The scenario the sidebar describes (``year`` left out when it is the next year)."""
        year = self._year()
        return Scenario(
            name=self.scenario_name.strip() or "My scenario",
            levers=tuple(lever for _, lever in self.active_levers()),
            year=None if self.bundle and year == self.bundle.next_year else year,
            description=self.description,
        )

    def describe(self, lever: Lever) -> str:
        """A lever in plain words, e.g. ``Transfers: share 12% -> 6%`` or ``IVR prompts: cap at 3``."""
        label = self.bundle.label(lever.target)
        if lever.operation == "share":
            scope = lever.channels
            if scope is None:
                control = self.bundle.controls.get(lever.target)
                scope = control.channels if control else tuple(self.bundle.channels)
            now = self.bundle.current_mean(lever.target, self._year(), scope)
            text = f"{label}: share {format_share(now)} -> {format_share(lever.value)}"
        elif lever.kind == "driver" and lever.operation == "shift":
            text = f"{label}: {lever.value:+.2f} rating points"
        else:
            text = lever.describe(label)
            if lever.channels:
                text = text.rsplit(" in ", 1)[0]
        if lever.channels:
            text += " in " + ", ".join(self.bundle.label(c) for c in lever.channels)
        return text

    # -- computing ----------------------------------------------------------------------------

    @param.depends("settings", "scopes", "extra_levers", "year", "channels", "ci", watch=True)
    def recompute(self) -> None:
        """Simulate the current scenario and publish :attr:`forecast` and :attr:`lift`."""
        if not self.bundle:
            return
        from whatif.analysis.engine import summarize_lift

        notes = []
        for target in self.settings:
            control = self.bundle.controls.get(target)
            if control is not None and self._scope(control) == ():
                notes.append(
                    f"{control.label} is not measured in the chosen channels; "
                    "that lever is left out"
                )
        scenario = self.current_scenario()
        try:
            lift = self.bundle.engine.lift(scenario)
        except ScenarioError as err:
            self.param.update(error="\n".join(err.problems), notes=notes)
            return
        forecast = summarize_lift(lift, self.ci, flagged=self.bundle.flagged).to_dict()
        self.param.update(lift=lift, forecast=forecast, notes=notes)

    @property
    def has_levers(self) -> bool:
        return bool(self.active_levers()) if self.bundle else False

    def summary_of(self, scenario: Scenario) -> dict:
        """The :func:`~whatif.analysis.engine.summarize_lift` dict of any scenario (cached)."""
        from whatif.analysis.engine import summarize_lift

        key = (scenario.to_toml(), self.ci)
        if key not in self._summaries:
            lift = self.bundle.engine.lift(scenario)
            self._summaries[key] = summarize_lift(
                lift, self.ci, flagged=self.bundle.flagged
            ).to_dict()
        return self._summaries[key]

    def comparison(self) -> list[tuple[str, Scenario, dict]]:
        """The current scenario then every saved one: (column title, scenario, summary)."""
        if not self.bundle:
            return []
        current = self.current_scenario()
        rows = []
        if self.forecast is not None and all(s.to_toml() != current.to_toml() for s in self.saved):
            rows.append((f"{current.name} (current)", current, self.forecast))
        for scenario in self.saved:
            try:
                rows.append((scenario.name, scenario, self.summary_of(scenario)))
            except ScenarioError:
                continue
        return rows

    def comparison_frame(self) -> pd.DataFrame:
        """Scenarios side by side (columns), rows: company, top-box, each channel, levers."""
        rows: dict[str, dict[str, str]] = {}
        for title, scenario, summary in self.comparison():
            total = summary["total"]
            tb = summary["top_box"]["total"]
            cells = {
                "Company lift (points)": _interval_text(total),
                "Probability lift > 0": format_share(total["p_positive"]),
                "Top-box share (9-10)": f"{format_share(tb['mean'], 1, signed=True)}",
            }
            for channel in self.bundle.channels:
                entry = summary["channels"][channel]
                cells[self.bundle.label(channel)] = _interval_text(entry)
            cells["Year"] = str(summary["year"])
            cells["Levers"] = "; ".join(self.describe(lever) for lever in scenario.levers) or "none"
            rows[title] = cells
        return pd.DataFrame(rows)

    # -- scenarios ----------------------------------------------------------------------------

    def save_current(self, name: str | None = None) -> Scenario:
        """Save the current scenario under its name (replacing a saved one of that name)."""
        if name is not None:
            self.scenario_name = name
        scenario = self.current_scenario()
        saved = [s for s in self.saved if s.name != scenario.name] + [scenario]
        self.param.update(saved=saved, error="", info=f"Saved '{scenario.name}'")
        return scenario

    def remove_saved(self, name: str) -> None:
        self.saved = [s for s in self.saved if s.name != name]

    def saved_scenario(self, name: str) -> Scenario:
        for scenario in self.saved:
            if scenario.name == name:
                return scenario
        raise KeyError(name)

    def apply_scenario(self, scenario: Scenario) -> None:
        """Set the sidebar from a scenario (levers no control can show are kept as extra levers)."""
        settings: dict[str, tuple[str, float]] = {}
        scopes: dict[str, tuple[str, ...]] = {}
        extra: list[Lever] = []
        for lever in scenario.levers:
            control = self.bundle.controls.get(lever.target)
            if (
                control is None
                or lever.target in settings
                or lever.operation not in control.operations
                or control.kind != lever.kind
            ):
                extra.append(lever)
                continue
            settings[lever.target] = (lever.operation, float(lever.value))
            if lever.channels is not None:
                scopes[lever.target] = tuple(lever.channels)
        year = scenario.year if scenario.year is not None else self.bundle.next_year
        self.param.update(
            scenario_name=scenario.name,
            description=scenario.description,
            year=year,
            channels=list(self.bundle.channels),
            settings=settings,
            scopes=scopes,
            extra_levers=extra,
            error="",
        )

    def load_toml(self, text: str | bytes, filename: str = "<upload>") -> Scenario | None:
        """Read an uploaded scenario: save it and set the sidebar from it.

        Returns the scenario, or ``None`` with :attr:`error` set when it does not parse or does
        not fit the model.
        """
        try:
            if isinstance(text, bytes):
                text = text.decode("utf-8")
            raw = tomllib.loads(text)
        except UnicodeDecodeError:
            self.param.update(
                error=f"{filename}: not a text file; upload a scenario .toml file", info=""
            )
            return None
        except tomllib.TOMLDecodeError as err:
            self.param.update(
                error=f"{filename}: not valid TOML ({err}); fix the syntax at that line", info=""
            )
            return None
        try:
            scenario = parse_scenario(raw, source=filename)
        except ScenarioError as err:
            self.param.update(error="\n".join(err.problems), info="")
            return None
        problems = validate_scenario(
            scenario, self.bundle.model.spec, self.bundle.model.aggregates, source=filename
        )
        if problems:
            self.param.update(error="\n".join(problems), info="")
            return None
        self.saved = [s for s in self.saved if s.name != scenario.name] + [scenario]
        self.apply_scenario(scenario)
        self.param.update(error="", info=f"Loaded '{scenario.name}' from {filename}")
        return scenario

    def load_directory(self, folder: str | Path) -> list[Scenario]:
        """Add every scenario file of a folder that fits the model to the saved scenarios."""
        from whatif.analysis.scenario import load_scenario

        added = []
        for path in sorted(Path(folder).glob("*.toml")):
            try:
                scenario = load_scenario(path)
            except ScenarioError:
                continue
            if validate_scenario(scenario, self.bundle.model.spec, self.bundle.model.aggregates):
                continue
            added.append(scenario)
        names = {s.name for s in added}
        self.saved = [s for s in self.saved if s.name not in names] + added
        return added

    def scenario_toml(self, scenario: Scenario | None = None) -> tuple[str, str]:
        """``(filename, TOML text)`` of a scenario (default: the current one)."""
        scenario = scenario or self.current_scenario()
        return f"{slugify(scenario.name)}.toml", scenario.to_toml()

    def brief_html(self, scenario: Scenario | None = None) -> tuple[str, str]:
        """``(filename, HTML)`` of the forecast brief of a scenario (default: the current one).

        Raises
        ------
        WhatifError
            When the brief cannot be made (the message says why, in one line).
        """
        try:
            from whatif.report.brief import render_html
        except ImportError as err:
            raise WhatifError(
                f"the forecast brief is not available in this installation ({err})"
            ) from None
        scenario = scenario or self.current_scenario()
        html = render_html(self.bundle.model, [scenario], ci=self.ci)
        return f"brief_{slugify(scenario.name)}.html", html


def _interval_text(entry: dict) -> str:
    return f"{format_points(entry['mean'])} [{format_points(entry['lo'])}, {format_points(entry['hi'])}]"
