"""Start an emulator as a real server process on loopback, for tests, the demo and benchmarks.

Each emulator's ``__main__`` prints one line ``READY http://127.0.0.1:{port}`` on stdout once it listens
(``--port 0`` picks a free port). :func:`start_emulator` waits for that line, so callers never race the
server's start-up, and :class:`EmulatorProcess` stops the process (and its children) on exit.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from socketserver import TCPServer
from types import TracebackType

REPO_ROOT = Path(__file__).resolve().parent.parent
READY_PREFIX = "READY "


def serve_until_stopped(server: TCPServer) -> None:
    """The emulator side of the protocol: print ``READY <url>``, serve until SIGTERM or SIGINT, close cleanly."""

    def stop(signum: int, frame: object) -> None:
        # shutdown() waits for serve_forever to return, so it must not run on the thread serving.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    host, port = server.server_address[0], server.server_address[1]
    print(f"{READY_PREFIX}http://{host!s}:{port}", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()


class EmulatorStartError(RuntimeError):
    """The emulator process exited or stayed silent before it was ready."""


class EmulatorProcess:
    """A running emulator: its base URL and the process behind it."""

    def __init__(self, module: str, args: list[str], *, timeout: float = 120.0) -> None:
        self.module = module
        self.args = args
        self.timeout = timeout
        self.url = ""
        self._proc: subprocess.Popen[str] | None = None

    def start(self) -> EmulatorProcess:
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self._proc = subprocess.Popen(
            [sys.executable, "-m", self.module, *self.args],
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            stderr=None,  # the emulator's own log goes to the caller's stderr
            text=True,
            env=env,
            start_new_session=True,
        )
        deadline = time.monotonic() + self.timeout
        assert self._proc.stdout is not None
        while time.monotonic() < deadline:
            line = self._proc.stdout.readline()
            if not line:
                code = self._proc.wait()
                raise EmulatorStartError(f"{self.module} exited with code {code} before it was ready")
            if line.startswith(READY_PREFIX):
                self.url = line[len(READY_PREFIX) :].strip()
                return self
        self.stop()
        raise EmulatorStartError(f"{self.module} was not ready after {self.timeout:.0f} s")

    def stop(self) -> None:
        if self._proc is None or self._proc.poll() is not None:
            return
        try:
            os.killpg(self._proc.pid, signal.SIGTERM)
            self._proc.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._proc.pid, signal.SIGKILL)
            self._proc.wait()

    def __enter__(self) -> EmulatorProcess:
        return self.start() if self._proc is None else self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def stripe_emulator(**options: object) -> EmulatorProcess:
    """An unstarted Stripe emulator; keyword options become ``--option value`` flags."""
    return EmulatorProcess("emulators.stripe", _flags(options))


def aep_emulator(**options: object) -> EmulatorProcess:
    """An unstarted AEP emulator; keyword options become ``--option value`` flags."""
    return EmulatorProcess("emulators.aep", _flags(options))


def _flags(options: dict[str, object]) -> list[str]:
    args = ["--port", "0"]
    for name, value in options.items():
        if value is None or value is False:
            continue
        flag = "--" + name.replace("_", "-")
        args += [flag] if value is True else [flag, str(value)]
    return args
