"""The planner's panels: one :class:`panel.viewable.Viewer` per part of the page, over one state.

Every view presents one :class:`~whatif.app.state.PlannerState` (one per browser session) and
calls its methods; none computes. Widgets and panes are created once and updated in place when the
state changes, so a lever move redraws numbers and charts without rebuilding the page. Charts come
from :mod:`whatif.app.plots`; :mod:`whatif.app.page` assembles the views into the page.

* :mod:`~whatif.app.views.levers`: one lever (:class:`~whatif.app.views.levers.LeverControl`)
* :mod:`~whatif.app.views.sidebar`: the model, year, channels and levers
* :mod:`~whatif.app.views.scenario_bar`: name, save, download, upload, brief; messages
* :mod:`~whatif.app.views.headline`: the company lift, top-box and channel cards
* :mod:`~whatif.app.views.forecast`, :mod:`~whatif.app.views.compare`,
  :mod:`~whatif.app.views.weights`, :mod:`~whatif.app.views.priorities`,
  :mod:`~whatif.app.views.model`, :mod:`~whatif.app.views.monitor`: the tabs
* :mod:`~whatif.app.views.status`: the page while the model is fitted or loaded
* :mod:`~whatif.app.views.widgets`: small helpers the views share

The public names are listed in :mod:`whatif.app`; importing this package imports no view.
"""
