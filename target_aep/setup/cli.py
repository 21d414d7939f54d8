"""`target-aep-setup --config target.json [--apply] [--streaming] [--no-profile] [--datasets-out FILE]`.

Reads the target's own config (a file, or `ENV` for the `TARGET_AEP_*` variables Meltano sets, as the SDK's
`--config ENV` does), prints the plan, and with `--apply` carries it out. Exit 0 when the sandbox is ready (or
the plan was printed), 1 with one clear line on stderr otherwise; no traceback for an expected failure.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import sys
import typing as t
from pathlib import Path

from jsonschema import Draft7Validator

# The SDK's own reader of `--config ENV`, so that `meltano invoke target-aep:setup` sees exactly the settings
# `target-aep` sees in the same environment (Meltano passes them as TARGET_AEP_* variables).
from singer_sdk.configuration._dict_config import parse_environment_config

from target_aep.aep.errors import AEPError
from target_aep.aep.gateway import PlatformGateway
from target_aep.aep.ims import IMSTokenProvider
from target_aep.settings import CONFIG_SCHEMA, semantic_errors
from target_aep.setup.apply import Applied, ApplyStopped, apply_plan, known_ids
from target_aep.setup.desired import ROLES, Desired, Names, desired_sandbox
from target_aep.setup.discovery import discover, inlet_of, sandbox_tenant
from target_aep.setup.errors import NotReadyError, SetupConfigError, SetupError
from target_aep.setup.plan import Plan
from target_aep.setup.planner import make_plan
from target_aep.setup.platform_api import SetupApi

PROG = "target-aep-setup"
ENV_PREFIX = "TARGET_AEP_"
# The target's settings set-up uses. The others (`datasets`, `mappings`, ...) are the target's business: they are
# neither read nor checked here, so a config that is still waiting for set-up's `datasets` is fine. (Meltano also
# passes object settings to `--config ENV` flattened, `{"customers.dataset_id": ...}`, which the target's schema
# would refuse.)
SETUP_SETTINGS = (
    "client_id",
    "client_secret",
    "org_id",
    "sandbox_name",
    "scopes",
    "ims_url",
    "platform_url",
    "tenant_id",
    "customer_identity_namespace",
    "request_timeout_seconds",
)
SETUP_SCHEMA = {"type": "object", "properties": {name: CONFIG_SCHEMA["properties"][name] for name in SETUP_SETTINGS}}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Provision an AEP sandbox for target-aep: tenant field group, schemas, identity namespace, "
        "datasets, Profile enablement and (--streaming) an HTTP API streaming connection with its dataflows. "
        "Without --apply, print the plan and change nothing.",
    )
    parser.add_argument(
        "--config",
        action="append",
        required=True,
        metavar="FILE",
        help="the target's config file (repeat to merge several), or ENV to read TARGET_AEP_* variables",
    )
    parser.add_argument("--apply", action="store_true", help="create and change what the plan lists")
    parser.add_argument(
        "--streaming", action="store_true", help="also the HTTP API streaming connection and one dataflow per dataset"
    )
    parser.add_argument(
        "--no-profile", action="store_true", help="do not enable schemas and datasets for Real-Time Customer Profile"
    )
    parser.add_argument(
        "--datasets-out",
        metavar="FILE",
        help="write the target's datasets setting (stream -> dataset_id, inlet_id) as JSON",
    )
    names = parser.add_argument_group("titles and names (set-up finds existing resources by them)")
    for attribute, flag, default, what in Names.options():
        names.add_argument(flag, dest=attribute, default=default, metavar="TEXT", help=f"{what} (default: {default})")
    return parser


def main(argv: list[str] | None = None) -> int:
    """The console script; returns the exit code."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format=f"{PROG}: %(message)s", stream=sys.stderr)
    secrets: list[str] = []
    try:
        run(args, secrets)
    except ApplyStopped as stopped:
        print(f"\nStopped at {stopped.step.kind} '{stopped.step.name}'.")
        if stopped.made:
            print("Made by this run before it stopped (kept; the next run finds and reuses them):")
            print("\n".join(f"  {line}" for line in stopped.made))
        print("Not done:")
        print("\n".join(f"  {s.action.value} {s.kind} '{s.name}'" for s in stopped.left))
        return _fail(f"{stopped.cause}", secrets)
    except (SetupError, AEPError) as exc:
        return _fail(str(exc), secrets)
    return 0


def _fail(message: str, secrets: list[str]) -> int:
    for secret in secrets:
        message = message.replace(secret, "***")
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return 1


def run(args: argparse.Namespace, secrets: list[str], out: t.Callable[[str], None] = print) -> Applied:
    """Plan, print, and with ``--apply`` carry out; raises on anything that leaves the sandbox not ready.

    ``secrets`` receives every value that must not appear in a message (the client secret, the IMS tokens).
    """
    config = read_config(args.config)
    check_config(config)
    names = _names(args)
    gateway = _gateway(config)
    secrets.append(str(config["client_secret"]))
    api = SetupApi(gateway)
    try:
        desired = desired_sandbox(
            tenant=sandbox_tenant(api, config.get("tenant_id")),
            names=names,
            namespace_code=_setting(config, "customer_identity_namespace"),
            profile=not args.no_profile,
            streaming=args.streaming,
        )
        found = discover(api, desired)
        plan = make_plan(desired, found, sandbox=gateway.sandbox_name, org_id=gateway.org_id)
        applied = known_ids(plan, inlet_of(found.connection))
        out(f"{PROG}: sandbox '{plan.sandbox}' of org {plan.org_id}, tenant '{plan.tenant}'")
        if args.apply:
            _apply(plan, desired, api, applied, out)
        else:
            _show(plan, out)
        _report_datasets(desired, applied, args, out)
    finally:
        secrets += gateway.ims.secrets
    return applied


def _names(args: argparse.Namespace) -> Names:
    names = Names(**{attribute: getattr(args, attribute) for attribute, *_ in Names.options()})
    for attribute, flag, *_ in Names.options():
        if not str(getattr(names, attribute)).strip():
            raise SetupConfigError(f"{flag} must not be empty")
    return names


def _show(plan: Plan, out: t.Callable[[str], None]) -> None:
    """Without --apply: the plan, and nothing else happens."""
    if not plan.to_do and not plan.blocked:
        _nothing_to_do(plan, out)
        return
    out("Plan (nothing is changed without --apply):")
    out("\n".join(plan.lines()))
    out(plan.summary_line() + ".")
    out("Nothing was changed; run again with --apply to carry out the plan.")


def _apply(plan: Plan, desired: Desired, api: SetupApi, applied: Applied, out: t.Callable[[str], None]) -> None:
    """With --apply: the plan, then every step that creates or changes something; not ready is an error."""
    if not plan.to_do and not plan.blocked:
        _nothing_to_do(plan, out)
        return
    out("Plan:")
    out("\n".join(plan.lines()))
    out(plan.summary_line() + ".")
    if plan.to_do:
        out("Applying:")
        apply_plan(plan, desired, api, applied, report=out)
    if plan.blocked:
        raise NotReadyError(_not_ready(plan))
    out(f"Ready: sandbox '{plan.sandbox}' holds everything target-aep needs ({api.writes} requests written).")


def _nothing_to_do(plan: Plan, out: t.Callable[[str], None]) -> None:
    out("\n".join(plan.lines()))
    out(
        f"Nothing to do: sandbox '{plan.sandbox}' already holds everything target-aep needs "
        f"({len(plan.steps)} resources checked, nothing written)."
    )


def _not_ready(plan: Plan) -> str:
    first = plan.blocked[0]
    reason = first.left_alone[0] if first.left_alone else first.summary
    more = f" ({len(plan.blocked) - 1} more in the plan above)" if len(plan.blocked) > 1 else ""
    return f"not ready: {first.kind} '{first.name}': {first.summary}; {reason}{more}"


def _report_datasets(
    desired: Desired, applied: Applied, args: argparse.Namespace, out: t.Callable[[str], None]
) -> None:
    ids = {role: applied.dataset_id(role) for role in ROLES}
    if all(ids.values()):
        shown = ", ".join(f"{desired.datasets[role].name} = {ids[role]}" for role in ROLES)
        out(f"Datasets: {shown}" + (f"; inlet {applied.inlet_id}" if args.streaming and applied.inlet_id else ""))
    if not args.datasets_out:
        return
    setting = datasets_setting(desired, applied, streaming=args.streaming)
    path = Path(args.datasets_out)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(setting, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    except OSError as exc:
        raise SetupConfigError(f"--datasets-out {path}: cannot write it ({exc.strerror})") from None
    out(f"Wrote the datasets setting ({len(setting)} streams) to {path}.")


def datasets_setting(desired: Desired, applied: Applied, *, streaming: bool) -> dict[str, dict[str, str]]:
    """The target's `datasets` setting: every stream of the tap -> its dataset (and the inlet, streaming)."""
    missing = [desired.datasets[role].name for role in ROLES if not applied.dataset_id(role)]
    if missing:
        raise SetupError(
            f"--datasets-out: dataset(s) {', '.join(repr(m) for m in missing)} do not exist yet; run with --apply first"
        )
    if streaming and not applied.inlet_id:
        raise SetupError("--datasets-out: the streaming connection does not exist yet; run with --apply first")
    setting: dict[str, dict[str, str]] = {}
    for role in ROLES:
        for stream in desired.datasets[role].streams:
            entry = {"dataset_id": str(applied.dataset_id(role))}
            if streaming:
                entry["inlet_id"] = str(applied.inlet_id)
            setting[stream] = entry
    return setting


# -- config


def read_config(sources: list[str]) -> dict[str, t.Any]:
    """The settings set-up uses, from config files merged in order; ``ENV`` adds the ``TARGET_AEP_*`` variables."""
    config: dict[str, t.Any] = {}
    parse_env = False
    for source in sources:
        if source == "ENV":
            parse_env = True
            continue
        try:
            loaded = json.loads(Path(source).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise SetupConfigError(f"--config {source}: no such file") from None
        except (OSError, ValueError) as exc:
            raise SetupConfigError(f"--config {source} is not a readable JSON file ({exc})") from None
        if not isinstance(loaded, dict):
            raise SetupConfigError(f"--config {source} must hold a JSON object")
        config |= loaded
    if parse_env:
        config |= _numbers_parsed(parse_environment_config(SETUP_SCHEMA, ENV_PREFIX))
    return {name: value for name, value in config.items() if name in SETUP_SETTINGS}


def _numbers_parsed(env_config: dict[str, t.Any]) -> dict[str, t.Any]:
    """The SDK's ENV reader parses integers and booleans but leaves ``number`` settings as text (Meltano hands
    ``request_timeout_seconds: 60`` over as ``"60"``): parse them here, leaving text that is not a number for
    ``check_config`` to name."""
    parsed = dict(env_config)
    for name, value in env_config.items():
        types = SETUP_SCHEMA["properties"][name].get("type")
        if isinstance(value, str) and "number" in (types if isinstance(types, list) else [types]):
            with contextlib.suppress(ValueError):
                parsed[name] = float(value)
    return parsed


def check_config(config: dict[str, t.Any]) -> None:
    """Every problem with the settings set-up uses, each naming its setting, before any request."""
    errors = [
        f"{'.'.join(str(p) for p in e.absolute_path) or 'config'}: {e.message}"
        for e in Draft7Validator(CONFIG_SCHEMA).iter_errors(config)
    ]
    errors += [
        f"{name} is required by {PROG}" for name in ("client_id", "client_secret", "org_id") if not config.get(name)
    ]
    # The target's own checks, except those about `datasets`/`mappings` (set-up is what writes `datasets`) and
    # the `output_dir` exemption from credentials (set-up always talks to the Platform).
    view = {**config, "datasets": {}, "mappings": {}}
    errors += [e for e in semantic_errors(view) if "output_dir" not in e and e not in errors]
    code = _setting(config, "customer_identity_namespace")
    if not (isinstance(code, str) and code.isascii() and code.isalnum()):
        errors.append(f"customer_identity_namespace {code!r}: an identity namespace code holds only letters and digits")
    if errors:
        raise SetupConfigError("; ".join(errors))


def _setting(config: dict[str, t.Any], name: str) -> t.Any:
    """A setting's value, else its default from the target's config schema (the one source of defaults)."""
    value = config.get(name)
    return value if value not in (None, "") else CONFIG_SCHEMA["properties"][name].get("default")


def _gateway(config: dict[str, t.Any]) -> PlatformGateway:
    timeout = float(_setting(config, "request_timeout_seconds"))
    ims = IMSTokenProvider(
        ims_url=_setting(config, "ims_url"),
        client_id=config["client_id"],
        client_secret=config["client_secret"],
        scopes=_setting(config, "scopes"),
        timeout=timeout,
    )
    return PlatformGateway(
        platform_url=_setting(config, "platform_url"),
        ims=ims,
        client_id=config["client_id"],
        org_id=config["org_id"],
        sandbox_name=_setting(config, "sandbox_name"),
        timeout=timeout,
    )


if __name__ == "__main__":
    sys.exit(main())
