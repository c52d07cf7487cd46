"""The image built from the project's Dockerfile with podman, once per platform.

These tests are not part of the main quality gate (``norecursedirs`` in pyproject.toml):
``scripts/container-test`` runs them, and ``.ci/run`` calls it after ``scripts/check``. They
need root, podman, runc and debootstrap, and qemu-user-static for ARM. When something is
missing they fail in CI (``CI=true``) and are skipped elsewhere, with the reason either way.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.container.podman import Podman
from tests.container.support import PLATFORMS, BuiltImage, Platform, build_image

REPO_ROOT = Path(__file__).resolve().parents[2]


def pytest_report_header() -> str:
    return (
        "container tests: the base image is a STAND-IN built with debootstrap (Debian 12's "
        "Python 3.11), not the official python:3.11-slim-bookworm; they check the Dockerfile, "
        "the entry point, the user, the health check and the service, not the upstream base"
    )


def _missing(platform: Platform) -> str | None:
    if os.geteuid() != 0:
        return "the container tests run as root (debootstrap, podman's storage)"
    tools = ["podman", "runc", "debootstrap"]
    absent = [tool for tool in tools if shutil.which(tool) is None]
    if absent:
        return f"{', '.join(absent)} not installed (apt install podman runc debootstrap)"
    emulator = platform.emulator
    if emulator is not None:
        entry = Path("/proc/sys/fs/binfmt_misc") / emulator
        if not entry.exists() or not entry.read_text().startswith("enabled"):
            return (
                f"{emulator} is not registered with binfmt_misc (apt install qemu-user-static "
                f"binfmt-support; update-binfmts --enable {emulator})"
            )
    return None


def require_prerequisites(platform: Platform) -> None:
    """Fail in CI, skip elsewhere, when this machine cannot build images for ``platform``."""
    reason = _missing(platform)
    if reason is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"cannot test the {platform.name} image: {reason}")
    pytest.skip(f"cannot test the {platform.name} image here: {reason}")


@pytest.fixture(scope="module", params=PLATFORMS, ids=lambda platform: platform.name)
def image(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[BuiltImage]:
    """The image of one platform, in a podman storage of its own, removed afterwards."""
    platform: Platform = request.param
    require_prerequisites(platform)
    podman = Podman.create(tmp_path_factory.mktemp(f"podman-{platform.name}"))
    try:
        built = build_image(podman, platform, REPO_ROOT)
        print(f"\n{platform.name}: image built in {built.build_seconds:.0f} s")
        yield built
    finally:
        podman.run("rm", "--all", "--force", "--time", "0", check=False, timeout=120)
        podman.run("system", "reset", "--force", check=False, timeout=300)
