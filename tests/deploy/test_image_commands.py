"""The image's ENTRYPOINT and HEALTHCHECK commands, run from the installed wheel.

There is no Docker engine in CI, so this reproduces what the image does, step by step:
build the wheel from exactly the files the Docker build context holds, create a virtual
environment without pip, install the wheel into it with the outer pip (``--python``, as
the Dockerfile does), and run the commands the Dockerfile names, with ``/opt/venv``
replaced by that environment. The environment sees the globally installed dependencies
(``--system-site-packages``) so nothing is downloaded.
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp import web

IMAGE_VENV = "/opt/venv"


@pytest.fixture(scope="module")
def venv(docker_context: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clean virtual environment with the project's wheel installed, like the image's."""
    work = tmp_path_factory.mktemp("image")
    wheels = work / "wheels"
    subprocess.run(
        [
            *(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps"),
            *("--no-build-isolation", "--wheel-dir", str(wheels), str(docker_context)),
        ],
        check=True,
        timeout=120,
    )
    (wheel,) = wheels.glob("easee_exporter-*.whl")
    environment = work / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", "--system-site-packages", str(environment)],
        check=True,
        timeout=60,
    )
    # --force-reinstall: an editable install of the checkout in the outer environment
    # (as CI has) must not count as "already satisfied"; the wheel has to land in the venv.
    subprocess.run(
        [
            *(sys.executable, "-m", "pip", "--python", str(environment / "bin" / "python")),
            *("install", "--quiet", "--no-deps", "--no-index", "--force-reinstall", str(wheel)),
        ],
        check=True,
        timeout=120,
    )
    return environment


def _in_venv(command: list[str], venv: Path) -> list[str]:
    """The Dockerfile's command with the image's venv path replaced by the test's."""
    assert command[0].startswith(IMAGE_VENV + "/"), command
    return [str(venv) + command[0].removeprefix(IMAGE_VENV), *command[1:]]


async def _run(command: list[str], cwd: Path) -> tuple[int, str]:
    """Run without blocking the event loop that serves the fake liveness endpoint."""
    process = await asyncio.create_subprocess_exec(
        *command,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode is not None
    return process.returncode, output.decode()


@pytest.fixture
async def liveness_server() -> AsyncIterator[Callable[[int], Awaitable[str]]]:
    """Start a tiny server on 127.0.0.1 whose /healthz answers a given status."""
    runners: list[web.AppRunner] = []

    async def start(status: int) -> str:
        async def healthz(_request: web.Request) -> web.Response:
            return web.json_response({"status": "test"}, status=status)

        app = web.Application()
        app.router.add_get("/healthz", healthz)
        runner = web.AppRunner(app)
        await runner.setup()
        runners.append(runner)
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        return f"http://127.0.0.1:{port}/healthz"

    yield start
    for runner in runners:
        await runner.cleanup()


def test_wheel_is_installed_in_the_venv(venv: Path, tmp_path: Path) -> None:
    """The commands below run the wheel's code, not a checkout found through sys.path."""
    located = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import exporter; print(exporter.__file__)"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    assert Path(located.stdout.strip()).is_relative_to(venv)


def test_the_wheel_declares_its_licence_as_spdx(venv: Path, tmp_path: Path) -> None:
    """``project.license`` in the SPDX form becomes the ``License-Expression`` field."""
    metadata = subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-c",
            "from importlib.metadata import metadata; m = metadata('easee-exporter'); "
            "print(m['License-Expression'], m['License'])",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    assert metadata.stdout.split() == ["MIT", "None"]


async def test_entrypoint_answers_help(
    venv: Path, image_entrypoint: list[str], tmp_path: Path
) -> None:
    """``docker run IMAGE --help`` prints the usage and exits 0."""
    code, output = await _run([*_in_venv(image_entrypoint, venv), "--help"], tmp_path)
    assert code == 0, output
    assert "usage" in output.lower()
    assert "healthcheck" in output


async def test_healthcheck_passes_on_200(
    venv: Path,
    image_healthcheck: tuple[dict[str, str], list[str]],
    liveness_server: Callable[[int], Awaitable[str]],
    tmp_path: Path,
) -> None:
    """The image's HEALTHCHECK command exits 0 while the liveness endpoint answers 200."""
    url = await liveness_server(200)
    _, command = image_healthcheck
    code, output = await _run([*_in_venv(command, venv), "--url", url], tmp_path)
    assert code == 0, output


async def test_healthcheck_fails_on_503(
    venv: Path,
    image_healthcheck: tuple[dict[str, str], list[str]],
    liveness_server: Callable[[int], Awaitable[str]],
    tmp_path: Path,
) -> None:
    """It exits 1 once the liveness endpoint answers 503 (data older than the max age)."""
    url = await liveness_server(503)
    _, command = image_healthcheck
    code, output = await _run([*_in_venv(command, venv), "--url", url], tmp_path)
    assert code == 1, output


async def test_healthcheck_fails_when_nothing_listens(
    venv: Path,
    image_healthcheck: tuple[dict[str, str], list[str]],
    tmp_path: Path,
) -> None:
    """A service that is gone (connection refused) is unhealthy as well."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    _, command = image_healthcheck
    url = f"http://127.0.0.1:{port}/healthz"
    code, output = await _run([*_in_venv(command, venv), "--url", url], tmp_path)
    assert code != 0, output
