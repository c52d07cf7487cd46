"""podman as these machines can run it, with a storage of its own per test session.

The settings are the ones that work without systemd and with cgroups v1 (see
``CONTAINERS_CONF``): runc instead of crun (which refuses cgroups in hybrid mode), cgroupfs
instead of systemd, no default ulimits (raising RLIMIT_NOFILE is not permitted), and events
in a file. Each ``Podman`` has its own image store, so the stand-in bases of two
architectures can carry the one tag the Dockerfile names, and concurrent runs on one machine
never see each other's images.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CONTAINERS_CONF = """\
[containers]
default_ulimits = []

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
"""


class PodmanError(AssertionError):
    """A podman command failed; the message holds the command and its output."""


@dataclass(frozen=True, slots=True)
class Podman:
    work: Path

    @classmethod
    def create(cls, work: Path) -> Podman:
        work.mkdir(parents=True, exist_ok=True)
        (work / "containers.conf").write_text(CONTAINERS_CONF)
        return cls(work)

    def command(self, *args: str) -> list[str]:
        return [
            *("podman", "--root", str(self.work / "storage")),
            *("--runroot", str(self.work / "run"), "--storage-driver", "overlay"),
            *args,
        ]

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "CONTAINERS_CONF": str(self.work / "containers.conf")}

    def run(self, *args: str, timeout: float = 60, check: bool = True) -> str:
        """Run ``podman ARGS``; its standard output, or PodmanError when it fails."""
        result = subprocess.run(
            self.command(*args),
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and result.returncode != 0:
            raise PodmanError(
                f"podman {' '.join(args)} exited {result.returncode}:\n"
                f"{result.stdout[-4000:]}{result.stderr[-4000:]}"
            )
        return result.stdout

    def status(self, *args: str, timeout: float = 60) -> tuple[int, str]:
        """The exit code and combined output of ``podman ARGS``, whatever the code."""
        result = subprocess.run(
            self.command(*args),
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout,
            check=False,
        )
        return result.returncode, result.stdout

    def inspect(self, kind: str, name: str) -> dict[str, Any]:
        (found,) = json.loads(self.run(kind, "inspect", name))
        assert isinstance(found, dict)
        return found
