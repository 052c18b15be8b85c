"""The question a save under a taken name asks: overwrite the saved scenario, save under a free
name, or cancel. Nothing is overwritten without this answer."""

from __future__ import annotations

import panel as pn
import panel_material_ui as pmui
from panel.viewable import Viewer

from whatif.app.state import PlannerState

__all__ = ["SavePrompt"]


class SavePrompt(Viewer):
    """Shown while ``state.team.pending_save`` waits for an answer; hidden (and not yet made)
    otherwise."""

    def __init__(self, state: PlannerState, **params):
        super().__init__(**params)
        self.state = state
        # its alert and buttons are made the first time a save asks (most sessions never)
        self._question = self._overwrite = self._rename = self._cancel = None
        self._layout = pn.Column(visible=False, sizing_mode="stretch_width", margin=(6, 0))
        # the page holds the prompt from its first question on, as it is to be shown
        self._slot = pn.Column(sizing_mode="stretch_width", margin=0)
        state.team.param.watch(self._sync, "pending_save")
        self._sync()

    def _build(self) -> None:
        self._question = pmui.Alert(
            severity="warning", title="That name is taken", sizing_mode="stretch_width", margin=0
        )
        self._overwrite = pmui.Button(
            label="Overwrite", color="warning", variant="contained", margin=(4, 4)
        )
        self._overwrite.on_click(lambda _: self.state.team.overwrite())
        self._rename = pmui.Button(label="Save as new", variant="outlined", margin=(4, 4))
        self._rename.on_click(lambda _: self.state.team.save_as())
        self._cancel = pmui.Button(label="Cancel", variant="text", margin=(4, 4))
        self._cancel.on_click(lambda _: self.state.team.cancel())
        self._layout.objects = [
            self._question,
            pn.Row(self._overwrite, self._rename, self._cancel, margin=0),
        ]

    def __panel__(self):
        return self._slot

    def _sync(self, *_) -> None:
        pending = self.state.team.pending_save
        if not pending:
            self._layout.visible = False
            return
        if self._question is None:
            self._build()
        by = pending.get("caption") or "saved"
        self._question.object = (
            f"A scenario named '{pending['existing']}' is already in the team's scenarios "
            f"({by}). Overwrite it with the current levers, or save them as "
            f"'{pending['suggestion']}'?"
        )
        self._rename.label = f"Save as '{pending['suggestion']}'"
        self._layout.visible = True
        if not self._slot.objects:  # it reaches the browser as it is to be shown
            self._slot.objects = [self._layout]
