"""Start-up: defer third-party modules the Singer SDK imports at start-up but a run of ours normally never uses.

Importing ``singer_sdk`` imports, whatever the plugin does, modules that serve only features we do not use, and
they cost more CPU than everything of ours a short run does:

- ``rfc3987_syntax`` (both plugins): ``jsonschema._format`` imports it, and it compiles Lark grammars for
  RFC 3987 at import time: 0.9-1.4 s, more than half of either plugin's start-up. It serves only the ``iri`` and
  ``iri-reference`` formats, which neither the tap's Stripe schemas nor draft 6 (the XDM schemas') use.
- For the target (``defer_modules_the_target_never_uses``) and the tap (``defer_modules_the_tap_never_uses``: the
  same modules, since the tap reads Stripe with its own client, not the SDK's ``RESTStream``, and takes no BATCH
  messages either; about 0.3 s of its start-up):
  ``joblib`` (with loky and psutil, about 0.05 s): ``singer_sdk.target_base`` binds ``Parallel``, ``delayed``
  and ``parallel_config`` for ``Target._drain_all``, which ``TargetAEP`` does with the standard library's thread
  pool instead; ``upath`` (with ``fsspec`` and ``asyncio``, about 0.07 s): ``singer_sdk.helpers._batch`` binds
  ``UPath`` for the SDK's BATCH messages, which the target does not take; ``rfc3986_validator`` (a large
  regular expression, about 0.01 s): ``jsonschema._format`` binds ``validate_rfc3986`` for the ``uri`` formats,
  which no schema of the target checks; ``backoff`` (with ``asyncio``, about 0.02 s): ``singer_sdk.streams.rest``
  imports it for ``RESTStream``'s retries, a tap's; ``isoduration`` (with ``arrow``, about 0.04 s):
  ``jsonschema._format`` calls ``isoduration.parse_duration`` for the ``duration`` format (drafts 2019-09 and
  2020-12, not the XDM schemas' draft 6) and binds ``isoduration.DurationParsingException``, the class that check
  catches. That class must be the one the parser raises, so the stand-in holds the real one: the package's
  ``parser/exceptions.py`` (which imports nothing) is loaded on its own under its own name, and the real package,
  once imported, takes that very module from ``sys.modules``.

Each is replaced, before anything imports the SDK, by a stand-in module (``DeferredModule``) that holds the names
those importers bind as forwarders: a call imports the real module the first time and delegates to it, so the
answers are the same, paid for only when a feature really uses one. Any other attribute of a stand-in loads the
real module as well. Only callables are forwarded (never a class an ``isinstance`` or subclass would need); a
module already imported or not installed is left alone. Sub-modules of a stand-in package still import (its
``__path__`` is the real package's, found without running it).
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import threading
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

# module -> the callables its SDK-side importers bind with `from module import name` at import time
_IRI_GRAMMAR = {"rfc3987_syntax": ("is_valid_syntax",)}
_TARGET_NEVER_USES = {
    "joblib": ("Parallel", "delayed", "parallel_config"),  # singer_sdk.target_base
    "upath": ("UPath",),  # singer_sdk.helpers._batch
    "rfc3986_validator": ("validate_rfc3986",),  # jsonschema._format
    "backoff": (),  # singer_sdk.streams.rest: used only in RESTStream's methods (a tap's requests)
}
# The tap reads Stripe with its own client (``tap_stripe_aep.client``: requests, its own retries), not the SDK's
# RESTStream, and writes no BATCH messages: the same modules serve it nothing.
_TAP_NEVER_USES = {
    "joblib": ("Parallel", "delayed", "parallel_config"),  # singer_sdk.target_base (imported by singer_sdk)
    "upath": ("UPath",),  # singer_sdk.helpers._batch
    "rfc3986_validator": ("validate_rfc3986",),  # jsonschema._format
    "backoff": (),  # singer_sdk.streams.rest: RESTStream's retries
}


class DeferredModule(types.ModuleType):
    """Stands in for a module until something uses it, then hands over to the real module."""

    def __init__(self, name: str, callables: tuple[str, ...], search_path: list[str] | None) -> None:
        super().__init__(name, "Deferred stand-in; see stripe_aep_shared.deferred_imports.")
        self._real: types.ModuleType | None = None
        self._lock = threading.RLock()
        for attribute in callables:
            setattr(self, attribute, self._forwarder(attribute))
        if search_path is not None:  # a package: its sub-modules import from the real place
            self.__path__ = search_path

    @property
    def loaded(self) -> bool:
        """Whether something has used the module, so that the real one was imported."""
        return self._real is not None

    def _load(self) -> types.ModuleType:
        with self._lock:
            if self._real is None:
                name = self.__name__
                if sys.modules.get(name) is self:
                    del sys.modules[name]
                try:
                    self._real = importlib.import_module(name)
                except BaseException:
                    sys.modules.setdefault(name, self)
                    raise
                self._attach_preloaded()
            return self._real

    def _attach_preloaded(self) -> None:
        """A sub-module loaded before its package (``_defer_isoduration``) is found in ``sys.modules`` by the
        package's imports, which then do not make it an attribute of its parent: made one here."""
        prefix = self.__name__ + "."
        for name, module in list(sys.modules.items()):
            parent_name, _, child = name.rpartition(".")
            parent = sys.modules.get(parent_name)
            if name.startswith(prefix) and parent is not None and not hasattr(parent, child):
                setattr(parent, child, module)

    def _forwarder(self, attribute: str) -> Callable[..., Any]:
        def forward(*args: Any, **kwargs: Any) -> Any:
            return getattr(self._load(), attribute)(*args, **kwargs)

        forward.__name__ = forward.__qualname__ = attribute
        forward.__doc__ = f"{self.__name__}.{attribute}, imported on first call (a deferred module)."
        return forward

    def __getattr__(self, name: str) -> Any:
        # The import machinery probes dunders (`__path__` on `from x import y`): those must not load it.
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return getattr(self._load(), name)


def _defer(modules: dict[str, tuple[str, ...]]) -> None:
    for name, callables in modules.items():
        if name in sys.modules:
            continue
        spec = importlib.util.find_spec(name)
        if spec is None:  # not installed: whoever imports it decides what that means
            continue
        search_path = list(spec.submodule_search_locations) if spec.submodule_search_locations is not None else None
        sys.modules[name] = DeferredModule(name, callables, search_path)


def _defer_isoduration() -> None:
    """Stand in for ``isoduration`` with its real ``DurationParsingException`` (see the module docstring)."""
    name, exceptions_name = "isoduration", "isoduration.parser.exceptions"
    if name in sys.modules or exceptions_name in sys.modules:
        return
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return
    search_path = list(spec.submodule_search_locations)
    exceptions_spec = importlib.util.spec_from_file_location(
        exceptions_name, Path(search_path[0]) / "parser" / "exceptions.py"
    )
    if exceptions_spec is None or exceptions_spec.loader is None or not Path(exceptions_spec.origin or "").is_file():
        return  # another layout of the package: leave it alone
    exceptions = importlib.util.module_from_spec(exceptions_spec)
    exceptions_spec.loader.exec_module(exceptions)
    parsing_error = getattr(exceptions, "DurationParsingException", None)
    if not isinstance(parsing_error, type):
        return
    sys.modules[exceptions_name] = exceptions
    stand_in = DeferredModule(name, ("parse_duration",), search_path)
    stand_in.DurationParsingException = parsing_error
    sys.modules[name] = stand_in


def defer_iri_grammar() -> None:
    """Both plugins: stand in for ``rfc3987_syntax`` (see the module docstring)."""
    _defer(_IRI_GRAMMAR)


def defer_modules_the_tap_never_uses() -> None:
    """The tap: stand in for ``joblib``, ``upath``, ``rfc3986_validator``, ``backoff`` and ``isoduration`` (see
    the module docstring)."""
    _defer(_TAP_NEVER_USES)
    _defer_isoduration()


def defer_modules_the_target_never_uses() -> None:
    """The target: stand in for ``joblib``, ``upath``, ``rfc3986_validator``, ``backoff`` and ``isoduration`` (see
    the module docstring)."""
    _defer(_TARGET_NEVER_USES)
    _defer_isoduration()
