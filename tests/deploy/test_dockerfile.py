"""The Dockerfile: clean under hadolint, and built the way the deployment notes promise
(multi-stage, slim runtime, fixed non-root UID, the port of the contract, a health check),
with a build context that holds the sources and nothing else."""

from __future__ import annotations

import subprocess
import tomllib
from collections.abc import Callable
from pathlib import Path

from tests.deploy.support import Instruction, docker_context_files

CONTRACT_PORT = "34739"
NON_ROOT_ID = "10001"


def _hadolint(binary: Callable[[str], str], dockerfile: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [binary("hadolint"), "--no-color", str(dockerfile)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


class TestHadolint:
    def test_dockerfile_is_clean(self, binary: Callable[[str], str], repo_root: Path) -> None:
        """hadolint reports nothing at any level (its default threshold fails on info)."""
        result = _hadolint(binary, repo_root / "Dockerfile")
        assert result.returncode == 0, result.stdout + result.stderr
        assert result.stdout.strip() == ""

    def test_hadolint_reports_a_planted_problem(
        self, binary: Callable[[str], str], repo_root: Path, tmp_path: Path
    ) -> None:
        """The lint is live: an unpinned, cached pip install added to our file is reported."""
        planted = tmp_path / "Dockerfile"
        planted.write_text((repo_root / "Dockerfile").read_text() + "RUN pip install requests\n")
        result = _hadolint(binary, planted)
        assert result.returncode != 0
        assert "DL3013" in result.stdout
        assert "DL3042" in result.stdout


class TestImageLayout:
    def test_builder_and_runtime_share_a_slim_python_base(
        self, dockerfile_instructions: list[Instruction]
    ) -> None:
        """Two stages on the same slim CPython 3.11 or 3.12: wheels built in one fit the other."""
        bases = [item.arguments for item in dockerfile_instructions if item.keyword == "FROM"]
        assert len(bases) == 2, bases
        images = {base.split()[0] for base in bases}
        assert len(images) == 1, images
        (image,) = images
        assert image.startswith(("python:3.11-slim", "python:3.12-slim")), image
        assert bases[0].split()[-1] == "builder"
        assert bases[1].split()[-1] == "runtime"

    def test_runtime_stage_takes_only_wheels_from_the_builder(
        self, final_stage: list[Instruction]
    ) -> None:
        """No sources, compilers or caches are copied or installed into the runtime stage."""
        assert not [item for item in final_stage if item.keyword in {"COPY", "ADD"}]
        runs = " ".join(item.arguments for item in final_stage if item.keyword == "RUN")
        assert "apt-get" not in runs
        assert "--mount=type=bind,from=builder,source=/wheels" in runs
        assert "--no-cache-dir" in runs
        assert "--no-index" in runs
        assert "python -m venv --without-pip /opt/venv" in runs

    def test_runs_as_a_fixed_non_root_user(self, final_stage: list[Instruction]) -> None:
        """The user is created with UID/GID 10001 and the image switches to it by number,
        which Kubernetes' runAsNonRoot can verify without reading /etc/passwd."""
        users = [item.arguments for item in final_stage if item.keyword == "USER"]
        assert users == [f"{NON_ROOT_ID}:{NON_ROOT_ID}"]
        runs = " ".join(item.arguments for item in final_stage if item.keyword == "RUN")
        assert f"groupadd --system --gid {NON_ROOT_ID} easee" in runs
        assert f"useradd --system --uid {NON_ROOT_ID} --gid easee" in runs
        # USER must come after everything that needs root (creating the user, installing).
        keywords = [item.keyword for item in final_stage]
        assert keywords.index("USER") > max(
            index for index, keyword in enumerate(keywords) if keyword == "RUN"
        )

    def test_exposes_the_contract_port(self, final_stage: list[Instruction]) -> None:
        exposed = [item.arguments for item in final_stage if item.keyword == "EXPOSE"]
        assert exposed == [CONTRACT_PORT]

    def test_entrypoint_and_healthcheck_are_the_console_script(
        self,
        image_entrypoint: list[str],
        image_healthcheck: tuple[dict[str, str], list[str]],
    ) -> None:
        """Exec form (no shell in between, so signals reach the service), from the venv."""
        options, command = image_healthcheck
        assert image_entrypoint == ["/opt/venv/bin/easee-exporter"]
        assert command == ["/opt/venv/bin/easee-exporter", "healthcheck"]
        assert set(options) == {"interval", "timeout", "start-period", "retries"}

    def test_oci_labels_name_the_project_version(
        self, final_stage: list[Instruction], repo_root: Path
    ) -> None:
        """The image's version label defaults to the version in pyproject.toml."""
        project = tomllib.loads((repo_root / "pyproject.toml").read_text())["project"]
        args = [item.arguments for item in final_stage if item.keyword == "ARG"]
        assert f"VERSION={project['version']}" in args
        labels = " ".join(item.arguments for item in final_stage if item.keyword == "LABEL")
        for key in ("title", "description", "version", "licenses"):
            assert f"org.opencontainers.image.{key}=" in labels


class TestBuildContext:
    def test_context_holds_what_the_builder_copies(
        self, dockerfile_instructions: list[Instruction], repo_root: Path
    ) -> None:
        """Every COPY source of the build is inside the context .dockerignore leaves."""
        context = docker_context_files(repo_root)
        copies = [
            item.arguments.split()
            for item in dockerfile_instructions
            if item.keyword == "COPY" and "--from" not in item.arguments
        ]
        assert copies
        for *sources, _destination in copies:
            for source in sources:
                assert any(path == source or path.startswith(source + "/") for path in context), (
                    f"COPY {source} is excluded by .dockerignore"
                )

    def test_context_leaves_out_everything_but_the_package(self, repo_root: Path) -> None:
        """Tests, deployment files (with their secrets), dashboards and caches stay out."""
        context = docker_context_files(repo_root)
        assert "pyproject.toml" in context
        assert "exporter/cli.py" in context
        for path in context:
            assert path in {"pyproject.toml", "README.md"} or path.startswith("exporter/"), path
            assert "__pycache__" not in path
