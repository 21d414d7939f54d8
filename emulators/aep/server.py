"""The HTTP front: one loopback port serving IMS, Platform (gateway, sandbox, permissions, then the services in
``routes.py``), DCS streaming, and the test-only ``/_emulator/`` control endpoints."""

from __future__ import annotations

import contextlib
import json
import re
import socket
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from emulators.aep.config import MAX_STREAMING_BYTES, MAX_UPLOAD_BYTES, ORG_ID
from emulators.aep.emulator import Emulator
from emulators.aep.faults import Fault
from emulators.aep.gateway import check_inlet_token, check_platform_headers, is_json_content_type
from emulators.aep.permissions import KNOWN as KNOWN_PERMISSIONS
from emulators.aep.replies import Reply, problem
from emulators.aep.routes import Call, route
from emulators.aep.store import read_landed

_UPLOAD = re.compile(r"^/data/foundation/import/batches/([^/]+)/datasets/([^/]+)/files/(.+)$")
_STREAM_MANY = re.compile(r"^/collection/batch/([^/]+)$")
_STREAM_ONE = re.compile(r"^/collection/([^/]+)$")
_LANDED = re.compile(r"^/_emulator/landed/([^/]+)$")
_DRAIN_LIMIT = 4 * 1024 * 1024  # larger unread bodies close the connection instead of being read and dropped
_CHUNK = 1024 * 1024
_JSON_BODY_LIMIT = 16 * 1024 * 1024


class AEPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], emulator: Emulator, verbose: bool = False) -> None:
        super().__init__(address, AEPRequestHandler)
        self.emulator = emulator
        self.verbose = verbose


class AEPRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: clients reuse connections as they would against Platform
    # A reply goes out in more than one write (headers, then body): with Nagle's algorithm on, the second waits for
    # the client's delayed ACK, about 40 ms a call on loopback, a wait Platform does not add (the Stripe emulator
    # turns it off too).
    disable_nagle_algorithm = True
    server: AEPServer

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            sys.stderr.write(f"aep-emulator: {format % args}\n")

    # --- dispatch ---------------------------------------------------------------------------------------------

    def _dispatch(self, method: str) -> None:
        self._body_consumed = False
        emulator = self.server.emulator
        url = urlsplit(self.path)
        path = url.path
        query = parse_qs(url.query, keep_blank_values=True)
        area = _area(path)
        emulator.stats.count(f"requests_{area}")
        if area == "control":
            self._send(self._control(method, path, query))
            return
        latency = emulator.faults.latency_ms
        if latency > 0:
            time.sleep(latency / 1000)
        sandbox = self.headers.get("x-sandbox-name") if area == "platform" else None
        if area in ("platform", "dcs"):
            fault = emulator.faults.next_fault()
            if fault is not None:
                emulator.requests.record(method, path, url.query, fault.value, sandbox)
                self._inject(fault)
                return
        if area == "ims":
            reply = self._ims(method)
        elif area == "platform":
            reply = self._platform(method, path, query)
        elif area == "dcs":
            reply = self._dcs(method, path, query)
        else:
            reply = problem(404, "Not Found", f"no such path: {path}")
        if area in ("platform", "dcs"):
            emulator.requests.record(method, path, url.query, reply.status, sandbox)
        self._send(reply)

    def _inject(self, fault: Fault) -> None:
        stats = self.server.emulator.stats
        if fault is Fault.DROP_CONNECTION:
            stats.count("faults_dropped")
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        stats.count(f"responses_{fault.value}")
        if fault is Fault.RATE_LIMITED:
            reply = Reply(429, {"error_code": "429001", "message": "Too many requests"}, {"Retry-After": "1"})
        elif fault is Fault.UNAVAILABLE:
            reply = problem(503, "Service Unavailable", "the service is temporarily unavailable; retry later")
        else:
            reply = problem(500, "Internal Server Error", "an emulated server error; retry later")
        self._send(reply)

    # --- areas ------------------------------------------------------------------------------------------------

    def _ims(self, method: str) -> Reply:
        if method != "POST":
            return problem(405, "Method Not Allowed", "use POST /ims/token/v3")
        body = self._read_body(64 * 1024)
        if body is None:
            return Reply(400, {"error": "invalid_request", "error_description": "request body too large"})
        reply = self.server.emulator.tokens.token_request(self.headers.get("Content-Type", ""), body)
        self.server.emulator.stats.count(f"ims_{reply.status}")
        return Reply(reply.status, reply.body)

    def _platform(self, method: str, path: str, query: dict[str, list[str]]) -> Reply:
        """Gateway, sandbox, permission, then the service: in that order, as Platform answers."""
        emulator = self.server.emulator
        upload = _UPLOAD.match(path) if method == "PUT" else None
        has_json_body = method in ("POST", "PUT", "PATCH") and not upload and self._declared_length() > 0
        denied = check_platform_headers(self.headers, emulator.tokens, has_json_body)
        if denied is not None:
            emulator.stats.count("gateway_rejections")
            return denied
        sandbox_name = str(self.headers.get("x-sandbox-name"))
        sandbox = emulator.sandboxes.get(sandbox_name)
        if sandbox is None:
            emulator.stats.count("gateway_rejections")
            return problem(
                403,
                "Forbidden",
                f"sandbox '{sandbox_name}' does not exist in organization {ORG_ID} or the client has no access to it",
            )
        refused = emulator.permissions.check(method, path, sandbox_name)
        if refused is not None:
            return refused
        if upload:
            return self._upload(sandbox_name, *(unquote(part) for part in upload.groups()))
        body = None
        if has_json_body:
            body = self._read_json(_JSON_BODY_LIMIT)
            if isinstance(body, Reply):
                return body
        host = self.headers.get("Host") or "{}:{}".format(*self.server.server_address[:2])
        call = Call(method, path, query, self.headers, body, sandbox, f"http://{host}")
        return route(emulator, call)

    def _upload(self, sandbox: str, batch_id: str, dataset_id: str, file_name: str) -> Reply:
        batches = self.server.emulator.batches
        if (self.headers.get("Content-Type") or "").split(";")[0].strip().lower() != "application/octet-stream":
            return problem(415, "Unsupported Media Type", "file uploads need Content-Type: application/octet-stream")
        if self._declared_length() > MAX_UPLOAD_BYTES:
            return problem(413, "Payload Too Large", "a file may be at most 256 MB; split it into several files")
        target = batches.check_upload(sandbox, batch_id, dataset_id, file_name)
        if isinstance(target, Reply):
            return target
        size = self._body_to_file(target, MAX_UPLOAD_BYTES)
        if size is None:
            target.unlink(missing_ok=True)
            return problem(413, "Payload Too Large", "a file may be at most 256 MB; split it into several files")
        return batches.finish_upload(batch_id, file_name, target, size)

    def _dcs(self, method: str, path: str, query: dict[str, list[str]]) -> Reply:
        emulator = self.server.emulator
        many = _STREAM_MANY.match(path)
        one = None if many else _STREAM_ONE.match(path)
        if method != "POST" or not (many or one):
            return problem(404, "Not Found", f"no such call: {method} {path}")
        inlet_id = unquote((many or one).group(1))  # type: ignore[union-attr]
        found = emulator.streaming.inlet(inlet_id)
        if found is None:
            return problem(404, "Not Found", f"inlet {inlet_id} does not exist")
        sandbox, inlet = found
        if inlet.authentication_required:
            denied = check_inlet_token(self.headers, emulator.tokens, inlet_id)
            if denied is not None:
                emulator.stats.count("gateway_rejections")
                return denied
        if self._declared_length() > MAX_STREAMING_BYTES:
            return problem(413, "Payload Too Large", "a streaming request may be at most 1 MB")
        if not is_json_content_type(self.headers.get("Content-Type")):
            return problem(415, "Unsupported Media Type", "streaming messages need Content-Type: application/json")
        parsed = self._read_json(MAX_STREAMING_BYTES)
        if isinstance(parsed, Reply):
            return parsed
        if many:
            return emulator.streaming.many(sandbox, inlet, parsed)
        sync = (query.get("syncValidation") or [""])[0].lower() == "true"
        return emulator.streaming.single(sandbox, inlet, parsed, sync)

    def _control(self, method: str, path: str, query: dict[str, list[str]]) -> Reply:
        emulator = self.server.emulator
        if method == "POST" and path == "/_emulator/faults":
            changes = self._read_json(_DRAIN_LIMIT)
            if isinstance(changes, Reply):
                return changes
            if not isinstance(changes, dict):
                return problem(400, "Bad Request", "the body must be a JSON object")
            try:
                plan = emulator.faults.update(changes)
            except KeyError as unknown:
                return problem(400, "Bad Request", f"unknown fault settings: {unknown.args[0]}")
            except (TypeError, ValueError) as bad:
                return problem(400, "Bad Request", f"bad fault value: {bad}")
            expired = emulator.tokens.expire_all() if changes.get("expire_tokens") else 0
            return Reply(200, {"faults": plan, "tokens_expired": expired})
        if method == "GET" and path == "/_emulator/stats":
            return Reply(
                200,
                {
                    **emulator.stats.snapshot(),
                    "tokens_issued": emulator.tokens.issued,
                    "batches_by_status": emulator.batches.counts_by_status(),
                    "faults": emulator.faults.snapshot(),
                },
            )
        if path == "/_emulator/permissions":
            return self._permissions(method)
        if path == "/_emulator/row_refusals":
            return self._row_refusals(method)
        if method == "GET" and path == "/_emulator/requests":
            entries = emulator.requests.entries()
            sandbox = (query.get("sandbox") or [None])[0]
            if sandbox is not None:
                entries = [e for e in entries if e["sandbox"] == sandbox]
            return Reply(200, {"requests": entries, "writes": sum(1 for e in entries if e["write"])})
        if method in ("DELETE", "POST") and path in ("/_emulator/requests", "/_emulator/requests/reset"):
            return Reply(200, {"forgotten": emulator.requests.reset()})
        if method == "GET" and path == "/_emulator/sandboxes":
            return Reply(200, {"sandboxes": emulator.sandboxes.names})
        if method == "GET" and (match := _LANDED.match(path)):
            return Reply(200, read_landed(emulator.store.root, unquote(match.group(1))))
        return problem(404, "Not Found", f"no such control call: {method} {path}")

    def _permissions(self, method: str) -> Reply:
        permissions = self.server.emulator.permissions
        if method == "POST":
            body = self._read_json(_DRAIN_LIMIT)
            if isinstance(body, Reply):
                return body
            deny = body.get("deny") if isinstance(body, dict) else None
            if not isinstance(deny, list) or not all(isinstance(name, str) for name in deny):
                return problem(400, "Bad Request", 'the body must be {"deny": ["Manage Schemas", ...]}')
            try:
                permissions.set_denied(deny)
            except ValueError as unknown:
                return problem(400, "Bad Request", str(unknown))
        elif method != "GET":
            return problem(405, "Method Not Allowed", "GET or POST /_emulator/permissions")
        return Reply(200, {"denied": permissions.denied(), "known": KNOWN_PERMISSIONS})

    def _row_refusals(self, method: str) -> Reply:
        refusals = self.server.emulator.row_refusals
        if method == "POST":
            body = self._read_json(_DRAIN_LIMIT)
            if isinstance(body, Reply):
                return body
            try:
                refusals.replace(body)
            except ValueError as bad:
                return problem(400, "Bad Request", f"row_refusals: {bad}")
        elif method != "GET":
            return problem(405, "Method Not Allowed", "GET or POST /_emulator/row_refusals")
        return Reply(200, {"rules": refusals.describe()})

    # --- bodies -----------------------------------------------------------------------------------------------

    def _declared_length(self) -> int:
        try:
            return max(0, int(self.headers.get("Content-Length", "0")))
        except ValueError:
            return 0

    def _is_chunked(self) -> bool:
        return "chunked" in (self.headers.get("Transfer-Encoding") or "").lower()

    def _read_json(self, limit: int) -> Any:
        body = self._read_body(limit)
        if body is None:
            return problem(413, "Payload Too Large", f"the body is over {limit} bytes")
        try:
            return json.loads(body)
        except ValueError as error:
            return problem(400, "Bad Request", f"the body is not valid JSON: {error}")

    def _read_body(self, limit: int) -> bytes | None:
        """The whole body, or None (and the connection marked to close) if it is over ``limit``."""
        chunks: list[bytes] = []
        total = 0
        for chunk in self._body_chunks():
            total += len(chunk)
            if total > limit:
                self.close_connection = True
                return None
            chunks.append(chunk)
        return b"".join(chunks)

    def _body_to_file(self, target: Path, limit: int) -> int | None:
        total = 0
        with target.open("wb") as out:
            for chunk in self._body_chunks():
                total += len(chunk)
                if total > limit:
                    self.close_connection = True
                    return None
                out.write(chunk)
        return total

    def _body_chunks(self) -> Any:
        self._body_consumed = True
        if self._is_chunked():
            while True:
                size_line = self.rfile.readline(1024)
                size = int(size_line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    return
                yield self.rfile.read(size)
                self.rfile.readline(1024)
        remaining = self._declared_length()
        while remaining > 0:
            chunk = self.rfile.read(min(_CHUNK, remaining))
            if not chunk:
                return
            remaining -= len(chunk)
            yield chunk

    def _send(self, reply: Reply) -> None:
        if not getattr(self, "_body_consumed", False):
            # keep the connection usable: an unread body would be taken for the next request
            if self._is_chunked() or self._declared_length() > _DRAIN_LIMIT:
                self.close_connection = True
            elif self._declared_length():
                self._read_body(_DRAIN_LIMIT)
        if reply.raw is not None:
            payload = reply.raw
        elif reply.body is not None:
            payload = json.dumps(reply.body).encode("utf-8")
        else:
            payload = b""
        self.send_response(reply.status)
        if payload:
            self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if payload:
            self.wfile.write(payload)


def _area(path: str) -> str:
    if path.startswith("/_emulator/"):
        return "control"
    if path == "/ims/token/v3":
        return "ims"
    if path.startswith(("/data/foundation/", "/data/core/")):
        return "platform"
    if path.startswith("/collection/"):
        return "dcs"
    return "unknown"
