"""The README's metric reference is generated from the code and kept up to date."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from exporter.metrics_reference import (
    END_MARKER,
    START_MARKER,
    metric_names,
    render_markdown,
    updated_readme,
)

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_reference_is_up_to_date() -> None:
    """Fails when the table changed without ``python -m exporter.metrics_reference --write
    README.md``."""
    text = README.read_text(encoding="utf-8")
    assert START_MARKER in text
    assert END_MARKER in text
    assert updated_readme(text) == text


def test_every_metric_has_a_row() -> None:
    section = render_markdown()
    for name in metric_names():
        assert f"| `{name}` |" in section, name


def test_section_is_replaced_in_place_or_appended() -> None:
    section = render_markdown()
    stale = f"# Title\n\nintro\n\n{START_MARKER}\nold\n{END_MARKER}\n\n## After\n"
    assert updated_readme(stale) == f"# Title\n\nintro\n\n{section}\n\n## After\n"
    appended = updated_readme("# Title\n")
    assert appended.endswith(f"## Metric reference\n\n{section}\n")
    assert updated_readme(appended) == appended


def test_command_checks_and_writes(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("# Title\n", encoding="utf-8")
    command = [sys.executable, "-m", "exporter.metrics_reference"]
    root = README.parent
    check = subprocess.run(
        [*command, "--check", str(readme)], capture_output=True, text=True, cwd=root
    )
    assert check.returncode == 1
    assert "--write README.md" in check.stderr
    subprocess.run([*command, "--write", str(readme)], check=True, cwd=root)
    assert subprocess.run([*command, "--check", str(readme)], cwd=root).returncode == 0
    assert START_MARKER in readme.read_text(encoding="utf-8")
