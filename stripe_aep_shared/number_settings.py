"""Number settings that arrive as text are read as the numbers they spell, before the SDK validates the config.

Two common ways of setting a plugin hand a number setting over as text:

- **Meltano.** Meltano 4.4 reads a ``kind: decimal`` setting given by an environment variable or a ``.env``
  file (``TAP_STRIPE_AEP_MAX_REQUESTS_PER_SECOND=12.5``) as a Python ``Decimal``, then fails writing the plugin's
  config file (``TypeError: Object of type Decimal is not JSON serializable``) before the plugin starts. So the
  plugins' Meltano definitions declare their number settings ``kind: string``
  (``scripts/generate_plugin_files.py``), and Meltano passes the text on as it is: ``"12.5"``.
- **The SDK's ``--config ENV``** parses integers, booleans and arrays from the environment, and leaves a number
  as its text.

The config schema still says ``number`` (``interface.md``), and a config file's numbers are read as before. Text
that does not spell a finite number is left as it is, so the SDK's validation refuses it naming the setting.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, MutableMapping
from typing import Any

_INTEGER = re.compile(r"[+-]?\d+")


def numbers_from_text(config: MutableMapping[str, Any], schema: Mapping[str, Any]) -> None:
    """Replace, in ``config``, the text of each setting the schema types ``number`` or ``integer`` by its number."""
    for name, prop in (schema.get("properties") or {}).items():
        value = config.get(name)
        if not isinstance(value, str):
            continue
        types = _types(prop)
        number = _number(value.strip(), integer_only="number" not in types)
        if number is not None and types & {"number", "integer"}:
            config[name] = number


def _types(prop: Mapping[str, Any]) -> set[str]:
    declared = prop.get("type")
    if isinstance(declared, str):
        return {declared}
    return set(declared or ())


def _number(text: str, *, integer_only: bool) -> int | float | None:
    if _INTEGER.fullmatch(text):
        return int(text)
    if integer_only:
        return None
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None
