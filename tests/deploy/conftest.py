"""Fixtures for the deployment checks: repository paths, the Dockerfile as parsed
instructions, the Docker build context, and the external tools.

The deployment files are checked with the real tools (hadolint, promtool, amtool,
kubernetes-validate). A missing tool is a failure, never a skip: CI installs all of them
(``.ci/run`` and the ``dev`` extra).
"""

from __future__ import annotations

import shlex
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.deploy.support import (
    REPO_ROOT,
    Instruction,
    docker_context_files,
    exec_form,
    parse_dockerfile,
)


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def dockerfile_instructions() -> list[Instruction]:
    return parse_dockerfile((REPO_ROOT / "Dockerfile").read_text())


@pytest.fixture(scope="session")
def binary() -> Callable[[str], str]:
    """Resolve an external tool on PATH; fail (never skip) when it is missing."""

    def resolve(name: str) -> str:
        path = shutil.which(name)
        if path is None:
            pytest.fail(f"{name} is not installed: run .ci/run, or pip install -e '.[dev]'")
        return path

    return resolve


@pytest.fixture(scope="session")
def final_stage(dockerfile_instructions: list[Instruction]) -> list[Instruction]:
    """The instructions of the stage the image is made of (the last one)."""
    last = dockerfile_instructions[-1].stage
    return [item for item in dockerfile_instructions if item.stage == last]


def _only(instructions: list[Instruction], keyword: str) -> Instruction:
    found = [item for item in instructions if item.keyword == keyword]
    assert len(found) == 1, f"expected one {keyword} in the final stage, found {len(found)}"
    return found[0]


@pytest.fixture(scope="session")
def image_entrypoint(final_stage: list[Instruction]) -> list[str]:
    """The image's ENTRYPOINT, as the exec-form argument list Docker runs."""
    return exec_form(_only(final_stage, "ENTRYPOINT").arguments)


@pytest.fixture(scope="session")
def image_healthcheck(final_stage: list[Instruction]) -> tuple[dict[str, str], list[str]]:
    """The image's HEALTHCHECK: its ``--interval=...`` options and its exec-form command."""
    options_text, marker, command = _only(final_stage, "HEALTHCHECK").arguments.partition("CMD ")
    assert marker, "HEALTHCHECK without CMD"
    options: dict[str, str] = {}
    for option in shlex.split(options_text):
        name, _, value = option.removeprefix("--").partition("=")
        options[name] = value
    return options, exec_form(command.strip())


@pytest.fixture(scope="session")
def docker_context(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of exactly the files ``docker build .`` sends, per ``.dockerignore``."""
    context = tmp_path_factory.mktemp("docker-context")
    for relative in docker_context_files(REPO_ROOT):
        target = context / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO_ROOT / relative, target)
    return context
