"""Settings that serve many planner sessions at once: a lever acts on a move at once, and what
the server loads before serving is kept out of the garbage collector's sweeps."""

from __future__ import annotations

import gc
import inspect

import pytest
from panel.reactive import Syncable

from whatif.app.bundle import load_bundle
from whatif.app.server import keep_loaded_objects
from whatif.app.state import PlannerState
from whatif.app.views.levers import LeverControl


def test_a_lever_acts_on_a_browsers_move_at_once(tiny_model_path):
    state = PlannerState(load_bundle(tiny_model_path))
    control = next(iter(state.bundle.controls.values()))
    lever = LeverControl(state, control)
    assert lever.slider._debounce == 0
    # Panel still waits that attribute's milliseconds before acting on a browser's change
    assert "self._debounce" in inspect.getsource(Syncable._server_change)


@pytest.fixture
def unfrozen():
    yield
    gc.unfreeze()


def test_what_is_loaded_before_serving_is_kept_out_of_the_sweeps(unfrozen):
    gc.unfreeze()
    loaded = [[]]  # a model's tables, say
    assert any(o is loaded for o in gc.get_objects())
    keep_loaded_objects()
    assert not any(o is loaded for o in gc.get_objects())  # no sweep walks it again
