"""The docs say what the code does: setting defaults, setting names and command-line flags.

Mentions are found by pattern, not listed by hand, in docs/*.md and README.md:

- a default: "`name` (default X)", "(`name`, default X)", "the default `name` value, `X`", "`name: X`, the
  default", and "name: X   # the default" in YAML. X must be the default in the plugin's config schema; a setting
  whose default is computed (no schema default; its description explains it) must not be given a fixed one.
- a setting name: "setting `name`", "`name` setting", Meltano variables (``TAP_STRIPE_AEP_NAME``), ``meltano config
  set <plugin> <name>``, the keys under a plugin's ``config:`` in YAML blocks, and the cells of a table column
  headed "... setting". Each must be a setting of that plugin (or of either, when the plugin is not said).
- a command: ``tap-stripe-aep ...`` / ``target-aep ...`` (or ``meltano invoke <plugin> ...``) in fenced blocks and
  inline code: each ``--flag`` must be an option of that executable.

The README's generated tables (between ``<!-- x:start -->`` and ``<!-- x:end -->``) are checked by
tests/test_plugin_files.py and skipped here.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from scripts import generate_plugin_files as plugin_files
from tap_stripe_aep.tap import TapStripeAEP
from target_aep.target import TargetAEP

REPO = Path(__file__).resolve().parents[1]
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
PLUGINS: dict[str, Any] = {"tap-stripe-aep": TapStripeAEP, "target-aep": TargetAEP}

NAME = r"[a-z][a-z0-9_]*"
VALUE = r"(?:`[^`]+`|\d[\d,]*(?:\.\d+)?(?:\s?[KMG]B\b)?|[A-Za-z][\w.-]*)"
DEFAULT_CLAIMS = [
    # "`name` (default X)", "(`name`, default X)": at most a few words between, inside one clause
    re.compile(rf"`(?P<name>{NAME})`[^`.;|]{{0,40}}?(?:\(|, )default:?\s+(?P<value>{VALUE})"),
    re.compile(rf"\bdefault `(?P<name>{NAME})` value,?\s+(?P<value>`[^`]+`)"),
    re.compile(rf"`(?P<name>{NAME}): (?P<value>[^`]+)`,? (?:is )?the default\b"),
]
YAML_DEFAULT_COMMENT = re.compile(rf"^\s*(?P<name>{NAME}):\s*(?P<value>\S+)\s+#\s*the default\b", re.MULTILINE)
SETTING_WORDS = [
    re.compile(rf"\bsettings? `(?P<name>{NAME})[`.]"),
    re.compile(rf"`(?P<name>{NAME})(?:\.[^`]*)?` settings?\b"),
    re.compile(rf"\(setting (?P<name>{NAME})[.)]"),
]
MELTANO_VARIABLE = re.compile(r"\b(?P<prefix>TAP_STRIPE_AEP|TARGET_AEP)_(?P<name>[A-Z][A-Z0-9_]*)\b")
MELTANO_CONFIG_SET = re.compile(
    rf"meltano config (?:set )?(?P<plugin>tap-stripe-aep|target-aep) (?:set )?(?P<name>{NAME})"
)
GENERATED_REGION = re.compile(r"<!-- (?P<tag>[\w:-]+):start -->.*?<!-- (?P=tag):end -->", re.DOTALL)
FENCED_BLOCK = re.compile(r"^```[^\n]*\n(?P<body>.*?)^```", re.DOTALL | re.MULTILINE)
INLINE_COMMAND = re.compile(r"`(?P<command>(?:[\w./-]*/)?(?:tap-stripe-aep|target-aep) [^`]*)`")
SHELL_SEPARATORS = re.compile(r"\|\||&&|[|;]|\$\(|\)")


@dataclass(frozen=True)
class Mention:
    doc: str
    line: int
    text: str  # what was found, for the failure message
    name: str
    plugin: str | None = None  # None: either plugin
    value: str | None = None  # a default claim's value


def doc_text(path: Path) -> str:
    """The document with generated regions blanked (same line numbers)."""
    text = path.read_text(encoding="utf-8")
    return GENERATED_REGION.sub(lambda m: "\n" * m.group(0).count("\n"), text)


def line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def prose(text: str) -> str:
    """Fenced blocks blanked, line breaks as spaces (a sentence wraps), offsets unchanged."""
    blanked = FENCED_BLOCK.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)
    return blanked.replace("\n", " ")


def fenced_blocks(text: str) -> list[tuple[int, str]]:
    return [(line_of(text, m.start("body")), m.group("body")) for m in FENCED_BLOCK.finditer(text)]


# --- what the code says ----------------------------------------------------------------------------------------


def own_settings(plugin: str) -> dict[str, dict[str, Any]]:
    return plugin_files.own_config_schema(PLUGINS[plugin])["properties"]


def all_settings(plugin: str) -> set[str]:
    """Own settings and the SDK's built-in ones, as ``--about`` lists them."""
    return set(plugin_files.full_config_schema(PLUGINS[plugin])["properties"])


def cli_flags(plugin: str) -> set[str]:
    command = PLUGINS[plugin].get_singer_command()
    flags = {opt for param in command.params for opt in [*param.opts, *param.secondary_opts]}
    return flags | ({"--help"} if command.add_help_option else set())


# --- what the docs say -----------------------------------------------------------------------------------------


def default_claims(path: Path) -> list[Mention]:
    text = doc_text(path)
    found = []
    flat = prose(text)
    for pattern in DEFAULT_CLAIMS:
        for m in pattern.finditer(flat):
            found.append(Mention(path.name, line_of(text, m.start()), m.group(0), m.group("name"), None, m["value"]))
    for start, body in fenced_blocks(text):
        for m in YAML_DEFAULT_COMMENT.finditer(body):
            line = start + body.count("\n", 0, m.start())
            found.append(Mention(path.name, line, m.group(0).strip(), m.group("name"), None, m.group("value")))
    return found


def setting_mentions(path: Path) -> list[Mention]:
    text = doc_text(path)
    flat = prose(text)
    found = []
    for pattern in SETTING_WORDS:
        for m in pattern.finditer(flat):
            found.append(Mention(path.name, line_of(text, m.start()), m.group(0), m.group("name")))
    for m in MELTANO_VARIABLE.finditer(text):
        if "__" in m.group(0):  # Meltano's own extras (TAP_STRIPE_AEP__SELECT) and inherited plugins' variables
            continue
        plugin = "tap-stripe-aep" if m.group("prefix") == "TAP_STRIPE_AEP" else "target-aep"
        found.append(Mention(path.name, line_of(text, m.start()), m.group(0), m.group("name").lower(), plugin))
    for m in MELTANO_CONFIG_SET.finditer(text):
        found.append(Mention(path.name, line_of(text, m.start()), m.group(0), m.group("name"), m.group("plugin")))
    for start, body in fenced_blocks(text):
        for offset, plugin, key in config_keys(body):
            found.append(Mention(path.name, start + offset, f"{key}: (config of {plugin})", key, plugin))
    found += table_setting_cells(path.name, text)
    return found


def config_keys(yaml_text: str) -> list[tuple[int, str, str]]:
    """(line offset, plugin, key) for each key directly under a ``config:`` of a plugin named in the block."""
    lines = yaml_text.splitlines()
    keys = []
    plugin: str | None = None
    for index, line in enumerate(lines):
        named = re.match(r"^\s*-?\s*name:\s*(\S+)", line)
        if named:
            plugin = next((p for p in PLUGINS if named.group(1) == p or named.group(1).startswith(p + "--")), None)
        config = re.match(r"^(\s*)config:\s*$", line)
        if not config or plugin is None:
            continue
        indent = len(config.group(1))
        inner: int | None = None
        for offset, child in enumerate(lines[index + 1 :], start=index + 1):
            if not child.strip() or child.strip().startswith("#"):
                continue
            child_indent = len(child) - len(child.lstrip())
            if child_indent <= indent:
                break
            inner = child_indent if inner is None else inner
            key = re.match(rf"^\s*({NAME}):", child)
            if child_indent == inner and key:
                keys.append((offset, plugin, key.group(1)))
    return keys


def table_setting_cells(doc: str, text: str) -> list[Mention]:
    """First code span of each cell in a table column whose header names a plugin's settings."""
    found = []
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if not line.startswith("|") or index + 1 >= len(lines) or not re.match(r"^\|[\s:|-]+\|$", lines[index + 1]):
            continue
        headers = [cell.strip() for cell in line.strip("|").split("|")]
        columns = [i for i, h in enumerate(headers) if re.search(r"\bsettings?\b", h) and "`" not in h]
        for row_index in range(index + 2, len(lines)):
            row = lines[row_index]
            if not row.startswith("|"):
                break
            cells = [cell.strip() for cell in row.strip("|").split("|")]
            for column in columns:
                span = re.match(rf"`({NAME})[`.]", cells[column]) if column < len(cells) else None
                if span:
                    plugin = next((p for p in PLUGINS if p in headers[column]), None)
                    found.append(Mention(doc, row_index + 1, cells[column], span.group(1), plugin))
    return found


def command_flags(path: Path) -> list[Mention]:
    """Each ``--flag`` given to tap-stripe-aep or target-aep, as ``Mention(name=flag, plugin=executable)``."""
    text = doc_text(path)
    found = []
    commands: list[tuple[int, str]] = []
    for start, body in fenced_blocks(text):
        joined = body.replace("\\\n", " \n")  # continuation lines: keep the line count
        for offset, line in enumerate(joined.splitlines()):
            commands.append((start + offset, line))
    flat = prose(text)
    for m in INLINE_COMMAND.finditer(flat):
        commands.append((line_of(text, m.start()), m.group("command")))
    for line_number, line in commands:
        for segment in SHELL_SEPARATORS.split(line.split(" #")[0]):
            plugin, flags = invoked_flags(segment)
            found += [Mention(path.name, line_number, segment.strip(), flag, plugin) for flag in flags]
    return found


def invoked_flags(segment: str) -> tuple[str | None, list[str]]:
    """The executable a shell command segment runs (ours or not) and the long flags it passes."""
    try:
        words = shlex.split(segment)
    except ValueError:
        words = segment.split()
    while words and (re.match(r"^\w+=", words[0]) or words[0] in ("env", "exec", "time", "nohup")):
        words.pop(0)
    if len(words) >= 3 and Path(words[0]).name == "meltano" and "invoke" in words:
        words = words[words.index("invoke") + 1 :]
    if not words or Path(words[0]).name not in PLUGINS:
        return None, []
    return Path(words[0]).name, [w.split("=")[0] for w in words[1:] if w.startswith("--")]


# --- the checks --------------------------------------------------------------------------------------------------


def wrong_default(claim: Mention) -> str | None:
    """Why the claim is wrong, or None when the schema agrees (or the name is not a setting)."""
    owners = [p for p in PLUGINS if claim.name in own_settings(p)]
    if not owners:
        return f"`{claim.name}` is not a setting of either plugin" if "_" in claim.name else None
    for plugin in owners:
        schema = own_settings(plugin)[claim.name]
        if "default" not in schema:
            return f"{plugin} `{claim.name}` has no fixed default (its description says how it is chosen)"
        if not same_value(str(claim.value), schema["default"]):
            return f"{plugin} `{claim.name}` defaults to {schema['default']!r}"
    return None


def same_value(said: str, default: Any) -> bool:
    said = said.strip("`'\"")
    if isinstance(default, bool) or not isinstance(default, int | float):
        return said == str(default)
    unit = re.fullmatch(r"([\d,.]+)\s?([KMG]B)", said)
    scale = {"KB": 2**10, "MB": 2**20, "GB": 2**30}[unit.group(2)] if unit else 1
    number = (unit.group(1) if unit else said).replace(",", "")
    try:
        return float(number) * scale == float(default)
    except ValueError:
        return False


def all_mentions(finder: Any) -> list[Mention]:
    return [mention for path in DOCS for mention in finder(path)]


def test_every_default_the_docs_give_is_the_code_default() -> None:
    claims = all_mentions(default_claims)
    assert len([c for c in claims if wrong_default(c) is None and "_" in c.name]) >= 5, "the patterns found nothing"
    wrong = [f"{c.doc}:{c.line}: {c.text!r}: {wrong_default(c)}" for c in claims if wrong_default(c)]
    assert not wrong, "\n".join(wrong)


def test_every_setting_the_docs_name_exists() -> None:
    mentions = all_mentions(setting_mentions)
    assert len(mentions) >= 20, "the patterns found nothing"
    unknown = [
        f"{m.doc}:{m.line}: {m.text!r}: no setting `{m.name}` in {m.plugin or 'either plugin'}"
        for m in mentions
        if not any(m.name in all_settings(p) for p in ([m.plugin] if m.plugin else PLUGINS))
    ]
    assert not unknown, "\n".join(unknown)


def test_every_flag_in_the_docs_commands_exists() -> None:
    flags = all_mentions(command_flags)
    assert {m.plugin for m in flags} == set(PLUGINS), "no command of one of the plugins found: the patterns broke"
    unknown = [
        f"{m.doc}:{m.line}: {m.text!r}: {m.plugin} has no option {m.name}"
        for m in flags
        if m.name not in cli_flags(str(m.plugin))
    ]
    assert not unknown, "\n".join(unknown)


@pytest.mark.parametrize(
    ("sentence", "problem"),
    [
        # what docs/operations.md and docs/stripe-key.md said before issue 7
        ("in `created` windows of `backfill_window_days`\n(default 30). Windows", "no fixed default"),
        ("up to `max_concurrency` (default 8) requests at once", "no fixed default"),
        ("(`poll_timeout_seconds`, default 600)", "defaults to 3600"),
        ("`sandbox_name` (default `production`)", "defaults to 'prod'"),
        ("`batch_max_bytes` (default 16 MB)", "defaults to 33554432"),
        ("`backfill_window_dayz` (default 30)", "not a setting"),
    ],
)
def test_a_wrong_default_is_caught(sentence: str, problem: str, tmp_path: Path) -> None:
    doc = tmp_path / "doc.md"
    doc.write_text(f"Some text {sentence} and more.\n")
    problems = [wrong_default(claim) or "" for claim in default_claims(doc)]
    assert len(problems) == 1 and problem in problems[0], problems


def test_a_wrong_setting_or_flag_is_caught(tmp_path: Path) -> None:
    doc = tmp_path / "doc.md"
    doc.write_text(
        "Set the `dataset` setting.\n\n"
        "```bash\nTAP_STRIPE_AEP_API_KEYS=x tap-stripe-aep --config tap.json --catalogue c.json | target-aep --cfg t\n"
        "meltano invoke tap-stripe-aep --discovery\nmeltano add extractor tap-stripe-aep --from-ref x.yml\n```\n\n"
        "```yaml\nloaders:\n  - name: target-aep\n    config:\n      ingest_mode: batch\n      datasets:\n"
        "        customers: {dataset_id: x}\n```\n"
    )
    assert {m.name for m in setting_mentions(doc)} == {"dataset", "api_keys", "ingest_mode", "datasets"}
    flags = {(m.plugin, m.name) for m in command_flags(doc)}
    assert flags == {
        ("tap-stripe-aep", "--config"),
        ("tap-stripe-aep", "--catalogue"),
        ("target-aep", "--cfg"),
        ("tap-stripe-aep", "--discovery"),
    }
