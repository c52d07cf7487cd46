"""The logging setup, judged by what it actually writes: redaction, ping filtering, formats,
the standard-library bridge, and reconfiguration at run time."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
import structlog

from exporter.config import LoggingSettings
from exporter.logs import LogSetup, configure_logging

PASSWORD = "Hunter2-owner-password"
QUOTED_PASSWORD = 'pa"ss\\word-with-escapes'
TOKEN = "webhook-token-0123456789abcdef"
HMAC = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
ACCESS_TOKEN = (
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJvd25lckBleGFtcGxlLm9yZyIsImV4cCI6MTcwMDAwMDAwMH0"
    ".c2lnbmF0dXJlLW9mLXRoZS10b2tlbg"
)
REFRESH_TOKEN = "opaque-refresh-R3fr35h-value"
CONFIGURED = (PASSWORD, QUOTED_PASSWORD, TOKEN, HMAC)
ALL_SECRETS = (*CONFIGURED, ACCESS_TOKEN, REFRESH_TOKEN, "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")


class TtyStream(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def restore_logging() -> Iterator[list[LogSetup]]:
    """Set-ups made by a test are removed afterwards, with the levels they changed."""
    setups: list[LogSetup] = []
    names = ("", "pysignalr", "websockets")
    levels = {name: logging.getLogger(name).level for name in names}
    yield setups
    for setup in setups:
        setup.close()
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)
    structlog.contextvars.clear_contextvars()


def install(
    setups: list[LogSetup], stream: io.StringIO | None = None, **options: object
) -> tuple[LogSetup, io.StringIO]:
    out = stream if stream is not None else io.StringIO()
    setup = configure_logging(
        LoggingSettings.model_validate(options), secrets=CONFIGURED, stream=out
    )
    setups.append(setup)
    return setup, out


def json_lines(out: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


def realistic_sequence() -> None:
    """What the service logs around a login, a webhook call and a failure."""
    log = structlog.get_logger("exporter.easee.client")
    structlog.contextvars.bind_contextvars(request_id="r-42", charger_id="EH000001")
    body = {"userName": "owner@example.org", "password": PASSWORD}
    log.info("login", account="home", password=PASSWORD, body=body)
    log.info(
        "token refreshed",
        account="home",
        response={"accessToken": ACCESS_TOKEN, "refreshToken": REFRESH_TOKEN, "expiresIn": 3600},
    )
    log.info(f"POST /api/accounts/login with {body}")  # an f-string with a dict repr
    log.info(f"sending {json.dumps({'password': QUOTED_PASSWORD})}")
    log.info(
        "webhook accepted",
        credential="home-assistant",
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
        attempts=[{"token": TOKEN}, {"secret": HMAC}],
    )
    log.warning(f"negotiate https://streams.example/hubs/chargers?access_token={ACCESS_TOKEN}&x=1")
    log.info("stored the value the user typed", note=f"it was {PASSWORD} all along")
    try:
        raise PermissionError(f"login refused for password={PASSWORD} with Bearer {TOKEN}")
    except PermissionError:
        log.exception("login failed", account="home")
    logging.getLogger("pysignalr.transport").warning(
        "Connection closed: %s", f"Authorization: Bearer {ACCESS_TOKEN}"
    )
    logging.getLogger("aiohttp.client").error(
        "request to %s failed", "https://api.example/login", extra={"password": PASSWORD}
    )
    logging.getLogger("aiohttp.access").info(
        '10.0.0.7 [26/Nov/2026:06:00:00 +0000] "POST /api/v1/chargers/EH000001/pause HTTP/1.1" '
        f'200 52 "-" "HomeAssistant" Authorization: Bearer {TOKEN}'
    )
    try:
        raise ValueError(f"bad secret {HMAC}")
    except ValueError:
        logging.getLogger("aiohttp.web").exception("Error handling request")


def test_secrets_are_masked_everywhere(restore_logging: list[LogSetup]) -> None:
    _, out = install(restore_logging, format="json")
    realistic_sequence()
    text = out.getvalue()

    for secret in ALL_SECRETS:
        assert secret not in text
    records = json_lines(out)
    assert len(records) == 12
    # The context survives the masking.
    assert records[0]["event"] == "login"
    assert records[0]["account"] == "home"
    assert records[0]["password"] == "***"
    assert records[0]["body"] == {"userName": "owner@example.org", "password": "***"}
    assert records[1]["response"] == {
        "accessToken": "***",
        "refreshToken": "***",
        "expiresIn": 3600,
    }
    assert records[4]["headers"] == {
        "Authorization": "Bearer ***",
        "Content-Type": "application/json",
    }
    assert records[4]["credential"] == "home-assistant"
    assert records[7]["exception"][0]["exc_type"] == "PermissionError"  # type: ignore[index]
    assert "access_token=***&x=1" in str(records[5]["event"])
    assert records[8]["logger"] == "pysignalr.transport"
    assert records[9]["password"] == "***"  # a stdlib logger's extra=
    assert records[10]["logger"] == "aiohttp.access"
    assert "/api/v1/chargers/EH000001/pause" in str(records[10]["event"])
    assert all(r["request_id"] == "r-42" for r in records)
    assert records[11]["exception"]


def test_secrets_are_masked_in_console_tracebacks(restore_logging: list[LogSetup]) -> None:
    _, out = install(restore_logging, format="console")
    realistic_sequence()
    text = out.getvalue()
    for secret in ALL_SECRETS:
        assert secret not in text
    assert "Traceback (most recent call last)" in text
    assert "PermissionError: login refused for password=*** with Bearer ***" in text


def test_unsafe_logs_show_the_secrets(restore_logging: list[LogSetup]) -> None:
    _, out = install(restore_logging, format="json", unsafe=True)
    realistic_sequence()
    text = out.getvalue()
    for secret in (PASSWORD, TOKEN, HMAC, ACCESS_TOKEN, REFRESH_TOKEN):
        assert secret in text
    assert json_lines(out)[0]["password"] == PASSWORD


def chatter() -> None:
    log = structlog.get_logger("exporter.easee.stream")
    log.debug("frame received", frame='{"type":6}\x1e')
    log.debug("signalr ping sent")
    log.debug("keepalive", account="home")
    log.debug("heartbeat frame", chatter=True)
    logging.getLogger("pysignalr.transport").debug('Message received{"type": 6}')
    logging.getLogger("websockets.client").debug("> PING 1a 2b 3c 4d [binary, 4 bytes]")
    logging.getLogger("websockets.client").debug("< PONG 1a 2b 3c 4d [binary, 4 bytes]")
    logging.getLogger("websockets.client").debug("% sent keepalive ping")
    logging.getLogger("pysignalr.transport").info("State change: CONNECTING -> CONNECTED")
    log.debug("observation", obs_id=109, value=3)  # real data, never chatter
    log.info("stream connected", account="home")


def test_ping_chatter_is_dropped_without_extended_debug(restore_logging: list[LogSetup]) -> None:
    _, out = install(restore_logging, format="json", level="debug")
    chatter()
    assert [r["event"] for r in json_lines(out)] == ["observation", "stream connected"]


def test_extended_debug_keeps_the_chatter(restore_logging: list[LogSetup]) -> None:
    _, out = install(restore_logging, format="json", level="debug", extended_debug=True)
    chatter()
    events = [str(r["event"]) for r in json_lines(out)]
    assert len(events) == 11
    assert "signalr ping sent" in events
    assert "> PING 1a 2b 3c 4d [binary, 4 bytes]" in events
    assert "State change: CONNECTING -> CONNECTED" in events


def test_probe_and_scrape_access_lines_only_at_debug(restore_logging: list[LogSetup]) -> None:
    setup, out = install(restore_logging, format="json")
    access = logging.getLogger("aiohttp.access")
    access.info('127.0.0.1 [x] "GET /metrics HTTP/1.1" 200 5120 "-" "Prometheus/2.42"')
    access.info('127.0.0.1 [x] "GET /healthz HTTP/1.1" 200 40 "-" "python-urllib"')
    access.info('127.0.0.1 [x] "GET /healthz HTTP/1.1" 503 40 "-" "python-urllib"')
    access.info('127.0.0.1 [x] "GET / HTTP/1.1" 200 900 "-" "Firefox"')
    setup.apply(LoggingSettings(level="debug", format="json"), CONFIGURED)
    access.info('127.0.0.1 [x] "GET /metrics HTTP/1.1" 200 5120 "-" "Prometheus/2.42"')
    events = [str(r["event"]) for r in json_lines(out)]
    assert len(events) == 3
    assert '"GET /healthz HTTP/1.1" 503' in events[0]
    assert '"GET / HTTP/1.1" 200' in events[1]
    assert '"GET /metrics HTTP/1.1" 200' in events[2]


def test_json_lines_when_not_a_terminal(restore_logging: list[LogSetup]) -> None:
    _, out = install(restore_logging)  # format auto, StringIO is not a TTY
    structlog.get_logger("exporter.app").info("started", port=34739)
    logging.getLogger("aiohttp.web").warning("plain stdlib line")
    first, second = json_lines(out)
    assert first["event"] == "started"
    assert first["port"] == 34739
    assert first["level"] == "info"
    assert first["logger"] == "exporter.app"
    assert str(first["timestamp"]).endswith("Z")
    assert "T" in str(first["timestamp"])
    assert second["logger"] == "aiohttp.web"
    assert second["level"] == "warning"


def test_console_on_a_terminal(restore_logging: list[LogSetup]) -> None:
    setup, out = install(restore_logging, stream=TtyStream())
    assert setup.format == "console"
    structlog.get_logger("exporter.app").info("started", port=34739)
    line = out.getvalue().splitlines()[0]
    assert "started" in line
    assert "port" in line
    assert not line.startswith("{")


def test_reconfigured_at_run_time(restore_logging: list[LogSetup]) -> None:
    setup, out = install(restore_logging, format="json")
    log = structlog.get_logger("exporter.app")
    log.debug("hidden at info")
    log.info("first", password=PASSWORD)

    new_secret = "rotated-password-after-reload"
    setup.apply(LoggingSettings(level="warning", format="json"), (*CONFIGURED, new_secret))
    log.info("hidden at warning")
    log.warning(f"second {new_secret}")

    setup.apply(LoggingSettings(level="debug", format="console", unsafe=True), CONFIGURED)
    log.debug("third", password=PASSWORD)

    lines = out.getvalue().splitlines()
    assert len(lines) == 3
    assert json.loads(lines[0])["password"] == "***"
    assert json.loads(lines[1])["event"] == "second ***"
    assert not lines[2].startswith("{")
    assert "third" in lines[2]
    assert PASSWORD in lines[2]


def test_configuring_again_replaces_the_handler(restore_logging: list[LogSetup]) -> None:
    _, first = install(restore_logging, format="json")
    _, second = install(restore_logging, format="json")
    structlog.get_logger("exporter.app").warning("once")
    assert first.getvalue() == ""
    assert len(second.getvalue().splitlines()) == 1
