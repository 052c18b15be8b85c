"""One planner session: levers -> scenario -> forecast, with no Panel in it.

:class:`PlannerState` is one user's session: the levers, the year, the channels, the saved
scenarios and the computed forecast. Sessions never share a state; they share the model's
:class:`~whatif.app.bundle.ModelBundle`. The planner's views (:mod:`whatif.app.views`) only show
what a state holds and call its methods; a state can be driven and tested without a browser or a
server.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pandas as pd
import param

from whatif.analysis.library import MAX_SCENARIO_BYTES, ScenarioLibrary
from whatif.analysis.results import Estimate, LiftSummary
from whatif.analysis.scenario import Lever, Scenario, parse_scenario, validate_scenario
from whatif.app.bundle import ModelBundle, load_bundle
from whatif.app.controls import Control
from whatif.app.levers_text import lever_words
from whatif.app.outcomes import baseline_levels, metric_texts
from whatif.app.team import TeamScenarios
from whatif.app.text import slugify
from whatif.errors import ScenarioError, WhatifError
from whatif.report import format as fmt
from whatif.report.metrics import metric_label

__all__ = ["DEFAULT_CI", "PlannerState"]

#: Probability of the intervals a session starts with.
DEFAULT_CI = 0.9
_TOL = 1e-9


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
        doc="Scenario year: an observed year or the next one (default); a survey without a year "
        "column has one period, the only choice.",
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

    forecast = param.ClassSelector(
        class_=LiftSummary, default=None, allow_None=True, doc="summarize_lift of the scenario."
    )
    lift = param.Parameter(default=None, doc="The lift draws (xarray.Dataset) of the scenario.")
    notes = param.List(default=[], doc="Notes on levers left out (not measured where chosen).")
    error = param.String(default="", doc="The last problem a user can fix, in words.")
    info = param.String(default="", doc="The last confirmation (saved, loaded), in words.")

    def __init__(
        self,
        bundle: ModelBundle | None = None,
        library: ScenarioLibrary | None = None,
        user: str = "",
        **params,
    ):
        super().__init__(**params)
        self.bundle: ModelBundle | None = None
        self._summaries: dict[tuple, dict] = {}
        # the team's saved scenarios (library: the model's own unless one is given)
        self.team = TeamScenarios(self, library, user=user or "")
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
                error="",
                info="",
            )
        self.team.use_model(
            bundle.path,
            keep=lambda s: not validate_scenario(s, bundle.model.spec, bundle.model.aggregates),
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
        if self.bundle.single_period:
            return {self.bundle.year_label(y): y for y in self.bundle.years}
        options = {str(y): y for y in self.bundle.years}
        options[f"{self.bundle.next_year} (forecast)"] = self.bundle.next_year
        return options

    # -- levers -------------------------------------------------------------------------------

    def control(self, target: str) -> Control:
        return self.bundle.controls[target]

    def identity(self, target: str, operation: str) -> float:
        """The value of ``operation`` on ``target`` that changes nothing (this year, these channels)."""
        channels = self.scopes.get(target, self.channels)  # a loaded lever's own channels
        return self.bundle.identity(self.control(target), operation, self._year(), channels)

    def lever_value(self, target: str) -> tuple[str, float]:
        """The control's operation and value (the no-change value when it is not set)."""
        if target in self.settings:
            return self.settings[target]
        op = self.control(target).default_operation
        return op, self.identity(target, op)

    def set_lever(self, target: str, operation: str, value: float) -> None:
        """Set one sidebar lever (a no-change value removes it) and recompute."""
        control = self.control(target)
        if operation not in control.accepted:
            raise ValueError(f"{target}: operation {operation} is not one of {control.accepted}")
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
        """A lever in plain words and its own units, e.g. ``Transfers: share 12% -> 6%``,
        ``First-contact resolution: +10 pts (share 31% -> 41%) in IVR routing`` or ``IVR prompts:
        cap at 3``; a share's "now" is that of the lever's own channels."""
        return lever_words(self.bundle, lever, self._year())

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
        forecast = summarize_lift(lift, self.ci, flagged=self.bundle.flagged)
        self.param.update(lift=lift, forecast=forecast, notes=notes)

    def metric_texts(self, channel: str | None = None) -> tuple:
        """The forecast's lift in every reported metric, in words, the headline metric first:
        the company's or ``channel``'s (:func:`whatif.app.outcomes.metric_texts`); empty with no
        forecast."""
        if self.forecast is None or not self.bundle:
            return ()
        return metric_texts(self.forecast, self.bundle.model.spec.rating, channel)

    def baseline_levels(self, channel: str | None = None) -> dict[str, float]:
        """Each reported metric's level before the change, the headline metric first: the
        company's or ``channel``'s (:func:`whatif.app.outcomes.baseline_levels`)."""
        if self.lift is None or not self.bundle:
            return {}
        return baseline_levels(self.lift, self.bundle.model.spec.rating, channel)

    @property
    def has_levers(self) -> bool:
        return bool(self.active_levers()) if self.bundle else False

    def summary_of(self, scenario: Scenario) -> LiftSummary:
        """The :func:`~whatif.analysis.engine.summarize_lift` of any scenario (cached)."""
        from whatif.analysis.engine import summarize_lift

        key = (scenario.to_toml(), self.ci)
        if key not in self._summaries:
            lift = self.bundle.engine.lift(scenario)
            self._summaries[key] = summarize_lift(lift, self.ci, flagged=self.bundle.flagged)
        return self._summaries[key]

    def comparison(self) -> list[tuple[str, Scenario, LiftSummary]]:
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
            total = summary.total
            rating = self.bundle.model.spec.rating
            cells = {
                "Company lift (points)": _with_interval(total),
                "Probability lift > 0": fmt.probability(total.p_positive),
                metric_label("top_box", rating): fmt.share_points(summary.top_box.mean),
            }
            if summary.nps is not None:
                cells["NPS"] = fmt.nps_points(summary.nps.mean)
            for channel in self.bundle.channels:
                entry = summary.channel(channel)
                cells[self.bundle.label(channel)] = (
                    _with_interval(entry.lift) if entry.affected else fmt.NOT_AFFECTED
                )
            cells["Year"] = self.bundle.year_label(summary.year)
            cells["Levers"] = "; ".join(self.describe(lever) for lever in scenario.levers) or "none"
            rows[title] = cells
        return pd.DataFrame(rows)

    # -- scenarios ----------------------------------------------------------------------------

    def save_current(self, name: str | None = None, overwrite: bool = False) -> Scenario | None:
        """Save the current scenario for the team (see :meth:`TeamScenarios.save_current`): an
        empty name is refused, a taken one asks (``team.pending_save``) unless ``overwrite``."""
        return self.team.save_current(name, overwrite)

    def remove_saved(self, name: str) -> None:
        """Delete a saved scenario at once (the views ask first: ``team.ask_delete``)."""
        self.team.ask_delete(name)
        self.team.confirm_delete()

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
                or lever.operation not in control.accepted
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
        size = len(text.encode("utf-8") if isinstance(text, str) else text)
        if size > MAX_SCENARIO_BYTES:
            self.param.update(
                error=f"{filename}: {size:,} bytes is too large for a scenario file (at most "
                f"{MAX_SCENARIO_BYTES:,}); upload a scenario .toml file",
                info="",
            )
            return None
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
        self.team.add_session([scenario])
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
        self.team.add_session(added)
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
        return self.brief_file(scenario, "html")

    def brief_file(self, scenario: Scenario | None = None, kind: str = "html"):
        """``(filename, content)`` of the forecast brief of a scenario as ``html`` (text) or
        ``pdf`` (bytes, A4 pages); default: the current scenario.

        Raises
        ------
        WhatifError
            When the brief cannot be made (the message says why, in one line).
        """
        try:
            from whatif.report.brief import render_html, render_pdf
        except ImportError as err:
            raise WhatifError(
                f"the forecast brief is not available in this installation ({err})"
            ) from None
        scenario = scenario or self.current_scenario()
        render = render_pdf if kind == "pdf" else render_html
        content = render(self.bundle.model, [scenario], ci=self.ci)
        return f"brief_{slugify(scenario.name)}.{'pdf' if kind == 'pdf' else 'html'}", content


def _with_interval(estimate: Estimate) -> str:
    """``+0.12 [+0.05, +0.20]``: a mean and its interval, never reading as one number."""
    digits = fmt.decimals(estimate.mean, estimate.lo, estimate.hi)
    return f"{fmt.points(estimate.mean, digits)} {fmt.interval(estimate.lo, estimate.hi, digits, style='brackets')}"
