"""A temporary local Prefect API for one command-line run, started as early as possible.

With no API configured, Prefect starts a temporary server itself, but only when the
flow starts, and it imports the whole server (FastAPI, SQLAlchemy, ...: about 85 MB
and 1-2 s) into this process to do so. Started here as a separate process, the same
server boots on the other core while this process imports Prefect's client, pandas
and Great Expectations; the flow then finds it ready.

A configured API (``PREFECT_API_URL`` in the environment or the Prefect profile, or a
test harness) is always used instead.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

from migstock import progress, timings
from migstock.errors import MigstockError

STARTUP_TIMEOUT_S = float(os.environ.get("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", 120))


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _keep_on_one_cpu(pid: int) -> None:
    """Run the server on one CPU (the last one this process may use), where it can.

    The server's event loop hands every SQLite statement to aiosqlite's thread and
    waits for the answer; on this project's 2-core VMs a hand-off between cores costs
    far more than one within a core. Creating a new Prefect database (some 34,000
    hand-offs) took 6.8-8.5 s spread over two cores and 4.1-4.7 s on one. The
    server's Python runs one thread at a time anyway; the run's other processes
    still use every CPU. Threads the server starts later inherit the setting.
    """
    if not hasattr(os, "sched_setaffinity"):  # not Linux
        return
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) > 1:
        with contextlib.suppress(OSError):  # e.g. the server already exited
            os.sched_setaffinity(pid, {cpus[-1]})


class TemporaryServer:
    """``prefect.server`` under uvicorn on a free local port, for the life of one run."""

    def __init__(self) -> None:
        self.port = _free_port()
        self._log = tempfile.TemporaryFile(mode="w+b")  # noqa: SIM115 (closed by stop)
        environment = {
            **os.environ,
            "PREFECT_UI_ENABLED": "0",
            "PREFECT__SERVER_EPHEMERAL": "1",
            "PREFECT__SERVER_FINAL": "1",
        }
        environment.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
        # migstock uses no blocks; registering Prefect's block types in a new database
        # cost about a second (a lasting `prefect server start` registers them itself)
        environment.setdefault("PREFECT_API_BLOCKS_REGISTER_ON_START", "false")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--factory",
                "prefect.server.api.server:create_app",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--log-level",
                "error",
                "--lifespan",
                "on",
            ],
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        _keep_on_one_cpu(self.process.pid)
        self.started = time.monotonic()
        self.ready_after_s: float | None = None

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def wait_ready(self, timeout_s: float = STARTUP_TIMEOUT_S) -> None:
        """Block until the API answers its health check; raise if the server died."""
        deadline = self.started + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise MigstockError(
                    f"the temporary Prefect server exited with code {self.process.returncode}: "
                    f"{self._output()}"
                )
            try:
                with urllib.request.urlopen(f"{self.api_url}/health", timeout=2) as response:
                    if response.status == 200:
                        self.ready_after_s = time.monotonic() - self.started
                        timings.mark("Prefect server ready")
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.1)
        raise MigstockError(
            f"the temporary Prefect server did not answer within {timeout_s:.0f} s "
            "(set PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS, or PREFECT_API_URL to "
            "a running server)"
        )

    def _output(self) -> str:
        self._log.seek(0)
        text = self._log.read().decode("utf-8", "replace").strip()
        return text[-2000:] or "(no output)"

    def terminate(self) -> None:
        """Ask the server to shut down, without waiting (see :meth:`stop`)."""
        if self.process.poll() is None:
            self.process.terminate()

    def stop(self) -> None:
        """Shut the server down and wait for it (killed after 10 s)."""
        if self._log.closed:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


@contextlib.contextmanager
def temporary() -> Iterator[ApiChoice]:
    """Start a temporary server now (unless ``PREFECT_API_URL`` is set); stop it at the end.

    Do the slow imports inside the block, then run the flow inside ``choice.use()``.
    """
    server = None if os.environ.get("PREFECT_API_URL") else TemporaryServer()
    try:
        yield ApiChoice(server)
    finally:
        if server is not None:
            server.stop()


class ApiChoice:
    """Which Prefect API a run talks to: one already configured, else the temporary server."""

    def __init__(self, server: TemporaryServer | None) -> None:
        self.server = server

    @contextlib.contextmanager
    def use(self) -> Iterator[None]:
        from prefect.settings import (
            PREFECT_API_URL,
            PREFECT_FLOWS_HEARTBEAT_FREQUENCY,
            get_current_settings,
            temporary_settings,
        )

        if self.server is None or get_current_settings().api.url:
            if self.server is not None:  # a profile or test harness names an API: use that
                self.server.stop()
            yield
            return
        if self.server.ready_after_s is None:  # the run parses and validates meanwhile
            progress.stage("starting Prefect's temporary server")
        self.server.wait_ready()
        try:
            # no heartbeats: they tell a lasting server that a run crashed, and this one
            # ends with the run (stopping their thread also cost up to a second)
            with temporary_settings(
                {PREFECT_API_URL: self.server.api_url, PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}
            ):
                yield
        finally:  # it shuts down while the run prints its summary
            self.server.terminate()
