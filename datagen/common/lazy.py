"""A module imported on its first use, for heavy libraries that modules at import time only name.

`np = lazy_module("numpy")` at the top of a module costs nothing; the first `np.something`
imports numpy, and from then on the proxy hands attributes straight through. Every task module is
imported when the task registry is, so numpy (~0.15 s) would otherwise be paid by every command
whether or not it signs a near-duplicate or picks a few-shot example. Type checkers see the real
module: import it under `if TYPE_CHECKING:` beside the proxy.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class _LazyModule:
    __slots__ = ("_mod", "_name")

    def __init__(self, name: str) -> None:
        self._name = name
        self._mod: ModuleType | None = None

    def __getattr__(self, attr: str) -> Any:
        if self._mod is None:
            self._mod = importlib.import_module(self._name)
        return getattr(self._mod, attr)


def lazy_module(name: str) -> Any:
    """A stand-in for `import name` that imports it when an attribute is first read."""
    return _LazyModule(name)
