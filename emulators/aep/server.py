"""The HTTP front: one loopback port serving IMS, Platform (gateway, Catalog, Registry, Batch Ingestion), DCS,
and the test-only ``/_emulator/`` control endpoints."""

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

from emulators.aep.batches import BatchService
from emulators.aep.catalog import Catalog, accepts_xed_full
from emulators.aep.config import MAX_STREAMING_BYTES, MAX_UPLOAD_BYTES, XED_FULL
from emulators.aep.faults import Fault, FaultPlan, Stats
from emulators.aep.gateway import check_inlet_token, check_platform_headers, is_json_content_type
from emulators.aep.ims import TokenIssuer
from emulators.aep.replies import Reply, problem
from emulators.aep.store import LandingStore, read_landed
from emulators.aep.streaming import StreamingService

_DATASET = re.compile(r"^/data/foundation/catalog/dataSets/([^/]+)$")
_BATCH = re.compile(r"^/data/foundation/catalog/batches/([^/]+)$")
_SCHEMA = re.compile(r"^/data/foundation/schemaregistry/tenant/schemas/(.+)$")
_BATCH_ACTION = re.compile(r"^/data/foundation/import/batches/([^/]+)$")
_UPLOAD = re.compile(r"^/data/foundation/import/batches/([^/]+)/datasets/([^/]+)/files/(.+)$")
_STREAM_MANY = re.compile(r"^/collection/batch/([^/]+)$")
_STREAM_ONE = re.compile(r"^/collection/([^/]+)$")
_LANDED = re.compile(r"^/_emulator/landed/([^/]+)$")
_DRAIN_LIMIT = 4 * 1024 * 1024  # larger unread bodies close the connection instead of being read and dropped
_CHUNK = 1024 * 1024


class Emulator:
    """Every service behind the port, wired once."""

    def __init__(
        self, store_dir: Path, token_ttl: int, latency_ms: float, fault_rate: float, batch_processing_ms: float
    ) -> None:
        self.stats = Stats()
        self.faults = FaultPlan(latency_ms, fault_rate, batch_processing_ms)
        self.tokens = TokenIssuer(token_ttl)
        self.catalog = Catalog()
        self.store = LandingStore(store_dir)
        self.batches = BatchService(self.catalog, self.store, self.faults, self.stats)
        self.streaming = StreamingService(self.catalog, self.store, self.stats)


class AEPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], emulator: Emulator, verbose: bool = False) -> None:
        super().__init__(address, AEPRequestHandler)
        self.emulator = emulator
        self.verbose = verbose


class AEPRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: clients reuse connections as they would against Platform
    server: AEPServer

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            sys.stderr.write(f"aep-emulator: {format % args}\n")

    # --- dispatch ---------------------------------------------------------------------------------------------

    def _dispatch(self, method: str) -> None:
        self._body_consumed = False
        emulator = self.server.emulator
        url = urlsplit(self.path)
        path, query = url.path, {k: v[0] for k, v in parse_qs(url.query).items()}
        area = _area(path)
        emulator.stats.count(f"requests_{area}")
        if area == "control":
            self._send(self._control(method, path))
            return
        latency = emulator.faults.latency_ms
        if latency > 0:
            time.sleep(latency / 1000)
        if area in ("platform", "dcs"):
            fault = emulator.faults.next_fault()
            if fault is not None:
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

    def _platform(self, method: str, path: str, query: dict[str, str]) -> Reply:
        emulator = self.server.emulator
        upload = _UPLOAD.match(path)
        has_json_body = method in ("POST", "PUT") and not upload and self._declared_length() > 0
        denied = check_platform_headers(self.headers, emulator.tokens, has_json_body)
        if denied is not None:
            emulator.stats.count("gateway_rejections")
            return denied
        if method == "GET":
            if match := _DATASET.match(path):
                body = emulator.catalog.dataset_body(unquote(match.group(1)))
                return Reply(200, body) if body else problem(404, "Not Found", f"dataset {match.group(1)} not found")
            if match := _BATCH.match(path):
                return emulator.batches.catalog_body(unquote(match.group(1)))
            if path == "/data/foundation/schemaregistry/stats":
                return Reply(200, emulator.catalog.registry_stats())
            if match := _SCHEMA.match(path):
                return self._schema(match.group(1))
        elif method == "POST":
            if path == "/data/foundation/import/batches":
                parsed = self._read_json(MAX_STREAMING_BYTES)
                return parsed if isinstance(parsed, Reply) else emulator.batches.create(parsed)
            if match := _BATCH_ACTION.match(path):
                self._read_body(_DRAIN_LIMIT)
                return emulator.batches.act(unquote(match.group(1)), query.get("action", "").upper())
        elif method == "PUT" and upload:
            return self._upload(*(unquote(part) for part in upload.groups()))
        return problem(404 if method in ("GET", "POST", "PUT") else 405, "Not Found", f"no such call: {method} {path}")

    def _schema(self, encoded_ref: str) -> Reply:
        if not accepts_xed_full(self.headers.get("Accept")):
            return problem(406, "Not Acceptable", "Accept must be application/vnd.adobe.xed-full+json; version=1")
        text = self.server.emulator.catalog.schema_text(encoded_ref)
        if text is None:
            return problem(404, "Not Found", f"schema {unquote(encoded_ref)} not found")
        return Reply(200, raw=text.encode("utf-8"), content_type=XED_FULL)

    def _upload(self, batch_id: str, dataset_id: str, file_name: str) -> Reply:
        batches = self.server.emulator.batches
        if (self.headers.get("Content-Type") or "").split(";")[0].strip().lower() != "application/octet-stream":
            return problem(415, "Unsupported Media Type", "file uploads need Content-Type: application/octet-stream")
        if self._declared_length() > MAX_UPLOAD_BYTES:
            return problem(413, "Payload Too Large", "a file may be at most 256 MB; split it into several files")
        target = batches.check_upload(batch_id, dataset_id, file_name)
        if isinstance(target, Reply):
            return target
        size = self._body_to_file(target, MAX_UPLOAD_BYTES)
        if size is None:
            target.unlink(missing_ok=True)
            return problem(413, "Payload Too Large", "a file may be at most 256 MB; split it into several files")
        return batches.finish_upload(batch_id, file_name, target, size)

    def _dcs(self, method: str, path: str, query: dict[str, str]) -> Reply:
        emulator = self.server.emulator
        many = _STREAM_MANY.match(path)
        one = None if many else _STREAM_ONE.match(path)
        if method != "POST" or not (many or one):
            return problem(404, "Not Found", f"no such call: {method} {path}")
        inlet_id = unquote((many or one).group(1))  # type: ignore[union-attr]
        if not emulator.streaming.knows_inlet(inlet_id):
            return problem(404, "Not Found", f"inlet {inlet_id} does not exist")
        denied = check_inlet_token(self.headers, emulator.tokens)
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
            return emulator.streaming.many(inlet_id, parsed)
        sync = query.get("syncValidation", "").lower() == "true"
        return emulator.streaming.single(inlet_id, parsed, sync)

    def _control(self, method: str, path: str) -> Reply:
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
        if method == "GET" and (match := _LANDED.match(path)):
            return Reply(200, read_landed(emulator.store.root, unquote(match.group(1))))
        return problem(404, "Not Found", f"no such control call: {method} {path}")

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
    if path.startswith("/data/foundation/"):
        return "platform"
    if path.startswith("/collection/"):
        return "dcs"
    return "unknown"
