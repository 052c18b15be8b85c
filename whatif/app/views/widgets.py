"""Small helpers shared by the planner's views: HTML panes and tables, cards, the channel picker,
parts made when first needed."""

from __future__ import annotations

import html
from collections.abc import Callable

import panel as pn
import panel_material_ui as pmui

from whatif.app.state import PlannerState
from whatif.app.theme import CSS

__all__ = [
    "Deferred",
    "Reported",
    "TextHTML",
    "channel_select",
    "esc",
    "html_pane",
    "html_table",
    "paper",
    "sync_channel_select",
]


class TextHTML(pn.pane.HTML):
    """An HTML pane that sends only its new text when its HTML changes.

    Panel's HTML pane works out every property of its Bokeh model again (its design's, its
    stylesheets) whenever its HTML changes, and compares them all with the model's; the
    planner's panes change only their text, several of them on every lever move, and that work
    was a few milliseconds of each move (``benchmarks/bench_session.py``). Streamed panes
    (``enable_streaming``) take Panel's own way.
    """

    def _update(self, ref, model) -> None:
        if self.enable_streaming:
            super()._update(ref, model)
            return
        self._raw_html = None
        model.update(**self._process_param_change({"object": self.object}))


def html_pane(text: str = "", **params) -> TextHTML:
    """An HTML pane (:class:`TextHTML`) styled by the page's :data:`~whatif.app.theme.CSS` (full
    width, no margin)."""
    params.setdefault("sizing_mode", "stretch_width")
    params.setdefault("margin", (0, 0))
    return TextHTML(text, stylesheets=[CSS], **params)


def esc(text) -> str:
    """``text`` escaped for HTML."""
    return html.escape(str(text))


def html_table(columns: list[str], rows: list[list], total_rows: int = 0, classes=None) -> str:
    """An HTML table (class ``wi``) of HTML cells.

    The first ``total_rows`` rows are totals (bold); ``classes``, when given, holds a CSS class
    per cell (``ok``, ``bad`` or ``""``).
    """
    head = "".join(f"<th>{esc(c)}</th>" for c in columns)
    body = []
    for i, row in enumerate(rows):
        cls = ' class="total"' if i < total_rows else ""
        cells = []
        for j, cell in enumerate(row):
            cell_cls = classes[i][j] if classes else ""
            cells.append(f'<td class="{cell_cls}">{cell}</td>' if cell_cls else f"<td>{cell}</td>")
        body.append(f"<tr{cls}>{''.join(cells)}</tr>")
    return f'<table class="wi"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def paper(*objects, **params) -> pmui.Paper:
    """An outlined card of the main area holding ``objects`` in a column."""
    params.setdefault("sizing_mode", "stretch_width")
    params.setdefault("margin", (6, 0))
    params.setdefault("elevation", 0)
    params.setdefault("variant", "outlined")
    return pmui.Paper(pn.Column(*objects, sizing_mode="stretch_width", margin=(10, 14)), **params)


def channel_select(state: PlannerState, margin) -> pmui.Select:
    """A channel picker bound to the session's focus channel (shared by the weights and map)."""

    def focus(event) -> None:
        if event.new:
            state.focus_channel = event.new

    select = pmui.Select(label="Channel", width=320, margin=margin)
    select.param.watch(focus, "value")
    return select


def sync_channel_select(select: pmui.Select, state: PlannerState) -> None:
    """Give a channel picker the model's channels and the session's focus channel."""
    bundle = state.bundle
    select.param.update(
        options={bundle.label(c): c for c in bundle.channels}, value=state.focus_channel
    )


class Deferred:
    """A place in a layout for a part most sessions never show (a message, a question), made
    the first time it is needed: every widget costs the server time to build and send, so the
    first page is lighter without the hidden ones.

    Parameters
    ----------
    make
        Makes the part (a Panel object) with the keyword arguments of its first :meth:`update`;
        called once.
    """

    def __init__(self, make: Callable[..., object]):
        self._make = make
        #: The place in the layout: empty (no height) until the part is made.
        self.slot = pn.Column(sizing_mode="stretch_width", margin=0)

    @property
    def built(self) -> bool:
        return bool(self.slot.objects)

    @property
    def view(self):
        """The part, made now if it was not yet."""
        if not self.slot.objects:
            self.slot.objects = [self._make()]
        return self.slot.objects[0]

    def update(self, **params) -> None:
        """Set the part's parameters; a part made now is made with them (it reaches the browser
        as it is to be shown, not hidden first and changed after)."""
        if self.slot.objects:
            self.slot.objects[0].param.update(**params)
        else:
            self.slot.objects = [self._make(**params)]


class Reported(Exception):
    """An error already shown in the page (the session's exception handler stays quiet)."""
