"""The Platform calls without a ``requests.Session`` (``aep/transport.py``): what the environment and the server
ask of a call is still done (proxies, ``NO_PROXY``, redirects), and a ``.netrc`` entry no longer replaces the
bearer token."""

from __future__ import annotations

import http.server
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from target_aep.aep.gateway import PlatformGateway
from target_aep.aep.ims import IMSTokenProvider
from target_aep.aep.transport import PlatformTransport
from tests.target.conftest import AEP, CLIENT_ID, CLIENT_SECRET, ORG_ID

pytestmark = pytest.mark.timeout(60)
STATS = "/data/foundation/schemaregistry/stats"


def gateway(aep: AEP) -> PlatformGateway:
    ims = IMSTokenProvider(
        ims_url=aep.url, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, scopes="openid,AdobeID", timeout=10
    )
    return PlatformGateway(
        platform_url=aep.url, ims=ims, client_id=CLIENT_ID, org_id=ORG_ID, sandbox_name="prod", timeout=10
    )


@pytest.fixture
def no_proxy_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_environments_proxy_is_used_unless_no_proxy_names_the_host(
    aep: AEP, monkeypatch: pytest.MonkeyPatch, no_proxy_settings: None
) -> None:
    platform = gateway(aep)
    headers = platform.platform_headers()  # the IMS token, asked before a proxy is set
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{closed_port()}")
    with pytest.raises(requests.ConnectionError):  # sent to the (absent) proxy, as a Session would send it
        PlatformTransport().request("GET", f"{aep.url}{STATS}", headers=headers, timeout=5)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    answer = PlatformTransport().request("GET", f"{aep.url}{STATS}", headers=headers, timeout=5)
    assert answer.status_code == 200 and answer.json()["tenantId"] == "acme"


def test_a_netrc_entry_for_the_platform_leaves_the_bearer_token(
    aep: AEP, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_proxy_settings: None
) -> None:
    """A ``Session`` put the ``.netrc`` login of the Platform's host in place of the bearer token (refused)."""
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login someone password not-the-token\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    assert gateway(aep).request("GET", STATS, what="Schema Registry stats").json()["tenantId"] == "acme"


@pytest.fixture
def redirecting_server() -> Iterator[tuple[str, list[tuple[str, str, bytes]]]]:
    """``/old`` answers 307 to ``/new``, which answers what it was sent; yields its URL and the calls it got."""
    calls: list[tuple[str, str, bytes]] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def answer(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            calls.append((self.command, self.path, body))
            if self.path == "/old":
                self.send_response(307)
                self.send_header("Location", "/new")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            reply = b'{"got": "%d bytes at /new"}' % len(body)
            self.send_response(200)
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        do_GET = do_PUT = answer

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", calls
    finally:
        server.shutdown()
        server.server_close()


def test_a_redirect_is_followed_with_the_same_method_and_body(
    redirecting_server: tuple[str, list[tuple[str, str, bytes]]], no_proxy_settings: None
) -> None:
    url, calls = redirecting_server
    body = memoryview(b'{"a": 1}\n' * 1000)
    answer = PlatformTransport().request("PUT", f"{url}/old", headers={"x-api-key": "k"}, timeout=5, data=body)
    assert answer.json() == {"got": "9000 bytes at /new"}
    assert [(method, path, len(sent)) for method, path, sent in calls] == [
        ("PUT", "/old", 9000),
        ("PUT", "/new", 9000),
    ]
