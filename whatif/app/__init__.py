"""The planner app (Panel): one session's state over a shared model bundle, the views that present
it, the page that assembles them and the server that serves it.

Data flows one way: :mod:`~whatif.app.text`, :mod:`~whatif.app.controls`,
:mod:`~whatif.app.bundle`, :mod:`~whatif.app.provider`, :mod:`~whatif.app.outcomes` and
:mod:`~whatif.app.state` hold no widgets and import no view; :mod:`whatif.app.views` (one
module per panel) only presents the state; :mod:`~whatif.app.page` assembles the views and
:mod:`~whatif.app.server` serves the page. :mod:`~whatif.app.theme` and :mod:`~whatif.app.plots` give the page its look and charts, and
:mod:`~whatif.app.demo` says where the demo lives. Importing this package imports no Panel.
"""

from whatif.exports import lazy_exports

EXPORTS = {
    "slugify": "whatif.app.text",
    "NATURAL_OPERATIONS": "whatif.app.controls",
    "Control": "whatif.app.controls",
    "build_controls": "whatif.app.controls",
    "ModelBundle": "whatif.app.bundle",
    "available_models": "whatif.app.bundle",
    "clear_cache": "whatif.app.bundle",
    "load_bundle": "whatif.app.bundle",
    "manifest_key": "whatif.app.bundle",
    "ModelProvider": "whatif.app.provider",
    "get_provider": "whatif.app.provider",
    "DEFAULT_CI": "whatif.app.state",
    "PlannerState": "whatif.app.state",
    "BASELINE_KEYS": "whatif.app.outcomes",
    "baseline_levels": "whatif.app.outcomes",
    "forecast_table": "whatif.app.outcomes",
    "metric_texts": "whatif.app.outcomes",
    "DEMO_FIT": "whatif.app.demo",
    "demo_paths": "whatif.app.demo",
    "COLORS": "whatif.app.theme",
    "CSS": "whatif.app.theme",
    "THEME": "whatif.app.theme",
    "DRIVER_PALETTE": "whatif.app.plots",
    "ChannelIntervals": "whatif.app.plots",
    "LiftHistogram": "whatif.app.plots",
    "ScenarioIntervals": "whatif.app.plots",
    "priority_chart": "whatif.app.model_charts",
    "weights_chart": "whatif.app.model_charts",
    "base_figure": "whatif.app.plots",
    "Reported": "whatif.app.views.widgets",
    "channel_select": "whatif.app.views.widgets",
    "esc": "whatif.app.views.widgets",
    "html_pane": "whatif.app.views.widgets",
    "html_table": "whatif.app.views.widgets",
    "paper": "whatif.app.views.widgets",
    "sync_channel_select": "whatif.app.views.widgets",
    "LeverControl": "whatif.app.views.levers",
    "Sidebar": "whatif.app.views.sidebar",
    "ScenarioBar": "whatif.app.views.scenario_bar",
    "Headline": "whatif.app.views.headline",
    "ForecastPanel": "whatif.app.views.forecast",
    "ComparePanel": "whatif.app.views.compare",
    "WeightsPanel": "whatif.app.views.weights",
    "PriorityPanel": "whatif.app.views.priorities",
    "MonitorState": "whatif.app.monitor_state",
    "MonitorPanel": "whatif.app.views.monitor",
    "ModelPanel": "whatif.app.views.model",
    "AnswerCheckPanel": "whatif.app.views.answers",
    "answer_check_chart": "whatif.app.ppc_chart",
    "StatusPanel": "whatif.app.views.status",
    "OBJECTIVES": "whatif.app.plan_state",
    "PlanState": "whatif.app.plan_state",
    "FrontierChart": "whatif.app.views.plan",
    "PlanPanel": "whatif.app.views.plan",
    "PlannerApp": "whatif.app.page",
    "create_app": "whatif.app.page",
    "serve": "whatif.app.server",
}

__all__ = sorted(EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, EXPORTS)
