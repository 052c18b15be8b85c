"""The monitor tab's session state: a KPI feed, its alerts, and their nowcast; no Panel in it.

:class:`MonitorState` follows a planner session's model (:class:`~whatif.app.state.PlannerState`):
when the model changes it starts over, with the demo feed and alerts when the model is the demo's
and they are on disk. A feed or alerts file can be uploaded (CSV or Parquet; TOML); problems a
user can fix go to :attr:`MonitorState.error`, never raised.
"""

from __future__ import annotations

import io
import tomllib
from pathlib import Path

import pandas as pd
import param

from whatif.analysis.alerts import AlertRule, parse_alerts, validate_alerts
from whatif.analysis.monitor import Monitor
from whatif.analysis.monitor_results import Nowcast
from whatif.app.state import PlannerState
from whatif.data.kpis import KpiFeed, load_kpis, read_kpi_frame
from whatif.errors import WhatifError

__all__ = ["MonitorState"]


class MonitorState(param.Parameterized):
    """One session's monitor: the feed, the alerts, the metric and the nowcast.

    Parameters
    ----------
    planner
        The session's planner state (its model).
    demo_dir
        The folder of the demo's ``kpis.csv`` and ``alerts.toml``, offered by default.
    """

    metric = param.String(default="", doc="mean, top_box or nps (empty: the model's headline).")
    channel = param.String(default="company", doc="The channel (or company) the charts show.")
    source = param.String(default="", doc="The feed's name.")
    nowcast = param.ClassSelector(class_=Nowcast, default=None, allow_None=True)
    error = param.String(default="", doc="The last problem a user can fix, in words.")
    info = param.String(default="", doc="The last confirmation, in words.")

    def __init__(self, planner: PlannerState, demo_dir: str | Path | None = None, **params):
        super().__init__(**params)
        self.planner = planner
        self.demo_dir = Path(demo_dir) if demo_dir else None
        self.feed: KpiFeed | None = None
        self.rules: tuple[AlertRule, ...] = ()
        self._monitor: Monitor | None = None
        planner.param.watch(lambda *_: self.reset(), ["model_path"])
        if planner.ready:
            self.reset()

    @property
    def ready(self) -> bool:
        return self.planner.ready

    @property
    def monitor(self) -> Monitor:
        bundle = self.planner.bundle
        if self._monitor is None or self._monitor.model is not bundle.model:
            self._monitor = Monitor(bundle.model, bundle.engine)
        return self._monitor

    @property
    def metrics(self) -> tuple[str, ...]:
        return self.planner.bundle.model.spec.rating.metrics if self.ready else ()

    def reset(self) -> None:
        """Start over on the planner's model: the demo feed and alerts when they apply."""
        self.feed, self.rules, self._monitor = None, (), None
        self.param.update(nowcast=None, error="", info="", source="", channel="company")
        if not self.ready or self.demo_dir is None:
            return
        feed, alerts = self.demo_dir / "kpis.csv", self.demo_dir / "alerts.toml"
        if not feed.is_file():
            return
        model = self.planner.bundle.model
        try:
            self.feed = load_kpis(feed, model.spec, model.channels)
            if alerts.is_file():
                self.rules = self._checked(
                    parse_alerts(tomllib.loads(alerts.read_text()), str(alerts)), str(alerts)
                )
        except (WhatifError, tomllib.TOMLDecodeError):
            self.feed, self.rules = None, ()  # the demo files are not for this model
            return
        self.source = str(feed)
        self.recompute()

    def _checked(self, rules, source: str) -> tuple[AlertRule, ...]:
        model = self.planner.bundle.model
        problems = validate_alerts(
            rules,
            channels=model.channels,
            influencers=model.spec.influencer_ids,
            metrics=model.spec.rating.metrics,
            source=source,
        )
        if problems:
            raise WhatifError(*problems)
        return rules

    def load_feed(self, data: bytes, filename: str) -> bool:
        """Read an uploaded feed (``.csv`` or ``.parquet``); False and :attr:`error` if it is bad."""
        model = self.planner.bundle.model
        try:
            if filename.lower().endswith((".parquet", ".pq")):
                frame = pd.read_parquet(io.BytesIO(data))
            else:
                frame = pd.read_csv(io.BytesIO(data))
            feed = read_kpi_frame(frame, model.spec, model.channels, source=filename)
        except WhatifError as err:
            self.param.update(error="\n".join(err.problems), info="")
            return False
        except Exception as err:  # an unreadable upload is the file's fault
            self.param.update(
                error=f"{filename}: cannot read the feed ({err}); upload a CSV or Parquet file",
                info="",
            )
            return False
        self.feed = feed
        self.param.update(
            source=filename, error="", info=f"Loaded {filename}: {len(feed.periods)} periods"
        )
        self.recompute()
        return True

    def load_alerts(self, data: bytes | str, filename: str) -> bool:
        """Read an uploaded alerts TOML; False and :attr:`error` if it is bad."""
        try:
            text = data.decode("utf-8") if isinstance(data, bytes) else data
            rules = self._checked(parse_alerts(tomllib.loads(text), filename), filename)
        except (UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
            self.param.update(error=f"{filename}: not a valid TOML file ({err})", info="")
            return False
        except WhatifError as err:
            self.param.update(error="\n".join(err.problems), info="")
            return False
        self.rules = rules
        self.param.update(error="", info=f"Loaded {len(rules)} alerts from {filename}")
        self.recompute()
        return True

    def recompute(self) -> None:
        """The nowcast of the feed in the chosen metric, with the alerts."""
        if not self.ready or self.feed is None:
            self.nowcast = None
            return
        metric = self.metric if self.metric in self.metrics else None
        self.nowcast = self.monitor.nowcast(self.feed, metric, self.planner.ci, self.rules)

    @param.depends("metric", watch=True)
    def _on_metric(self) -> None:
        self.recompute()
