"""The Platform gateway: the four Platform headers, retries with backoff, and typed errors.

Retry policy (module level, shared by IMS, Catalog, batch and streaming calls): 429 honours ``Retry-After``;
5xx, timeouts and dropped connections back off exponentially with full jitter. A 401 gets exactly one retry with
a fresh IMS token, because a token can expire (or be revoked) between two calls of a long run.
"""

from __future__ import annotations

import logging
import random
import time
import typing as t

import requests

from target_aep.aep.errors import AEPAuthError, AEPRequestError, AEPUnavailableError
from target_aep.aep.transport import PlatformTransport

if t.TYPE_CHECKING:
    from target_aep.aep.ims import IMSTokenProvider

logger = logging.getLogger("target-aep.gateway")

MAX_ATTEMPTS = 10
BACKOFF_BASE_SECONDS = 0.1
BACKOFF_CAP_SECONDS = 30.0
RETRY_AFTER_CAP_SECONDS = 60.0
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})


def backoff_seconds(attempt: int, retry_after: str | None = None) -> float:
    """Seconds to wait before retry number ``attempt`` (1-based); ``Retry-After`` wins when it parses."""
    if retry_after:
        try:
            return min(max(float(retry_after), 0.0), RETRY_AFTER_CAP_SECONDS)
        except ValueError:
            pass  # an HTTP-date: fall back to our own backoff
    return random.uniform(0, min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2**attempt))


def error_fields(response: requests.Response) -> tuple[str, str]:
    """AEP's ``error_code`` and message from an error body, whatever its shape."""
    try:
        body = response.json()
    except ValueError:
        return "", response.text[:300].strip()
    if not isinstance(body, dict):
        return "", str(body)[:300]
    code = str(body.get("error_code") or body.get("code") or body.get("error") or "")
    message = str(body.get("message") or body.get("title") or body.get("detail") or body.get("error_description") or "")
    return code, message[:500]


def send_with_retries(
    transport: PlatformTransport,
    method: str,
    url: str,
    *,
    what: str,
    timeout: float,
    headers_for_attempt: t.Callable[[], dict[str, str]] | None = None,
    on_unauthorized: t.Callable[[str | None], None] | None = None,
    **kwargs: t.Any,
) -> requests.Response:
    """Send one HTTP call, retrying what can succeed later; return the final response (maybe an error).

    ``headers_for_attempt`` is called before each attempt so a refreshed token is picked up.
    """
    refreshed = False
    attempt = 0
    while True:
        attempt += 1
        headers = headers_for_attempt() if headers_for_attempt else {}
        try:
            response = transport.request(method, url, headers=headers, timeout=timeout, **kwargs)
        except (requests.ConnectionError, requests.Timeout) as exc:
            if attempt >= MAX_ATTEMPTS:
                raise AEPUnavailableError(
                    f"{what}: no answer after {attempt} attempts ({type(exc).__name__})"
                ) from None
            wait = backoff_seconds(attempt)
            logger.warning("%s: %s, retrying in %.2f s", what, type(exc).__name__, wait)
            time.sleep(wait)
            continue
        if response.status_code == 401 and on_unauthorized is not None and not refreshed:
            refreshed = True
            logger.info("%s: token refused (401), getting a new IMS token and retrying once", what)
            on_unauthorized(headers.get("Authorization", "").removeprefix("Bearer ") or None)
            continue
        if response.status_code in RETRYABLE_STATUSES:
            if attempt >= MAX_ATTEMPTS:
                code, message = error_fields(response)
                raise AEPUnavailableError(
                    f"{what}: still HTTP {response.status_code} after {attempt} attempts {code} {message}".strip()
                )
            wait = backoff_seconds(attempt, response.headers.get("Retry-After"))
            logger.warning("%s: HTTP %s, retrying in %.2f s", what, response.status_code, wait)
            time.sleep(wait)
            continue
        return response


class PlatformGateway:
    """Authenticated calls to the Platform API (and DCS) with the Platform headers and the retry policy."""

    def __init__(
        self,
        *,
        platform_url: str,
        ims: IMSTokenProvider,
        client_id: str,
        org_id: str,
        sandbox_name: str,
        timeout: float,
    ) -> None:
        self.platform_url = platform_url.rstrip("/")
        self.ims = ims
        self.client_id = client_id
        self.org_id = org_id
        self.sandbox_name = sandbox_name
        self.timeout = timeout
        self.transport = PlatformTransport()  # a connection pool per thread: deliveries run in parallel

    def platform_headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        """The four Platform headers, with a current token."""
        headers = {
            "Authorization": f"Bearer {self.ims.token()}",
            "x-api-key": self.client_id,
            "x-gw-ims-org-id": self.org_id,
            "x-sandbox-name": self.sandbox_name,
        }
        if extra:
            headers.update(extra)
        return headers

    def request(
        self,
        method: str,
        path_or_url: str,
        *,
        what: str,
        headers: dict[str, str] | None = None,
        ok: t.Collection[int] = (200, 201, 202, 204, 207),
        **kwargs: t.Any,
    ) -> requests.Response:
        """Call the Platform; return the response when its status is in ``ok``, else raise a typed error."""
        url = path_or_url if path_or_url.startswith("http") else f"{self.platform_url}{path_or_url}"
        response = send_with_retries(
            self.transport,
            method,
            url,
            what=what,
            timeout=self.timeout,
            headers_for_attempt=lambda: self.platform_headers(headers),
            on_unauthorized=self.ims.invalidate,
            **kwargs,
        )
        if response.status_code in ok:
            return response
        code, message = error_fields(response)
        if response.status_code in (401, 403):
            raise AEPAuthError(
                f"{what}: the Platform refused the credentials (HTTP {response.status_code} {code}: {message}); "
                "check client_id, org_id and the API project's product profile"
            )
        raise AEPRequestError(what, response.status_code, code, message)
