"""``target-aep --about`` in plain text, with each setting's default and description.

The SDK's text form lists only each setting's name, type and environment variable; its Markdown form has
defaults and descriptions. A user reading ``--about`` in a terminal should not need the Markdown form to learn
what a setting does, so the settings part is written here and the rest is the SDK's.
"""

from __future__ import annotations

import json
import textwrap
import typing as t

from singer_sdk.about import AboutInfo, TextFormatter

WIDTH = 110


def about_text(info: AboutInfo) -> str:
    """The SDK's text ``--about`` with a fuller settings section."""
    head = TextFormatter().format_about(info).split("\nSettings:\n", 1)[0]
    settings = info.settings.get("properties", {}).items()
    return head + "\nSettings:\n" + "".join(_setting_text(info, name, schema) for name, schema in settings)


def _setting_text(info: AboutInfo, name: str, schema: dict) -> str:
    env_var = info.env_var_prefix + name.upper().replace("-", "_")
    lines = [f"  - Name: {name}", f"    Type: {schema.get('type')}"]
    if "default" in schema:
        lines.append(f"    Default: {_value(schema['default'])}")
    if "enum" in schema:
        lines.append(f"    Allowed values: {', '.join(_value(v) for v in schema['enum'] if v is not None)}")
    lines.append(f"    Environment Variable: {env_var}")
    description = " ".join(str(schema.get("description") or "").split())
    if description:
        lines += textwrap.wrap(
            description, WIDTH, initial_indent="    Description: ", subsequent_indent="      ", break_on_hyphens=False
        )
    return "\n".join(lines) + "\n"


def _value(value: t.Any) -> str:
    """A default as a user would write it (enum members by value, objects as JSON)."""
    value = getattr(value, "value", value)
    return value if isinstance(value, str) else json.dumps(value)
