"""The YAML examples of docs/configuration.md load as documented."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from exporter.config import CommandLine, Settings, load_settings

DOC = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"
EXAMPLES = re.findall(r"```yaml\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.DOTALL)


def load_example(text: str) -> Settings:
    config = Path("/example/easee.yaml")

    def read(path: Path) -> str:
        # A secret file's stand-in: long enough for any secret, different for each file.
        return text if path == config else f"example-secret-{path.name}-0123456789abcdef\n"

    return load_settings(CommandLine(config_file=str(config)), {}, read)


def test_the_document_has_examples() -> None:
    assert len(EXAMPLES) >= 2


@pytest.mark.parametrize("text", EXAMPLES, ids=lambda text: text.splitlines()[0])
def test_example_loads(text: str) -> None:
    load_example(text)


def test_cooperative_example_means_what_the_text_says() -> None:
    (cooperative,) = [text for text in EXAMPLES if "building-a" in text]
    settings = load_example(cooperative)
    assert [a.name for a in settings.enabled_accounts] == ["building-a", "building-b"]
    assert [c.serial for c in settings.chargers if c.enabled] == [
        "EH000101",
        "EH000102",
        "EH000201",
    ]
    ha, grafana = settings.webhooks.tokens
    assert ha.allows("pause", "EH000101")
    assert not ha.allows("pause", "EH000201")
    assert not ha.allows("lock", "EH000101")
    assert grafana.allows("read")
    assert not grafana.allows("pause", "EH000101")
    (script,) = settings.webhooks.secrets
    assert script.allows("resume", "EH000202")
    assert settings.liveness.exit_watchdog
