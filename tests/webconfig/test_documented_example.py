"""docs/configuration.md's "Serving securely" example, done as written: the openssl commands
make the files, promtool accepts the web configuration and the scrape configuration, and so
does the service."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import bcrypt
import pytest

from exporter.config import CommandLine, load_settings
from tests.webconfig.support import promtool

DOC = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"
TEXT = DOC.read_text(encoding="utf-8")
# The service's own YAML examples are ```yaml blocks (tests/config/test_config_docs.py loads
# each as a service configuration); the web and Prometheus configurations are ```yml blocks.
YML = re.findall(r"```yml\n(.*?)```", TEXT, flags=re.DOTALL)
WEB_CONFIGS = [block for block in YML if block.startswith("# Web configuration file")]
(SCRAPE_CONFIG,) = [block for block in YML if block.startswith("# Prometheus scrape")]
(MAKE_FILES,) = [
    block for block in re.findall(r"```sh\n(.*?)```", TEXT, flags=re.DOTALL) if "openssl" in block
]
DOC_PASSWORD = "change-this-scrape-password"


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory with the files the documented commands make (the hash step asks for a
    password interactively: the document's hash stands for it)."""
    directory = tmp_path_factory.mktemp("documented")
    commands = [line for line in MAKE_FILES.splitlines() if not line.startswith(("#", "python"))]
    result = subprocess.run(
        ["bash", "-euc", "\n".join(commands)],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return directory


def test_the_document_shows_both_web_configurations() -> None:
    assert len(WEB_CONFIGS) == 2


@pytest.mark.parametrize("text", WEB_CONFIGS, ids=("basic-auth", "client-certificates"))
def test_web_configuration_passes_promtool_and_the_service(made: Path, text: str) -> None:
    web_config = made / "web-config.yml"
    web_config.write_text(text)
    checked = promtool("check", "web-config", str(web_config))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    settings = load_settings(
        CommandLine(web_config_file=str(web_config)),
        {"EASEE_USERNAME": "owner@example.org", "EASEE_PASSWORD": "an-easee-password"},
    )
    config = settings.web_config
    assert config is not None
    assert config.tls is not None
    assert config.tls.cert_file == made / "easee-exporter.crt"
    for hashed in config.basic_auth_users.values():
        assert bcrypt.checkpw(DOC_PASSWORD.encode(), hashed.get_secret_value().encode())


def test_scrape_configuration_passes_promtool(made: Path) -> None:
    files = made / "prometheus"
    files.mkdir(exist_ok=True)
    shutil.copyfile(made / "ca.crt", files / "ca.crt")
    (files / "scrape-password").write_text(DOC_PASSWORD)
    config = made / "prometheus.yml"
    config.write_text(SCRAPE_CONFIG.replace("/etc/prometheus/easee-exporter", str(files)))
    result = promtool("check", "config", str(config))
    assert result.returncode == 0, result.stdout + result.stderr
