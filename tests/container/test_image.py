"""The image built from the Dockerfile, checked by running it: on amd64, and on arm64 and armv7
under emulation.

The base image is a stand-in (see standin.py): Debian 12's Python 3.11 made with debootstrap,
not the official python:3.11-slim-bookworm. What passes here is the Dockerfile, the entry
point, the user, the health check and the service; not the upstream base.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.container.standin import BASE_TAG
from tests.container.support import (
    TAG,
    BuiltImage,
    free_port,
    http_get,
    http_post,
    leftovers,
    tree,
    wait_answering,
    wait_until,
)

# The first test of each architecture includes the build (and, with an empty cache, the
# stand-in base: about 3 minutes under emulation); the subprocesses have their own bounds.
pytestmark = pytest.mark.timeout(1500)

NON_ROOT = "10001"
#: Bytes the image may add to its base (measured: about 35 MB).
SIZE_BUDGET = 45_000_000
#: A short liveness.max_data_age, so the health check turns in seconds rather than minutes.
MAX_DATA_AGE = 6
#: The first start under emulation imports everything through qemu.
START_TIMEOUT = 120


def _start_demo(image: BuiltImage, name: str) -> int:
    """Run ``--demo`` on a read-only root file system; its port once /metrics answers."""
    port = free_port()
    image.podman.run(
        *("run", "--detach", "--name", name, "--network=host", "--read-only"),
        *("--env", f"EASEE_EXPORTER_LISTEN=127.0.0.1:{port}", TAG, "--demo"),
    )
    wait_answering(
        f"http://127.0.0.1:{port}/metrics",
        START_TIMEOUT,
        f"{image.platform.name} --demo serving /metrics",
    )
    return port


@pytest.fixture(scope="module")
def demo(image: BuiltImage) -> Iterator[int]:
    port = _start_demo(image, "demo")
    yield port
    image.podman.run("rm", "--force", "--time", "0", "demo", check=False)


@pytest.fixture
def mounted(image: BuiltImage) -> Iterator[tuple[Path, Path]]:
    """The root file systems of the image and of its base, read from the host."""
    podman = image.podman
    paths = tuple(Path(podman.run("image", "mount", tag).strip()) for tag in (TAG, BASE_TAG))
    yield paths[0], paths[1]
    podman.run("image", "unmount", TAG, BASE_TAG, check=False)


def test_is_the_platform_it_was_built_for(image: BuiltImage) -> None:
    found = image.podman.inspect("image", TAG)
    # podman 4.3's inspect shows no variant: uname tells armv7 apart.
    assert found["Architecture"] == image.platform.arch
    machine = image.podman.run("run", "--rm", "--entrypoint", "uname", TAG, "-m").strip()
    assert machine == image.platform.machine


def test_configuration_names_user_entrypoint_and_healthcheck(image: BuiltImage) -> None:
    """The docker image format keeps all three (the OCI format would drop HEALTHCHECK)."""
    found = image.podman.inspect("image", TAG)
    assert found["Config"]["User"] == f"{NON_ROOT}:{NON_ROOT}"
    assert found["Config"]["Entrypoint"] == ["/opt/venv/bin/easee-exporter"]
    check = found["Healthcheck"]
    assert check["Test"] == ["CMD", "/opt/venv/bin/easee-exporter", "healthcheck"]
    assert check["Retries"] == 3


def test_demo_serves_metrics_on_a_read_only_root(image: BuiltImage, demo: int) -> None:
    """/metrics answers as soon as the server is up; the first reading follows once the demo's
    stream has delivered (seconds later under emulation), so the test waits for it."""
    assert image.podman.inspect("container", "demo")["HostConfig"]["ReadonlyRootfs"] is True

    def with_data() -> str | None:
        status, body = http_get(f"http://127.0.0.1:{demo}/metrics")
        assert status == 200
        return body if "easee_exporter_last_data_timestamp_seconds " in body else None

    body = wait_until(with_data, START_TIMEOUT, f"{image.platform.name} --demo delivering data")
    assert 'charger_id="EH000001"' in body


def test_service_runs_as_the_fixed_non_root_user(image: BuiltImage, demo: int) -> None:
    """The service's own process (not an exec'd one) has UID and GID 10001."""
    pid = image.podman.inspect("container", "demo")["State"]["Pid"]
    status = Path(f"/proc/{pid}/status").read_text().splitlines()
    ids = {
        line.split(":")[0]: line.split()[1:] for line in status if line.startswith(("Uid", "Gid"))
    }
    assert ids == {"Uid": [NON_ROOT] * 4, "Gid": [NON_ROOT] * 4}


def test_sigterm_stops_it_within_10_s_with_exit_0(image: BuiltImage) -> None:
    _start_demo(image, "stopped")
    started = time.monotonic()
    image.podman.run("kill", "--signal", "TERM", "stopped")
    code = image.podman.run("wait", "stopped", timeout=30).strip()
    elapsed = time.monotonic() - started
    image.podman.run("rm", "stopped", check=False)
    assert code == "0"
    assert elapsed < 10, f"stopped after {elapsed:.1f} s"


def test_healthcheck_turns_unhealthy_once_data_is_older_than_the_max_age(
    image: BuiltImage,
) -> None:
    """The exporter reads a simulated cloud (the image's own ``simulate``) whose stream then
    stalls: the image's HEALTHCHECK, run by ``podman healthcheck run``, is healthy while data
    flows past the start-up grace, and unhealthy once the data is older than the max age."""
    podman = image.podman
    check = podman.inspect("image", TAG)["Healthcheck"]
    cloud = f"http://127.0.0.1:{free_port()}"
    port = free_port()
    listen = cloud.removeprefix("http://")
    podman.run(
        *("run", "--detach", "--name", "cloud", "--network=host", "--read-only"),
        *("--no-healthcheck", TAG, "simulate", "--web.listen-address", listen),
        # Telemetry every 30 model seconds: twice a real second.
        *("--time-scale", "60"),
    )
    wait_answering(f"{cloud}/_sim/faults", START_TIMEOUT, "the simulated cloud")
    environment = {
        "EASEE_API_URL": cloud,
        "EASEE_STREAM_URL": f"{cloud}/hubs/chargers",
        "EASEE_USERNAME": "demo",
        "EASEE_PASSWORD": "demo",
        "EASEE_LIVENESS_MAX_DATA_AGE": str(MAX_DATA_AGE),
        "EASEE_EXPORTER_LISTEN": f"127.0.0.1:{port}",
    }
    podman.run(
        *("run", "--detach", "--name", "exporter", "--network=host", "--read-only"),
        # Failures in the image's start period (60 s) are not counted, which would hold the
        # status at "healthy" for a minute. podman 4.3 applies --health-start-period only
        # with --health-cmd, so the image's check is given again: its command, timeout and
        # retries, with a start period of 1 s.
        *("--health-cmd", json.dumps(check["Test"][1:]), "--health-start-period=1s"),
        *("--health-timeout", f"{check['Timeout'] // 10**9}s"),
        *("--health-retries", str(check["Retries"])),
        *(arg for name, value in environment.items() for arg in ("--env", f"{name}={value}")),
        TAG,
    )
    started = time.monotonic()
    assert podman.inspect("container", "exporter")["Config"]["Healthcheck"]["Test"] == check["Test"]

    def health() -> str:
        """Run the check once; the status podman then records (it counts the retries)."""
        code, output = podman.status("healthcheck", "run", "exporter")
        # 0 healthy, 1 unhealthy; anything else means the check could not run at all.
        assert code in (0, 1), output
        state: str = podman.inspect("container", "exporter")["State"]["Health"]["Status"]
        return state

    try:
        wait_answering(
            f"http://127.0.0.1:{port}/readyz",
            START_TIMEOUT,
            "the exporter subscribed to the simulated cloud",
        )
        while time.monotonic() - started <= MAX_DATA_AGE + 2:
            assert health() == "healthy", http_get(f"http://127.0.0.1:{port}/healthz")
        assert http_post(f"{cloud}/_sim/faults", json.dumps({"stall": "app"}).encode()) == 200
        wait_until(
            lambda: True if health() == "unhealthy" else None,
            MAX_DATA_AGE + 60,
            "unhealthy after the stream stalled",
        )
        status, body = http_get(f"http://127.0.0.1:{port}/healthz")
        assert status == 503
        assert json.loads(body)["data_age_seconds"] > MAX_DATA_AGE
    finally:
        podman.run("rm", "--force", "--time", "0", "exporter", "cloud", check=False)


def test_no_compiler_pip_cache_or_build_backend(
    image: BuiltImage, mounted: tuple[Path, Path]
) -> None:
    """What the Dockerfile adds to its base holds the installed wheels and nothing of the build."""
    image_root, base_root = mounted
    base = tree(base_root)
    added = {path: size for path, size in tree(image_root).items() if path not in base}
    assert leftovers(added) == []
    assert not [path for path in added if path == "src" or path.startswith(("src/", "wheels"))]
    # The check sees what it looks for: the base itself has pip and setuptools.
    assert leftovers(base)
    assert any(
        path.startswith("opt/venv/lib/python3.11/site-packages/easee_exporter-") for path in added
    )


def test_size_on_top_of_the_base_stays_within_budget(image: BuiltImage) -> None:
    size = (
        image.podman.inspect("image", TAG)["Size"] - image.podman.inspect("image", BASE_TAG)["Size"]
    )
    print(f"\n{image.platform.name}: the image adds {size / 1e6:.1f} MB to its base")
    assert 0 < size < SIZE_BUDGET, f"{size / 1e6:.1f} MB"


def test_metrics_compress_with_zlib_ng_where_it_has_wheels(image: BuiltImage) -> None:
    """The 64-bit images install zlib-ng (``pyproject.toml``'s platform marker); 32-bit ARM
    has no wheel and compresses with Python's zlib."""
    code = "from exporter.metrics.deflate import DEFAULT; print(DEFAULT.name)"
    name = image.podman.run("run", "--rm", "--entrypoint", "python", TAG, "-c", code).strip()
    assert name == ("zlib-ng" if image.platform.machine in {"x86_64", "aarch64"} else "zlib")
