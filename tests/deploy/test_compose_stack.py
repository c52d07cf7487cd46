"""The compose stack under deploy/compose/: the compose files against the Compose
Specification, the settings the deployment notes promise (restart policy, health checks,
exit watchdog, demo by default) and the user's files of the real-account overlay."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from tests.deploy.support import (
    COMPOSE_DIR,
    REPO_ROOT,
    compose_service,
    container_files,
    load_compose,
    reroot_file_keys,
)

COMPOSE_FILES = ("compose.yaml", "compose.account.yaml", "compose.tls.yaml")


def _run(command: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


class TestComposeFiles:
    @pytest.mark.parametrize("name", COMPOSE_FILES)
    def test_matches_the_compose_specification(
        self, name: str, binary: Callable[[str], str], tmp_path: Path
    ) -> None:
        """Validated against the Compose Specification schema that check-jsonschema ships
        (as JSON: its YAML reader does not know compose's !reset tag)."""
        as_json = tmp_path / f"{name}.json"
        as_json.write_text(json.dumps(load_compose(name)))
        result = _run(
            [binary("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(as_json)]
        )
        assert result.returncode == 0, result.stdout + result.stderr

    def test_compose_schema_rejects_a_misspelt_key(
        self, binary: Callable[[str], str], tmp_path: Path
    ) -> None:
        compose = load_compose()
        compose["services"]["prometheus"]["restart_policy"] = "always"
        planted = tmp_path / "compose.json"
        planted.write_text(json.dumps(compose))
        result = _run(
            [binary("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(planted)]
        )
        assert result.returncode == 1
        assert "restart_policy" in result.stdout

    def test_every_service_restarts_and_has_a_health_check(self) -> None:
        """restart: unless-stopped is what brings the exporter back after its watchdog exits."""
        for name, service in load_compose()["services"].items():
            assert service["restart"] == "unless-stopped", name
            assert service["healthcheck"]["test"][0] == "CMD", name

    def test_exporter_runs_the_demo_with_the_exit_watchdog(
        self, image_healthcheck: tuple[dict[str, str], list[str]]
    ) -> None:
        exporter = compose_service("easee-exporter")
        assert exporter["command"] == ["--demo"]
        assert exporter["environment"]["EASEE_LIVENESS_EXIT_WATCHDOG"] == "true"
        assert exporter["healthcheck"]["test"] == ["CMD", *image_healthcheck[1]]
        assert exporter["build"] == {"context": "../..", "dockerfile": "Dockerfile"}

    def test_account_overlay_leaves_demo_mode(self) -> None:
        overlay = load_compose("compose.account.yaml")["services"]["easee-exporter"]
        assert "command: !reset null" in (COMPOSE_DIR / "compose.account.yaml").read_text()
        assert overlay["command"] is None
        assert overlay["env_file"] == ["easee.env"]
        assert overlay["environment"]["EASEE_PASSWORD_FILE"] == "/run/secrets/easee_password"


class TestReferencedPaths:
    def test_user_files_of_the_account_overlay_have_examples_and_stay_untracked(
        self, binary: Callable[[str], str]
    ) -> None:
        """easee.env and the password file are the user's: the repository ships an example
        of each, and git ignores the real ones so a password is not committed by mistake."""
        overlay = load_compose("compose.account.yaml")
        user_files = [*overlay["services"]["easee-exporter"]["env_file"]] + [
            secret["file"] for secret in overlay["secrets"].values()
        ]
        for user_file in user_files:
            path = COMPOSE_DIR / user_file
            assert path.with_name(path.name + ".example").is_file(), user_file
            ignored = _run([binary("git"), "-C", str(REPO_ROOT), "check-ignore", "-q", str(path)])
            assert ignored.returncode == 0, f"{user_file} is not ignored by git"

    def test_secret_files_are_readable_by_the_container_users(self) -> None:
        """Compose bind-mounts secret files as they are: UID 10001 and nobody must read them."""
        for secret in load_compose()["secrets"].values():
            mode = (COMPOSE_DIR / secret["file"]).stat().st_mode
            assert mode & 0o004, secret["file"]

    def test_account_setup_passes_check_config(self, tmp_path: Path) -> None:
        """The exporter's environment and configuration file of both compose files, with
        easee.env.example and the example password, is a configuration the service accepts.
        Container paths are replaced by the host files compose mounts there (the examples,
        for the user's own files)."""
        base = load_compose()
        overlay = load_compose("compose.account.yaml")
        secrets = {**base["secrets"], **overlay["secrets"]}
        files = {
            **container_files(base["services"]["easee-exporter"], secrets),
            **container_files(overlay["services"]["easee-exporter"], secrets),
        }
        for container_path, host_path in files.items():
            if not host_path.exists():
                files[container_path] = host_path.with_name(host_path.name + ".example")
        environment = {
            **base["services"]["easee-exporter"]["environment"],
            **overlay["services"]["easee-exporter"]["environment"],
        }
        (env_file,) = overlay["services"]["easee-exporter"]["env_file"]
        for line in (COMPOSE_DIR / f"{env_file}.example").read_text().splitlines():
            if line.strip() and not line.startswith("#"):
                key, _, value = line.partition("=")
                environment[key] = value
        config = yaml.safe_load(files[environment["EASEE_EXPORTER_CONFIG"]].read_text())
        config_path = tmp_path / "config.yaml"
        config_path.write_text(yaml.safe_dump(reroot_file_keys(config, files)))
        environment = {key: str(files.get(value, value)) for key, value in environment.items()}
        environment["EASEE_EXPORTER_CONFIG"] = str(config_path)
        env = {k: v for k, v in os.environ.items() if not k.startswith("EASEE_")}
        result = subprocess.run(
            [sys.executable, "-m", "exporter", "check-config"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            env={**env, **environment, "PYTHONPATH": str(REPO_ROOT)},
            cwd=tmp_path,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert "1 account(s), 1 enabled" in result.stdout
        assert "1 webhook token(s)" in result.stdout
