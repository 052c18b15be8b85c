"""The app's monitor tab without a browser: its state follows the planner's model, reads uploads,
reports what a user can fix, and the panel draws the nowcast of the chosen channel."""

from __future__ import annotations

import pytest

from whatif.app.bundle import load_bundle
from whatif.app.monitor_state import MonitorState
from whatif.app.state import PlannerState


@pytest.fixture
def state(tiny_model_path, tmp_path):
    planner = PlannerState(load_bundle(tiny_model_path))
    return MonitorState(planner, demo_dir=tmp_path)  # no demo feed there: starts empty


FEED = b"period,channel,i1,i2,contacts\n2024-01,ch1,0.4,1.0,100\n2024-01,ch2,0.3,2.0,50\n"


def test_an_uploaded_feed_and_alerts_give_a_nowcast_and_its_alerts(state):
    assert state.nowcast is None
    assert state.load_feed(FEED, "kpis.csv") and state.error == ""
    assert state.nowcast.order == ("2024-01",)
    assert state.load_alerts(
        b'[[alert]]\nname = "spike"\ninfluencer = "i2"\nabove = 1.5\n', "a.toml"
    )
    assert [(a.channel, a.name) for a in state.nowcast.alerts] == [("ch2", "spike")]
    state.metric = "top_box"
    assert state.nowcast.metric == "top_box"


def test_bad_uploads_are_messages_not_exceptions(state):
    assert not state.load_feed(b"period,channel,i9\n2024-01,ch1,1\n", "bad.csv")
    assert "bad.csv: column 'i9' is not an influencer of the model" in state.error
    assert not state.load_alerts(b"[[alert]]\nmetric = 'mean'\nbelow = 1\nabove = 2\n", "a.toml")
    assert "found both above and below" in state.error
    assert not state.load_alerts(b"[[alert\n", "b.toml")
    assert "b.toml: not a valid TOML file" in state.error


def test_the_demo_feed_is_offered_when_it_is_on_disk(tiny_model_path, tmp_path):
    (tmp_path / "kpis.csv").write_bytes(FEED)
    state = MonitorState(PlannerState(load_bundle(tiny_model_path)), demo_dir=tmp_path)
    assert state.source.endswith("kpis.csv") and state.nowcast is not None


def test_the_panel_draws_the_chosen_channels_nowcast_and_contributions(state):
    from whatif.app.views.monitor import MonitorPanel

    panel = MonitorPanel(state)
    assert "No KPI feed yet" in panel._summary.object
    state.load_feed(FEED, "kpis.csv")
    state.channel = "ch1"
    assert "Latest period <b>2024-01</b>" in panel._summary.object
    assert panel._charts.object.count("data:image/svg+xml;base64,") == 2
    assert "No alert fired" in panel._alert_list.object
