"""The monitoring side of the compose stack: every path it mounts exists, and the mounted
Prometheus and Alertmanager configurations are accepted by promtool and amtool exactly as
the containers see them (files copied into a tree that mirrors the mounts); Grafana's
provisioning points at the mounted dashboards and at the Prometheus service."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from pathlib import Path, PurePosixPath

import yaml

from tests.deploy.support import (
    COMPOSE_DIR,
    REPO_ROOT,
    bind_mounts,
    compose_service,
    container_files,
    load_compose,
    mirror_mounts,
    prometheusrule_generator,
    secret_targets,
)

CONTRACT_PORT = 34739


def _run(command: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


class TestReferencedPaths:
    def test_every_mounted_path_exists_in_the_repository(self) -> None:
        compose = load_compose()
        for name, service in compose["services"].items():
            for source, _target in bind_mounts(service):
                assert source.exists(), f"{name} mounts {source}, which does not exist"
                assert source.is_relative_to(REPO_ROOT), f"{name} mounts {source} from outside"
            build = service.get("build")
            if build:
                context = (COMPOSE_DIR / build["context"]).resolve()
                assert (context / build["dockerfile"]).is_file()
        for secret in compose["secrets"].values():
            assert (COMPOSE_DIR / secret["file"]).is_file(), secret


class TestPrometheus:
    def test_promtool_accepts_the_config_with_its_mounted_rule_files(
        self, binary: Callable[[str], str], tmp_path: Path
    ) -> None:
        mounts = bind_mounts(compose_service("prometheus"))
        mirror_mounts(mounts, tmp_path)
        config_path = tmp_path / "etc/prometheus/prometheus.yml"
        config = yaml.safe_load(config_path.read_text())
        # promtool opens the absolute paths as they are: re-root them in the mirror.
        config["rule_files"] = [str(tmp_path / rule.lstrip("/")) for rule in config["rule_files"]]
        config_path.write_text(yaml.safe_dump(config))
        result = _run([binary("promtool"), "check", "config", str(config_path)])
        assert result.returncode == 0, result.stdout + result.stderr
        output = result.stdout + result.stderr
        assert f"SUCCESS: {len(config['rule_files'])} rule files found" in output
        assert "FAILED" not in output

    def test_loads_exactly_the_rule_files_of_alerts(self) -> None:
        """The same files as the Kubernetes PrometheusRule: alerts/*.yml, examples left out."""
        config = yaml.safe_load((COMPOSE_DIR / "prometheus/prometheus.yml").read_text())
        mounts = {target: source for source, target in bind_mounts(compose_service("prometheus"))}
        loaded = set()
        for rule in map(PurePosixPath, config["rule_files"]):
            source = mounts[rule.parent]
            loaded.add((source / rule.name).resolve())
        expected = {
            path.resolve() for path in prometheusrule_generator().rule_files(REPO_ROOT / "alerts")
        }
        assert loaded == expected

    def test_scrapes_the_exporter_under_the_job_the_rules_select(self) -> None:
        config = yaml.safe_load((COMPOSE_DIR / "prometheus/prometheus.yml").read_text())
        jobs = {job["job_name"]: job for job in config["scrape_configs"]}
        rule_text = "".join(
            path.read_text() for path in prometheusrule_generator().rule_files(REPO_ROOT / "alerts")
        )
        selected = set(re.findall(r'job="([^"]+)"', rule_text))
        assert len(selected) == 1, selected
        (job_name,) = selected
        (static,) = jobs[job_name]["static_configs"]
        assert static["targets"] == [f"easee-exporter:{CONTRACT_PORT}"]
        assert config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] == [
            "alertmanager:9093"
        ]


class TestAlertmanager:
    def test_amtool_accepts_the_mounted_config(self, binary: Callable[[str], str]) -> None:
        mounts = {target: source for source, target in bind_mounts(compose_service("alertmanager"))}
        config = mounts[PurePosixPath("/etc/alertmanager/alertmanager.yml")]
        result = _run([binary("amtool"), "check-config", str(config)])
        assert result.returncode == 0, result.stdout + result.stderr
        assert "SUCCESS" in result.stdout

    def test_controller_webhook_reaches_the_exporter_with_the_mounted_token(self) -> None:
        """The receivers that call the controller name the exporter's service and port, and
        read their token (credentials_file) from a mounted file holding the token the
        exporter accepts."""
        compose = load_compose()
        service = compose["services"]["alertmanager"]
        mounts = {target: source for source, target in bind_mounts(service)}
        config_path = mounts[PurePosixPath("/etc/alertmanager/alertmanager.yml")]
        config = yaml.safe_load(config_path.read_text())
        secrets = secret_targets(service, compose)
        exporter = compose_service("easee-exporter")
        exporter_files = container_files(exporter, compose["secrets"])
        exporter_config = yaml.safe_load(
            exporter_files[exporter["environment"]["EASEE_EXPORTER_CONFIG"]].read_text()
        )
        accepted = {
            exporter_files[token["token_file"]] for token in exporter_config["webhooks"]["tokens"]
        }
        controller = [
            webhook
            for receiver in config["receivers"]
            for webhook in receiver.get("webhook_configs", [])
            if webhook["url"].endswith("/api/v1/alertmanager")
        ]
        assert controller
        for webhook in controller:
            assert webhook["url"] == f"http://easee-exporter:{CONTRACT_PORT}/api/v1/alertmanager"
            credentials = webhook["http_config"]["authorization"]["credentials_file"]
            assert credentials in secrets, f"{credentials} is not mounted"
            assert secrets[credentials] in accepted


class TestGrafana:
    def test_provisioned_dashboards_path_is_the_mounted_json(self) -> None:
        mounts = {target: source for source, target in bind_mounts(compose_service("grafana"))}
        provisioning = mounts[PurePosixPath("/etc/grafana/provisioning/dashboards")]
        (provider_file,) = provisioning.glob("*.yml")
        providers = yaml.safe_load(provider_file.read_text())["providers"]
        for provider in providers:
            path = PurePosixPath(provider["options"]["path"])
            assert mounts[path] == (REPO_ROOT / "dashboards" / "json").resolve()
            assert list(mounts[path].glob("*.json"))

    def test_datasource_points_at_the_prometheus_service(self) -> None:
        mounts = {target: source for source, target in bind_mounts(compose_service("grafana"))}
        provisioning = mounts[PurePosixPath("/etc/grafana/provisioning/datasources")]
        urls = [
            datasource["url"]
            for path in provisioning.glob("*.yml")
            for datasource in yaml.safe_load(path.read_text())["datasources"]
            if datasource["type"] == "prometheus"
        ]
        assert urls == ["http://prometheus:9090"]

    def test_pictures_the_dashboards_show_are_mounted(self) -> None:
        """Every icon a dashboard refers to under Grafana's public folder is a file of the
        mounted icon directory."""
        mounts = {target: source for source, target in bind_mounts(compose_service("grafana"))}
        text = "".join(p.read_text() for p in (REPO_ROOT / "dashboards" / "json").glob("*.json"))
        pictures = set(re.findall(r"img/icons/easee/[\w.-]+\.svg", text))
        assert pictures
        for picture in map(PurePosixPath, pictures):
            container_path = PurePosixPath("/usr/share/grafana/public") / picture
            source = mounts[container_path.parent]
            assert (source / container_path.name).is_file(), picture

    def test_datasource_interval_is_the_scrape_interval(self) -> None:
        """Grafana's $__rate_interval is right only when timeInterval is the scrape interval."""
        mounts = {target: source for source, target in bind_mounts(compose_service("grafana"))}
        provisioning = mounts[PurePosixPath("/etc/grafana/provisioning/datasources")]
        config = yaml.safe_load((COMPOSE_DIR / "prometheus/prometheus.yml").read_text())
        for path in provisioning.glob("*.yml"):
            for datasource in yaml.safe_load(path.read_text())["datasources"]:
                interval = datasource["jsonData"]["timeInterval"]
                assert interval == config["global"]["scrape_interval"]
