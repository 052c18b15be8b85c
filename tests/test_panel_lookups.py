"""Panel's resource look-ups, kept per process (whatif.app.panel_lookups): same answers as Panel's
own, computed once, and computed afresh under autoreload."""

from __future__ import annotations

import panel as pn
import pytest
from panel.custom import ReactiveESM
from panel.io import resources
from panel.util import classproperty
from panel_material_ui.base import MaterialComponent

from whatif.app import panel_lookups
from whatif.app.panel_lookups import memoize_panel_lookups


def _component_classes() -> list[type]:
    import panel_material_ui  # noqa: F401 - its components are the ones the planner makes

    seen, todo = [], [ReactiveESM]
    while todo:
        cls = todo.pop()
        seen.append(cls)
        todo.extend(cls.__subclasses__())
    return seen


@pytest.fixture
def original(monkeypatch):
    """Panel's own look-ups, restored after the test; the memoized ones installed."""
    monkeypatch.setattr(ReactiveESM, "_bundle_path", ReactiveESM.__dict__["_bundle_path"])
    monkeypatch.setattr(MaterialComponent, "_bundle_css", MaterialComponent.__dict__["_bundle_css"])
    monkeypatch.setattr(resources, "_is_subpath", resources._is_subpath)
    bundle_path = ReactiveESM.__dict__["_bundle_path"]
    bundle_css = MaterialComponent.__dict__["_bundle_css"]
    if isinstance(bundle_path, panel_lookups._MemoizedClassProperty):  # installed before
        bundle_path = classproperty(bundle_path.compute)
        bundle_css = classproperty(MaterialComponent.__dict__["_bundle_css"].compute)
        monkeypatch.setattr(ReactiveESM, "_bundle_path", bundle_path)
        monkeypatch.setattr(MaterialComponent, "_bundle_css", bundle_css)
    classes = _component_classes()
    before = {
        cls: (bundle_path.f(cls), bundle_css.f(cls) if issubclass(cls, MaterialComponent) else None)
        for cls in classes
    }
    memoize_panel_lookups()
    return before


def test_memoized_lookups_give_panels_answers(original):
    for cls, (path, css) in original.items():
        assert cls._bundle_path == path, cls
        if css is not None:
            assert cls._bundle_css == css, cls
    assert isinstance(ReactiveESM.__dict__["_bundle_path"], panel_lookups._MemoizedClassProperty)
    dist = resources.DIST_DIR
    assert resources._is_subpath(dist / "panel.min.js", dist)
    assert not resources._is_subpath(dist.parent, dist)


class Probe(pn.custom.JSComponent):
    """A component of this module: Panel looks for its bundle beside it."""

    _esm = "export function render() {}"


def _counted_lookups(monkeypatch) -> list[type]:
    calls = []
    prop = ReactiveESM.__dict__["_bundle_path"]
    compute = prop.compute
    monkeypatch.setattr(prop, "compute", lambda cls: calls.append(cls) or compute(cls))
    prop.values.clear()
    return calls


def test_memoized_lookups_are_computed_once(original, monkeypatch):
    calls = _counted_lookups(monkeypatch)
    for _ in range(3):
        assert Probe._bundle_path is None
    assert calls == [Probe]


def test_autoreload_computes_afresh(original, monkeypatch):
    calls = _counted_lookups(monkeypatch)
    monkeypatch.setattr(pn.config, "autoreload", True)
    for _ in range(2):
        Probe._bundle_path  # noqa: B018 - the look-up is the test
    assert calls == [Probe, Probe]


def test_installing_twice_changes_nothing(original):
    prop = ReactiveESM.__dict__["_bundle_path"]
    memoize_panel_lookups()
    assert ReactiveESM.__dict__["_bundle_path"] is prop
