"""The target's settings: the one config schema (with descriptions) and the checks JSON Schema cannot express.

Every check names the setting it is about and runs before any request is made.
"""

from __future__ import annotations

import json
import re
import typing as t
import urllib.parse
from decimal import Decimal
from pathlib import Path

from singer_sdk import typing as th

from target_aep.run_report_files import DEFAULT_REPORT_PATH
from target_aep.runtime import DEFAULT_SCOPES
from target_aep.sinks import DEFAULT_BATCH_MAX_BYTES, DEFAULT_BATCH_MAX_RECORDS

DATASET_ID_PATTERN = re.compile(r"^[0-9a-fA-F]{24}$")
INGESTION_MODES = ("batch", "streaming")
URL_SETTINGS = ("ims_url", "platform_url", "streaming_url")

CONFIG_SCHEMA = th.PropertiesList(
    th.Property("client_id", th.StringType, description="OAuth Server-to-Server client id; also sent as x-api-key"),
    th.Property("client_secret", th.StringType, secret=True, description="OAuth Server-to-Server client secret"),
    th.Property("org_id", th.StringType, description="IMS organization (...@AdobeOrg), sent as x-gw-ims-org-id"),
    th.Property(
        "sandbox_name", th.StringType, default="prod", description="AEP sandbox to write to, sent as x-sandbox-name"
    ),
    th.Property("scopes", th.StringType, default=DEFAULT_SCOPES, description="IMS scopes, comma-separated"),
    th.Property("ims_url", th.StringType, default="https://ims-na1.adobelogin.com", description="IMS base address"),
    th.Property(
        "platform_url", th.StringType, default="https://platform.adobe.io", description="Platform API base address"
    ),
    th.Property(
        "streaming_url", th.StringType, default="https://dcs.adobedc.net", description="Streaming (DCS) base address"
    ),
    th.Property(
        "ingestion_mode",
        th.StringType,
        default="batch",
        allowed_values=list(INGESTION_MODES),
        description="'batch' (Batch Ingestion API) or 'streaming' (HTTP API streaming inlet)",
    ),
    th.Property(
        "datasets",
        th.ObjectType(
            additional_properties=th.ObjectType(
                th.Property("dataset_id", th.StringType, required=True),
                th.Property("inlet_id", th.StringType),
            )
        ),
        description="Stream name -> {dataset_id (24 hex characters), inlet_id (streaming mode)}; a run that "
        "receives records of a stream not named here fails without writing state (see "
        "skip_streams_without_dataset)",
    ),
    th.Property(
        "skip_streams_without_dataset",
        th.BooleanType,
        default=False,
        description="Skip the records of streams with no datasets entry instead of failing the run: they are not "
        "sent, and the state written keeps those streams' bookmarks where they were, so a later run reads them "
        "again",
    ),
    th.Property(
        "tenant_id",
        th.StringType,
        description="Tenant namespace of custom fields (_{tenant}); default: read from the Schema Registry",
    ),
    th.Property(
        "customer_identity_namespace",
        th.StringType,
        default="StripeCustomerId",
        description="Identity namespace code for Stripe customer ids in identityMap",
    ),
    th.Property(
        "dead_letter_path",
        th.StringType,
        default="target-aep-rejected.jsonl",
        description="JSON lines of rejected records, each with its stream, id and reasons (appended to)",
    ),
    th.Property(
        "repairs_path",
        th.StringType,
        default="target-aep-repairs.jsonl",
        description="JSON lines, one per value left out or altered to fit the schema: stream, id, field (Stripe "
        "and XDM), what was done (dropped, truncated, converted), why, and the record's _id (appended to)",
    ),
    th.Property(
        "report_path",
        th.StringType,
        default=DEFAULT_REPORT_PATH,
        description="The run report, written at the end of every run (also a failed or interrupted one): a "
        "self-contained HTML page with counts per stream and dataset, rejects and repairs by reason, time per stage, "
        "throughput, AEP batches; the same figures as JSON beside it (same path, .json)",
    ),
    th.Property(
        "output_dir",
        th.StringType,
        description="Write XDM JSON lines here, one file per dataset rewritten by each run, instead of sending "
        "(no credentials needed)",
    ),
    th.Property(
        "local_schemas",
        th.ObjectType(additional_properties=th.StringType),
        description="output_dir mode: stream name, dataset id or '*' (any stream) -> path of an xed-full XDM schema "
        "file to map and validate against instead of asking the Schema Registry",
    ),
    th.Property(
        "mappings",
        th.ObjectType(additional_properties=th.ObjectType()),
        description="Per-stream overrides of the XDM mapping (stream name -> {event_type, fields, exclude}); "
        "format in docs/xdm-mapping.md, checked at start-up",
    ),
    th.Property(
        "max_rejected_share",
        th.NumberType,
        default=1.0,
        description="Fail the run (non-zero exit, final state not written) when rejected records exceed this "
        "share of those received (0..1)",
    ),
    th.Property(
        "batch_max_records",
        th.IntegerType,
        default=DEFAULT_BATCH_MAX_RECORDS,
        description=(
            "Deliver a stream's records once this many are buffered (as an AEP batch of its own; what streams hold "
            "at a flush goes as one AEP batch per dataset)"
        ),
    ),
    th.Property(
        "batch_max_bytes",
        th.IntegerType,
        default=DEFAULT_BATCH_MAX_BYTES,
        description="Deliver a stream's records once their serialized XDM reaches this many bytes",
    ),
    th.Property(
        "mapping_workers",
        th.IntegerType,
        description="Processes mapping records to XDM beside the main one, for throughput on several cores "
        "(output, order and STATE are the same as without; 0: map in the main process). Not used in streaming "
        "mode. Default: the machine's cores minus one, at most 3 (beyond that the main process, which reads every "
        "line and completes each record in input order, is the limit)",
    ),
    th.Property(
        "poll_timeout_seconds",
        th.NumberType,
        default=3600,
        description="How long to wait for a batch to reach success or failed before failing the run",
    ),
    th.Property("request_timeout_seconds", th.NumberType, default=60, description="Timeout of one HTTP request"),
    th.Property(
        "max_state_lag_seconds",
        th.NumberType,
        description="Longest a received STATE waits before the records before it are delivered, confirmed by AEP "
        "and the STATE written (delivery starts at half of it, even while no input arrives: continuous mode). "
        "Default: 5 in streaming mode; 600 in batch mode (delivery every 5 minutes, as the SDK drains, keeping "
        "AEP batches large)",
    ),
).to_dict()


def semantic_errors(config: t.Mapping[str, t.Any]) -> list[str]:
    """Problems a JSON Schema cannot express, each naming its setting."""
    errors: list[str] = []
    output_dir = config.get("output_dir")
    if not output_dir:
        for name in ("client_id", "client_secret", "org_id"):
            if not config.get(name):
                errors.append(f"{name} is required unless output_dir is set")
    elif not config.get("client_id") and not config.get("tenant_id"):
        errors.append("tenant_id is required when output_dir is used without client_id (nothing to ask)")
    mode = config.get("ingestion_mode", "batch")
    if mode not in INGESTION_MODES:
        errors.append(f"ingestion_mode must be 'batch' or 'streaming', not {mode!r}")
    datasets = config.get("datasets") or {}
    if not isinstance(datasets, t.Mapping):
        errors.append("datasets must be an object: stream name -> {dataset_id, inlet_id}")
        datasets = {}
    # One message per problem naming every stream it concerns: a config with 22 streams gets 1 line, not 22.
    no_dataset_id: list[str] = []
    bad_dataset_ids: dict[str, str] = {}
    no_inlet_id: list[str] = []
    for stream, entry in datasets.items():
        if not isinstance(entry, t.Mapping) or not entry.get("dataset_id"):
            no_dataset_id.append(stream)
            continue
        dataset_id = str(entry["dataset_id"])
        if not DATASET_ID_PATTERN.match(dataset_id):
            bad_dataset_ids[stream] = dataset_id
        if mode == "streaming" and not output_dir and not entry.get("inlet_id"):
            no_inlet_id.append(stream)
    if no_dataset_id:
        errors.append(_per_stream("datasets", "dataset_id", no_dataset_id, "is missing"))
    if bad_dataset_ids:
        errors.append(_per_stream("datasets", "dataset_id", bad_dataset_ids, "is not a dataset id (24 hex characters)"))
    if no_inlet_id:
        errors.append(_per_stream("datasets", "inlet_id", no_inlet_id, "is required with ingestion_mode 'streaming'"))
    for name in URL_SETTINGS:
        value = config.get(name)
        if value is None:
            continue
        parsed = urllib.parse.urlparse(str(value))
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            errors.append(f"{name} must be an http(s) URL such as https://host, not {value!r}")
    lag = config.get("max_state_lag_seconds")
    if lag is not None and (not _is_number(lag) or lag <= 0):
        errors.append(f"max_state_lag_seconds must be a positive number of seconds, not {lag!r}")
    share = config.get("max_rejected_share", 1.0)
    if not _is_number(share) or not 0 <= share <= 1:
        errors.append(f"max_rejected_share must be a number from 0 to 1, not {share!r}")
    workers = config.get("mapping_workers")
    if workers is not None and (not isinstance(workers, int) or isinstance(workers, bool) or not 0 <= workers <= 64):
        errors.append(f"mapping_workers must be a whole number of processes from 0 to 64, not {workers!r}")
    for name in ("batch_max_records", "batch_max_bytes", "poll_timeout_seconds", "request_timeout_seconds"):
        value = config.get(name)
        if value is not None and (not _is_number(value) or value <= 0):
            errors.append(f"{name} must be a positive number, not {value!r}")
    local_schemas = config.get("local_schemas") or {}
    missing_files = {key: str(path) for key, path in local_schemas.items() if not Path(str(path)).is_file()}
    if missing_files:
        errors.append(_per_stream("local_schemas", None, missing_files, "names no schema file"))
    mappings = config.get("mappings") or {}
    unmapped = [stream for stream in mappings if datasets and stream not in datasets and not output_dir]
    if unmapped:
        errors.append(_per_stream("mappings", None, unmapped, "names a stream that has no entry in datasets"))
    errors += unsupported_sdk_settings(config)
    return errors


# SDK built-in settings the target does not offer (``TargetAEP.append_builtin_config`` does not advertise them),
# with the one value that describes what the target does anyway, and why another value cannot be honoured.
# Another value fails the config check rather than being ignored: a user who sets `load_method: overwrite`
# expects the dataset replaced, and a warning in a scheduled run's log is easily missed. The matching value is
# accepted, so configs written with explicit defaults (older Hub definitions passed `load_method: append-only`)
# still run.
UNSUPPORTED_SDK_SETTINGS: dict[str, tuple[object, str]] = {
    "load_method": (
        "append-only",
        "ingestion only appends to an AEP dataset (Profile merges a customer's rows by identity); replacing "
        "a dataset's data is a Data Hygiene job, not a load",
    ),
    "add_record_metadata": (False, "_sdc_* metadata fields have no place in XDM"),
    "batch_size_rows": (None, "use batch_max_records"),
    "validate_records": (
        False,
        "every record is validated against its dataset's XDM schema; the Singer-schema check is not offered",
    ),
    "flattening_enabled": (False, "the XDM mapping reads Stripe's nested fields, which flattening would rename"),
    "flattening_max_depth": (None, "schema flattening is not offered"),
    "flattening_max_key_length": (None, "schema flattening is not offered"),
    "flattening_separator": (None, "schema flattening is not offered"),
    "batch_config": (None, "target-aep reads RECORD messages, not batch files"),
}


def unsupported_sdk_settings(config: t.Mapping[str, t.Any]) -> list[str]:
    """SDK built-ins set to something the target would not do, each named with what to do instead."""
    errors = []
    for name, (accepted, why) in UNSUPPORTED_SDK_SETTINGS.items():
        value = config.get(name)
        if value is None or value == accepted:
            continue
        allowed = f" (only {json.dumps(accepted)} is accepted)" if accepted is not None else ""
        errors.append(f"{name} is not supported by target-aep{allowed}: {why}; remove it from the config")
    return errors


def _per_stream(setting: str, field: str | None, streams: t.Collection[str] | t.Mapping[str, str], problem: str) -> str:
    """One message for a problem shared by several streams' entries of a per-stream setting.

    ``streams`` is a list of stream names, or stream name -> the offending value (shown next to each name).
    One stream: ``datasets.charges.inlet_id is required ...``; several: ``datasets.<stream>.inlet_id is
    required ... for 3 streams: a, b, c``.
    """
    suffix = f".{field}" if field else ""
    values = streams if isinstance(streams, t.Mapping) else {}
    named = [f"{name} ({values[name]!r})" if name in values else name for name in streams]
    if len(named) == 1:
        value = f" {values[next(iter(streams))]!r}" if values else ""
        return f"{setting}.{next(iter(streams))}{suffix}{value} {problem}"
    return f"{setting}.<stream>{suffix} {problem}, for {len(named)} streams: {', '.join(named)}"


def _is_number(value: object) -> bool:
    """A JSON number as the SDK hands config over: the decimals of a config file arrive as ``Decimal``."""
    return not isinstance(value, bool) and isinstance(value, int | float | Decimal)
