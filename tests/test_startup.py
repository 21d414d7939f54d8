"""Start-up: modules the Singer SDK imports but a run never needs are deferred (stand-ins), and whatever uses them
still gets the same answers."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.target.conftest import ALL_STREAMS, REPO, datasets_setting, singer_messages, singer_text, streams_in

IRI_ANSWERS = """
import jsonschema
checker = jsonschema.FormatChecker()
values = ("http://ex.com/a b", "http://ex.com/\\u00e4", "//x", "::")
print([checker.conforms(v, f) for v in values for f in ("iri", "iri-reference", "uri", "uri-reference")])
"""

DEFERRED = """
import sys
import {module}
assert type(sys.modules["rfc3987_syntax"]).__name__ == "DeferredModule", "the grammar was built at import"
"""

DURATION_ANSWERS = """
import jsonschema
checker = jsonschema.Draft202012Validator.FORMAT_CHECKER
print([checker.conforms(v, "duration") for v in ("P1D", "PT1H", "P1", "xyz", "P", "P1Y2M3DT4H5M6S", "PT", 5)])
import isoduration
print(isoduration.parser.exceptions.DurationParsingException is isoduration.DurationParsingException)
"""

# What the target's stand-ins forward to behaves as the real modules do, also for a sub-module imported first.
STAND_INS_FORWARD = """
import sys
import target_aep
from stripe_aep_shared.deferred_imports import DeferredModule
DEFERRED = ("joblib", "upath", "rfc3986_validator", "backoff", "isoduration")
assert all(isinstance(sys.modules[m], DeferredModule) for m in DEFERRED)
import joblib.parallel
import joblib
assert joblib.Parallel(n_jobs=2, backend="threading")(joblib.delayed(abs)(-i) for i in range(3)) == [0, 1, 2]
assert sys.modules["joblib"].Parallel is joblib.parallel.Parallel  # one module, not a second copy
from upath import UPath
assert UPath("/").exists() and type(UPath("/")).__module__.startswith("upath.")
import backoff
waits = backoff.expo(factor=2)
assert [next(waits) for _ in range(3)] == [0, 2, 4]  # no wait before the first try
"""

# The target's own run, with the modules that really got imported at its end written to a file.
RUN_AND_LIST_IMPORTS = """
import atexit, json, sys
import target_aep
from stripe_aep_shared.deferred_imports import DeferredModule
HEAVY = ("joblib", "psutil", "upath", "fsspec", "asyncio", "rfc3986_validator", "backoff", "rfc3987_syntax",
         "isoduration", "arrow")

def imported():
    with open({out!r}, "w") as f:
        json.dump([m for m in HEAVY if m in sys.modules and not isinstance(sys.modules[m], DeferredModule)], f)

atexit.register(imported)
sys.argv = ["target-aep", "--config", {config!r}]
from target_aep.target import TargetAEP
TargetAEP.cli()
"""


def _run(code: str, stdin: str | None = None) -> str:
    return subprocess.run(
        [sys.executable, "-c", code], input=stdin, capture_output=True, text=True, check=True, cwd=REPO
    ).stdout.strip()


@pytest.mark.timeout(60)
@pytest.mark.parametrize("module", ["target_aep.target", "tap_stripe_aep.tap"])
def test_iri_grammar_is_deferred_and_iri_checks_are_unchanged(module: str) -> None:
    answers = _run(DEFERRED.format(module=module) + IRI_ANSWERS)
    assert answers == _run(IRI_ANSWERS)
    assert "True" in answers and "False" in answers  # the checks really ran, both ways


@pytest.mark.timeout(60)
def test_the_targets_stand_ins_forward_to_the_real_modules() -> None:
    _run(STAND_INS_FORWARD)
    answers = _run("import target_aep\n" + DURATION_ANSWERS)
    assert answers == _run(DURATION_ANSWERS)
    assert "True" in answers and "False" in answers  # the checks really ran, both ways


@pytest.mark.timeout(60)
def test_a_target_run_never_imports_what_it_does_not_use(tmp_path: Path) -> None:
    """joblib (the SDK drains sinks with it), upath/fsspec, backoff (asyncio), the URI regex and isoduration (arrow)
    stay unloaded
    through a whole run of many streams, its drains included; and the records land."""
    out = tmp_path / "out"
    streams = [s for s in streams_in(ALL_STREAMS) if s != "events"]
    config = {
        "output_dir": str(out),
        "tenant_id": "acme",
        "datasets": datasets_setting(streams),
        "local_schemas": {},
        "dead_letter_path": str(tmp_path / "rejected.jsonl"),
        "report_path": str(tmp_path / "report.html"),
        "skip_streams_without_dataset": True,
        "mapping_workers": 0,
    }
    from tests.target.test_output_dir import LOCAL_SCHEMAS

    config["local_schemas"] = LOCAL_SCHEMAS
    (tmp_path / "config.json").write_text(json.dumps(config))
    listed = tmp_path / "imported.json"
    code = RUN_AND_LIST_IMPORTS.format(out=str(listed), config=str(tmp_path / "config.json"))
    subprocess.run([sys.executable, "-c", code], input=singer_text(ALL_STREAMS), text=True, check=True, cwd=REPO)
    assert json.loads(listed.read_text()) == []
    landed = sorted(json.loads(line)["_acme"]["stripe"]["id"] for f in out.iterdir() for line in f.open())
    sent = [m["record"]["id"] for m in singer_messages(ALL_STREAMS) if m["type"] == "RECORD" and m["stream"] in streams]
    assert len(streams) > 8 and landed == sorted(sent)  # more sinks than the drain's 8 threads


# The tap's own run, with the modules that really got imported at its end written to a file.
TAP_RUN_AND_LIST_IMPORTS = """
import atexit, json, sys
import tap_stripe_aep
from stripe_aep_shared.deferred_imports import DeferredModule
HEAVY = ("joblib", "psutil", "upath", "fsspec", "rfc3986_validator", "backoff", "rfc3987_syntax", "isoduration",
         "arrow")

def imported():
    with open({out!r}, "w") as f:
        json.dump([m for m in HEAVY if m in sys.modules and not isinstance(sys.modules[m], DeferredModule)], f)

atexit.register(imported)
sys.argv = ["tap-stripe-aep", *sys.argv[1:]]
from tap_stripe_aep.tap import TapStripeAEP
TapStripeAEP.cli()
"""


@pytest.mark.timeout(120)
def test_a_tap_run_never_imports_what_it_does_not_use(tmp_path: Path) -> None:
    """joblib (psutil), upath (fsspec), backoff, the URI regex and isoduration (arrow) stay unloaded through a
    run of parents and their children, events included; and every object lands."""
    from emulators.launch import stripe_emulator
    from tests.tap.tap_runner import Control, run_tap, tap_config

    listed = tmp_path / "imported.json"
    streams = ["customers", "charges", "invoices", "invoice_line_items", "events"]
    command = [sys.executable, "-c", TAP_RUN_AND_LIST_IMPORTS.format(out=str(listed))]
    with stripe_emulator(customers=20, rate_limit=0) as emulator:
        run = run_tap(tap_config(emulator.url), streams=streams, command=command)
        assert run.returncode == 0, run.stderr[-3000:]
        expected = {stream: sorted(o["id"] for o in Control(emulator.url).objects(stream)) for stream in streams}
    assert json.loads(listed.read_text()) == []
    assert all(expected.values())
    assert {stream: sorted(run.ids(stream)) for stream in streams} == expected


DISCOVER_AND_SHOW_GC = """
import gc, json, sys
from tap_stripe_aep.gc_policy import YOUNG_GENERATION_THRESHOLD
from tap_stripe_aep.tap import TapStripeAEP
seen = []
streams = TapStripeAEP.discover_streams
TapStripeAEP.discover_streams = lambda self: seen.append(gc.get_threshold()[0]) or streams(self)
sys.argv = ["tap-stripe-aep", "--config", {config!r}, "--discover"]
try:
    TapStripeAEP.cli()
finally:
    print(json.dumps([seen, YOUNG_GENERATION_THRESHOLD, gc.get_threshold()[0]]), file=sys.stderr)
"""


@pytest.mark.timeout(60)
def test_the_taps_command_line_sets_up_with_fewer_garbage_collections(tmp_path: Path) -> None:
    """The set-up (streams, catalog) builds tens of thousands of objects none in a cycle: 40% of its CPU went to
    collections. The command line sets the policy (an embedding keeps its own), and --discover's output is whole."""
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"api_key": "sk_test_emulator_0000000000000000"}))
    done = subprocess.run(
        [sys.executable, "-c", DISCOVER_AND_SHOW_GC.format(config=str(config))],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
    )
    seen, raised, after = json.loads(done.stderr.strip().splitlines()[-1])
    assert seen == [raised] and after < raised
    assert len(json.loads(done.stdout)["streams"]) == 52
