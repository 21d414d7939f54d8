"""Start-up: defer building the IRI grammar that importing ``jsonschema`` pays for, until an IRI is checked.

``singer_sdk`` imports ``jsonschema`` at start-up, and ``jsonschema._format`` imports ``rfc3987_syntax``, which
compiles Lark grammars for RFC 3987 at import time: 0.9-1.4 s of CPU, more than half of either plugin's start-up.
That grammar only serves the ``iri`` and ``iri-reference`` formats, which neither the tap's Stripe schemas nor
draft 6 (the XDM schemas' draft) use, so a run normally never needs it. ``defer_iri_grammar`` puts a stand-in
module in its place whose ``is_valid_syntax`` imports the real module on first call and delegates to it: same
answers, paid for only when an IRI format is actually checked.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import threading
import types
from typing import Any

_MODULE = "rfc3987_syntax"


class _DeferredRfc3987Syntax(types.ModuleType):
    """Stands in for ``rfc3987_syntax`` until something uses it, then hands over to the real module."""

    def __init__(self) -> None:
        super().__init__(_MODULE, "Deferred stand-in; see stripe_aep_shared.deferred_imports.")
        self._real: types.ModuleType | None = None
        self._lock = threading.Lock()

    def _load(self) -> types.ModuleType:
        with self._lock:
            if self._real is None:
                if sys.modules.get(_MODULE) is self:
                    del sys.modules[_MODULE]
                try:
                    self._real = importlib.import_module(_MODULE)
                except BaseException:
                    sys.modules.setdefault(_MODULE, self)
                    raise
            return self._real

    def is_valid_syntax(self, term: str, value: str) -> Any:
        """What ``jsonschema`` binds at import; the real check runs on the first call."""
        return self._load().is_valid_syntax(term, value)

    def __getattr__(self, name: str) -> Any:
        # The import machinery probes dunders (``__path__`` on ``from x import y``): those must not load it.
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return getattr(self._load(), name)


def defer_iri_grammar() -> None:
    """Install the stand-in, unless the real module is already imported or is not installed at all."""
    if _MODULE in sys.modules or importlib.util.find_spec(_MODULE) is None:
        return
    sys.modules[_MODULE] = _DeferredRfc3987Syntax()
