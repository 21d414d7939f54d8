"""The generated stream schemas (``<stream>.json``) and the versions they were generated for.

Written by ``scripts/generate_stripe_schemas.py``; never edit the JSON files by hand.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any


@cache
def _schema_text(file_name: str) -> str:
    return resources.files(__name__).joinpath(file_name).read_text(encoding="utf-8")


def load_schema(stream_name: str) -> dict[str, Any]:
    """A fresh copy of a stream's JSON Schema (callers may change it)."""
    try:
        return json.loads(_schema_text(f"{stream_name}.json"))
    except FileNotFoundError:
        raise KeyError(f"no generated schema for stream {stream_name!r}") from None


def generated_versions() -> dict[str, Any]:
    """The stripe package version and Stripe API version the schemas were generated from."""
    return json.loads(_schema_text("_generated.json"))
