"""Stripe HTTP calls: pinned ``Stripe-Version``, Bearer auth, Connect and Organization headers, shared rate limit,
retries, paging.

Every request of the process goes through :meth:`StripeClient.get`. Threads share one :class:`TokenBucket`
(Stripe limits requests per key, not per connection) and each thread keeps its own keep-alive connection
(:class:`StripeConnection`).

The connection is chosen by ``requests``' own rules, once per thread (proxies and CA bundle from the environment,
TLS verification, the pool for the host), and each request then goes straight to that urllib3 pool: at Stripe's
live-mode ceiling (100 requests/s) ``requests``' per-call work (merging the environment's settings, preparing the
request, the adapter, cookies, hooks) cost about 0.6 ms of CPU a request, 6 µs an object, against 0.27 ms for the
pool's own request (measured against the emulator).
"""

from __future__ import annotations

import contextlib
import email.utils
import json
import logging
import random
import threading
import time
from collections.abc import Iterator
from typing import Any, cast

import requests
import urllib3
from requests.models import RequestEncodingMixin
from requests.utils import default_headers, get_encoding_from_headers, requote_uri

from tap_stripe_aep.errors import (
    StripeAPIError,
    StripeAuthError,
    StripePermissionError,
    StripeRequestError,
    StripeRetriesExhaustedError,
    key_hint,
)
from tap_stripe_aep.exact_json import decode_page
from tap_stripe_aep.rate_limit import TokenBucket

PAGE_SIZE = 100
RETRYABLE_STATUS = frozenset({409, 429, 500, 502, 503, 504})
MAX_ATTEMPTS = 8
BACKOFF_BASE_SECONDS = 0.25
BACKOFF_CAP_SECONDS = 20.0
TIMEOUT_SECONDS = (10.0, 60.0)
_TIMEOUT = urllib3.Timeout(connect=TIMEOUT_SECONDS[0], read=TIMEOUT_SECONDS[1])
# What a request may fail with before an HTTP status: a refused or dropped connection, a timeout, a body cut
# short (``ProtocolError``), TLS or proxy trouble. All are worth another try (``requests`` raised them as
# ConnectionError or Timeout, except a body cut short, which is retried now too).
_TRANSPORT_ERRORS = (urllib3.exceptions.HTTPError, OSError)

logger = logging.getLogger("tap_stripe_aep.client")


class StripeConnection:
    """One thread's keep-alive connection to the API, set up as ``requests.Session().get`` would set it up.

    The proxy, the CA bundle (``REQUESTS_CA_BUNDLE``, ``CURL_CA_BUNDLE``, else certifi's), the TLS settings and
    the headers every request carries are decided once, by ``requests`` itself; :meth:`get` then sends each
    request through the urllib3 pool ``requests`` would have used, with the query encoded as it would encode it.
    """

    def __init__(self, api_url: str, headers: dict[str, str]) -> None:
        session = requests.Session()
        settings = session.merge_environment_settings(api_url, {}, None, None, None)
        probe = requests.Request("GET", api_url + "/").prepare()
        adapter = session.get_adapter(api_url)
        assert isinstance(adapter, requests.adapters.HTTPAdapter)
        self._adapter = adapter  # owns the pool manager (and a proxy's) behind the pool
        self._pool = cast(
            urllib3.HTTPConnectionPool,
            adapter.get_connection_with_tls_context(
                probe, settings["verify"], proxies=settings["proxies"], cert=settings["cert"]
            ),
        )
        # A plain-HTTP proxy takes the absolute URL in the request line, anything else the path (``request_url``):
        # either ends with the probe's "/", after which each request's path goes.
        target = adapter.request_url(probe, settings["proxies"])
        assert target.endswith("/"), target
        self._prefix = target[:-1]
        self._headers = {**default_headers(), **headers}

    def get(
        self, path: str, params: dict[str, Any] | list[tuple[str, Any]] | None, headers: dict[str, str] | None
    ) -> tuple[int, Any, bytes]:
        """GET ``path?params`` on this thread's connection: ``(status, headers, body bytes)``."""
        query = RequestEncodingMixin._encode_params(params) if params else ""  # type: ignore[attr-defined]
        target = requote_uri(self._prefix + path + ("?" + query if query else ""))
        response = self._pool.urlopen(
            "GET",
            target,
            headers={**self._headers, **headers} if headers else self._headers,
            retries=False,
            redirect=False,
            assert_same_host=False,
            timeout=_TIMEOUT,
            preload_content=True,  # the whole body is read here: a connection dropped mid-body raises
            decode_content=True,
        )
        return response.status, response.headers, response.data


class StripeClient:
    """A thread-safe reader of one Stripe API base address with one key."""

    def __init__(
        self,
        *,
        api_key: str,
        api_url: str,
        api_version: str,
        limiter: TokenBucket,
        user_agent: str = "tap-stripe-aep",
        stripe_context: str | None = None,
    ) -> None:
        self._api_key = api_key
        self.api_url = api_url.rstrip("/")
        self.api_version = api_version
        self.limiter = limiter
        self.user_agent = user_agent
        # Stripe Organizations: which account of the organization the key acts for, on every request.
        self.stripe_context = stripe_context
        self._local = threading.local()
        # Seconds to add to the local clock to get Stripe's: windows and the 30-day event horizon are in
        # Stripe's time, which can differ from ours (and does, on purpose, in the emulator).
        self.clock_offset = 0.0
        self.requests_made = 0

    def __repr__(self) -> str:  # never show the key, even in a debugger or a traceback
        return f"StripeClient({self.api_url!r}, {key_hint(self._api_key)})"

    @property
    def _connection(self) -> StripeConnection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            headers = {
                "Authorization": f"Bearer {self._api_key}",
                "Stripe-Version": self.api_version,
                "User-Agent": self.user_agent,
            }
            if self.stripe_context:
                headers["Stripe-Context"] = self.stripe_context
            connection = self._local.connection = StripeConnection(self.api_url, headers)
        return connection

    def server_now(self) -> int:
        """Stripe's current time (Unix seconds), from the ``Date`` header of the latest response."""
        return int(time.time() + self.clock_offset)

    def get(
        self,
        path: str,
        params: dict[str, Any] | list[tuple[str, Any]] | None = None,
        *,
        account: str | None = None,
        stream: str | None = None,
        permission: str | None = None,
    ) -> dict[str, Any]:
        """GET ``path`` and return the decoded JSON body, retrying what is safe to retry.

        ``stream`` and ``permission`` only serve error messages: a 403 names the permission the stream needs.
        """
        headers = {"Stripe-Account": account} if account else None
        url = self.api_url + path
        last_problem = ""
        for attempt in range(MAX_ATTEMPTS):
            self.limiter.acquire()
            self.requests_made += 1
            try:
                status, response_headers, body = self._connection.get(path, params, headers)
            except _TRANSPORT_ERRORS as exc:
                if isinstance(exc, urllib3.exceptions.LocationValueError):
                    raise  # not the network: an api_url urllib3 cannot use
                last_problem = f"connection failed ({type(exc).__name__})"
                self._sleep_before_retry(attempt, path, last_problem)
                continue
            self._note_server_date(response_headers.get("Date"))
            encoding = get_encoding_from_headers(response_headers)
            if status == 200:
                try:
                    return decode_page(body, encoding)
                except ValueError:
                    # A body cut off by a dropped connection: safe to read again.
                    last_problem = "truncated response body"
                    self._sleep_before_retry(attempt, path, last_problem)
                    continue
            should_retry = response_headers.get("Stripe-Should-Retry")
            if (status in RETRYABLE_STATUS and should_retry != "false") or should_retry == "true":
                last_problem = f"HTTP {status}"
                if status == 429:
                    self.limiter.penalize()
                self._sleep_before_retry(attempt, path, last_problem, response_headers.get("Retry-After"))
                continue
            text = str(body, encoding or "utf-8", errors="replace")
            raise self._error_for(status, text, path, stream, permission)
        raise StripeRetriesExhaustedError(
            f"GET {url} still failing after {MAX_ATTEMPTS} attempts (last: {last_problem}); "
            "check the network and api_url, or Stripe's status page, then rerun"
        )

    def list_pages(
        self,
        path: str,
        params: dict[str, Any] | None = None,
        *,
        account: str | None = None,
        stream: str | None = None,
        permission: str | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Yield each page of a list call (``limit=100``, following ``starting_after``), newest first."""
        query = dict(params or {})
        query["limit"] = PAGE_SIZE
        while True:
            page = self.get(path, query, account=account, stream=stream, permission=permission)
            yield page
            data = page.get("data") or []
            if not page.get("has_more") or not data:
                return
            query["starting_after"] = data[-1]["id"]

    def _sleep_before_retry(self, attempt: int, path: str, problem: str, retry_after: str | None = None) -> None:
        if attempt + 1 >= MAX_ATTEMPTS:
            return
        delay = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * (2**attempt))
        delay = delay / 2 + random.uniform(0, delay / 2)  # jitter: threads refused together retry apart
        if retry_after:
            with contextlib.suppress(ValueError):
                delay = max(delay, float(retry_after))
        logger.info("GET %s: %s; retry %d in %.2f s", path, problem, attempt + 1, delay)
        time.sleep(delay)

    def _note_server_date(self, date_header: str | None) -> None:
        if not date_header:
            return
        try:
            server_time = email.utils.parsedate_to_datetime(date_header).timestamp()
        except (TypeError, ValueError):
            return
        self.clock_offset = server_time - time.time()

    def _error_for(
        self, status: int, body_text: str, path: str, stream: str | None, permission: str | None
    ) -> StripeAPIError:
        error: dict[str, Any] = {}
        with contextlib.suppress(ValueError, AttributeError):
            error = json.loads(body_text).get("error") or {}
        message = str(error.get("message") or body_text[:300] or "no message")
        # Stripe quotes the key's tail in some messages; make sure nothing longer ever leaks.
        message = message.replace(self._api_key, "***")
        where = f" while reading stream '{stream}'" if stream else ""
        if status == 401:
            return StripeAuthError(
                f"the API key was rejected ({key_hint(self._api_key)}){where}: {message}", status=status
            )
        if status == 403:
            needed = permission or "a permission"
            return StripePermissionError(
                f"the API key lacks permission '{needed}' needed by stream '{stream or path}' "
                f"(grant it to the restricted key, or deselect the stream): {message}",
                status=status,
            )
        param = error.get("param")
        detail = f" (param: {param})" if param else ""
        return StripeRequestError(
            f"Stripe refused GET {path}{where}: HTTP {status}: {message}{detail}", status=status, param=param
        )
