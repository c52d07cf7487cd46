"""The compose stack's TLS overlay (deploy/compose/compose.tls.yaml): the web configuration it
mounts is one promtool and the service accept, with the password Prometheus sends, and the
Prometheus configuration it swaps in differs from the base one by the easee job's TLS only."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import bcrypt
import yaml

from tests.deploy.support import COMPOSE_DIR, container_files, load_compose
from tests.webconfig.certs import Authority
from tests.webconfig.support import assert_web_config_accepted, promtool

OVERLAY = "compose.tls.yaml"


def _overlay() -> dict[str, Any]:
    return load_compose(OVERLAY)


def _files(service: str) -> dict[str, Path]:
    overlay = _overlay()
    return container_files(overlay["services"][service], overlay.get("secrets", {}))


def _easee_job(config: dict[str, Any]) -> dict[str, Any]:
    (job,) = [job for job in config["scrape_configs"] if job["job_name"] == "easee"]
    return job


def test_exporter_web_configuration_passes_promtool_and_check_config(tmp_path: Path) -> None:
    exporter = _overlay()["services"]["easee-exporter"]
    files = _files("easee-exporter")
    web_config = yaml.safe_load(
        files[exporter["environment"]["EASEE_EXPORTER_WEB_CONFIG"]].read_text()
    )
    tls = web_config["tls_server_config"]
    # The certificate files are in the mounted tls/ directory, which the user makes.
    tls_dir = "/etc/easee-exporter/tls"
    assert files[tls_dir] == COMPOSE_DIR / "tls"
    issued = Authority(tmp_path / "made").issue("easee-exporter")
    for key, source in (("cert_file", issued.cert), ("key_file", issued.key)):
        assert Path(tls[key]).parent == Path(tls_dir)
        tls[key] = str(shutil.copyfile(source, tmp_path / Path(tls[key]).name))
    assert_web_config_accepted(web_config, tmp_path)

    prometheus = _files("prometheus")
    job = _easee_job(yaml.safe_load(prometheus["/etc/prometheus/prometheus.yml"].read_text()))
    # Prometheus trims the password file, as the line an editor adds.
    password = prometheus[job["basic_auth"]["password_file"]].read_text().strip()
    hashed = web_config["basic_auth_users"][job["basic_auth"]["username"]]
    assert bcrypt.checkpw(password.encode(), hashed.encode())
    # The healthcheck verifies against the CA the certificate comes with.
    test = exporter["healthcheck"]["test"]
    assert test[test.index("--url") + 1] == "https://127.0.0.1:34739/healthz"
    assert Path(test[test.index("--ca-file") + 1]).parent == Path(tls_dir)


def test_prometheus_configuration_adds_tls_to_the_easee_job_only(tmp_path: Path) -> None:
    files = _files("prometheus")
    tls_config = yaml.safe_load(files["/etc/prometheus/prometheus.yml"].read_text())
    base = yaml.safe_load((COMPOSE_DIR / "prometheus" / "prometheus.yml").read_text())
    job = _easee_job(tls_config)
    assert job["scheme"] == "https"
    assert files[job["tls_config"]["ca_file"]] == COMPOSE_DIR / "tls" / "ca.crt"
    assert job["basic_auth"]["password_file"] in files
    for key in ("scheme", "tls_config", "basic_auth"):
        del job[key]
    assert tls_config == base, "prometheus.tls.yml drifted from prometheus.yml"

    job = _easee_job(yaml.safe_load(files["/etc/prometheus/prometheus.yml"].read_text()))
    authority = Authority(tmp_path / "ca")
    password = tmp_path / "scrape-password"
    password.write_text("x")
    job["tls_config"]["ca_file"] = str(authority.cert_file)
    job["basic_auth"]["password_file"] = str(password)
    alone = tmp_path / "prometheus.yml"
    alone.write_text(yaml.safe_dump({"scrape_configs": [job]}))
    checked = promtool("check", "config", str(alone))
    assert checked.returncode == 0, checked.stdout + checked.stderr
