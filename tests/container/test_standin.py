"""The cache of stand-in base images: reused while fresh, rebuilt when its recipe, the CA
bundle or its age says it is stale. The debootstrap step itself runs in test_image.py."""

from __future__ import annotations

import os
import time
from pathlib import Path

from tests.container.standin import MAX_AGE, Recipe, stand_in_tarball


class Builds:
    """Writes a tarball the way the real build does, and counts the builds."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, recipe: Recipe, ca_bundle: Path, tarball: Path) -> None:
        self.count += 1
        tarball.write_text(f"{recipe.arch} {self.count}")


def _setup(tmp_path: Path) -> tuple[Path, Path, Builds]:
    ca_bundle = tmp_path / "ca.crt"
    ca_bundle.write_text("first authority")
    return tmp_path / "cache", ca_bundle, Builds()


def test_a_fresh_tarball_is_reused(tmp_path: Path) -> None:
    cache, ca_bundle, builds = _setup(tmp_path)
    first = stand_in_tarball(Recipe("arm64"), cache, ca_bundle, builds)
    again = stand_in_tarball(Recipe("arm64"), cache, ca_bundle, builds)
    assert again == first
    assert builds.count == 1


def test_each_architecture_has_its_own(tmp_path: Path) -> None:
    cache, ca_bundle, builds = _setup(tmp_path)
    amd64 = stand_in_tarball(Recipe("amd64"), cache, ca_bundle, builds)
    arm64 = stand_in_tarball(Recipe("arm64"), cache, ca_bundle, builds)
    assert amd64 != arm64
    assert amd64.exists()
    assert arm64.exists()


def test_a_changed_recipe_or_ca_bundle_builds_anew(tmp_path: Path) -> None:
    cache, ca_bundle, builds = _setup(tmp_path)
    first = stand_in_tarball(Recipe("amd64"), cache, ca_bundle, builds)
    ca_bundle.write_text("another authority")
    second = stand_in_tarball(Recipe("amd64"), cache, ca_bundle, builds)
    third = stand_in_tarball(Recipe("amd64", revision=2), cache, ca_bundle, builds)
    assert len({first, second, third}) == 3
    assert builds.count == 3


def test_tarballs_of_other_keys_go_once_stale(tmp_path: Path) -> None:
    """A chroot sharing the cache with another CA bundle keeps its own; old ones are pruned."""
    cache, ca_bundle, builds = _setup(tmp_path)
    first = stand_in_tarball(Recipe("amd64"), cache, ca_bundle, builds)
    ca_bundle.write_text("another authority")
    second = stand_in_tarball(Recipe("amd64"), cache, ca_bundle, builds)
    assert sorted(cache.glob("*.tar")) == sorted([first, second])
    old = time.time() - MAX_AGE - 60
    os.utime(first, (old, old))
    third = stand_in_tarball(Recipe("amd64", revision=2), cache, ca_bundle, builds)
    assert sorted(cache.glob("*.tar")) == sorted([second, third])


def test_an_old_tarball_is_rebuilt(tmp_path: Path) -> None:
    cache, ca_bundle, builds = _setup(tmp_path)
    tarball = stand_in_tarball(Recipe("amd64"), cache, ca_bundle, builds)
    old = time.time() - MAX_AGE - 60
    os.utime(tarball, (old, old))
    assert stand_in_tarball(Recipe("amd64"), cache, ca_bundle, builds) == tarball
    assert builds.count == 2
    assert tarball.stat().st_mtime > old
