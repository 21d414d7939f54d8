"""The HTTP front: auth, API versions, Connect scoping, rate limits, injected faults, and routing.

One thread per connection (``ThreadingHTTPServer``) with HTTP/1.1 keep-alive, so ``--latency-ms`` delays each
request without holding up the others.
"""

from __future__ import annotations

import base64
import itertools
import json
import random
import re
import threading
import time
import traceback
from collections import deque
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from emulators.stripe import api_customer_billing
from emulators.stripe.api import LIST_ROUTES, NAMESPACED_PATHS, AccountApi
from emulators.stripe.connect import accounts_route
from emulators.stripe.control import handle_control
from emulators.stripe.errors import ApiError, mask_key
from emulators.stripe.generator import PLATFORM_ACCOUNT
from emulators.stripe.ids import base62
from emulators.stripe.products import product_not_enabled, product_of
from emulators.stripe.state import KEYS, RESTRICTED_KEY, Emulator

_VERSION = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(\.[a-z_]+)?$")
_RESTRICTED_DENIED = {"payouts": "rak_payout_read"}


class RateLimiter:
    """Requests per second per API key over a sliding one-second window."""

    def __init__(self) -> None:
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str, per_second: float) -> bool:
        if per_second <= 0:
            return True
        now = time.monotonic()
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - 1.0:
                hits.popleft()
            if len(hits) >= per_second:
                return False
            hits.append(now)
            return True


class StripeServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256

    def __init__(self, address: tuple[str, int], emulator: Emulator) -> None:
        super().__init__(address, StripeHandler)
        self.emulator = emulator
        self.limiter = RateLimiter()
        self.request_ids = itertools.count(1)
        self.faults = random.Random(emulator.seed)
        self.fault_lock = threading.Lock()


def _route_customer_billing(api: AccountApi, resource: str, remainder: str, query: str) -> bytes | None:
    """A customer's lists, a credit note's lines, and retrieving a payment method or tax id (issue 9, H8)."""
    parts = remainder.split("/") if remainder else []
    if resource == "customers" and len(parts) == 2 and parts[1] in api_customer_billing.CUSTOMER_LIST_ROUTES:
        return api_customer_billing.customer_list(api, parts[0], parts[1], query)
    if resource == "credit_notes" and len(parts) == 2 and parts[1] == "lines":
        return api_customer_billing.credit_note_lines(api, parts[0], query)
    if resource in api_customer_billing.CHILD_RETRIEVE_ROUTES and len(parts) == 1:
        stream = api_customer_billing.CHILD_RETRIEVE_ROUTES[resource]
        return api_customer_billing.retrieve_child(api, stream, parts[0], query)
    return None


class StripeHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: StripeServer

    def log_message(self, format: str, *args: Any) -> None:
        pass  # one line per request would cost more than serving it

    def date_time_string(self, timestamp: float | None = None) -> str:
        """The ``Date`` header follows the emulator's clock, moved forward by ``/_emulator/clock`` like the data."""
        return super().date_time_string(self.server.emulator.clock.now() if timestamp is None else timestamp)

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        body = self._read_body()
        if url.path.startswith("/_emulator/"):
            status, payload = handle_control(self.server.emulator, method, url.path, url.query, body)
            self._send(status, json.dumps(payload).encode(), {})
            return
        emulator = self.server.emulator
        headers = {"Request-Id": "req_" + base62(next(self.server.request_ids), 14)}
        with emulator.lock:
            emulator.stats.requests += 1
        try:
            knobs = emulator.knobs
            if knobs.latency_ms > 0:
                time.sleep(knobs.latency_ms / 1000.0)
            if self._inject_fault(knobs.fault_rate, headers):
                return
            headers["Stripe-Version"] = self._version()
            key = self._api_key()
            if not self.server.limiter.allow(key, knobs.rate_limit):
                with emulator.lock:
                    emulator.stats.rate_limited += 1
                raise ApiError(
                    429,
                    "Too many requests hit the API too quickly. We recommend an exponential backoff of your requests.",
                    code="rate_limit",
                )
            account = self._account(key)
            if method != "GET":
                raise _unrecognized(method, url.path)
            self._send(200, self._route(key, account, url.path, url.query), headers)
        except ApiError as error:
            headers["Stripe-Should-Retry"] = "true" if error.should_retry else "false"
            with emulator.lock:
                emulator.stats.errors += 1
            self._send(error.status, json.dumps(error.body()).encode(), headers)
        except Exception:  # a bug here must look like Stripe's 500, not a dropped connection
            traceback.print_exc()
            crash = ApiError(500, "An unknown error occurred.", type="api_error")
            headers["Stripe-Should-Retry"] = "true"
            self._send(500, json.dumps(crash.body()).encode(), headers)

    def _route(self, key: str, account: str, path: str, query: str) -> bytes:
        api = AccountApi(self.server.emulator, account)
        rest = path[len("/v1/") :].strip("/") if path.startswith("/v1/") else None
        if rest is None:
            raise _unrecognized("GET", path)
        if rest == "account":
            return json.dumps(self.server.emulator.account_object(account)).encode()
        # Namespaced lists (`checkout/sessions`, `billing/meters`, `issuing/cards`, ...): two path segments.
        resource = next(
            (path for path in NAMESPACED_PATHS if rest == path or rest.startswith(path + "/")), rest.split("/", 1)[0]
        )
        with self.server.emulator.lock:
            self.server.emulator.stats.by_path[resource] = self.server.emulator.stats.by_path.get(resource, 0) + 1
        remainder = rest[len(resource) :].strip("/")
        product = product_of(resource)
        if product is not None and product in self.server.emulator.disabled_products.get(account, ()):
            raise product_not_enabled(product)
        if key == RESTRICTED_KEY and resource in _RESTRICTED_DENIED:
            raise ApiError(
                403,
                f"The provided key '{mask_key(key)}' does not have the required permissions for this endpoint "
                f"on account '{account}'. Having the '{_RESTRICTED_DENIED[resource]}' permission would allow "
                "this request to continue.",
                code="insufficient_permissions",
            )
        if resource == "accounts":
            return accounts_route(self.server.emulator, account, remainder, query)
        if remainder.count("/") == 1 and remainder.endswith(("/refunds", "/reversals")):
            parent = {"application_fees": "application_fees", "transfers": "transfers"}.get(resource)
            if parent is not None:
                return api.child_list(parent, remainder.split("/")[0], query)
        routed = _route_customer_billing(api, resource, remainder, query)  # --- issue 9: H8
        if routed is not None:
            return routed
        if resource == "subscription_items" and not remainder:
            subscription = dict(parse_qsl(query)).get("subscription")
            if not subscription:
                raise ApiError(
                    400, "Missing required param: subscription.", code="parameter_missing", param="subscription"
                )
            return api.child_list("subscriptions", subscription, query, param="subscription")
        if resource == "checkout/sessions" and remainder.endswith("/line_items") and remainder.count("/") == 1:
            return api.checkout_line_items(remainder.split("/")[0], query)
        if resource == "invoices" and remainder.endswith("/lines") and remainder.count("/") == 1:
            return api.child_list("invoices", remainder.split("/")[0], query)
        if resource in LIST_ROUTES or resource == "subscription_items":
            if not remainder:
                return api.list_page(resource, query)
            if "/" not in remainder:
                return api.retrieve(resource, remainder, query)
        raise _unrecognized("GET", path)

    def _inject_fault(self, rate: float, headers: dict[str, str]) -> bool:
        """Answer 500 or drop the connection for a ``rate`` share of requests; True when it did."""
        if rate <= 0:
            return False
        with self.server.fault_lock:
            roll, drop = self.server.faults.random(), self.server.faults.random() < 0.5
        if roll >= rate:
            return False
        with self.server.emulator.lock:
            self.server.emulator.stats.faults += 1
        if drop:
            self.close_connection = True  # no response at all: the client sees the connection closed
            return True
        error = ApiError(500, "An unknown error occurred (injected by the emulator).", type="api_error")
        headers["Stripe-Should-Retry"] = "true"
        self._send(500, json.dumps(error.body()).encode(), headers)
        return True

    def _version(self) -> str:
        version = self.headers.get("Stripe-Version")
        if version is None:
            return self.server.emulator.api_version
        match = _VERSION.match(version)
        valid = match is not None
        if match:
            try:
                date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
            except ValueError:
                valid = False
        if not valid:
            raise ApiError(400, f"Invalid Stripe API version: {version}", code="api_version_invalid")
        return version

    def _api_key(self) -> str:
        auth = self.headers.get("Authorization", "")
        scheme, _, value = auth.partition(" ")
        key = ""
        if scheme.lower() == "bearer":
            key = value.strip()
        elif scheme.lower() == "basic":
            try:
                key = base64.b64decode(value.strip()).decode().partition(":")[0]
            except (ValueError, UnicodeDecodeError):
                key = ""
        if not auth:
            raise ApiError(
                401,
                "You did not provide an API key. You need to provide your API key in the Authorization header, "
                "using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
            )
        if key not in KEYS:
            raise ApiError(401, f"Invalid API Key provided: {mask_key(key)}", code="api_key_invalid")
        return key

    def _account(self, key: str) -> str:
        account = self.headers.get("Stripe-Account")
        context = self.headers.get("Stripe-Context")
        if context is not None:
            # Stripe Organizations: the context names the account the key acts for (its last segment).
            with self.server.emulator.lock:
                self.server.emulator.stripe_contexts.add(context)
            acting = context.rsplit("/", 1)[-1]
            if account is not None and account != acting:
                raise ApiError(
                    400,
                    f"The Stripe-Account header ({account}) names another account than the Stripe-Context "
                    f"header ({context}).",
                )
            account = acting
        if account is None or account == PLATFORM_ACCOUNT:
            return PLATFORM_ACCOUNT
        if account not in self.server.emulator.data:
            # Stripe's answer for an account the key cannot reach (or that does not exist)
            raise ApiError(
                403,
                f"The provided key '{mask_key(key)}' does not have access to account '{account}' "
                "(or that account does not exist). Application access may have been revoked.",
                code="account_invalid",
            )
        return account

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


def _unrecognized(method: str, path: str) -> ApiError:
    return ApiError(
        404,
        f"Unrecognized request URL ({method}: {path}). Please see https://stripe.com/docs or we can help at "
        "https://support.stripe.com/.",
    )
