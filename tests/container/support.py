"""Building the image on the stand-in base, and running it: the helpers of the container tests."""

from __future__ import annotations

import os
import re
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from tests.container.podman import Podman
from tests.container.standin import BASE_TAG, IMAGE_ENV, Recipe, cache_dir, stand_in_tarball

TAG = "localhost/easee-exporter:ci"
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Platform:
    """One platform the image is built for, in the names each tool gives it."""

    name: str
    #: debootstrap's --arch (Debian's name).
    debian_arch: str
    #: podman's --arch and --variant (the OCI names).
    arch: str
    variant: str | None
    #: What ``uname -m`` says in its containers.
    machine: str
    #: The binfmt_misc entry that runs its programs here, when they are foreign.
    emulator: str | None

    @property
    def spec(self) -> str:
        """The --platform value: linux/ARCH[/VARIANT]."""
        return "/".join(["linux", self.arch, *([self.variant] if self.variant else [])])


PLATFORMS = (
    Platform("amd64", "amd64", "amd64", None, "x86_64", None),
    Platform("arm64", "arm64", "arm64", None, "aarch64", "qemu-aarch64"),
    Platform("armv7", "armhf", "arm", "v7", "armv7l", "qemu-arm"),
)

#: Paths the runtime stage must not leave in the image: compilers, pip's cache or downloaded
#: wheels, and installers or build backends (the base's own pip is the base's business).
_LEFTOVERS = re.compile(
    r"(^|/)s?bin/(cc|c\+\+|gcc|g\+\+|clang|[\w.-]+-gcc(-[\d.]+)?)$"
    r"|(^|/)\.cache/pip(/|$)"
    r"|\.whl$"
    r"|/(site|dist)-packages/(pip|setuptools|wheel|build|pkg_resources|_distutils_hack"
    r"|flit_core|hatchling|poetry)(-[^/]*\.dist-info)?(/|$)"
)


@dataclass(frozen=True, slots=True)
class BuiltImage:
    podman: Podman
    platform: Platform
    #: Seconds the build took (the stand-in base excluded).
    build_seconds: float


def build_image(podman: Podman, platform: Platform, context: Path) -> BuiltImage:
    """Import the stand-in base for ``platform`` under the tag the Dockerfile names, then build."""
    tarball = stand_in_tarball(Recipe(platform.debian_arch), cache_dir())
    options = [
        "--arch",
        platform.arch,
        *(["--variant", platform.variant] if platform.variant else []),
    ]
    changes = [
        arg for name, value in IMAGE_ENV.items() for arg in ("--change", f"ENV {name}={value}")
    ]
    podman.run("import", *options, *changes, str(tarball), BASE_TAG, timeout=300)
    started = time.monotonic()
    podman.run(
        *("build", "--isolation=chroot", "--network=host", "--pull=never"),
        # The docker format keeps HEALTHCHECK; the OCI format has no such field and drops it.
        *("--format", "docker", "--platform", platform.spec, "--tag", TAG, str(context)),
        timeout=900,
    )
    return BuiltImage(podman, platform, time.monotonic() - started)


def leftovers(paths: Iterable[str]) -> list[str]:
    """The paths among ``paths`` that are compilers, pip caches, wheels or build tools."""
    return sorted(path for path in paths if _LEFTOVERS.search(path))


def tree(root: Path) -> dict[str, int]:
    """Every file and directory below ``root`` (relative paths) with its size in bytes."""
    found: dict[str, int] = {}
    for directory, subdirectories, names in os.walk(root):
        base = Path(directory)
        for name in [*subdirectories, *names]:
            path = base / name
            found[path.relative_to(root).as_posix()] = path.lstat().st_size
    return found


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def http_get(url: str, timeout: float = 5) -> tuple[int, str]:
    """Status and body of a GET, or (0, reason) when nothing answers. No proxy: loopback only."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
    except OSError as error:
        return 0, str(error)


def http_post(url: str, body: bytes) -> int:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    request = urllib.request.Request(  # noqa: S310 - a loopback http URL built by the test
        url, data=body, method="POST", headers={"Content-Type": "application/json"}
    )
    with opener.open(request, timeout=10) as response:
        status: int = response.status
        return status


def wait_until(probe: Callable[[], T | None], timeout: float, what: str) -> T:
    """Poll ``probe`` until it returns something other than None, for at most ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found is not None:
            return found
        assert time.monotonic() < deadline, f"{what}: not within {timeout:.0f} s"
        time.sleep(0.2)


def wait_answering(url: str, timeout: float, what: str) -> None:
    """Wait until a GET of ``url`` answers 200."""
    wait_until(lambda: True if http_get(url)[0] == 200 else None, timeout, what)
