"""The team's saved scenarios as one planner session sees them, with no Panel in it.

:class:`TeamScenarios` sits beside a :class:`~whatif.app.state.PlannerState`: it reads and
writes the model's :class:`~whatif.analysis.library.ScenarioLibrary` (files every session and
every command share), keeps the scenarios only this session holds (the demo's examples, uploads
not saved yet), and fills the state's ``saved`` list with both. Saving under a taken name does not
overwrite: it leaves a question in :attr:`TeamScenarios.pending_save` (overwrite, save under a
free name, or cancel); deleting asks first too (:attr:`TeamScenarios.pending_delete`).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import param

from whatif.analysis.library import (
    LibraryEntry,
    ScenarioExists,
    ScenarioLibrary,
    check_name,
)
from whatif.analysis.scenario import Scenario
from whatif.errors import ScenarioError

__all__ = ["TeamScenarios"]


class TeamScenarios(param.Parameterized):
    """The saved scenarios of one session: the team library's and the session's own.

    Parameters
    ----------
    state
        The session's :class:`~whatif.app.state.PlannerState` (its ``saved``, ``error``, ``info``,
        ``scenario_name`` and ``current_scenario()`` are used).
    library
        A fixed library (tests); ``None``: the library of whichever model the state uses.
    """

    entries = param.List(
        default=[], doc="The library's saved scenarios (LibraryEntry), oldest first."
    )
    problems = param.List(default=[], doc="One line per library file that cannot be read.")
    user = param.String(default="", doc="Who this session is (the signed-in user), if known.")
    pending_save = param.Dict(
        default={}, doc="A save waiting for an answer: name, who saved it, when, a free name."
    )
    pending_delete = param.String(default="", doc="A saved scenario waiting for 'delete?'.")

    def __init__(self, state: Any, library: ScenarioLibrary | None = None, **params):
        super().__init__(**params)
        self.state = state
        self.library = library
        self._fixed = library is not None
        self._signature: tuple | None = None
        self._session: list[Scenario] = []
        self._waiting: Scenario | None = None

    # -- reading --------------------------------------------------------------------------------

    def use_model(self, model_path: str | Path, keep=None) -> None:
        """Read the library of the model at ``model_path``; keep the session's own scenarios that
        ``keep`` (a scenario -> bool test) accepts."""
        if not self._fixed:
            self.library = ScenarioLibrary.for_model(model_path)
        self._session = [s for s in self._session if keep is None or keep(s)]
        self._signature = None
        self.param.update(pending_save={}, pending_delete="")
        self.refresh()

    def refresh(self) -> bool:
        """Read the library again if a file changed since (cheap when nothing did); True if so."""
        if self.library is None:
            return False
        signature = self.library.signature()
        if signature == self._signature:
            return False
        self._signature = signature
        entries, problems = self.library.scan()
        self.param.update(entries=entries, problems=problems)
        self._publish()
        return True

    def entry(self, name: str) -> LibraryEntry | None:
        """The library's entry called ``name`` (``None``: only in this session, or gone)."""
        return next((e for e in self.entries if e.name == name), None)

    def caption(self, name: str) -> str:
        """Who saved ``name`` and when, in words (``saved by alice, 2026-12-01 09:30 UTC``)."""
        entry = self.entry(name)
        if entry is None:
            return "only in this session (save it to share it)"
        when = entry.saved_at.replace("T", " ").replace("Z", " UTC")[:20].strip()
        who = f" by {entry.saved_by}" if entry.saved_by else ""
        return f"saved{who}, {when}"

    def add_session(self, scenarios: list[Scenario]) -> None:
        """Offer ``scenarios`` in this session only (examples, uploads), replacing same names."""
        names = {s.name for s in scenarios}
        self._session = [s for s in self._session if s.name not in names] + list(scenarios)
        self._publish()

    def _publish(self) -> None:
        shared = [e.scenario for e in self.entries]
        names = {s.name for s in shared}
        self.state.saved = shared + [s for s in self._session if s.name not in names]

    # -- saving ---------------------------------------------------------------------------------

    def save_current(self, name: str | None = None, overwrite: bool = False) -> Scenario | None:
        """Save the current scenario for the team under ``name`` (default: the state's name).

        An empty name is refused with a message; a taken name leaves the question in
        :attr:`pending_save` and saves nothing. Returns the saved scenario, or ``None``.
        """
        state = self.state
        try:
            name = check_name(state.scenario_name if name is None else name)
        except ScenarioError as err:
            state.param.update(error=f"Not saved: {err.problems[0]}", info="")
            return None
        return self._save(replace(state.current_scenario(), name=name), overwrite)

    def _save(self, scenario: Scenario, overwrite: bool) -> Scenario | None:
        state = self.state
        if self.library is None:
            state.param.update(error="Not saved: no model is open", info="")
            return None
        try:
            entry = self.library.save(scenario, user=self.user or None, overwrite=overwrite)
        except ScenarioExists as err:
            self._waiting = scenario
            existing = err.existing
            self.pending_save = {
                "name": scenario.name,
                "existing": existing.name,
                "caption": self.caption(existing.name) if self.entry(existing.name) else "",
                "suggestion": err.suggestion,
            }
            state.param.update(error="", info="")
            return None
        except ScenarioError as err:
            state.param.update(error="Not saved: " + "; ".join(err.problems), info="")
            return None
        self._waiting = None
        self.pending_save = {}
        state.scenario_name = entry.name  # first: the views list the current scenario by name
        self.refresh()
        state.param.update(error="", info=f"Saved '{entry.name}' in the team's scenarios")
        return entry.scenario

    def overwrite(self) -> Scenario | None:
        """Answer a pending save: replace the saved scenario of that name."""
        if self._waiting is None:
            return None
        return self._save(self._waiting, overwrite=True)

    def save_as(self, name: str | None = None) -> Scenario | None:
        """Answer a pending save: save under ``name`` (default: the suggested free name)."""
        if self._waiting is None:
            return None
        try:
            name = check_name(name if name is not None else self.pending_save["suggestion"])
        except ScenarioError as err:
            self.state.param.update(error=f"Not saved: {err.problems[0]}", info="")
            return None
        return self._save(replace(self._waiting, name=name), overwrite=False)

    def cancel(self) -> None:
        """Drop a pending save or delete."""
        self._waiting = None
        self.param.update(pending_save={}, pending_delete="")

    # -- deleting -------------------------------------------------------------------------------

    def ask_delete(self, name: str) -> None:
        """Ask before deleting ``name`` (:attr:`pending_delete`); :meth:`confirm_delete` does it."""
        self.pending_delete = name

    def confirm_delete(self) -> None:
        """Delete the scenario :meth:`ask_delete` asked about (for everyone, if it is shared)."""
        name, self.pending_delete = self.pending_delete, ""
        if not name:
            return
        if self.entry(name) is None:
            self._session = [s for s in self._session if s.name != name]
            self._publish()
            self.state.param.update(error="", info=f"Removed '{name}'")
            return
        try:
            self.library.delete(name)
        except ScenarioError as err:
            self.state.param.update(error="; ".join(err.problems), info="")
        else:
            self.state.param.update(error="", info=f"Deleted '{name}' from the team's scenarios")
        self.refresh()
