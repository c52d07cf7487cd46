"""The compose stack's monitoring configuration, running: the demo exporter, Prometheus and
Alertmanager started from their real binaries on 127.0.0.1, with the files the compose file
mounts (mirrored into a temporary tree). Prometheus must scrape the exporter under the job
the rules select, evaluate every rule without error against the real exposition, and find
Alertmanager.

Two things differ from the containers, and only these: addresses (service names become
127.0.0.1 ports) and the scrape/evaluation interval (1 s instead of 30 s, to finish fast).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import yaml

from tests.deploy.support import (
    REPO_ROOT,
    bind_mounts,
    compose_service,
    container_files,
    load_compose,
    mirror_mounts,
    reroot_file_keys,
)

DEADLINE_SECONDS = 45.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - 127.0.0.1 only
        return json.load(response)


def _wait_for(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except OSError:
            pass  # not listening yet
        time.sleep(0.5)
    pytest.fail(f"timed out waiting for {what}")


class Stack:
    """Processes started for one test, stopped (and their output kept) at the end."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.processes: list[tuple[str, subprocess.Popen[bytes]]] = []

    def start(self, name: str, command: list[str], env: dict[str, str] | None = None) -> None:
        log = (self.root / f"{name}.log").open("wb")
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, cwd=self.root, env=env
        )
        self.processes.append((name, process))

    def logs(self) -> str:
        return "\n".join(
            f"--- {name}\n{(self.root / f'{name}.log').read_text(errors='replace')[-3000:]}"
            for name, _ in self.processes
        )

    def stop(self) -> None:
        for _, process in self.processes:
            process.terminate()
        for _, process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    running = Stack(tmp_path)
    try:
        yield running
    finally:
        running.stop()


def test_prometheus_scrapes_the_demo_and_evaluates_every_rule(
    stack: Stack, binary: Callable[[str], str]
) -> None:
    root = stack.root
    exporter_port, prometheus_port, alertmanager_port = (_free_port() for _ in range(3))

    # Alertmanager with the mounted example configuration; its token file re-rooted.
    am_mounts = bind_mounts(compose_service("alertmanager"))
    mirror_mounts(am_mounts, root)
    am_config_path = root / "etc/alertmanager/alertmanager.yml"
    token = root / "webhook_token"
    token.write_text((REPO_ROOT / "deploy/compose/secrets/webhook_token").read_text())
    am_text = am_config_path.read_text()
    am_config = yaml.safe_load(am_text)
    for receiver in am_config["receivers"]:
        for webhook in receiver.get("webhook_configs", []):
            authorization = webhook.get("http_config", {}).get("authorization")
            if authorization:
                authorization["credentials_file"] = str(token)
            webhook["url"] = webhook["url"].replace(
                "easee-exporter:34739", f"127.0.0.1:{exporter_port}"
            )
    am_config_path.write_text(yaml.safe_dump(am_config))
    stack.start(
        "alertmanager",
        [
            # Debian's name for the alertmanager binary.
            binary("prometheus-alertmanager"),
            f"--config.file={am_config_path}",
            f"--storage.path={root / 'alertmanager-data'}",
            f"--web.listen-address=127.0.0.1:{alertmanager_port}",
            # No cluster listener (it would bind every interface).
            "--cluster.listen-address=",
        ],
    )

    # The exporter as compose runs it: its command, environment and configuration file,
    # with the container paths the file names replaced by the host files mounted there.
    compose = load_compose()
    exporter = compose["services"]["easee-exporter"]
    files = container_files(exporter, compose["secrets"])
    environment = dict(exporter["environment"])
    config = yaml.safe_load(files[environment["EASEE_EXPORTER_CONFIG"]].read_text())
    exporter_config = root / "exporter.yaml"
    exporter_config.write_text(yaml.safe_dump(reroot_file_keys(config, files)))
    environment["EASEE_EXPORTER_CONFIG"] = str(exporter_config)
    env = {k: v for k, v in os.environ.items() if not k.startswith("EASEE_")}
    stack.start(
        "exporter",
        [
            *(sys.executable, "-m", "exporter", *exporter["command"]),
            *("--web.listen-address", f"127.0.0.1:{exporter_port}"),
        ],
        env={**env, **environment, "PYTHONPATH": str(REPO_ROOT)},
    )

    # Prometheus with the mounted configuration and rule files.
    mirror_mounts(bind_mounts(compose_service("prometheus")), root)
    config_path = root / "etc/prometheus/prometheus.yml"
    config = yaml.safe_load(config_path.read_text())
    config["global"]["scrape_interval"] = "1s"
    config["global"]["evaluation_interval"] = "1s"
    config["rule_files"] = [
        str(root / PurePosixPath(rule).relative_to("/")) for rule in config["rule_files"]
    ]
    addresses = {
        "easee-exporter:34739": f"127.0.0.1:{exporter_port}",
        "alertmanager:9093": f"127.0.0.1:{alertmanager_port}",
        "localhost:9090": f"127.0.0.1:{prometheus_port}",
    }
    for job in config["scrape_configs"]:
        for static in job["static_configs"]:
            static["targets"] = [addresses[target] for target in static["targets"]]
    for manager in config["alerting"]["alertmanagers"]:
        for static in manager["static_configs"]:
            static["targets"] = [addresses[target] for target in static["targets"]]
    config_path.write_text(yaml.safe_dump(config))
    stack.start(
        "prometheus",
        [
            binary("prometheus"),
            f"--config.file={config_path}",
            f"--storage.tsdb.path={root / 'prometheus-data'}",
            f"--web.listen-address=127.0.0.1:{prometheus_port}",
        ],
    )
    api = f"http://127.0.0.1:{prometheus_port}/api/v1"

    try:

        def easee_target_up() -> bool:
            targets = _get(f"{api}/targets")["data"]["activeTargets"]
            return any(t["labels"]["job"] == "easee" and t["health"] == "up" for t in targets)

        _wait_for(easee_target_up, "Prometheus to scrape the exporter under job easee")

        def every_rule_evaluated() -> bool:
            groups = _get(f"{api}/rules")["data"]["groups"]
            rules = [rule for group in groups for rule in group["rules"]]
            return bool(rules) and all(
                not rule["lastEvaluation"].startswith("0001") for rule in rules
            )

        _wait_for(every_rule_evaluated, "every rule to be evaluated")
        groups = _get(f"{api}/rules")["data"]["groups"]
        broken = [
            (rule["name"], rule.get("lastError"))
            for group in groups
            for rule in group["rules"]
            if rule["health"] != "ok"
        ]
        assert not broken
        loaded = sum(len(group["rules"]) for group in groups)
        expected = sum(
            len(group["rules"])
            for rule_file in config["rule_files"]
            for group in yaml.safe_load(Path(rule_file).read_text())["groups"]
        )
        assert loaded == expected > 0

        def alertmanager_found() -> bool:
            managers = _get(f"{api}/alertmanagers")["data"]["activeAlertmanagers"]
            return [m["url"] for m in managers] == [
                f"http://127.0.0.1:{alertmanager_port}/api/v2/alerts"
            ]

        _wait_for(alertmanager_found, "Prometheus to find Alertmanager")
    except BaseException:
        print(stack.logs())
        raise
