"""No secret value ever shows in a Settings' str/repr/dump, nor in any configuration error."""

from __future__ import annotations

import traceback
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from exporter.config import CommandLine, ConfigError, WebhookToken, load_settings

PASSWORD = "Pa55-word-of-the-owner"
TOKEN = "bearer-token-Z9y8x7w6v5"
HMAC = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
FILE_PASSWORD = "password-kept-in-a-file"


def error_text(error: ConfigError) -> str:
    """Every way an error can be shown: str, repr, lines, and a formatted traceback."""
    return "\n".join(
        [
            str(error),
            repr(error),
            *error.lines(),
            *(repr(p) for p in error.problems),
            "".join(traceback.format_exception(error)),
        ]
    )


def test_valid_settings_never_show_secrets(tmp_path: Path) -> None:
    (tmp_path / "pw").write_text(FILE_PASSWORD + "\n", encoding="utf-8")
    (tmp_path / "easee.yaml").write_text(
        f"""
accounts:
  - {{name: home, username: owner@example.org, password: {PASSWORD}}}
  - {{name: cabin, username: cabin@example.org, password_file: pw}}
webhooks:
  tokens: [{{name: ha, token: {TOKEN}}}]
  secrets: [{{name: relay, secret: {HMAC}}}]
""",
        encoding="utf-8",
    )
    settings = load_settings(CommandLine(config_file=str(tmp_path / "easee.yaml")), {})
    shown = "\n".join(
        [
            str(settings),
            repr(settings),
            settings.model_dump_json(),
            str(settings.model_dump()),
            *(repr(a) for a in settings.accounts),
            *(str(t) for t in settings.webhooks.tokens),
            *(repr(s) for s in settings.webhooks.secrets),
        ]
    )
    for secret in (PASSWORD, FILE_PASSWORD, TOKEN, HMAC, HMAC.removeprefix("whsec_")):
        assert secret not in shown
    assert "**********" in shown
    assert set(settings.secret_values()) == {PASSWORD, FILE_PASSWORD, TOKEN, HMAC}


@pytest.mark.parametrize(
    "document",
    [
        # wrong types and shapes around secrets
        f"accounts: [{{name: home, username: u@example.org, password: [{PASSWORD}]}}]",
        f"accounts: [{{name: home, username: u@example.org, password: {{x: {PASSWORD}}}}}]",
        f"accounts: [{{name: home, username: u@example.org, pasword: {PASSWORD}}}]",
        f"accounts: [{{name: {PASSWORD}, username: u@example.org, password: {PASSWORD}, x: 1}}]",
        f"accounts: [{{name: h, username: u@example.org, password: {PASSWORD}, enabled: maybe}}]",
        # weak or malformed credentials
        f"webhooks: {{tokens: [{{name: t, token: '{TOKEN[:10]}'}}]}}",
        f"webhooks: {{tokens: [{{name: t, token: '{TOKEN} with spaces'}}]}}",
        f"webhooks: {{tokens: [{{name: a, token: {TOKEN}}}, {{name: b, token: {TOKEN}}}]}}",
        "webhooks: {secrets: [{name: s, secret: 'whsec_Zm9vYmFyYmF6cXV4'}]}",
        f"webhooks: {{secrets: [{{name: s, secret: '{HMAC}!!'}}]}}",
        f"webhooks: {{tokens: [{{name: t, token: {TOKEN}, token_file: /nonexistent}}]}}",
        f"webhooks: {{tokens: [{{name: t, token: {TOKEN}, actions: [{PASSWORD}]}}]}}",
        # YAML syntax problems on a secret's line
        f'accounts:\n  - name: home\n    password: "{PASSWORD}\n',
        f"accounts:\n  - name: home\n    password: {PASSWORD}\n    password: {TOKEN}\n",
        f"accounts:\n  - name: home\n    password: {PASSWORD}\n   bad: indentation\n",
        f"accounts:\n  - name: home\n    password: !!python/object {PASSWORD}\n",
    ],
)
def test_errors_never_show_secrets(tmp_path: Path, document: str) -> None:
    path = tmp_path / "easee.yaml"
    path.write_text(document, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(CommandLine(config_file=str(path)), {})
    assert caught.value.__cause__ is None
    assert caught.value.__context__ is None
    text = error_text(caught.value)
    for secret in (PASSWORD, TOKEN, TOKEN[:10], HMAC.removeprefix("whsec_"), "Zm9vYmFyYmF6cXV4"):
        assert secret not in text


def test_environment_errors_never_show_secrets(tmp_path: Path) -> None:
    (tmp_path / "pw").write_text(FILE_PASSWORD, encoding="utf-8")
    env = {
        "EASEE_PASSWORD": PASSWORD,
        "EASEE_PASSWORD_FILE": str(tmp_path / "pw"),
        "EASEE_WEBHOOK_TOKEN": TOKEN[:12],
        "EASEE_LOG_UNSAFE": PASSWORD,
        "EASEE_EXPORTER_LISTEN": TOKEN,
    }
    with pytest.raises(ConfigError) as caught:
        load_settings(CommandLine(log_level=PASSWORD), env)
    text = error_text(caught.value)
    assert len(caught.value.problems) == 6
    for secret in (PASSWORD, FILE_PASSWORD, TOKEN, TOKEN[:12]):
        assert secret not in text


def test_direct_construction_errors_never_show_secrets() -> None:
    with pytest.raises(ValidationError) as caught:
        WebhookToken(name="t", token=SecretStr("short-" + PASSWORD[:5]))
    text = f"{caught.value}\n{caught.value!r}\n{caught.value.errors(include_input=False)}"
    assert PASSWORD[:5] not in text
    assert "too short" in text
