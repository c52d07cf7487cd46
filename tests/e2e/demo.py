"""`python -m exporter --demo` as a subprocess, and the HTTP calls the end-to-end tests make.

The demo service runs its own simulated Easee cloud in-process; its JSON log names the
simulator's URL (event "demo cloud started"), whose admin API (`/_sim/`, docs/simulator.md)
the tests use to change the chargers' truth. The banner on stdout carries the generated
webhook token.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from tests.prometheus_harness import HarnessError, free_port, wait_for

ROOT = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
TOKEN_MARKER = "demo webhook token:"


def http(
    method: str,
    url: str,
    payload: Any = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = 10.0,
) -> tuple[int, bytes]:
    """One request to 127.0.0.1; a JSON body when ``payload`` is given. HTTP errors are
    answers too: the status comes back, nothing is raised."""
    body = None if payload is None else json.dumps(payload).encode()
    all_headers = {"Content-Type": "application/json"} if body is not None else {}
    all_headers.update(headers or {})
    request = urllib.request.Request(url, data=body, method=method, headers=all_headers)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@dataclass
class Demo:
    """A running demo service: its URL, webhook token, and the simulator's URL."""

    url: str
    token: str
    sim_url: str
    process: subprocess.Popen[bytes]
    stderr_path: Path

    @property
    def target(self) -> str:
        """The scrape target, ``127.0.0.1:PORT``."""
        return self.url.removeprefix("http://")

    def check_alive(self) -> None:
        code = self.process.poll()
        if code is not None:
            tail = "\n".join(self.stderr_path.read_text(errors="replace").splitlines()[-30:])
            raise HarnessError(f"the demo service exited with code {code}:\n{tail}")

    def metric(self, name: str, **labels: str) -> list[float]:
        """The values of every sample ``name`` on /metrics whose labels include ``labels``."""
        status, body = http("GET", f"{self.url}/metrics")
        assert status == 200, body[:300]
        return [
            sample.value
            for family in text_string_to_metric_families(body.decode())
            for sample in family.samples
            if sample.name == name and labels.items() <= sample.labels.items()
        ]

    def control(self, charger_id: str, action: str) -> dict[str, Any]:
        """``POST /api/v1/chargers/{id}/{action}`` with the demo token; the JSON answer."""
        status, body = http(
            "POST",
            f"{self.url}/api/v1/chargers/{charger_id}/{action}",
            headers={"Authorization": f"Bearer {self.token}"},
        )
        assert status == 200, f"{action} {charger_id}: HTTP {status}: {body[:300]!r}"
        answer: dict[str, Any] = json.loads(body)
        return answer

    def sim(self, method: str, path: str, payload: Any = None) -> Any:
        """A call to the simulator's admin API (``/_sim/<path>``); the JSON answer."""
        status, body = http(method, f"{self.sim_url}/_sim/{path}", payload)
        assert 200 <= status < 300, f"{method} /_sim/{path}: HTTP {status}: {body[:300]!r}"
        return json.loads(body) if body else None

    def observation(self, charger_id: str, obs_id: int) -> Any:
        """The simulator's truth: the current value of one observation of a charger."""
        truth = self.sim("GET", f"chargers/{charger_id}")
        return truth["observations"][str(obs_id)]["value"]


def _service_env() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("EASEE_")}
    return {**env, "PYTHONPATH": str(ROOT)}


def _banner_token(stdout_path: Path) -> str | None:
    for line in stdout_path.read_text(errors="replace").splitlines():
        if TOKEN_MARKER in line:
            return line.split(TOKEN_MARKER, 1)[1].strip()
    return None


def _sim_url(stderr_path: Path) -> str | None:
    for line in stderr_path.read_text(errors="replace").splitlines():
        with contextlib.suppress(ValueError):
            entry = json.loads(line)
            if isinstance(entry, dict) and entry.get("event") == "demo cloud started":
                return str(entry["api_url"])
    return None


@contextlib.contextmanager
def running_demo(workdir: Path) -> Iterator[Demo]:
    """Run the demo service on a free port until the block ends; yield once it is ready
    (``/readyz`` 200: logged in and subscribed to the simulated chargers)."""
    port = free_port()
    stdout_path = workdir / "demo-stdout.log"
    stderr_path = workdir / "demo-stderr.log"
    with stdout_path.open("wb") as stdout, stderr_path.open("wb") as stderr:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "exporter",
                "--demo",
                "--web.listen-address",
                f"127.0.0.1:{port}",
            ],
            env=_service_env(),
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
            cwd=workdir,
        )
    try:
        url = f"http://127.0.0.1:{port}"
        demo = Demo(url=url, token="", sim_url="", process=process, stderr_path=stderr_path)

        def ready() -> bool:
            try:
                status, _ = http("GET", f"{url}/readyz", timeout=2.0)
            except OSError:
                return False
            return status == 200

        wait_for(ready, STARTUP_TIMEOUT, description="demo /readyz", check=demo.check_alive)
        demo.token = wait_for(
            lambda: _banner_token(stdout_path), 5.0, description="demo token on stdout"
        )
        demo.sim_url = wait_for(
            lambda: _sim_url(stderr_path), 5.0, description="'demo cloud started' log line"
        )
        yield demo
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=STOP_TIMEOUT)
