"""Which Platform call goes to which service: one table of (method, path pattern, handler).

The server has already checked the gateway headers, the sandbox and the permission, and parsed a JSON body;
a handler gets a :class:`Call` and returns a :class:`Reply`. File uploads (streamed to disk) and DCS streaming are
handled by the server itself.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from email.message import Message
from typing import Any
from urllib.parse import unquote

from emulators.aep import data_access
from emulators.aep.emulator import Emulator
from emulators.aep.replies import Reply, problem
from emulators.aep.sandbox import Sandbox

_REGISTRY = "/data/foundation/schemaregistry"
_CATALOG = "/data/foundation/catalog"
_FLOWS = "/data/foundation/flowservice"
_EXPORT = "/data/foundation/export"
_IDENTITY = "/data/core/idnamespace/identities"
_KINDS = "(classes|fieldgroups|schemas)"
_FLOW_COLLECTIONS = "(connections|sourceConnections|targetConnections|flows)"


@dataclass
class Call:
    """One Platform request, after the gateway: in which sandbox, with which body."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: Message
    body: Any  # parsed JSON, or None when there was no body
    sandbox: Sandbox
    base_url: str  # this emulator's own address, for links and inlet URLs
    groups: tuple[str, ...] = ()

    def one(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None

    @property
    def content_type(self) -> str:
        return (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()


Handler = Callable[[Emulator, Call], Reply]


def _registry_list(emulator: Emulator, call: Call) -> Reply:
    container, segment = call.groups
    return call.sandbox.registry.list(container, segment, call.headers.get("Accept"), call.query)


def _registry_get(emulator: Emulator, call: Call) -> Reply:
    container, segment, ref = call.groups
    return call.sandbox.registry.get(container, segment, ref, call.headers.get("Accept"))


def _behavior_list(emulator: Emulator, call: Call) -> Reply:
    return call.sandbox.registry.list("global", "behaviors", call.headers.get("Accept"), call.query)


def _behavior_get(emulator: Emulator, call: Call) -> Reply:
    return call.sandbox.registry.get("global", "behaviors", call.groups[0], call.headers.get("Accept"))


def _registry_create(emulator: Emulator, call: Call) -> Reply:
    return call.sandbox.registry.create(call.groups[0], call.body)


def _registry_patch(emulator: Emulator, call: Call) -> Reply:
    segment, ref = call.groups
    return call.sandbox.registry.patch(segment, ref, call.body)


def _batch_of(emulator: Emulator, call: Call) -> Any:
    batch = emulator.batches.batch(call.sandbox.name, unquote(call.groups[0]))
    return batch if batch is not None else problem(404, "Not Found", f"batch {call.groups[0]} does not exist")


def _export(view: Callable[..., Reply], with_store: bool = False) -> Handler:
    def handler(emulator: Emulator, call: Call) -> Reply:
        batch = _batch_of(emulator, call)
        if isinstance(batch, Reply):
            return batch
        if with_store:
            return view(batch, emulator.store.root, call.query, call.base_url)
        return view(batch, call.query, call.base_url)

    return handler


def _export_file(emulator: Emulator, call: Call) -> Reply:
    batch_id, _, part = unquote(call.groups[0]).rpartition("-")
    batch = emulator.batches.batch(call.sandbox.name, batch_id) if part == "0" else None
    if batch is None:
        return problem(404, "Not Found", f"dataset file {call.groups[0]} does not exist")
    return data_access.dataset_file(batch, emulator.store.root, call.query, call.base_url)


def _batch_action(emulator: Emulator, call: Call) -> Reply:
    action = (call.one("action") or "").upper()
    return emulator.batches.act(call.sandbox.name, unquote(call.groups[0]), action)


ROUTES: list[tuple[str, re.Pattern[str], Handler]] = [
    (method, re.compile(f"^{pattern}$"), handler)
    for method, pattern, handler in (
        ("GET", f"{_REGISTRY}/stats", lambda e, c: c.sandbox.registry.stats()),
        ("GET", f"{_REGISTRY}/global/behaviors", _behavior_list),
        ("GET", f"{_REGISTRY}/global/behaviors/(.+)", _behavior_get),
        ("GET", f"{_REGISTRY}/(global|tenant)/{_KINDS}", _registry_list),
        ("GET", f"{_REGISTRY}/(global|tenant)/{_KINDS}/(.+)", _registry_get),
        ("POST", f"{_REGISTRY}/tenant/{_KINDS}", _registry_create),
        (
            "GET",
            f"{_REGISTRY}/tenant/descriptors",
            lambda e, c: c.sandbox.descriptors.list(c.headers.get("Accept"), c.query),
        ),
        ("POST", f"{_REGISTRY}/tenant/descriptors", lambda e, c: c.sandbox.descriptors.create(c.body)),
        (
            "GET",
            f"{_REGISTRY}/tenant/descriptors/([^/]+)",
            lambda e, c: c.sandbox.descriptors.get(unquote(c.groups[0]), c.headers.get("Accept")),
        ),
        ("PATCH", f"{_REGISTRY}/tenant/{_KINDS}/(.+)", _registry_patch),
        ("GET", f"{_CATALOG}/dataSets", lambda e, c: c.sandbox.catalog.list(c.query)),
        ("POST", f"{_CATALOG}/dataSets", lambda e, c: c.sandbox.catalog.create(c.body)),
        ("GET", f"{_CATALOG}/dataSets/([^/]+)", lambda e, c: c.sandbox.catalog.get(unquote(c.groups[0]), c.query)),
        (
            "PATCH",
            f"{_CATALOG}/dataSets/([^/]+)",
            lambda e, c: c.sandbox.catalog.patch(unquote(c.groups[0]), c.body, c.content_type),
        ),
        (
            "GET",
            f"{_CATALOG}/batches/([^/]+)",
            lambda e, c: e.batches.catalog_body(c.sandbox.name, unquote(c.groups[0])),
        ),
        (
            "POST",
            "/data/foundation/import/batches",
            lambda e, c: e.batches.create(c.sandbox.name, c.sandbox.catalog, c.body),
        ),
        ("POST", "/data/foundation/import/batches/([^/]+)", _batch_action),
        ("GET", f"{_EXPORT}/batches/([^/]+)/failed", _export(data_access.failed_files)),
        ("GET", f"{_EXPORT}/batches/([^/]+)/meta", _export(data_access.meta_files)),
        ("GET", f"{_EXPORT}/batches/([^/]+)/files", _export(data_access.dataset_files, with_store=True)),
        ("GET", f"{_EXPORT}/files/([^/]+)", _export_file),
        ("GET", _IDENTITY, lambda e, c: c.sandbox.identity.list()),
        ("POST", _IDENTITY, lambda e, c: c.sandbox.identity.create(c.body)),
        ("GET", f"{_IDENTITY}/([^/]+)", lambda e, c: c.sandbox.identity.get(unquote(c.groups[0]))),
        ("GET", f"{_FLOWS}/{_FLOW_COLLECTIONS}", lambda e, c: c.sandbox.flows.list(c.groups[0], c.query)),
        (
            "POST",
            f"{_FLOWS}/{_FLOW_COLLECTIONS}",
            lambda e, c: c.sandbox.flows.create(c.groups[0], c.body, c.base_url),
        ),
        (
            "GET",
            f"{_FLOWS}/{_FLOW_COLLECTIONS}/([^/]+)",
            lambda e, c: c.sandbox.flows.get(c.groups[0], unquote(c.groups[1])),
        ),
    )
]


def route(emulator: Emulator, call: Call) -> Reply:
    """Run the handler for the call's method and path; 405 for a known path with another method, else 404."""
    known_path = False
    for method, pattern, handler in ROUTES:
        match = pattern.match(call.path)
        if match is None:
            continue
        known_path = True
        if method == call.method:
            call.groups = match.groups()
            return handler(emulator, call)
    if known_path:
        return problem(405, "Method Not Allowed", f"{call.method} is not supported on {call.path}")
    return problem(404, "Not Found", f"no such call: {call.method} {call.path}")
