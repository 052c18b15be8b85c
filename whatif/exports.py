"""Lazy public APIs for the sub-packages: ``from whatif.model import build_model`` imports
:mod:`whatif.model.build` when the name is first used, not when the package is imported.

Each sub-package's ``__init__`` states its public names once, in a dict ``EXPORTS`` of name to
defining module, so importing ``whatif.fitting`` to load a model never pulls in the sampler stack
that :mod:`whatif.fitting.fit` needs, and the architecture test reads the same table.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

__all__ = ["lazy_exports"]


def lazy_exports(package: str, exports: dict[str, str]) -> tuple[Callable, Callable]:
    """Module-level ``__getattr__`` and ``__dir__`` (PEP 562) serving ``exports``.

    Parameters
    ----------
    package
        The package's ``__name__``.
    exports
        Public name to the module that defines it.
    """

    def __getattr__(name: str):
        if name in exports:
            return getattr(importlib.import_module(exports[name]), name)
        raise AttributeError(f"module '{package}' has no attribute '{name}'")

    def __dir__() -> list[str]:
        return sorted(exports)

    return __getattr__, __dir__
