"""The Adobe I/O gateway in front of every Platform call: headers checked in the documented order."""

from __future__ import annotations

from collections.abc import Mapping
from email.message import Message

from emulators.aep.config import ORG_ID
from emulators.aep.ims import TokenIssuer
from emulators.aep.replies import Reply

Headers = Mapping[str, str] | Message  # a dict in tests, the request's headers in the server


def _gateway_error(status: int, code: str, message: str) -> Reply:
    return Reply(status, {"error_code": code, "message": message})


def bearer_token(headers: Headers) -> str | None:
    """The token of an ``Authorization: Bearer ...`` header, or None if the header is absent or not Bearer."""
    value = headers.get("Authorization")
    if value is None:
        return None
    scheme, _, token = value.strip().partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else ""


def check_platform_headers(headers: Headers, tokens: TokenIssuer, has_json_body: bool) -> Reply | None:
    """None when the call may pass; otherwise the gateway's error reply.

    The first five checks and their bodies are documented (contract section 2). The rest are *assumed*:
    a wrong org is 403 ``403025 Profile is not valid``, a missing ``x-sandbox-name`` is 400 ``400003``, and a
    JSON body without ``Content-Type: application/json`` is 415.
    """
    if headers.get("Authorization") is None:
        return _gateway_error(403, "403010", "Oauth token is missing.")
    token = bearer_token(headers)
    client_id = tokens.client_for(token) if token else None
    if client_id is None:
        return _gateway_error(401, "401013", "Oauth token is not valid")
    api_key = headers.get("x-api-key")
    if not api_key:
        return _gateway_error(403, "403000", "Api Key is required")
    if api_key != client_id:
        return _gateway_error(403, "403003", "Api Key is invalid")
    org = headers.get("x-gw-ims-org-id")
    if not org:
        return _gateway_error(400, "400003", "Missing header")
    if org != ORG_ID:
        return _gateway_error(403, "403025", "Profile is not valid")
    if not headers.get("x-sandbox-name"):
        return _gateway_error(400, "400003", "Missing header: x-sandbox-name")
    if has_json_body and not is_json_or_patch_content_type(headers.get("Content-Type")):
        return Reply(
            415,
            {
                "type": "http://ns.adobe.com/aep/errors/EMULATOR-415",
                "title": "Unsupported Media Type",
                "status": 415,
                "detail": "a JSON body needs Content-Type: application/json",
            },
        )
    return None


def check_inlet_token(headers: Headers, tokens: TokenIssuer, inlet_id: str) -> Reply | None:
    """An authenticated inlet needs a live Bearer token: 401 otherwise, with the body Adobe documents."""
    token = bearer_token(headers)
    if token and tokens.client_for(token) is not None:
        return None
    reason = "Ims service token is empty" if not token else "Ims service token is not valid"
    return Reply(
        401,
        {
            "type": "https://ns.adobe.com/adobecloud/problem/data-collection-service-authorization",
            "status": "401",
            "title": "Authorization",
            "report": {"message": f"[{inlet_id}] {reason}"},
        },
    )


def is_json_content_type(value: str | None) -> bool:
    return bool(value) and str(value).split(";")[0].strip().lower() == "application/json"


def is_json_or_patch_content_type(value: str | None) -> bool:
    """A JSON body, or a JSON Patch one (``application/json-patch+json``, which Catalog's PATCH takes)."""
    return is_json_content_type(value) or str(value or "").split(";")[0].strip().lower() == JSON_PATCH


JSON_PATCH = "application/json-patch+json"
