"""The planner app (Panel): session state, the model provider, views, plots, theme, page and
server. The state holds no widgets; the views only present it.
"""

from whatif.exports import lazy_exports

EXPORTS = {
    "DEFAULT_CI": "whatif.app.state",
    "Control": "whatif.app.state",
    "ModelBundle": "whatif.app.state",
    "ModelProvider": "whatif.app.state",
    "PlannerState": "whatif.app.state",
    "available_models": "whatif.app.state",
    "clear_cache": "whatif.app.state",
    "format_points": "whatif.app.state",
    "format_share": "whatif.app.state",
    "get_provider": "whatif.app.state",
    "load_bundle": "whatif.app.state",
    "slugify": "whatif.app.state",
    "ComparePanel": "whatif.app.views",
    "ForecastPanel": "whatif.app.views",
    "Headline": "whatif.app.views",
    "LeverControl": "whatif.app.views",
    "ModelPanel": "whatif.app.views",
    "PlannerApp": "whatif.app.views",
    "PriorityPanel": "whatif.app.views",
    "ScenarioBar": "whatif.app.views",
    "Sidebar": "whatif.app.views",
    "StatusPanel": "whatif.app.views",
    "WeightsPanel": "whatif.app.views",
    "create_app": "whatif.app.views",
    "serve": "whatif.app.views",
    "COLORS": "whatif.app.plots",
    "DRIVER_PALETTE": "whatif.app.plots",
    "ChannelIntervals": "whatif.app.plots",
    "LiftHistogram": "whatif.app.plots",
    "ScenarioIntervals": "whatif.app.plots",
    "priority_chart": "whatif.app.plots",
    "weights_chart": "whatif.app.plots",
}

__all__ = sorted(EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, EXPORTS)
