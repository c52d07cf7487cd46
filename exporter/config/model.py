"""The validated configuration: one frozen :class:`Settings` object and its parts.

Every model is frozen and forbids unknown keys. Secrets are :class:`pydantic.SecretStr`, so
``str()``, ``repr()`` and JSON dumps show ``**********``; validation errors never echo an
input (``hide_input_in_errors``), and every message written here leaves values out.

Durations are seconds: a number, or a string such as ``"90s"``, ``"15m"``, ``"1h30m"``.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets as token_source
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal, Self, get_args
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)

from exporter.config import rules
from exporter.config.base import Frozen as Frozen
from exporter.config.errors import format_loc
from exporter.config.webconfig import WebConfig
from exporter.freshness import DEFAULT_OFFLINE_AFTER

DEFAULT_PORT = 34739
DEFAULT_LISTEN_ADDRESS = f"0.0.0.0:{DEFAULT_PORT}"
DEFAULT_API_URL = "https://api.easee.com"
DEFAULT_STREAM_URL = "https://streams.easee.com/hubs/chargers"

# Easee's own limit (pyeasee's throttle, easee-cloud-api.md section 4): going over it gets the
# IP address blocked for 24 hours, so the configuration refuses a budget above it.
EASEE_CALLS_LIMIT = 500
EASEE_CALLS_PERIOD = 300.0

MIN_TOKEN_LENGTH = 16
MIN_SECRET_BYTES = 24  # Standard Webhooks: whsec_ + base64 of 24 to 64 random bytes

Action = Literal["pause", "resume", "lock", "unlock", "current", "circuit_current", "read"]
ACTIONS: frozenset[Action] = frozenset(get_args(Action))
LogLevel = Literal["debug", "info", "warning", "error", "critical"]
LogFormat = Literal["auto", "json", "console"]
# The cloud's colour names (ChargerColorType), the ones the service can show and export. The
# plugin's card offered a "gris" picture, which is Easee's anthracite.
Color = Literal["black", "red", "blue", "white", "anthracite"]
_COLOR_ALIASES = {"grey": "anthracite", "gray": "anthracite"}


_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def parse_duration(value: object) -> object:
    """Seconds from a number or a duration string (``"90s"``, ``"15m"``, ``"1h30m"``)."""
    if isinstance(value, bool):
        raise ValueError("expected a duration in seconds (a number or a string such as '15m')")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        text = value.strip().lower()
        try:
            return float(text)
        except ValueError:
            pass
        parts = _DURATION_PART.findall(text)
        if parts and "".join(n + u for n, u in parts) == text:
            return sum(float(n) * _UNIT_SECONDS[u] for n, u in parts)
        raise ValueError("expected a duration in seconds (a number or a string such as '15m')")
    return value


def _lower(value: object) -> object:
    return value.strip().lower() if isinstance(value, str) else value


def _colour(value: object) -> object:
    text = _lower(value)
    if isinstance(text, str) and text in _COLOR_ALIASES:
        raise ValueError(
            f"{text!r} is not one of Easee's colours: the grey charger is {_COLOR_ALIASES[text]!r}"
        )
    return text


def _check_name(value: str) -> str:
    if not value or value != value.strip():
        raise ValueError("must be non-empty, without leading or trailing spaces")
    if len(value) > 64:
        raise ValueError("must be at most 64 characters long")
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ValueError("must not contain control characters")
    return value


def _serial(value: object) -> object:
    # YAML reads an all-digit serial as a number; serials are upper-case on Easee's side.
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    return value.strip().upper() if isinstance(value, str) else value


def _check_http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an http:// or https:// URL with a host")
    if parts.username is not None or parts.password is not None:
        raise ValueError("must not contain credentials")
    if parts.query or parts.fragment:
        raise ValueError("must not contain a query or a fragment")
    return value.rstrip("/")


def _check_origin(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an origin such as https://grafana.example.org")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise ValueError("must be an origin (scheme, host and port only), without a path")
    return f"{parts.scheme}://{parts.netloc}"


def split_listen_address(value: str) -> tuple[str, int]:
    """``host:port`` (``[v6]:port``; ``:port`` means every interface) -> (host, port)."""
    host, sep, port_text = value.strip().rpartition(":")
    if not sep or not port_text.isdigit():
        raise ValueError("must be HOST:PORT, for example 0.0.0.0:34739 or [::]:34739")
    port = int(port_text)
    if port > 65535:
        raise ValueError("port must be between 0 and 65535")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    elif ":" in host:
        raise ValueError("an IPv6 address must be written in brackets, e.g. [::1]:34739")
    if not host:
        host = "0.0.0.0"
    if any(c.isspace() for c in host):
        raise ValueError("must be HOST:PORT, for example 0.0.0.0:34739 or [::]:34739")
    return host, port


def _check_listen_address(value: str) -> str:
    host, port = split_listen_address(value)
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


# Plain aliases, not ``type`` statements: pydantic must see through them to stack constraints.
Seconds = Annotated[float, BeforeValidator(parse_duration), Field(gt=0)]
Name = Annotated[str, AfterValidator(_check_name)]
Serial = Annotated[
    str,
    BeforeValidator(_serial),
    Field(pattern=r"^[A-Z0-9]{4,20}$", description="charger serial, e.g. EH123456"),
]
HttpUrl = Annotated[str, AfterValidator(_check_http_url)]
EqualizerId = Annotated[
    str,
    BeforeValidator(_serial),
    Field(pattern=r"^Q[A-Z0-9]{3,19}$", description="Equalizer id, e.g. QP123456"),
]


class RateLimit(Frozen):
    """At most ``calls`` within any window of ``period`` seconds."""

    calls: int = Field(ge=1)
    period: Seconds


class RequestBudget(RateLimit):
    """REST calls one account may make to the Easee cloud, shared by all its users."""

    calls: int = Field(default=100, ge=1)
    period: Seconds = 300.0

    @model_validator(mode="after")
    def _within_easee_limit(self) -> Self:
        if self.calls / self.period > EASEE_CALLS_LIMIT / EASEE_CALLS_PERIOD:
            raise ValueError(
                f"more than Easee's limit of {EASEE_CALLS_LIMIT} calls per "
                f"{EASEE_CALLS_PERIOD:g} s, which gets the address blocked for 24 hours"
            )
        return self


class LoggingSettings(Frozen):
    """``logging``: level, format, and the plugin's two switches."""

    level: Annotated[LogLevel, BeforeValidator(_lower)] = "info"
    format: Annotated[LogFormat, BeforeValidator(_lower)] = "auto"
    # The plugin's "Debug étendu": keep ping/keep-alive chatter and the SignalR and
    # WebSocket libraries' debug output.
    extended_debug: bool = False
    # The plugin's "Log non sécurisé": secrets are written in clear.
    unsafe: bool = False


class LivenessSettings(Frozen):
    """``liveness``: when ``/healthz`` fails, and whether the process then exits."""

    max_data_age: Seconds = 900.0
    # Plain Docker never restarts an unhealthy container (moby#28400): this exits instead.
    exit_watchdog: bool = False
    exit_watchdog_delay: Seconds = 300.0


class EaseeSettings(Frozen):
    """``easee``: where the cloud is and how gently to use it."""

    api_url: HttpUrl = DEFAULT_API_URL
    stream_url: HttpUrl = DEFAULT_STREAM_URL
    request_timeout: Seconds = 30.0
    request_budget: RequestBudget = RequestBudget()
    # Easee answers errors to polling faster than every 30 s (easee-cloud-api.md section 4).
    snapshot_interval: Annotated[Seconds, Field(ge=30)] = 300.0
    snapshot_interval_stream_down: Annotated[Seconds, Field(ge=30)] = 60.0
    stream_silence_timeout: Seconds = 1200.0
    command_timeout: Seconds = 30.0
    charger_offline_after: Seconds = DEFAULT_OFFLINE_AFTER


class WebSettings(Frozen):
    """``web``: the HTTP server and the webhook endpoints' limits."""

    listen_address: Annotated[str, AfterValidator(_check_listen_address)] = DEFAULT_LISTEN_ADDRESS
    max_body_size: int = Field(default=64 * 1024, ge=1024, le=16 * 1024 * 1024)
    # The permanent lock is a flash-backed setting on the charger: switch it sparingly.
    lock_rate: RateLimit = RateLimit(calls=6, period=3600)
    auth_failure_rate: RateLimit = RateLimit(calls=10, period=60)
    cors_origin: Annotated[str, AfterValidator(_check_origin)] | None = None

    @property
    def host(self) -> str:
        """The address to bind (``0.0.0.0`` when the configuration said ``:PORT``)."""
        return split_listen_address(self.listen_address)[0]

    @property
    def port(self) -> int:
        """The TCP port to bind; 0 asks the system for a free one."""
        return split_listen_address(self.listen_address)[1]


def _metric_entries(value: tuple[str, ...]) -> tuple[str, ...]:
    # Imported here: the catalogue is only needed when the file has a metrics section.
    from exporter.metrics.catalogue import all_entries
    from exporter.metrics.filter import ExportFilter

    chosen = ExportFilter(include=value)  # raises on an entry that is neither group nor glob
    unmatched = chosen.unmatched((e.family.name, e.family.groups) for e in all_entries())
    if unmatched:
        raise ValueError(f"matches no charger metric: {', '.join(unmatched)}")
    return value


class MetricsSettings(Frozen):
    """``metrics``: which charger metrics ``/metrics`` exports (see the README's reference).

    ``include`` / ``exclude``: group names (``temperature``, ``diagnostics``...) or globs on
    metric names; empty ``include`` = everything. Live readings of an offline charger are left
    out by ``easee.charger_offline_after``.
    """

    include: Annotated[tuple[str, ...], AfterValidator(_metric_entries)] = ()
    exclude: Annotated[tuple[str, ...], AfterValidator(_metric_entries)] = ()


class Account(Frozen):
    """An Easee account. ``name`` is its stable identifier (labels, logs, reloads).

    An enabled account always has a username and a password (the loader and the settings
    check it); a disabled one may have neither, as in the plugin.
    """

    name: Name
    username: str | None = Field(default=None, min_length=1)
    password: SecretStr | None = None
    enabled: bool = True
    #: the Equalizers of the account's sites to export: only these (every one when empty)
    equalizers: tuple[EqualizerId, ...] = ()
    #: Equalizers of the account's sites not to export
    exclude_equalizers: tuple[EqualizerId, ...] = ()

    @model_validator(mode="after")
    def _equalizers_listed_or_excluded(self) -> Self:
        both = sorted(set(self.equalizers) & set(self.exclude_equalizers))
        if both:
            raise ValueError(f"listed and excluded at once: {', '.join(both)}")
        return self

    @field_validator("password")
    @classmethod
    def _not_empty(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value():
            raise ValueError("is empty")
        return value

    def credentials(self) -> tuple[str, SecretStr]:
        """(username, password); raises ``ValueError`` for an account without them."""
        if self.username is None or self.password is None:
            raise ValueError(f"account {self.name!r} has no credentials")
        return self.username, self.password


class Charger(Frozen):
    """A charger listed in the configuration. ``enabled`` is already false when its account
    is disabled (the plugin's rule)."""

    serial: Serial
    account: Name
    name: str | None = Field(default=None, min_length=1, max_length=100)
    enabled: bool = True
    color: Annotated[Color, BeforeValidator(_colour)] | None = None


class _Credential(Frozen):
    name: Name
    actions: frozenset[Action] = ACTIONS
    chargers: frozenset[Serial] | None = None

    @field_validator("actions", "chargers")
    @classmethod
    def _not_empty(cls, value: frozenset[str] | None) -> frozenset[str] | None:
        if value is not None and not value:
            raise ValueError("must not be empty (leave the key out to allow all)")
        return value

    def allows(self, action: str, charger_id: str | None = None) -> bool:
        """Whether this credential may run ``action`` (on ``charger_id``, when given)."""
        if action not in self.actions:
            return False
        return charger_id is None or self.chargers is None or charger_id in self.chargers


class WebhookToken(_Credential):
    """A bearer token for the webhook API, with the actions and chargers it may use."""

    token: SecretStr

    @field_validator("token")
    @classmethod
    def _strong(cls, value: SecretStr) -> SecretStr:
        text = value.get_secret_value()
        if len(text) < MIN_TOKEN_LENGTH:
            raise ValueError(f"too short: a token needs at least {MIN_TOKEN_LENGTH} characters")
        if not all(33 <= ord(c) <= 126 for c in text):
            raise ValueError("must be printable ASCII without spaces (it travels in a header)")
        return value


class WebhookSecret(_Credential):
    """A Standard Webhooks HMAC secret (``whsec_<base64>``, or any string of 24+ bytes)."""

    secret: SecretStr

    @field_validator("secret")
    @classmethod
    def _strong(cls, value: SecretStr) -> SecretStr:
        if len(secret_key(value.get_secret_value())) < MIN_SECRET_BYTES:
            raise ValueError(f"too short: an HMAC secret needs at least {MIN_SECRET_BYTES} bytes")
        return value

    def key(self) -> bytes:
        """The HMAC key: the decoded bytes of a ``whsec_`` secret, else its UTF-8 bytes."""
        return secret_key(self.secret.get_secret_value())


def secret_key(text: str) -> bytes:
    """HMAC key bytes of a secret as Standard Webhooks defines them (see WebhookSecret)."""
    if text.startswith("whsec_"):
        try:
            return base64.b64decode(text.removeprefix("whsec_"), validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("a whsec_ secret must be followed by valid base64") from None
    return text.encode()


class Webhooks(Frozen):
    """``webhooks``: who may call the control API."""

    tokens: tuple[WebhookToken, ...] = ()
    secrets: tuple[WebhookSecret, ...] = ()


@dataclass(frozen=True, slots=True)
class CommandLine:
    """The service's command-line values that take part in the configuration."""

    config_file: str | None = None
    listen_address: str | None = None
    log_level: str | None = None
    log_format: str | None = None
    demo: bool = False
    web_config_file: str | None = None


DEMO_ACCOUNT = "demo"
DEMO_TOKEN_NAME = "demo"
DEMO_SECRET_NAME = "demo-hmac"


def new_demo_token() -> str:
    """A fresh random bearer token for ``--demo`` (printed at start-up, never configured)."""
    return token_source.token_urlsafe(24)


def new_demo_secret() -> str:
    """A fresh Standard Webhooks secret for ``--demo`` (``whsec_`` and 32 random bytes), so
    that signed requests can be tried without a configuration file."""
    return "whsec_" + base64.b64encode(token_source.token_bytes(32)).decode()


class Settings(Frozen):
    """The whole configuration of the service, validated, with secrets resolved.

    Built by :func:`exporter.config.load_settings`; constructing it directly (in tests)
    checks the same cross-field rules. ``command_line`` and ``config_file`` record where it
    came from, so that :func:`exporter.config.reload_settings` can read it again.
    """

    accounts: tuple[Account, ...] = ()
    chargers: tuple[Charger, ...] = ()
    webhooks: Webhooks = Webhooks()
    liveness: LivenessSettings = LivenessSettings()
    logging: LoggingSettings = LoggingSettings()
    easee: EaseeSettings = EaseeSettings()
    web: WebSettings = WebSettings()
    metrics: MetricsSettings = MetricsSettings()
    # ``--demo``: one account (demo/demo) against the in-process simulator, and a generated
    # webhook token ("demo") and HMAC secret ("demo-hmac").
    demo: bool = False
    command_line: CommandLine = CommandLine()
    config_file: Path | None = None
    # ``--web.config.file``: TLS, basic auth and headers of the HTTP server (None: plain
    # HTTP, no authentication beyond the control API's own).
    web_config: WebConfig | None = None
    web_config_file: Path | None = None

    @model_validator(mode="after")
    def _cross_rules(self) -> Self:
        problems = rules.check_all(
            [(("accounts", i), a) for i, a in enumerate(self.accounts)],
            [(("chargers", i), c) for i, c in enumerate(self.chargers)],
            [(("webhooks", "tokens", i), t, t.token) for i, t in enumerate(self.webhooks.tokens)]
            + [
                (("webhooks", "secrets", i), s, s.secret)
                for i, s in enumerate(self.webhooks.secrets)
            ],
        )
        if problems:
            raise ValueError("; ".join(f"{format_loc(loc)}: {msg}" for loc, msg in problems))
        return self

    def account(self, name: str) -> Account | None:
        """The account called ``name``, if any."""
        return next((a for a in self.accounts if a.name == name), None)

    @property
    def enabled_accounts(self) -> tuple[Account, ...]:
        """The accounts the service logs in to."""
        return tuple(a for a in self.accounts if a.enabled)

    def chargers_of(self, account: str) -> tuple[Charger, ...]:
        """The chargers listed for ``account`` (enabled or not)."""
        return tuple(c for c in self.chargers if c.account == account)

    def discovers(self, account: str) -> bool:
        """True when no charger is listed for ``account``: all of its chargers are used."""
        return not self.chargers_of(account)

    @property
    def demo_token(self) -> SecretStr | None:
        """The generated webhook token of ``--demo`` (None outside demo mode)."""
        if not self.demo:
            return None
        token = next((t for t in self.webhooks.tokens if t.name == DEMO_TOKEN_NAME), None)
        return token.token if token else None

    @property
    def demo_secret(self) -> SecretStr | None:
        """The generated HMAC secret of ``--demo`` (None outside demo mode)."""
        if not self.demo:
            return None
        secret = next((s for s in self.webhooks.secrets if s.name == DEMO_SECRET_NAME), None)
        return secret.secret if secret else None

    def secret_values(self) -> tuple[str, ...]:
        """Every configured secret in clear, for the log redactor to mask wherever it appears.

        The demo account's password is public ("demo") and left out: masking that word
        everywhere would only garble the logs.
        """
        values: list[str] = []
        for account in self.accounts:
            if account.password is not None and not (self.demo and account.name == DEMO_ACCOUNT):
                values.append(account.password.get_secret_value())
        values.extend(t.token.get_secret_value() for t in self.webhooks.tokens)
        values.extend(s.secret.get_secret_value() for s in self.webhooks.secrets)
        if self.web_config is not None:
            values.extend(h.get_secret_value() for h in self.web_config.basic_auth_users.values())
        return tuple(values)

    def watched_files(self) -> tuple[Path, ...]:
        """The files a change of which reloads the configuration."""
        files = [self.config_file, self.web_config_file]
        if self.web_config is not None:
            files.extend(self.web_config.files())
        return tuple(path for path in files if path is not None)

    def with_easee_urls(self, api_url: str, stream_url: str) -> Settings:
        """A copy pointing at another cloud (the in-process simulator of ``--demo``)."""
        easee = self.easee.model_copy(
            update={"api_url": _check_http_url(api_url), "stream_url": _check_http_url(stream_url)}
        )
        return self.model_copy(update={"easee": easee})
