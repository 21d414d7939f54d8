"""Adobe IMS OAuth Server-to-Server tokens: fetched with a form POST, cached, refreshed before expiry."""

from __future__ import annotations

import logging
import threading
import time

from target_aep.aep.errors import AEPAuthError, AEPRequestError
from target_aep.aep.gateway import error_fields, send_with_retries
from target_aep.aep.transport import PlatformTransport

logger = logging.getLogger("target-aep.ims")

# Ask for a new token this long before expiry (and at most a tenth of the lifetime before), so a call that
# starts with a valid token does not reach the gateway with an expired one.
REFRESH_MARGIN_SECONDS = 300.0


class IMSTokenProvider:
    """Hands out a valid IMS access token; thread-safe, one token request at a time."""

    def __init__(self, *, ims_url: str, client_id: str, client_secret: str, scopes: str, timeout: float) -> None:
        self.token_url = ims_url.rstrip("/") + "/ims/token/v3"
        self.client_id = client_id
        self._client_secret = client_secret
        self.scopes = scopes
        self.timeout = timeout
        self._transport = PlatformTransport()
        self._lock = threading.Lock()
        self._token: str | None = None
        self._issued: list[str] = []  # every token of this run, so logs are scrubbed of old ones too
        self._refresh_at = 0.0

    def token(self) -> str:
        """A cached token, or a fresh one when it is near expiry or was invalidated."""
        with self._lock:
            if self._token is None or time.monotonic() >= self._refresh_at:
                self._token, lifetime = self._request_token()
                self._issued.append(self._token)
                margin = min(REFRESH_MARGIN_SECONDS, lifetime / 10)
                self._refresh_at = time.monotonic() + lifetime - margin
            return self._token

    def invalidate(self, rejected: str | None = None) -> None:
        """Forget the cached token after a 401, so the next call asks IMS again.

        With ``rejected`` (the token the refused call carried), only that token is forgotten: when several
        delivery threads are refused by the same expired token, the first one's renewal is kept and the others
        use it, instead of each throwing away the token the previous one just got.
        """
        with self._lock:
            if rejected is None or rejected == self._token:
                self._token = None

    @property
    def secrets(self) -> list[str]:
        """Values that must never be written anywhere (for scrubbing)."""
        return [s for s in (self._client_secret, *self._issued) if s]

    def _request_token(self) -> tuple[str, float]:
        response = send_with_retries(
            self._transport,
            "POST",
            self.token_url,
            what="IMS token request",
            timeout=self.timeout,
            data={
                "grant_type": "client_credentials",
                "client_id": self.client_id,
                "client_secret": self._client_secret,
                "scope": self.scopes,
            },
        )
        if response.status_code in (400, 401, 403):
            code, message = error_fields(response)
            raise AEPAuthError(
                f"IMS refused the credentials (HTTP {response.status_code}"
                f"{' ' + code if code else ''}{': ' + message if message and message != code else ''}); "
                f"check client_id (ends ...{self.client_id[-4:]}) and client_secret"
            )
        if response.status_code != 200:
            code, message = error_fields(response)
            raise AEPRequestError("IMS token request", response.status_code, code, message)
        body = response.json()
        token = body.get("access_token")
        if not token:
            raise AEPAuthError("IMS answered 200 without an access_token")
        lifetime = float(body.get("expires_in", 86399))
        # expires_in is in seconds per the Server-to-Server guide; older JWT flows answered milliseconds.
        if lifetime > 10 * 86400:
            lifetime /= 1000
        logger.info("Got an IMS access token valid for %.0f s", lifetime)
        return token, lifetime
