"""Loading from the environment, the file and the flags: precedence, secrets in files,
demo mode, reloads, and the invariants of Settings itself."""

from __future__ import annotations

import base64
import hashlib
import hmac
from pathlib import Path
from typing import get_args

import pytest
from pydantic import SecretStr, ValidationError

from exporter.config import (
    Account,
    Charger,
    CommandLine,
    ConfigError,
    Settings,
    WebhookSecret,
    load_settings,
    reload_settings,
)
from exporter.config.model import Color
from exporter.easee.enums import CHARGER_COLORS

CREDENTIALS = {"EASEE_USERNAME": "owner@example.org", "EASEE_PASSWORD": "correct-horse-battery"}


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def problems(command_line: CommandLine, env: dict[str, str]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_settings(command_line, env)
    return list(caught.value.lines())


class TestEnvironmentOnly:
    def test_username_and_password_are_enough(self) -> None:
        """With only EASEE_USERNAME and EASEE_PASSWORD: one account 'default', discovery."""
        settings = load_settings(CommandLine(), CREDENTIALS)

        (account,) = settings.accounts
        assert account.name == "default"
        assert account.enabled
        assert account.credentials() == ("owner@example.org", SecretStr("correct-horse-battery"))
        assert settings.chargers == ()
        assert settings.discovers("default")
        assert settings.webhooks.tokens == ()
        assert settings.web.listen_address == "0.0.0.0:34739"
        assert settings.easee.api_url == "https://api.easee.com"
        assert settings.easee.stream_url == "https://streams.easee.com/hubs/chargers"
        assert settings.liveness.max_data_age == 900
        assert settings.logging.level == "info"
        assert settings.logging.format == "auto"
        assert settings.config_file is None

    def test_every_contract_variable(self, tmp_path: Path) -> None:
        token_file = write(tmp_path / "token", "bearer-token-from-a-file\n")
        env = {
            **CREDENTIALS,
            "EASEE_API_URL": "http://127.0.0.1:8080/",
            "EASEE_STREAM_URL": "http://127.0.0.1:8080/hubs/chargers",
            "EASEE_EXPORTER_LISTEN": "127.0.0.1:9595",
            "EASEE_WEBHOOK_TOKEN_FILE": str(token_file),
            "EASEE_LIVENESS_MAX_DATA_AGE": "20m",
            "EASEE_LIVENESS_EXIT_WATCHDOG": "yes",
            "EASEE_LOG_LEVEL": "DEBUG",
            "EASEE_LOG_FORMAT": "console",
            "EASEE_LOG_EXTENDED_DEBUG": "1",
            "EASEE_LOG_UNSAFE": "true",
        }
        settings = load_settings(CommandLine(), env)

        assert settings.easee.api_url == "http://127.0.0.1:8080"
        assert settings.easee.stream_url == "http://127.0.0.1:8080/hubs/chargers"
        assert (settings.web.host, settings.web.port) == ("127.0.0.1", 9595)
        (token,) = settings.webhooks.tokens
        assert token.name == "default"
        assert token.token.get_secret_value() == "bearer-token-from-a-file"
        assert token.chargers is None
        assert token.allows("pause", "EH000001")
        assert token.allows("read")
        assert settings.liveness.max_data_age == 1200
        assert settings.liveness.exit_watchdog
        assert settings.logging.level == "debug"
        assert settings.logging.format == "console"
        assert settings.logging.extended_debug
        assert settings.logging.unsafe

    def test_empty_variables_count_as_unset(self) -> None:
        env = {**CREDENTIALS, "EASEE_LOG_LEVEL": "", "EASEE_WEBHOOK_TOKEN": ""}
        settings = load_settings(CommandLine(), env)
        assert settings.logging.level == "info"
        assert settings.webhooks.tokens == ()

    def test_no_account_at_all_is_an_error(self) -> None:
        assert problems(CommandLine(), {}) == [
            "accounts: no account configured: set EASEE_USERNAME and EASEE_PASSWORD, list "
            "accounts in the configuration file, or run with --demo"
        ]

    def test_bad_variables_are_reported_under_their_names(self) -> None:
        env = {
            "EASEE_PASSWORD": "correct-horse-battery",
            "EASEE_LIVENESS_MAX_DATA_AGE": "-5",
            "EASEE_LOG_UNSAFE": "perhaps",
            "EASEE_API_URL": "ftp://api.easee.com",
            "EASEE_WEBHOOK_TOKEN": "short",
        }
        assert problems(CommandLine(), env) == [
            "EASEE_USERNAME (accounts[0].username): required for an enabled account",
            "EASEE_WEBHOOK_TOKEN (webhooks.tokens[0].token): too short: a token needs at "
            "least 16 characters",
            "EASEE_LIVENESS_MAX_DATA_AGE (liveness.max_data_age): Input should be greater than 0",
            "EASEE_LOG_UNSAFE (logging.unsafe): Input should be a valid boolean, unable to "
            "interpret input",
            "EASEE_API_URL (easee.api_url): must be an http:// or https:// URL with a host",
        ]

    def test_a_secret_and_its_file_together_are_refused(self, tmp_path: Path) -> None:
        secret = write(tmp_path / "pw", "from-the-file")
        env = {**CREDENTIALS, "EASEE_PASSWORD_FILE": str(secret)}
        assert problems(CommandLine(), env) == [
            "EASEE_PASSWORD_FILE: set EASEE_PASSWORD or EASEE_PASSWORD_FILE, not both"
        ]


class TestSecretFiles:
    def test_one_trailing_newline_is_stripped(self, tmp_path: Path) -> None:
        env = {
            "EASEE_USERNAME": "owner@example.org",
            "EASEE_PASSWORD_FILE": str(write(tmp_path / "pw", "pass word\n\n")),
            "EASEE_WEBHOOK_TOKEN_FILE": str(write(tmp_path / "tok", "windows-token-0123456\r\n")),
        }
        settings = load_settings(CommandLine(), env)
        assert settings.accounts[0].credentials()[1].get_secret_value() == "pass word\n"
        assert settings.webhooks.tokens[0].token.get_secret_value() == "windows-token-0123456"

    def test_missing_and_unreadable_files_name_the_path(self, tmp_path: Path) -> None:
        env = {
            "EASEE_USERNAME": "owner@example.org",
            "EASEE_PASSWORD_FILE": str(tmp_path / "absent"),
            "EASEE_WEBHOOK_TOKEN_FILE": str(tmp_path),  # a directory
        }
        assert problems(CommandLine(), env) == [
            f"EASEE_PASSWORD_FILE (accounts[0].password_file): cannot read {tmp_path}/absent: "
            "No such file or directory",
            f"EASEE_WEBHOOK_TOKEN_FILE (webhooks.tokens[0].token_file): cannot read {tmp_path}: "
            "Is a directory",
        ]

    def test_empty_secret_file(self, tmp_path: Path) -> None:
        env = {
            "EASEE_USERNAME": "owner@example.org",
            "EASEE_PASSWORD_FILE": str(write(tmp_path / "pw", "\n")),
        }
        assert problems(CommandLine(), env) == [
            "EASEE_PASSWORD_FILE (accounts[0].password_file): is empty"
        ]

    def test_binary_secret_file(self, tmp_path: Path) -> None:
        path = tmp_path / "pw"
        path.write_bytes(b"\xff\xfe secret")
        env = {"EASEE_USERNAME": "owner@example.org", "EASEE_PASSWORD_FILE": str(path)}
        assert problems(CommandLine(), env) == [
            f"EASEE_PASSWORD_FILE (accounts[0].password_file): cannot read {path}: not UTF-8 text"
        ]

    def test_file_paths_are_relative_to_the_file_and_env_paths_to_the_caller(
        self, tmp_path: Path
    ) -> None:
        """The reader is the loader's only way to files: record which paths it is asked for."""
        config = tmp_path / "conf" / "easee.yaml"
        contents = {
            config: "accounts:\n  - {name: home, username: a@example.org, password_file: pw}\n",
            tmp_path / "conf" / "pw": "file-password",
            Path("relative-token"): "token-read-from-cwd-0123",
        }
        asked: list[Path] = []

        def read(path: Path) -> str:
            asked.append(path)
            return contents[path]

        env = {"EASEE_WEBHOOK_TOKEN_FILE": "relative-token"}
        settings = load_settings(CommandLine(config_file=str(config)), env, read)
        assert asked == [config, tmp_path / "conf" / "pw", Path("relative-token")]
        assert settings.accounts[0].credentials()[1].get_secret_value() == "file-password"


class TestPrecedence:
    def test_environment_overrides_the_file(self, tmp_path: Path) -> None:
        config = write(
            tmp_path / "easee.yaml",
            """
accounts:
  - {name: default, username: file@example.org, password_file: missing-file, enabled: true}
  - {name: cabin, username: cabin@example.org, password: cabin-password}
chargers:
  - {serial: EH000001, account: default}
logging: {level: warning, format: json}
web: {listen_address: "127.0.0.1:1111"}
webhooks:
  tokens:
    - {name: default, token: file-token-0123456789, actions: [read]}
""",
        )
        env = {
            "EASEE_USERNAME": "env@example.org",
            "EASEE_PASSWORD": "env-password",
            "EASEE_LOG_LEVEL": "error",
            "EASEE_EXPORTER_LISTEN": "127.0.0.1:2222",
            "EASEE_WEBHOOK_TOKEN": "env-token-0123456789",
        }
        settings = load_settings(CommandLine(config_file=str(config)), env)

        default = settings.account("default")
        assert default is not None
        # The environment's password replaces the file's password_file, which is not read.
        assert default.credentials() == ("env@example.org", SecretStr("env-password"))
        assert [c.serial for c in settings.chargers_of("default")] == ["EH000001"]
        assert settings.account("cabin") is not None
        assert settings.logging.level == "error"
        assert settings.logging.format == "json"
        assert settings.web.listen_address == "127.0.0.1:2222"
        (token,) = settings.webhooks.tokens
        assert token.token.get_secret_value() == "env-token-0123456789"
        assert token.allows("pause"), "the environment's token may do everything"

    def test_flags_override_the_environment(self, tmp_path: Path) -> None:
        env = {**CREDENTIALS, "EASEE_EXPORTER_LISTEN": "127.0.0.1:2222", "EASEE_LOG_LEVEL": "error"}
        command_line = CommandLine(listen_address=":3333", log_level="debug", log_format="console")
        settings = load_settings(command_line, env)
        assert settings.web.listen_address == "0.0.0.0:3333"
        assert settings.logging.level == "debug"
        assert settings.logging.format == "console"

    def test_bad_flags_are_reported_under_their_names(self) -> None:
        command_line = CommandLine(listen_address="nowhere", log_level="chatty")
        assert problems(command_line, CREDENTIALS) == [
            "--log.level (logging.level): Input should be 'debug', 'info', 'warning', 'error' "
            "or 'critical'",
            "--web.listen-address (web.listen_address): must be HOST:PORT, for example "
            "0.0.0.0:34739 or [::]:34739",
        ]

    def test_config_file_from_the_environment_and_the_flag_winning(self, tmp_path: Path) -> None:
        from_env = write(tmp_path / "env.yaml", "logging: {level: warning}\n")
        from_flag = write(tmp_path / "flag.yaml", "logging: {level: error}\n")
        env = {**CREDENTIALS, "EASEE_EXPORTER_CONFIG": str(from_env)}
        assert load_settings(CommandLine(), env).logging.level == "warning"
        settings = load_settings(CommandLine(config_file=str(from_flag)), env)
        assert settings.logging.level == "error"
        assert settings.config_file == from_flag

    def test_missing_config_file(self, tmp_path: Path) -> None:
        env = {**CREDENTIALS, "EASEE_EXPORTER_CONFIG": str(tmp_path / "nope.yaml")}
        assert problems(CommandLine(), env) == [
            f"EASEE_EXPORTER_CONFIG: cannot read {tmp_path}/nope.yaml: No such file or directory"
        ]
        assert problems(CommandLine(config_file=str(tmp_path / "nope.yaml")), CREDENTIALS) == [
            f"--config.file: cannot read {tmp_path}/nope.yaml: No such file or directory"
        ]

    def test_an_empty_file_is_an_empty_configuration(self, tmp_path: Path) -> None:
        config = write(tmp_path / "empty.yaml", "# nothing yet\n")
        settings = load_settings(CommandLine(config_file=str(config)), CREDENTIALS)
        assert settings.accounts[0].name == "default"


class TestAccountRules:
    def test_a_disabled_account_disables_its_chargers(self, tmp_path: Path) -> None:
        config = write(
            tmp_path / "easee.yaml",
            """
accounts:
  - {name: home, username: a@example.org, password: home-password}
  - {name: cabin, enabled: false}
chargers:
  - {serial: EH000001, account: home}
  - {serial: EH000002, account: cabin, enabled: true}
""",
        )
        settings = load_settings(CommandLine(config_file=str(config)), {})
        assert [a.name for a in settings.enabled_accounts] == ["home"]
        assert [(c.serial, c.enabled) for c in settings.chargers] == [
            ("EH000001", True),
            ("EH000002", False),
        ]

    def test_a_charger_defaults_to_the_only_account(self, tmp_path: Path) -> None:
        config = write(tmp_path / "easee.yaml", "chargers:\n  - {serial: EH000001, name: Drive}\n")
        settings = load_settings(CommandLine(config_file=str(config)), CREDENTIALS)
        (charger,) = settings.chargers
        assert (charger.account, charger.name) == ("default", "Drive")
        assert not settings.discovers("default")

    def test_settings_built_directly_keep_the_rules(self) -> None:
        """Settings re-checks the rules, so hand-built settings in tests cannot break them."""
        home = Account(name="home", username="a@example.org", password=SecretStr("p4ssword"))
        with pytest.raises(ValidationError) as caught:
            Settings(
                accounts=(home, home.model_copy(update={"username": "b@example.org"})),
                chargers=(Charger(serial="EH000001", account="garage"),),
            )
        text = str(caught.value)
        assert "accounts[1].name: 'home' is already the name of accounts[0]" in text
        assert "chargers[0].account: no account is named 'garage'" in text
        assert "p4ssword" not in text


class TestDemo:
    def test_demo_needs_no_account(self) -> None:
        settings = load_settings(CommandLine(demo=True), {})
        assert settings.demo
        (account,) = settings.accounts
        assert account.credentials() == ("demo", SecretStr("demo"))
        token = settings.demo_token
        assert token is not None
        assert len(token.get_secret_value()) >= 32
        assert "demo" not in settings.secret_values()

    def test_demo_replaces_accounts_and_keeps_the_rest(self, tmp_path: Path) -> None:
        config = write(
            tmp_path / "easee.yaml",
            """
accounts: [{name: home, username: a@example.org, password: home-password}]
chargers: [{serial: EH000001}]
logging: {level: debug}
webhooks:
  tokens: [{name: grafana, token: grafana-token-0123456789}]
""",
        )
        settings = load_settings(CommandLine(config_file=str(config), demo=True), {})
        assert [a.name for a in settings.accounts] == ["demo"]
        assert settings.chargers == ()
        assert settings.logging.level == "debug"
        assert [t.name for t in settings.webhooks.tokens] == ["grafana", "demo"]

    def test_each_start_gets_a_new_token_and_a_reload_keeps_it(self) -> None:
        first = load_settings(CommandLine(demo=True), {})
        second = load_settings(CommandLine(demo=True), {})
        assert first.demo_token != second.demo_token
        reloaded = reload_settings(first, {})
        assert isinstance(reloaded, Settings)
        assert reloaded.demo_token == first.demo_token
        assert first.demo_secret is not None
        assert first.demo_secret != second.demo_secret
        assert reloaded.demo_secret == first.demo_secret
        (secret,) = first.webhooks.secrets
        assert len(secret.key()) == 32
        assert first.demo_secret.get_secret_value() in first.secret_values()

    def test_the_demo_token_name_is_reserved(self, tmp_path: Path) -> None:
        config = write(
            tmp_path / "easee.yaml",
            "webhooks:\n  tokens: [{name: demo, token: my-own-demo-token-0123}]\n",
        )
        assert problems(CommandLine(config_file=str(config), demo=True), {}) == [
            "webhooks.tokens[0].name: 'demo' is reserved for the token --demo generates"
        ]

    def test_the_demo_secret_name_is_reserved(self, tmp_path: Path) -> None:
        config = write(
            tmp_path / "easee.yaml",
            "webhooks:\n  secrets: [{name: demo-hmac, secret: my-own-demo-secret-0123456789}]\n",
        )
        assert problems(CommandLine(config_file=str(config), demo=True), {}) == [
            "webhooks.secrets[0].name: 'demo-hmac' is reserved for the secret --demo generates"
        ]

    def test_urls_can_point_at_the_simulator(self) -> None:
        settings = load_settings(CommandLine(demo=True), {})
        moved = settings.with_easee_urls("http://127.0.0.1:5000/", "http://127.0.0.1:5000/hubs/x")
        assert moved.easee.api_url == "http://127.0.0.1:5000"
        assert moved.easee.stream_url == "http://127.0.0.1:5000/hubs/x"
        assert moved.demo_token == settings.demo_token


class TestReload:
    def test_reload_reads_the_file_and_the_environment_again(self, tmp_path: Path) -> None:
        config = write(tmp_path / "easee.yaml", "logging: {level: info}\n")
        settings = load_settings(CommandLine(config_file=str(config)), CREDENTIALS)
        write(tmp_path / "easee.yaml", "logging: {level: debug}\n")
        env = {**CREDENTIALS, "EASEE_PASSWORD": "new-password"}

        reloaded = reload_settings(settings, env)

        assert isinstance(reloaded, Settings)
        assert reloaded.logging.level == "debug"
        assert reloaded.accounts[0].credentials()[1].get_secret_value() == "new-password"
        assert reloaded.config_file == config

    def test_a_bad_reload_returns_every_problem_and_changes_nothing(self, tmp_path: Path) -> None:
        config = write(tmp_path / "easee.yaml", "logging: {level: info}\n")
        settings = load_settings(CommandLine(config_file=str(config)), CREDENTIALS)
        before = settings.model_dump()
        write(tmp_path / "easee.yaml", "logging: {level: loud}\nweb: {listen_address: x}\n")

        result = reload_settings(settings, CREDENTIALS)

        assert isinstance(result, ConfigError)
        assert len(result.problems) == 2
        assert settings.model_dump() == before
        assert settings.logging.level == "info"


def test_settings_are_frozen() -> None:
    settings = load_settings(CommandLine(), CREDENTIALS)
    with pytest.raises(ValidationError):
        settings.demo = True  # type: ignore[misc]
    with pytest.raises(ValidationError):
        settings.accounts[0].enabled = False  # type: ignore[misc]


def test_standard_webhooks_secret_key() -> None:
    """A whsec_ secret's key is its base64-decoded bytes: the spec's test vector verifies."""
    secret = WebhookSecret(name="relay", secret=SecretStr("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"))
    signed = b'msg_p5jXN8AQM9LWM0D4loKWxJek.1614265330.{"test": 2432232314}'
    digest = hmac.new(secret.key(), signed, hashlib.sha256).digest()
    assert base64.b64encode(digest) == b"g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    raw = WebhookSecret(name="raw", secret=SecretStr("a plain secret of 24 byte"))
    assert raw.key() == b"a plain secret of 24 byte"


def test_the_colours_are_the_clouds() -> None:
    """A colour the configuration accepts is one the status page and the info metric can
    show: before, ``grey`` was accepted and then dropped."""
    assert set(get_args(Color)) == {entry.label for entry in CHARGER_COLORS.entries}
