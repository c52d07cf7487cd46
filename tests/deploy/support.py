"""Readers for the deployment files: a Dockerfile parser and the Docker build context as
``.dockerignore`` leaves it. Imported by the tests in this folder and their conftest."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from types import ModuleType
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
COMPOSE_DIR = REPO_ROOT / "deploy" / "compose"


@dataclass(frozen=True, slots=True, kw_only=True)
class Instruction:
    """One Dockerfile instruction, continuation lines joined and comments removed."""

    keyword: str
    arguments: str
    line: int
    stage: int


def parse_dockerfile(text: str) -> list[Instruction]:
    """Split a Dockerfile into instructions, numbering build stages from 0 at each FROM."""
    instructions: list[Instruction] = []
    stage = -1
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        # Comment lines end nothing: Docker drops them even inside a continued instruction.
        if not stripped or stripped.startswith("#"):
            continue
        if not pending:
            start = number
        continued = stripped.endswith("\\")
        pending.append(stripped.removesuffix("\\").strip())
        if continued:
            continue
        keyword, _, arguments = " ".join(pending).partition(" ")
        pending = []
        keyword = keyword.upper()
        if keyword == "FROM":
            stage += 1
        instructions.append(
            Instruction(keyword=keyword, arguments=arguments.strip(), line=start, stage=stage)
        )
    return instructions


def _dockerignore_regex(pattern: str) -> re.Pattern[str]:
    """Translate one .dockerignore pattern the way Docker's pattern matcher does.

    ``**`` spans any number of directories, ``*`` and ``?`` stay within one path
    segment, ``[...]`` is a character class; the pattern must match the whole path.
    """
    parts: list[str] = []
    index = 0
    while index < len(pattern):
        if pattern.startswith("**/", index):
            parts.append("(?:.*/)?")
            index += 3
        elif pattern.startswith("**", index):
            parts.append(".*")
            index += 2
        elif pattern[index] == "*":
            parts.append("[^/]*")
            index += 1
        elif pattern[index] == "?":
            parts.append("[^/]")
            index += 1
        elif pattern[index] == "[" and "]" in pattern[index:]:
            end = pattern.index("]", index)
            parts.append(pattern[index : end + 1])
            index = end + 1
        else:
            parts.append(re.escape(pattern[index]))
            index += 1
    return re.compile("".join(parts) + r"\Z")


@dataclass(frozen=True, slots=True)
class DockerIgnore:
    """The rules of a .dockerignore file: the last matching pattern decides."""

    rules: tuple[tuple[re.Pattern[str], bool], ...]

    @classmethod
    def from_text(cls, text: str) -> DockerIgnore:
        rules: list[tuple[re.Pattern[str], bool]] = []
        for raw in text.splitlines():
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            include = line.startswith("!")
            pattern = os.path.normpath(line.removeprefix("!").strip()).lstrip("/")
            rules.append((_dockerignore_regex(pattern), include))
        return cls(tuple(rules))

    def excluded(self, relative: str) -> bool:
        """Whether Docker leaves ``relative`` (a slash-separated path) out of the context.

        A pattern that matches a parent directory applies to everything below it.
        """
        segments = relative.split("/")
        candidates = ["/".join(segments[: n + 1]) for n in range(len(segments))]
        excluded = False
        for regex, include in self.rules:
            if any(regex.match(candidate) for candidate in candidates):
                excluded = not include
        return excluded


def docker_context_files(root: Path) -> list[str]:
    """The files (relative, slash-separated) that ``docker build root`` sends to the builder."""
    ignore = DockerIgnore.from_text((root / ".dockerignore").read_text())
    files: list[str] = []
    for directory, subdirectories, names in os.walk(root):
        base = Path(directory).relative_to(root).as_posix()
        prefix = "" if base == "." else base + "/"
        # Never descend into git metadata or virtual environments: they are large and
        # excluded by the allowlist anyway (the test on the context asserts that).
        subdirectories[:] = [
            name for name in subdirectories if name not in {".git", ".venv", "node_modules"}
        ]
        files.extend(prefix + name for name in names if not ignore.excluded(prefix + name))
    return sorted(files)


def exec_form(arguments: str) -> list[str]:
    """The argument list of an exec-form (JSON array) ENTRYPOINT, CMD or HEALTHCHECK CMD."""
    value = json.loads(arguments)
    assert isinstance(value, list), f"not an exec-form array: {arguments}"
    assert all(isinstance(item, str) for item in value)
    return value


# Compose files


class _ComposeLoader(yaml.SafeLoader):
    """Reads compose's merge tags: ``!reset`` and ``!override`` keep the value they tag."""


def _tagged(loader: yaml.SafeLoader, _suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_scalar(node) if node.value not in ("", "null", "~") else None


_ComposeLoader.add_multi_constructor("!", _tagged)


def load_compose(name: str = "compose.yaml") -> dict[str, Any]:
    text = (COMPOSE_DIR / name).read_text()
    loaded: dict[str, Any] = yaml.load(text, Loader=_ComposeLoader)  # noqa: S506 - SafeLoader
    return loaded


def compose_service(name: str) -> dict[str, Any]:
    service: dict[str, Any] = load_compose()["services"][name]
    return service


def prometheusrule_generator() -> ModuleType:
    """deploy/kubernetes/build_prometheusrule.py, whose rule_files() decides which files of
    alerts/ are loaded (for Kubernetes and compose alike)."""
    path = REPO_ROOT / "deploy" / "kubernetes" / "build_prometheusrule.py"
    spec = importlib.util.spec_from_file_location("build_prometheusrule", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def bind_mounts(service: dict[str, Any]) -> list[tuple[Path, PurePosixPath]]:
    """(host path, container path) of a service's bind mounts (short syntax)."""
    mounts = []
    for volume in service.get("volumes", []):
        source, target, *_ = volume.split(":")
        if source.startswith((".", "/")):
            mounts.append(((COMPOSE_DIR / source).resolve(), PurePosixPath(target)))
    return mounts


def secret_targets(service: dict[str, Any], compose: dict[str, Any]) -> dict[str, Path]:
    """Container path -> host file of a service's file-based secrets."""
    targets = {}
    for entry in service.get("secrets", []):
        source = entry if isinstance(entry, str) else entry["source"]
        target = entry.get("target", source) if isinstance(entry, dict) else source
        path = target if target.startswith("/") else f"/run/secrets/{target}"
        targets[path] = (COMPOSE_DIR / compose["secrets"][source]["file"]).resolve()
    return targets


def mirror_mounts(mounts: list[tuple[Path, PurePosixPath]], root: Path) -> None:
    """Copy each mount's host path to ``root`` + its container path."""
    for source, target in mounts:
        destination = root / target.relative_to("/")
        destination.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, destination)
        else:
            shutil.copy2(source, destination)


def container_files(service: dict[str, Any], secrets: dict[str, Any]) -> dict[str, Path]:
    """Container path -> host path of everything compose puts into a service's file
    system: its bind mounts and its file-based secrets (``secrets``: the top-level ones)."""
    files = {str(target): source for source, target in bind_mounts(service)}
    files.update(secret_targets(service, {"secrets": secrets}))
    return files


def reroot_file_keys(node: Any, files: dict[str, Path]) -> Any:
    """A configuration with every ``*_file`` value replaced by the host path of that
    container path (``files``), so the service can read it outside the container."""
    if isinstance(node, dict):
        return {
            key: str(files[value]) if key.endswith("_file") else reroot_file_keys(value, files)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [reroot_file_keys(item, files) for item in node]
    return node
