"""Real Prometheus and Alertmanager servers for tests, from the Debian packages.

Everything listens on 127.0.0.1 on a free port and keeps its files in a temporary directory,
so the tests never meet the daemons the Debian packages start on 9090/9093.

    with running_prometheus(["127.0.0.1:34739"], [Path("alerts/easee-alerts.yml")]) as prom:
        prom.wait_for_targets_up()
        prom.wait_for(lambda: prom.firing("EaseeChargerError"), timeout=30)
        prom.query('easee_charger_online == 1')

- ``running_prometheus`` / ``async_running_prometheus``: Prometheus scraping the given
  targets (job "easee" by default, optionally itself as job "prometheus") every
  ``scrape_interval``, evaluating ``rule_files`` at the same interval.
- ``running_alertmanager``: Alertmanager with a given configuration, clustering off.
- ``shortened_for``: copies of rule files whose ``for`` durations are cut down, so that an
  end-to-end test sees an alert fire in seconds (promtool unit tests cover the real durations).
- ``static_metrics_target``: a scrape target serving a fixed (or computed) text exposition.
- ``webhook_recorder``: an HTTP receiver that records the requests it gets (e.g. from
  Alertmanager).

The handles' methods are synchronous (urllib). From async tests, start the servers with
``async_running_prometheus`` and wait with ``wait_for_async``, so the event loop keeps serving
an in-process scrape target meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

import yaml

__all__ = [
    "AlertmanagerHandle",
    "HarnessError",
    "PrometheusHandle",
    "RecordedRequest",
    "WebhookRecorder",
    "async_running_prometheus",
    "epoch_seconds",
    "free_port",
    "running_alertmanager",
    "running_prometheus",
    "shortened_for",
    "static_metrics_target",
    "wait_for",
    "webhook_recorder",
]

T = TypeVar("T")

# Debian installs Alertmanager as prometheus-alertmanager; upstream tarballs call it alertmanager.
PROMETHEUS_BINARY = os.environ.get("PROMETHEUS_BINARY", "prometheus")
ALERTMANAGER_BINARY = os.environ.get("ALERTMANAGER_BINARY", "prometheus-alertmanager")

_LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
# Another process can take the free port between our probe and the daemon's bind.
_START_ATTEMPTS = 3
_STOP_TIMEOUT = 10.0


class HarnessError(RuntimeError):
    """A server did not start, died, or answered an API call with an error."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for(
    predicate: Callable[[], T],
    timeout: float,
    *,
    interval: float = 0.2,
    description: str = "condition",
    check: Callable[[], None] | None = None,
) -> T:
    """Poll ``predicate`` until it returns a truthy value, and return that value.

    ``check`` runs before every poll and may raise to fail early (e.g. the server died).
    Raises ``TimeoutError`` with the last value seen when ``timeout`` seconds pass.
    """
    deadline = time.monotonic() + timeout
    while True:
        if check is not None:
            check()
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError(f"{description}: not met within {timeout} s; last value {value!r}")
        time.sleep(interval)


def _check_local(target: str) -> None:
    """Tests talk only to this machine: refuse any other scrape or alerting target."""
    host = urllib.parse.urlsplit(f"//{target}").hostname
    if host not in _LOCAL_HOSTS:
        raise ValueError(f"target {target!r} is not on 127.0.0.1")


def _http(
    method: str,
    url: str,
    *,
    body: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = 10.0,
) -> tuple[int, bytes]:
    # Only http://127.0.0.1 URLs that this module builds itself reach here.
    request = urllib.request.Request(  # noqa: S310
        url, data=body, method=method, headers=dict(headers or {})
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


class _Daemon:
    """One server process: started with its output in a log file, stopped for sure."""

    def __init__(self, name: str, argv: Sequence[str], log_path: Path) -> None:
        self.name = name
        self.log_path = log_path
        self._log = log_path.open("wb")
        self.process = subprocess.Popen(
            list(argv), stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )

    def log_tail(self, lines: int = 40) -> str:
        text = self.log_path.read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def check_alive(self) -> None:
        code = self.process.poll()
        if code is not None:
            raise HarnessError(f"{self.name} exited with code {code}:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=_STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=_STOP_TIMEOUT)
        self._log.close()


def _start_daemon(
    name: str,
    make_argv: Callable[[int], Sequence[str]],
    workdir: Path,
    startup_timeout: float,
) -> tuple[_Daemon, int]:
    """Start a server on a free port and wait until its ``/-/ready`` answers 200."""
    last_error: HarnessError | None = None
    for attempt in range(_START_ATTEMPTS):
        port = free_port()
        daemon = _Daemon(name, make_argv(port), workdir / f"{name}-{attempt}.log")

        def ready(port: int = port) -> bool:
            try:
                status, _ = _http("GET", f"http://127.0.0.1:{port}/-/ready", timeout=2.0)
            except OSError:
                return False
            return status == 200

        try:
            wait_for(
                ready,
                startup_timeout,
                interval=0.1,
                description=f"{name} ready on port {port}",
                check=daemon.check_alive,
            )
        except (HarnessError, TimeoutError) as error:
            daemon.stop()
            last_error = HarnessError(f"{error}\n{daemon.log_tail()}")
            if "address already in use" in daemon.log_tail():
                continue
            raise last_error from error
        return daemon, port
    assert last_error is not None
    raise last_error


# --- Prometheus ------------------------------------------------------------------------------


@dataclass
class PrometheusHandle:
    """A running Prometheus: its URL and a few API calls."""

    url: str
    config_path: Path
    _daemon: _Daemon = field(repr=False)

    def api(self, path: str, params: Mapping[str, str] | None = None) -> Any:
        """GET ``/api/v1/<path>`` and return its ``data``; raise ``HarnessError`` on an error."""
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        status, body = _http("GET", f"{self.url}/api/v1/{path}{query}")
        try:
            answer = json.loads(body)
        except ValueError as error:
            raise HarnessError(
                f"/api/v1/{path}: HTTP {status}, not JSON: {body[:200]!r}"
            ) from error
        if answer.get("status") != "success":
            raise HarnessError(f"/api/v1/{path}{query}: HTTP {status}: {answer}")
        return answer["data"]

    def query(self, promql: str, *, at: float | None = None) -> list[dict[str, Any]]:
        """Evaluate an instant query; return the samples (``{"metric": {...}, "value": [t, v]}``).

        A scalar or string result comes back as one sample with no labels.
        """
        params = {"query": promql}
        if at is not None:
            params["time"] = repr(at)
        data = self.api("query", params)
        if data["resultType"] in ("scalar", "string"):
            return [{"metric": {}, "value": data["result"]}]
        result: list[dict[str, Any]] = data["result"]
        return result

    def alerts(self) -> list[dict[str, Any]]:
        """Every pending and firing alert (``/api/v1/alerts``)."""
        alerts: list[dict[str, Any]] = self.api("alerts")["alerts"]
        return alerts

    def firing(self, alertname: str) -> list[dict[str, Any]]:
        """The firing alerts with that name."""
        return [
            alert
            for alert in self.alerts()
            if alert["labels"].get("alertname") == alertname and alert["state"] == "firing"
        ]

    def rules(self) -> list[dict[str, Any]]:
        """The rule groups with each rule's health and last error (``/api/v1/rules``)."""
        groups: list[dict[str, Any]] = self.api("rules")["groups"]
        return groups

    def targets(self) -> list[dict[str, Any]]:
        """The active scrape targets with their health (``/api/v1/targets``)."""
        targets: list[dict[str, Any]] = self.api("targets")["activeTargets"]
        return targets

    def check_alive(self) -> None:
        """Raise ``HarnessError`` (with the log) if Prometheus has exited."""
        self._daemon.check_alive()

    def log_tail(self, lines: int = 40) -> str:
        return self._daemon.log_tail(lines)

    def wait_for(
        self,
        predicate: Callable[[], T],
        timeout: float = 30.0,
        *,
        interval: float = 0.2,
        description: str = "condition",
    ) -> T:
        """Poll ``predicate`` until truthy (module ``wait_for``); fail early if Prometheus dies."""
        return wait_for(
            predicate, timeout, interval=interval, description=description, check=self.check_alive
        )

    async def wait_for_async(
        self,
        predicate: Callable[[], T],
        timeout: float = 30.0,  # noqa: ASYNC109 (a polling deadline, as in wait_for)
        *,
        interval: float = 0.2,
        description: str = "condition",
    ) -> T:
        """``wait_for`` for async tests: the predicate runs in a thread, the loop stays free."""
        deadline = time.monotonic() + timeout
        while True:
            self.check_alive()
            value = await asyncio.to_thread(predicate)
            if value:
                return value
            if time.monotonic() >= deadline:
                raise TimeoutError(
                    f"{description}: not met within {timeout} s; last value {value!r}"
                )
            await asyncio.sleep(interval)

    def wait_for_targets_up(self, timeout: float = 30.0) -> list[dict[str, Any]]:
        """Wait until every scrape target has been scraped successfully; return the targets."""

        def all_up() -> list[dict[str, Any]]:
            targets = self.targets()
            if targets and all(target["health"] == "up" for target in targets):
                return targets
            return []

        return self.wait_for(all_up, timeout, description="all scrape targets up")

    def wait_for_rules_evaluated(self, timeout: float = 30.0) -> list[dict[str, Any]]:
        """Wait until every rule has been evaluated at least once; return the rule groups.

        Raises ``HarnessError`` if a rule's evaluation failed (e.g. a many-to-many join).
        """

        def evaluated() -> list[dict[str, Any]]:
            groups = self.rules()
            for group in groups:
                for rule in group["rules"]:
                    if rule.get("health") == "err":
                        raise HarnessError(
                            f"rule {rule['name']} in {group['name']}: {rule.get('lastError')}"
                        )
            done = all(rule.get("health") == "ok" for group in groups for rule in group["rules"])
            return groups if groups and done else []

        return self.wait_for(evaluated, timeout, description="every rule evaluated")

    def wait_for_evaluation_after(self, moment: float, timeout: float = 30.0) -> None:
        """Wait until every rule group has been evaluated after ``moment`` (epoch seconds).

        For "nothing fires" checks: once every group has run on data newer than ``moment``,
        an empty alert list means the rules really stayed silent.
        """

        def evaluated_after() -> bool:
            groups = self.rules()
            return bool(groups) and all(
                epoch_seconds(group["lastEvaluation"]) > moment for group in groups
            )

        self.wait_for(
            evaluated_after, timeout, description=f"every rule group evaluated after {moment}"
        )


def epoch_seconds(rfc3339: str) -> float:
    """Epoch seconds of an RFC 3339 timestamp from Prometheus' or Alertmanager's API.

    They carry nanoseconds; datetime takes microseconds.
    """
    trimmed = re.sub(r"(\.\d{6})\d+", r"\1", rfc3339).replace("Z", "+00:00")
    return dt.datetime.fromisoformat(trimmed).timestamp()


class _Prometheus:
    def __init__(
        self,
        scrape_targets: Sequence[str],
        rule_files: Sequence[Path],
        *,
        scrape_interval: str,
        evaluation_interval: str | None,
        job: str,
        metrics_path: str,
        scrape_self: bool,
        alertmanagers: Sequence[str],
        startup_timeout: float,
        scrape_options: Mapping[str, Any],
    ) -> None:
        for target in [*scrape_targets, *alertmanagers]:
            _check_local(target)
        self._targets = list(scrape_targets)
        self._rule_files = [Path(path).resolve() for path in rule_files]
        for path in self._rule_files:
            if not path.is_file():
                raise FileNotFoundError(path)
        self._scrape_interval = scrape_interval
        self._evaluation_interval = evaluation_interval or scrape_interval
        self._job = job
        self._metrics_path = metrics_path
        self._scrape_self = scrape_self
        self._alertmanagers = list(alertmanagers)
        self._startup_timeout = startup_timeout
        self._scrape_options = dict(scrape_options)
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._daemon: _Daemon | None = None

    def _write_config(self, workdir: Path, port: int) -> Path:
        scrape_configs: list[dict[str, Any]] = []
        if self._targets:
            scrape_configs.append(
                {
                    "job_name": self._job,
                    "metrics_path": self._metrics_path,
                    "static_configs": [{"targets": self._targets}],
                    **self._scrape_options,
                }
            )
        if self._scrape_self:
            scrape_configs.append(
                {"job_name": "prometheus", "static_configs": [{"targets": [f"127.0.0.1:{port}"]}]}
            )
        config: dict[str, Any] = {
            "global": {
                "scrape_interval": self._scrape_interval,
                # The default timeout (10 s) must not exceed a 1 s scrape interval.
                "scrape_timeout": self._scrape_interval,
                "evaluation_interval": self._evaluation_interval,
            },
            "rule_files": [str(path) for path in self._rule_files],
            "scrape_configs": scrape_configs,
        }
        if self._alertmanagers:
            config["alerting"] = {
                "alertmanagers": [{"static_configs": [{"targets": self._alertmanagers}]}]
            }
        path = workdir / f"prometheus-{port}.yml"
        path.write_text(yaml.safe_dump(config, sort_keys=False))
        return path

    def start(self) -> PrometheusHandle:
        self._tmp = tempfile.TemporaryDirectory(prefix="prometheus-harness-")
        workdir = Path(self._tmp.name)
        config_paths: dict[int, Path] = {}

        def argv(port: int) -> list[str]:
            config_paths[port] = self._write_config(workdir, port)
            return [
                PROMETHEUS_BINARY,
                f"--config.file={config_paths[port]}",
                f"--storage.tsdb.path={workdir / f'data-{port}'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--log.level=info",
            ]

        try:
            self._daemon, port = _start_daemon("prometheus", argv, workdir, self._startup_timeout)
        except BaseException:
            self.stop()
            raise
        return PrometheusHandle(
            url=f"http://127.0.0.1:{port}", config_path=config_paths[port], _daemon=self._daemon
        )

    def stop(self) -> None:
        try:
            if self._daemon is not None:
                self._daemon.stop()
        finally:
            if self._tmp is not None:
                self._tmp.cleanup()


@contextlib.contextmanager
def running_prometheus(
    scrape_targets: Sequence[str],
    rule_files: Sequence[Path] = (),
    *,
    scrape_interval: str = "1s",
    evaluation_interval: str | None = None,
    job: str = "easee",
    metrics_path: str = "/metrics",
    scrape_self: bool = False,
    alertmanagers: Sequence[str] = (),
    startup_timeout: float = 30.0,
    scrape_options: Mapping[str, Any] | None = None,
) -> Iterator[PrometheusHandle]:
    """Run Prometheus until the block ends.

    ``scrape_targets`` are ``"127.0.0.1:PORT"`` strings, scraped as job ``job`` at
    ``metrics_path``; ``scrape_self`` adds Prometheus itself as job ``"prometheus"``.
    ``rule_files`` are loaded as they are and evaluated every ``evaluation_interval``
    (default: the scrape interval). ``alertmanagers`` (``"127.0.0.1:PORT"``) receive the alerts.
    ``scrape_options`` go into the targets' scrape config as they are (``scheme``,
    ``tls_config``, ``basic_auth``...). The block gets control once Prometheus answers
    ``/-/ready``.
    """
    server = _Prometheus(
        scrape_targets,
        rule_files,
        scrape_interval=scrape_interval,
        evaluation_interval=evaluation_interval,
        job=job,
        metrics_path=metrics_path,
        scrape_self=scrape_self,
        alertmanagers=alertmanagers,
        startup_timeout=startup_timeout,
        scrape_options=scrape_options or {},
    )
    handle = server.start()
    try:
        yield handle
    finally:
        server.stop()


@contextlib.asynccontextmanager
async def async_running_prometheus(
    scrape_targets: Sequence[str],
    rule_files: Sequence[Path] = (),
    *,
    scrape_interval: str = "1s",
    evaluation_interval: str | None = None,
    job: str = "easee",
    metrics_path: str = "/metrics",
    scrape_self: bool = False,
    alertmanagers: Sequence[str] = (),
    startup_timeout: float = 30.0,
    scrape_options: Mapping[str, Any] | None = None,
) -> AsyncIterator[PrometheusHandle]:
    """``running_prometheus`` for async tests: starting and stopping run in a thread, so an
    in-process scrape target on the same event loop keeps answering."""
    server = _Prometheus(
        scrape_targets,
        rule_files,
        scrape_interval=scrape_interval,
        evaluation_interval=evaluation_interval,
        job=job,
        metrics_path=metrics_path,
        scrape_self=scrape_self,
        alertmanagers=alertmanagers,
        startup_timeout=startup_timeout,
        scrape_options=scrape_options or {},
    )
    handle = await asyncio.to_thread(server.start)
    try:
        yield handle
    finally:
        await asyncio.to_thread(server.stop)


_FOR_LINE = re.compile(r"^(\s*)for:\s*\S+\s*$", re.MULTILINE)


def shortened_for(rule_files: Sequence[Path], directory: Path, duration: str = "1s") -> list[Path]:
    """Copy rule files into ``directory`` with every alert's ``for:`` set to ``duration``.

    For end-to-end tests against a real Prometheus, which cannot wait out a ``for: 5m``; the
    expressions, labels and annotations stay as written. The copies are checked with
    ``promtool check rules`` by whoever loads them (Prometheus refuses a broken file).
    """
    directory.mkdir(parents=True, exist_ok=True)
    copies = []
    for path in rule_files:
        text = _FOR_LINE.sub(lambda match: f"{match.group(1)}for: {duration}", path.read_text())
        copy = directory / path.name
        copy.write_text(text)
        copies.append(copy)
    return copies


# --- Alertmanager ----------------------------------------------------------------------------


@dataclass
class AlertmanagerHandle:
    """A running Alertmanager: its URL and the v2 API calls tests need."""

    url: str
    config_path: Path
    _daemon: _Daemon = field(repr=False)

    def post_alerts(self, alerts: Sequence[Mapping[str, Any]]) -> None:
        """Send alerts as Prometheus does (``POST /api/v2/alerts``)."""
        status, body = _http(
            "POST",
            f"{self.url}/api/v2/alerts",
            body=json.dumps(list(alerts)).encode(),
            headers={"Content-Type": "application/json"},
        )
        if status != 200:
            raise HarnessError(f"POST /api/v2/alerts: HTTP {status}: {body[:500]!r}")

    def alerts(self, *matchers: str) -> list[dict[str, Any]]:
        """The alerts Alertmanager holds, with their status (active, suppressed, inhibitedBy).

        ``matchers`` are filter expressions such as ``'alertname="EaseeChargerError"'``.
        """
        query = urllib.parse.urlencode([("filter", matcher) for matcher in matchers])
        status, body = _http("GET", f"{self.url}/api/v2/alerts?{query}")
        if status != 200:
            raise HarnessError(f"GET /api/v2/alerts: HTTP {status}: {body[:500]!r}")
        alerts: list[dict[str, Any]] = json.loads(body)
        return alerts

    def check_alive(self) -> None:
        self._daemon.check_alive()

    def log_tail(self, lines: int = 40) -> str:
        return self._daemon.log_tail(lines)

    def wait_for(
        self,
        predicate: Callable[[], T],
        timeout: float = 30.0,
        *,
        interval: float = 0.2,
        description: str = "condition",
    ) -> T:
        return wait_for(
            predicate, timeout, interval=interval, description=description, check=self.check_alive
        )


@contextlib.contextmanager
def running_alertmanager(
    config: Mapping[str, Any] | Path, *, startup_timeout: float = 30.0
) -> Iterator[AlertmanagerHandle]:
    """Run Alertmanager with ``config`` (a parsed configuration or a file) until the block ends.

    Clustering is switched off (it would listen on 0.0.0.0:9094).
    """
    with tempfile.TemporaryDirectory(prefix="alertmanager-harness-") as tmp:
        workdir = Path(tmp)
        config_path = workdir / "alertmanager.yml"
        if isinstance(config, Path):
            shutil.copyfile(config, config_path)
        else:
            config_path.write_text(yaml.safe_dump(dict(config), sort_keys=False))

        def argv(port: int) -> list[str]:
            return [
                ALERTMANAGER_BINARY,
                f"--config.file={config_path}",
                f"--storage.path={workdir / f'data-{port}'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--cluster.listen-address=",
                "--log.level=info",
            ]

        daemon, port = _start_daemon("alertmanager", argv, workdir, startup_timeout)
        try:
            yield AlertmanagerHandle(
                url=f"http://127.0.0.1:{port}", config_path=config_path, _daemon=daemon
            )
        finally:
            daemon.stop()


# --- Small local HTTP servers ----------------------------------------------------------------


@contextlib.contextmanager
def _serve(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, name="harness-http", daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=_STOP_TIMEOUT)


@contextlib.contextmanager
def static_metrics_target(exposition: str | Callable[[], str]) -> Iterator[str]:
    """Serve a Prometheus text exposition at ``/metrics``; yield ``"127.0.0.1:PORT"``.

    ``exposition`` is the text, or a function called on every scrape (e.g. to put the current
    time into a timestamp gauge).
    """

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.split("?")[0] != "/metrics":
                self.send_error(404)
                return
            text = exposition() if callable(exposition) else exposition
            body = text.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            """Scrapes every second would flood the test output."""

    with _serve(Handler) as target:
        yield target


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class WebhookRecorder:
    """Requests received by ``webhook_recorder``, in arrival order (thread-safe)."""

    url: str
    _requests: list[RecordedRequest] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def requests(self, path: str | None = None) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self._requests if path is None or r.path == path]

    def _add(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)


@contextlib.contextmanager
def webhook_recorder(status: int = 200) -> Iterator[WebhookRecorder]:
    """An HTTP server on 127.0.0.1 that records every POST and answers ``status``."""
    recorder: WebhookRecorder

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            recorder._add(
                RecordedRequest(
                    method="POST",
                    path=self.path,
                    headers={key.lower(): value for key, value in self.headers.items()},
                    body=body,
                )
            )
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            """Keep the test output quiet."""

    with _serve(Handler) as address:
        recorder = WebhookRecorder(url=f"http://{address}")
        yield recorder
