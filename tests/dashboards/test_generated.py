"""The committed JSON and pictures are exactly what the code generates."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from dashboards import build
from dashboards.src.common import Settings
from tests.dashboards.support import JSON_DIR, REPO_ROOT


def test_committed_files_match_the_code() -> None:
    stale = build.stale_files()
    assert stale == [], f"regenerate with `python -m dashboards.build`: {stale}"


def test_every_dashboard_is_committed_and_nothing_else() -> None:
    assert sorted(p.name for p in JSON_DIR.glob("*.json")) == sorted(build.BUILDERS)


def test_output_is_stable_across_builds() -> None:
    assert build.expected_files() == build.expected_files()


def test_a_hand_edit_is_detected(tmp_path: Path) -> None:
    for path in JSON_DIR.glob("*.json"):
        shutil.copy(path, tmp_path / path.name)
    assert build.stale_files(json_dir=tmp_path) == []

    edited = tmp_path / "easee-fleet.json"
    data = json.loads(edited.read_text(encoding="utf-8"))
    data["title"] = "Edited in the UI"
    edited.write_text(build.dumps(data), encoding="utf-8")
    assert build.stale_files(json_dir=tmp_path) == [edited]


def test_check_command_reports_stale_files(tmp_path: Path) -> None:
    for path in JSON_DIR.glob("*.json"):
        shutil.copy(path, tmp_path / path.name)
    ok = subprocess.run(
        [sys.executable, "-m", "dashboards.build", "--check", "--out", str(tmp_path)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert ok.returncode == 0, ok.stderr

    (tmp_path / "easee-chargers.json").unlink()
    stale = subprocess.run(
        [sys.executable, "-m", "dashboards.build", "--check", "--out", str(tmp_path)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert stale.returncode == 1
    assert "easee-chargers.json" in stale.stderr


def test_other_settings_need_their_own_folder() -> None:
    refused = subprocess.run(
        [sys.executable, "-m", "dashboards.build", "--icon-variant", "light"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert refused.returncode == 2
    assert "--out" in refused.stderr
    assert build.stale_files() == []


def test_icon_settings_reach_every_picture_reference() -> None:
    """A build for pictures served by the service: every icon points there, in the variant
    asked for."""
    settings = Settings(icon_base="http://easee:34739/static/icons", icon_variant="light")
    text = json.dumps(build.render(settings))
    assert "img/icons/easee" not in text
    assert "http://easee:34739/static/icons/state-charging-light.svg" in text
    assert "-dark.svg" not in text
