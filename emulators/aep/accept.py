"""The Schema Registry's ``Accept`` headers: which forms a listing or a lookup may ask for, and the errors if not.

Listing calls take ``application/vnd.adobe.xed-id+json`` or ``application/vnd.adobe.xed+json`` without a version;
lookups take ``application/vnd.adobe.{xed|xed-full|xed-notext|xed-full-notext|xed-full-desc}+json; version={major}``.
A malformed or missing header is 400 (``XDM-1006``/``XDM-1007``); a version the resource does not have is 406.
Descriptors use ``application/vnd.adobe.xdm[-v2][-id|-link]+json`` (``XDM-1008`` otherwise).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from emulators.aep.replies import Reply, registry_problem

_MEDIA = re.compile(r"^application/vnd\.adobe\.(?P<form>[a-z0-9-]+)\+json$")
_VERSION = re.compile(r"""^\s*version\s*=\s*"?\s*(?P<version>[0-9]+(?:\.[0-9]+)*)\s*"?\s*$""", re.IGNORECASE)
LIST_FORMS = ("xed-id", "xed")
LOOKUP_FORMS = ("xed", "xed-full", "xed-notext", "xed-full-notext", "xed-full-desc")
DESCRIPTOR_FORMS = ("xdm-id", "xdm-link", "xdm", "xdm-v2-id", "xdm-v2-link", "xdm-v2")


@dataclass(frozen=True)
class Accepted:
    """What the client asked for: the form (``xed-full``, ...) and, for lookups, the major version."""

    form: str
    version: str | None
    media_type: str

    @property
    def full(self) -> bool:
        return self.form.startswith("xed-full")

    @property
    def with_text(self) -> bool:
        """Titles and descriptions are kept (the ``notext`` forms drop both, ``full-desc`` drops titles)."""
        return "notext" not in self.form


def _parse(header: str | None) -> tuple[str, str | None, str] | None:
    if not header:
        return None
    media, *params = header.split(";")
    match = _MEDIA.match(media.strip().lower())
    if not match:
        return None
    version = None
    for param in params:
        found = _VERSION.match(param)
        if found:
            version = found.group("version")
    return match.group("form"), version, media.strip().lower()


def _invalid(code: str, header: str | None, should: str) -> Reply:
    return registry_problem(
        400,
        code,
        "Accept header invalid",
        f"The supplied Accept header is not valid: {header or ''} - A valid Accept value should look like {should}",
    )


def for_listing(header: str | None) -> Accepted | Reply:
    """A listing call's Accept, or the 400 the registry answers."""
    parsed = _parse(header)
    if parsed is None or parsed[0] not in LIST_FORMS or parsed[1] is not None:
        return _invalid("1006", header, "application/vnd.adobe.'{xed|xdm'}+json")
    return Accepted(parsed[0], None, parsed[2])


def for_lookup(header: str | None, resource_version: str) -> Accepted | Reply:
    """A lookup's Accept, the 400 for a malformed one, or 406 when the major version does not exist."""
    parsed = _parse(header)
    if parsed is None or parsed[0] not in LOOKUP_FORMS or parsed[1] is None:
        return _invalid(
            "1007", header, "application/vnd.adobe.'{xed|xdm'}+json; version=1 (Version should be specified)"
        )
    if parsed[1].split(".")[0] != resource_version.split(".")[0]:
        return registry_problem(
            406,
            "1005",
            "Invalid Accept format",
            f"The specified Accept format/version ({header}) is not available for this resource "
            f"(version {resource_version}).",
        )
    return Accepted(parsed[0], parsed[1], parsed[2])


def for_descriptors(header: str | None) -> Accepted | Reply:
    parsed = _parse(header)
    if parsed is None or parsed[0] not in DESCRIPTOR_FORMS or parsed[1] is not None:
        return _invalid("1008", header, "application/vnd.adobe.xdm-id+json")
    return Accepted(parsed[0], None, parsed[2])


def content_type(accepted: Accepted) -> str:
    """The answer's Content-Type: the form asked for, with its version (``...xed-full+json; version=1``)."""
    if accepted.version is None:
        return accepted.media_type
    return f"{accepted.media_type}; version={accepted.version.split('.')[0]}"
