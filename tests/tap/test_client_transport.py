"""The client sends each request on urllib3 directly, set up by requests' own rules: a proxy from the environment
(with its credentials) is still used, and the request line is the one ``requests.get`` sends."""

from __future__ import annotations

import base64
import contextlib
import http.client
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest
import requests

from emulators.launch import EmulatorProcess
from tap_stripe_aep.client import StripeClient
from tap_stripe_aep.errors import StripeRequestError
from tap_stripe_aep.rate_limit import TokenBucket
from tap_stripe_aep.stream_catalog import STRIPE_API_VERSION

pytestmark = pytest.mark.timeout(60)
KEY = "sk_test_emulator_0000000000000000"


class RecordingProxy(ThreadingHTTPServer):
    """A plain-HTTP forward proxy that remembers each request line and Proxy-Authorization it was sent."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _ProxyHandler)
        self.seen: list[tuple[str, str | None]] = []


class _ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: RecordingProxy

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.server.seen.append((self.path, self.headers.get("Proxy-Authorization")))
        target = urlsplit(self.path)  # a proxy is sent the absolute URL
        upstream = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
        forwarded = {k: v for k, v in self.headers.items() if k.lower() not in ("proxy-authorization", "host")}
        upstream.request("GET", target.path + ("?" + target.query if target.query else ""), headers=forwarded)
        answer = upstream.getresponse()
        body = answer.read()
        self.send_response(answer.status)
        for name, value in answer.getheaders():
            if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        upstream.close()


@pytest.fixture
def proxy() -> Iterator[RecordingProxy]:
    server = RecordingProxy()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def _client(url: str) -> StripeClient:
    return StripeClient(api_key=KEY, api_url=url, api_version=STRIPE_API_VERSION, limiter=TokenBucket(1000))


def test_a_proxy_from_the_environment_is_used_with_its_credentials(
    shared_emulator: EmulatorProcess, proxy: RecordingProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    direct = _client(shared_emulator.url).get("/v1/customers", {"limit": 3})
    monkeypatch.setenv("HTTP_PROXY", f"http://tap:s3cret@127.0.0.1:{proxy.server_address[1]}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)

    proxied = _client(shared_emulator.url).get("/v1/customers", {"limit": 3})

    assert [c["id"] for c in proxied["data"]] == [c["id"] for c in direct["data"]]
    assert proxy.seen == [
        (f"{shared_emulator.url}/v1/customers?limit=3", "Basic " + base64.b64encode(b"tap:s3cret").decode())
    ]


def test_the_request_line_is_the_one_requests_sends(
    shared_emulator: EmulatorProcess, proxy: RecordingProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy.server_address[1]}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    queries: list[dict | list] = [
        {"limit": 100, "created[gte]": 1700000000, "created[lt]": 1700086400, "starting_after": "ch_1Ab"},
        [("limit", 100), ("types[]", "charge.updated"), ("types[]", "charge.refunded"), ("created[gte]", 5)],
        {"email": "zoë+tag@example.com", "expand[]": ["data.customer", "data.invoice"]},
    ]
    for query in queries:
        requests.get(f"{shared_emulator.url}/v1/charges", params=query, headers={"Authorization": f"Bearer {KEY}"})
        with contextlib.suppress(StripeRequestError):  # an unknown filter: refused, but the line was sent
            _client(shared_emulator.url).get("/v1/charges", query)
    sent_by_requests, sent_by_client = proxy.seen[0::2], proxy.seen[1::2]
    assert [line for line, _ in sent_by_client] == [line for line, _ in sent_by_requests]
