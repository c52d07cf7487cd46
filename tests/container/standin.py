"""The stand-in for the official ``python:3.11-slim-bookworm`` base image.

There is no image registry on the CI machines, so the base the Dockerfile names is built
here: a minimal Debian 12 root file system made with debootstrap, holding Debian's own
Python 3.11 (``python3``, ``python3-venv``, ``python3-pip``), a ``python`` link to it, and the
machine's CA bundle (TLS to the package registries is intercepted by a local certificate
authority, and pip inside the build has to trust it). What a build on it proves is the
Dockerfile, the entry point, the user, the health check and the service; not the upstream
image, whose Python is compiled from source into /usr/local.

debootstrap takes about 80 s natively and about 5 minutes under emulation, so the root file
system is kept as a tarball in a cache directory outside the checkout. Its name carries a key
made of the recipe and the CA bundle, so a changed recipe or certificate authority builds a
new one; a tarball older than ``MAX_AGE`` is rebuilt too, to pick up Debian's updates, and
tarballs of other keys are deleted once that old.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

DEFAULT_CACHE_DIR = Path("/var/cache/easee-exporter-ci")
CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
MAX_AGE = 7 * 24 * 3600.0
#: The tag the Dockerfile's FROM lines resolve to.
BASE_TAG = "docker.io/library/python:3.11-slim-bookworm"
#: Given to ``podman import``: pip and Python's ssl module read these in the build.
IMAGE_ENV = {
    "PIP_CERT": "/etc/ssl/certs/ca-certificates.crt",
    "SSL_CERT_FILE": "/etc/ssl/certs/ca-certificates.crt",
}


@dataclass(frozen=True, slots=True)
class Recipe:
    """Everything that decides the contents of the stand-in's root file system."""

    arch: str
    suite: str = "bookworm"
    variant: str = "minbase"
    packages: tuple[str, ...] = ("python3", "python3-venv", "python3-pip")
    mirror: str = "http://deb.debian.org/debian"
    #: Raise when the steps after debootstrap change.
    revision: int = 1

    def key(self, ca_bundle: bytes) -> str:
        digest = hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode())
        digest.update(ca_bundle)
        return digest.hexdigest()[:16]


def cache_dir() -> Path:
    return Path(os.environ.get("EASEE_CI_CACHE", DEFAULT_CACHE_DIR))


def stand_in_tarball(
    recipe: Recipe,
    cache: Path,
    ca_bundle: Path = CA_BUNDLE,
    build: Callable[[Recipe, Path, Path], None] | None = None,
) -> Path:
    """The cached root file system of ``recipe`` as a tarball, built first when missing or stale.

    A lock file serialises concurrent runs on one machine, so only one of them bootstraps.
    ``build(recipe, ca_bundle, tarball)`` writes the tarball (debootstrap by default).
    """
    cache.mkdir(parents=True, exist_ok=True)
    key = recipe.key(ca_bundle.read_bytes())
    stem = f"stand-in-python3.11-{recipe.suite}-{recipe.arch}"
    tarball = cache / f"{stem}-{key}.tar"
    with (cache / f"{stem}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if tarball.exists() and time.time() - tarball.stat().st_mtime < MAX_AGE:
            return tarball
        # Other keys may belong to another CA bundle on the same cache (a chroot sharing it):
        # they go once stale, not at once.
        for old in cache.glob(f"{stem}-*.tar"):
            if old == tarball or time.time() - old.stat().st_mtime >= MAX_AGE:
                old.unlink()
        (build or _bootstrap)(recipe, ca_bundle, tarball)
    return tarball


def _bootstrap(recipe: Recipe, ca_bundle: Path, tarball: Path) -> None:
    with tempfile.TemporaryDirectory(dir=tarball.parent, prefix="rootfs-") as work:
        root = Path(work) / "root"
        subprocess.run(
            [
                *("debootstrap", f"--arch={recipe.arch}", f"--variant={recipe.variant}"),
                f"--include={','.join(recipe.packages)}",
                *(recipe.suite, str(root), recipe.mirror),
            ],
            check=True,
            capture_output=True,
            timeout=900,
        )
        # The official image's `python`; Debian names its interpreter python3 only.
        (root / "usr/bin/python").symlink_to("python3")
        shutil.copyfile(ca_bundle, root / "etc/ssl/certs/ca-certificates.crt")
        partial = tarball.with_suffix(".partial")
        subprocess.run(
            ["tar", "-C", str(root), "--numeric-owner", "-cf", str(partial), "."],
            check=True,
            timeout=300,
        )
        partial.rename(tarball)
