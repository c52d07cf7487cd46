"""Helpers of the web configuration tests, also used by the deployment tests."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    """``promtool ARGS...`` (exporter-toolkit's and Prometheus' own validators)."""
    binary = shutil.which("promtool")
    assert binary is not None, "promtool is installed by .ci/run"
    return subprocess.run([binary, *args], capture_output=True, text=True, timeout=60, check=False)


def assert_web_config_accepted(web_config: dict[str, Any], directory: Path) -> None:
    """``web_config`` (parsed, with paths to real files) passes ``promtool check web-config``
    and the service's ``check-config`` (which loads its certificates)."""
    # Imported here: tests.test_cli is a test module of its own.
    from tests.test_cli import run

    path = directory / "web-config.yml"
    path.write_text(yaml.safe_dump(web_config))
    checked = promtool("check", "web-config", str(path))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    result = run(
        "check-config",
        "--web.config.file",
        str(path),
        EASEE_USERNAME="owner@example.org",
        EASEE_PASSWORD="an-easee-password",
    )
    assert result.returncode == 0, result.stderr
    assert "HTTPS with" in result.stdout
