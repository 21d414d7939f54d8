"""A `meltano run` whose plugins are interrupted fails: Meltano reports their exit codes, not "success".

Ctrl-C in a terminal reaches Meltano, the tap and the target at once. Meltano then cancels its run, but depending on
timing that cancellation can be absorbed, and the plugins' exit codes decide: with the SDK's handlers both exited
0 and the run ended "Run completed", exit 0. Here the plugins alone get SIGINT, which pins that case down.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import time
from pathlib import Path

import psutil
import pytest

from scripts.meltano_pipeline import MELTANO, REPO_ROOT, STATE_ID, LocalPipeline

# Both files run `meltano` in the repository's own project (its .meltano folder: plugin venvs, catalog cache, state
# database), so under pytest-xdist they share one worker (`--dist loadgroup` in the Makefile) instead of racing.
pytestmark = [pytest.mark.timeout(300), pytest.mark.xdist_group("repository-meltano-project")]

STATE_ID_SUFFIX = "signals"  # a state id of its own: the other Meltano tests' state is not touched
PLUGINS = ("tap-stripe-aep", "target-aep")


def plugins_installed() -> bool:
    """``meltano install`` takes seconds even when nothing changed; the plugins are editable installs of the repo."""
    meltano_dir = REPO_ROOT / ".meltano"
    return all(
        (meltano_dir / kind / name / "venv" / "bin" / name).exists()
        for kind, name in (("extractors", "tap-stripe-aep"), ("loaders", "target-aep"))
    )


def plugin_processes(meltano: subprocess.Popen[str]) -> list[psutil.Process]:
    """The tap's and the target's processes (not the target's mapping workers: forked from it, same command line)."""
    found = []
    for child in psutil.Process(meltano.pid).children(recursive=True):
        try:
            if any(Path(arg).name in PLUGINS for arg in child.cmdline()):
                found.append(child)
        except psutil.Error:
            continue
    pids = {process.pid for process in found}
    return [process for process in found if process.ppid() not in pids]


def handles_stop_signals(process: psutil.Process) -> bool:
    """Whether the plugin has installed its stop handlers: it catches SIGTERM (``SigCgt`` in ``/proc``), which
    Python does not by itself and the SDK does together with SIGINT."""
    try:
        status = Path(f"/proc/{process.pid}/status").read_text()
    except OSError:
        return False
    caught = next((line.split()[1] for line in status.splitlines() if line.startswith("SigCgt:")), "0")
    return bool(int(caught, 16) & (1 << (signal.SIGTERM - 1)))


def test_interrupted_plugins_fail_the_meltano_run(tmp_path: Path) -> None:
    # One stream at three seconds a request: its sync lasts seconds after it begins, even with its range read in
    # parallel parts, and even when the target, on a loaded machine, takes a while to handle signals (at one second
    # a request the tap could finish first: one failure in eight under `make test`'s load).
    with LocalPipeline(tmp_path, customers=20, seed=5, latency_ms=3000) as pipeline:
        if not plugins_installed():
            pipeline.install()
        env = dict(pipeline.env(), TAP_STRIPE_AEP__SELECT='["charges.*"]')
        command = [MELTANO, "run", "--state-id-suffix", STATE_ID_SUFFIX, "--full-refresh", *PLUGINS]
        meltano = subprocess.Popen(
            command, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        assert meltano.stdout is not None
        log: list[str] = []
        for line in meltano.stdout:
            log.append(line)
            if "Beginning sync of 'charges'" in line:
                break
        plugins = plugin_processes(meltano)
        assert len(plugins) == 2, "".join(log)[-3000:]
        # The tap can begin its sync before the target has finished starting (the tap starts in under a second):
        # a signal then would meet Python's default handler (a KeyboardInterrupt traceback), not the target's.
        deadline = time.monotonic() + 60
        while not all(handles_stop_signals(plugin) for plugin in plugins) and time.monotonic() < deadline:
            time.sleep(0.05)
        for plugin in plugins:
            plugin.send_signal(signal.SIGINT)
        log.append(meltano.stdout.read())
        returncode = meltano.wait(timeout=120)
        state = subprocess.run(
            [MELTANO, "state", "get", f"{STATE_ID}:{STATE_ID_SUFFIX}"],
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )

    text = "".join(log)
    assert returncode == 1, text[-4000:]
    # Meltano names whichever plugin it saw end first ("Loader failed", "Extractor and loader failed", ...).
    assert re.search(r"meltano +(Extractor|Loader|Extractor and loader) failed", text), text[-4000:]
    assert "tap-stripe-aep interrupted by SIGINT" in text and "target-aep interrupted by SIGINT" in text
    assert "Traceback" not in text
    # The target wrote no STATE before the signal (it confirms at the end of input), so Meltano kept none: the
    # next run reads everything again.
    saved = json.loads(state.stdout) if state.returncode == 0 and state.stdout.strip() else {}
    assert not saved.get("singer_state", {}).get("bookmarks"), saved
