"""Who may call the control API: bearer tokens, signatures, replays, scopes, failure limits."""

from __future__ import annotations

import asyncio
import json
import logging
import time

import aiohttp
import pytest
from pydantic import SecretStr
from structlog.testing import capture_logs

from exporter.config.model import Webhooks, WebhookToken
from exporter.simulator.faults import RequestBurst
from exporter.webhooks import ControllerLimits
from exporter.webhooks.limits import Rate
from exporter.webhooks.standard_webhooks import sign
from tests.webhooks.support import (
    CHARGING,
    CONNECTED,
    OLD_SECRET,
    PAUSER_TOKEN,
    READER_TOKEN,
    SECRET_BYTES,
    SECRET_VALUES,
    TOKEN,
    Harness,
    command_path,
    running_service,
)

REALM = 'Bearer realm="easee-exporter"'


def failures(h: Harness, reason: str) -> float:
    return h.metric("easee_exporter_webhook_auth_failures_total", reason=reason)


def assert_unauthorized(status: int, headers: dict[str, str] | object, body: object) -> None:
    assert status == 401
    assert isinstance(headers, dict)
    assert headers["WWW-Authenticate"] == REALM
    assert isinstance(body, dict)
    assert body["type"] == "urn:easee-exporter:problem:unauthorized"
    assert body["status"] == 401


async def test_missing_and_wrong_bearer_tokens_are_401_with_www_authenticate() -> None:
    async with running_service() as h:
        cases = [
            (None, {}, "missing"),
            ("wrong-token-0123456789abcdef", {}, "bad_token"),
            (TOKEN[:-1], {}, "bad_token"),
            (None, {"Authorization": f"Basic {TOKEN}"}, "bad_token"),
            (None, {"Authorization": "Bearer"}, "bad_token"),
        ]
        for token, headers, reason in cases:
            before = failures(h, reason)
            reply = await h.post(command_path(CHARGING, "pause"), token=token, headers=headers)
            assert_unauthorized(reply.status, dict(reply.headers), reply.json)
            assert failures(h, reason) == before + 1
        assert h.commands() == 0
        assert h.metric(
            "easee_exporter_webhook_requests_total", route="command", status="401"
        ) == len(cases)


async def test_a_credential_lacking_the_action_or_the_charger_is_403() -> None:
    async with running_service() as h:
        # "grafana" may pause and resume EH000001 only; "dashboard" may only read.
        for token, path in (
            (PAUSER_TOKEN, command_path(CHARGING, "lock")),
            (PAUSER_TOKEN, command_path(CONNECTED, "pause")),
            (READER_TOKEN, command_path(CHARGING, "pause")),
        ):
            reply = await h.post(path, token=token)
            assert reply.status == 403, path
            assert reply.json["type"] == "urn:easee-exporter:problem:forbidden"
        # 403 before 404: a limited credential learns nothing about other serials.
        reply = await h.post(command_path("EH999999", "pause"), token=PAUSER_TOKEN)
        assert reply.status == 403
        reply = await h.get("/api/v1/chargers", token=PAUSER_TOKEN)
        assert reply.status == 403
        assert h.commands() == 0
        assert failures(h, "forbidden") == 5
        # What it may do, it does.
        allowed = await h.post(command_path(CHARGING, "pause"), token=PAUSER_TOKEN)
        assert allowed.json["result"] == "confirmed"


async def test_without_any_configured_credential_everything_is_401() -> None:
    async with running_service(webhooks=Webhooks()) as h:
        reply = await h.post(command_path(CHARGING, "pause"))
        assert_unauthorized(reply.status, dict(reply.headers), reply.json)
        assert "no credential configured" in reply.json["detail"]
        signed = await h.signed(command_path(CHARGING, "pause"))
        assert signed.status == 401
        assert (await h.get("/api/v1/chargers")).status == 401
        assert h.commands() == 0
        # The gate covers /api/v1 only.
        assert (await h.get("/metrics", token=None)).status == 200
        assert (await h.get("/api/v1/openapi.json", token=None)).status == 200


async def test_a_valid_signature_runs_the_command() -> None:
    async with running_service() as h:
        reply = await h.signed(command_path(CHARGING, "pause"), webhook_id="msg_valid")
        assert reply.status == 200
        assert reply.json["result"] == "confirmed"
        assert "Idempotent-Replayed" not in reply.headers
        assert h.commands(CHARGING) == 1


async def test_rotation_any_configured_secret_and_any_signature_entry() -> None:
    async with running_service() as h:
        body = b"{}"
        stamp = int(time.time())
        old = sign(OLD_SECRET.encode(), "msg_rot", stamp, body)
        stale = sign(b"a retired secret of 24 bytes", "msg_rot", stamp, body)
        reply = await h.signed(
            command_path(CONNECTED, "resume"),
            body,
            webhook_id="msg_rot",
            timestamp=stamp,
            signature=f"{stale} {old}",
        )
        assert reply.status == 200
        assert reply.json["result"] == "unchanged"


async def test_wrong_or_tampered_signatures_are_401() -> None:
    async with running_service() as h:
        path = command_path(CHARGING, "pause")
        wrong = await h.signed(path, key=b"not the configured secret!!", webhook_id="msg_w")
        assert_unauthorized(wrong.status, dict(wrong.headers), wrong.json)
        stamp = int(time.time())
        tampered = await h.signed(
            path,
            b'{"x": 1}',
            webhook_id="msg_t",
            timestamp=stamp,
            signature=sign(SECRET_BYTES, "msg_t", stamp, b"{}"),
        )
        assert tampered.status == 401
        garbage = await h.signed(path, webhook_id="msg_g", signature="v1,!!!")
        assert garbage.status == 401
        dotted = await h.signed(path, webhook_id="msg.dot")
        assert dotted.status == 401
        incomplete = await h.post(path, token=None, headers={"webhook-id": "msg_i"})
        assert incomplete.status == 401
        assert failures(h, "bad_signature") == 4
        assert failures(h, "missing") == 1
        assert h.commands() == 0


async def test_a_timestamp_outside_five_minutes_is_401() -> None:
    async with running_service() as h:
        path = command_path(CHARGING, "pause")
        now = int(time.time())
        for stamp in (now - 301, now + 301):
            reply = await h.signed(path, webhook_id=f"msg_{stamp}", timestamp=stamp)
            assert_unauthorized(reply.status, dict(reply.headers), reply.json)
            assert "300 s" in reply.json["detail"]
        assert failures(h, "expired_timestamp") == 2
        assert h.commands() == 0
        assert (await h.signed(path, webhook_id="msg_now", timestamp=now - 290)).status == 200


async def test_a_replayed_webhook_id_is_answered_from_cache_without_a_command() -> None:
    async with running_service() as h:
        path = command_path(CHARGING, "pause")
        stamp = int(time.time())
        first = await h.signed(path, webhook_id="msg_replay", timestamp=stamp)
        assert first.status == 200
        assert first.json["result"] == "confirmed"
        replayed = await h.signed(path, webhook_id="msg_replay", timestamp=stamp)
        assert replayed.status == 200
        assert replayed.body == first.body
        assert replayed.headers["Idempotent-Replayed"] == "true"
        # Replayed elsewhere: the signature covers the body, not the path; the id is spent.
        elsewhere = await h.signed(
            command_path(CHARGING, "lock"), webhook_id="msg_replay", timestamp=stamp
        )
        assert elsewhere.body == first.body
        assert h.commands() == 1
        assert h.metric("easee_exporter_commands_total", action="pause", result="confirmed") == 1
        assert h.metric("easee_exporter_webhook_requests_total", route="command", status="200") == 3


async def test_concurrent_deliveries_of_one_id_run_once() -> None:
    async with running_service(command_response_delay=1.0) as h:
        path = command_path(CHARGING, "lock")
        stamp = int(time.time())
        replies = await asyncio.gather(
            *(h.signed(path, webhook_id="msg_twice", timestamp=stamp) for _ in range(3))
        )
        assert [r.status for r in replies] == [200, 200, 200]
        assert len({r.body for r in replies}) == 1
        assert sum("Idempotent-Replayed" in r.headers for r in replies) == 2
        assert h.commands() == 1


async def test_a_retry_after_a_failure_runs_again() -> None:
    async with running_service() as h:
        path = command_path(CHARGING, "pause")
        burst = RequestBurst(count=1, status=503, path_prefix="/api/chargers/")
        h.sim.set_faults(server_errors=burst)
        stamp = int(time.time())
        first = await h.signed(path, webhook_id="msg_retry", timestamp=stamp)
        assert first.status == 503
        retry = await h.signed(path, webhook_id="msg_retry", timestamp=stamp)
        assert retry.status == 200
        assert retry.json["result"] == "confirmed"
        assert "Idempotent-Replayed" not in retry.headers
        assert h.commands(status=503) == 1
        assert h.commands(status=202) == 1


async def test_failed_authentications_are_limited_per_address() -> None:
    limits = ControllerLimits(command_timeout=3.0, auth_failure_rate=Rate(calls=3, period=60))
    async with running_service(limits=limits) as h:
        path = command_path(CHARGING, "pause")
        # Refusals of authenticated callers (403, 404) are not authentication failures.
        for _ in range(3):
            assert (await h.post(command_path("EH999999", "pause"))).status == 404
            assert (await h.post(path, token=READER_TOKEN)).status == 403
        for _ in range(3):
            assert (await h.post(path, token="not-a-valid-token-at-all")).status == 401
        blocked = await h.post(path)  # even a valid token, from this address, for a while
        assert blocked.status == 429
        assert blocked.json["type"] == "urn:easee-exporter:problem:too-many-auth-failures"
        assert 55 <= int(blocked.headers["Retry-After"]) <= 60
        assert failures(h, "rate_limited") == 1
        assert h.commands() == 0
        assert h.metric("easee_exporter_webhook_requests_total", route="command", status="429") == 1
        # Another client address is not blocked.
        connector = aiohttp.TCPConnector(local_addr=("127.0.0.2", 0))
        async with (
            aiohttp.ClientSession(connector=connector) as other,
            other.post(h.base_url + path, headers={"Authorization": f"Bearer {TOKEN}"}) as reply,
        ):
            assert reply.status == 200
        assert h.commands() == 1


async def test_reload_swaps_the_credentials() -> None:
    async with running_service() as h:
        path = command_path(CONNECTED, "resume")
        assert (await h.post(path)).status == 200
        new_token = "a-brand-new-token-0123456789abcdef"
        h.controller.update_webhooks(
            Webhooks(tokens=(WebhookToken(name="rotated", token=SecretStr(new_token)),))
        )
        assert (await h.post(path)).status == 401
        reply = await h.post(path, token=new_token)
        assert reply.status == 200
        assert (await h.signed(path, webhook_id="msg_after_reload")).status == 401


async def test_no_secret_in_logs_answers_or_metrics(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    async with running_service() as h:
        bodies: list[bytes] = []
        with capture_logs() as logs:
            path = command_path(CHARGING, "pause")
            for token in (TOKEN + "x", TOKEN[:20], READER_TOKEN):
                bodies.append((await h.post(path, token=token)).body)
            bodies.append((await h.signed(path, key=b"wrong key of at least 24 b")).body)
            bodies.append((await h.signed(path, webhook_id="msg_ok")).body)
            bodies.append((await h.post(command_path(CHARGING, "resume"))).body)
            bodies.append((await h.post(command_path(CHARGING, "lock"), token=PAUSER_TOKEN)).body)
        events = [entry["event"] for entry in logs]
        # The capture saw the service's own lines, so the check below means something.
        assert "webhook authentication failed" in events
        assert "webhook request forbidden" in events
        assert "command" in events
        credentials = {e.get("credential") for e in logs if e["event"] == "command"}
        assert credentials == {"signer", "automation"}
        text = "\n".join(
            [
                json.dumps(logs, default=str),
                caplog.text,
                *(b.decode() for b in bodies),
                h.exposition(),
            ]
        )
        for secret in SECRET_VALUES:
            assert secret not in text
            assert secret[:20] not in text
        assert "whsec_" not in text
