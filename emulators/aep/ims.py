"""Adobe IMS OAuth Server-to-Server tokens: issued for the one emulated client, expiring for real."""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass
from urllib.parse import parse_qs

from emulators.aep.config import CLIENT_ID, CLIENT_SECRET


@dataclass(frozen=True)
class TokenGrant:
    client_id: str
    expires_at: float  # time.monotonic() seconds


@dataclass(frozen=True)
class TokenReply:
    status: int
    body: dict[str, object]


class TokenIssuer:
    """Issues opaque bearer tokens and answers whether one is still good (and for which client)."""

    def __init__(self, ttl_seconds: int) -> None:
        self.ttl_seconds = ttl_seconds
        self._grants: dict[str, TokenGrant] = {}
        self._lock = threading.Lock()
        self.issued = 0

    def token_request(self, content_type: str, body: bytes) -> TokenReply:
        """Answer ``POST /ims/token/v3``."""
        if content_type.split(";")[0].strip().lower() != "application/x-www-form-urlencoded":
            return TokenReply(
                400,
                {
                    "error": "invalid_request",
                    "error_description": "Content-Type must be application/x-www-form-urlencoded",
                },
            )
        form = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
        if form.get("grant_type") != "client_credentials":
            return TokenReply(
                400,
                {"error": "unsupported_grant_type", "error_description": "grant_type must be client_credentials"},
            )
        if not form.get("client_id") or not form.get("client_secret"):
            return TokenReply(
                400, {"error": "invalid_request", "error_description": "client_id and client_secret are required"}
            )
        if not form.get("scope"):
            return TokenReply(400, {"error": "invalid_scope", "error_description": "scope is required"})
        if not (
            secrets.compare_digest(form["client_id"], CLIENT_ID)
            and secrets.compare_digest(form["client_secret"], CLIENT_SECRET)
        ):
            return TokenReply(401, {"error": "invalid_client"})
        token = "emu." + secrets.token_urlsafe(48)
        with self._lock:
            self._grants[token] = TokenGrant(form["client_id"], time.monotonic() + self.ttl_seconds)
            self.issued += 1
        return TokenReply(200, {"access_token": token, "token_type": "bearer", "expires_in": self.ttl_seconds})

    def client_for(self, token: str) -> str | None:
        """The client id a live token was issued to; None if unknown or expired."""
        with self._lock:
            grant = self._grants.get(token)
            if grant is None:
                return None
            if time.monotonic() >= grant.expires_at:
                del self._grants[token]
                return None
            return grant.client_id

    def expire_all(self) -> int:
        """Invalidate every token issued so far; returns how many were live."""
        with self._lock:
            count = len(self._grants)
            self._grants.clear()
            return count
