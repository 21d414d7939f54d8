"""Clear failures: a rejected key, a missing permission, bad settings (before any request); the key never leaks.

An expected failure ends with one error line and exit 1, no traceback: a traceback is for bugs.
"""

from __future__ import annotations

import sys

import pytest

from emulators.launch import EmulatorProcess, stripe_emulator
from tests.tap.tap_runner import FULL_KEY, LIMITED_KEY, Control, TapRun, run_tap, tap_config

pytestmark = pytest.mark.timeout(60)

WRONG_KEY = "sk_test_not_a_real_key_00001234"
DISTINCTIVE_KEY = "sk_test_Xq7ZwV3pLmQ9rT2yU8nB4cDzK6"


# Stripe unreachable or failing through every retry, without waiting out the real retry budget (8 attempts,
# about 16 s of backoff): the same tap with two attempts.
TAP_WITH_TWO_ATTEMPTS = [
    sys.executable,
    "-c",
    "import tap_stripe_aep.client as c; c.MAX_ATTEMPTS = 2; from tap_stripe_aep.tap import TapStripeAEP; "
    "TapStripeAEP.cli()",
]


def error_lines(run: TapRun) -> list[str]:
    return [line for line in run.stderr.splitlines() if "| ERROR" in line]


def assert_one_clear_line(run: TapRun, expected: str) -> None:
    """Exit 1, no traceback, and the last error line says what went wrong."""
    assert run.returncode == 1, run.stderr[-3000:]
    assert "Traceback" not in run.stderr, run.stderr[-3000:]
    errors = error_lines(run)
    assert len(errors) == 1 and expected in errors[0], errors


def test_rejected_key_fails_at_once_naming_the_key_tail(shared_emulator: EmulatorProcess) -> None:
    run = run_tap(tap_config(shared_emulator.url, api_key=WRONG_KEY), streams=["customers"])
    assert_one_clear_line(run, "tap-stripe-aep stopped: StripeAuthError: the API key was rejected (key ends ...1234)")
    assert WRONG_KEY not in run.stdout + run.stderr
    assert WRONG_KEY[-5:] not in run.stdout + run.stderr, "more than the key's last four characters shown"


def test_restricted_key_names_the_missing_permission(shared_emulator: EmulatorProcess) -> None:
    run = run_tap(tap_config(shared_emulator.url, api_key=LIMITED_KEY), streams=["payouts"])
    assert_one_clear_line(run, "StripePermissionError: the API key lacks permission 'rak_payout_read'")
    assert "'payouts'" in error_lines(run)[0]
    assert LIMITED_KEY not in run.stdout + run.stderr


def test_stripe_unreachable_after_retries_is_one_line() -> None:
    with stripe_emulator(customers=1) as emulator:
        url = emulator.url  # a port that just stopped listening
    run = run_tap(tap_config(url), streams=["customers"], command=TAP_WITH_TWO_ATTEMPTS)
    assert_one_clear_line(run, f"StripeRetriesExhaustedError: GET {url}/v1/account still failing after 2 attempts")
    assert "connection failed" in error_lines(run)[0]


def test_stripe_failing_after_retries_is_one_line(own_emulator: EmulatorProcess) -> None:
    Control(own_emulator.url).post("faults", {"fault_rate": 1.0})  # every request: 500 or a dropped connection
    run = run_tap(tap_config(own_emulator.url), streams=["customers"], command=TAP_WITH_TWO_ATTEMPTS)
    assert_one_clear_line(run, "StripeRetriesExhaustedError: GET ")
    assert "still failing after 2 attempts" in error_lines(run)[0]


def test_restricted_key_reads_what_it_may(shared_emulator: EmulatorProcess, control: Control) -> None:
    run = run_tap(tap_config(shared_emulator.url, api_key=LIMITED_KEY), streams=["customers"])
    assert run.returncode == 0, run.stderr[-2000:]
    assert set(run.ids("customers")) == {obj["id"] for obj in control.objects("customers")}


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("api_key", "pk_test_publishable_key_0000"),
        # Pasted with a newline: requests would refuse the header in an exception quoting the whole key.
        ("api_key", DISTINCTIVE_KEY + "\n"),
        ("api_key", DISTINCTIVE_KEY.replace("Lm", " Lm")),
        ("start_date", "last tuesday"),
        ("account_ids", ["acct_ok1", "not-an-account"]),
        ("account_ids", ["acct_ok1\n"]),  # `$` would let the newline through, into a header
        ("max_requests_per_second", 0),
        ("max_requests_per_second", -5),
    ],
)
def test_bad_config_fails_before_any_request(
    setting: str, value: object, shared_emulator: EmulatorProcess, control: Control
) -> None:
    before = control.stats()["requests"]
    run = run_tap(tap_config(shared_emulator.url, **{setting: value}), streams=["customers"])
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    assert f"setting '{setting}'" in run.stderr
    assert control.stats()["requests"] == before, "the tap made a request despite a bad config"
    if setting == "api_key":
        assert "publishable_key" not in run.stderr and "Xq7ZwV3p" not in run.stdout + run.stderr


def test_the_key_never_appears_in_any_output(full_run: TapRun) -> None:
    assert FULL_KEY not in full_run.stdout
    assert FULL_KEY not in full_run.stderr
    assert FULL_KEY[-12:] not in full_run.stdout + full_run.stderr


def test_no_part_of_a_rejected_key_but_its_tail_is_shown(shared_emulator: EmulatorProcess) -> None:
    run = run_tap(tap_config(shared_emulator.url, api_key=DISTINCTIVE_KEY), streams=["customers", "payouts"])
    output = run.stdout + run.stderr
    assert run.returncode != 0
    assert "(key ends ...zK6" not in output and "(key ends ...DzK6)" in output
    secret = DISTINCTIVE_KEY.removeprefix("sk_test_")[:-4]
    leaked = [secret[i : i + 5] for i in range(len(secret) - 4) if secret[i : i + 5] in output]
    assert not leaked, f"parts of the key in the output: {leaked}"
