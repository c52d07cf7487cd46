"""Hostile input from authenticated callers: every answer a precise 4xx, nothing sent, no echo.

Bodies that break ``json.loads`` in ways other than a syntax error, malformed and over-long
headers (which aiohttp itself answers unless told otherwise), a body over the limit sent
chunked, and an Alertmanager payload the OpenAPI document must reject as the server does.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import jsonschema
import pytest
from structlog.testing import capture_logs

from exporter.webhooks.openapi import document
from tests.webhooks.support import (
    CHARGING,
    TOKEN,
    Harness,
    command_path,
    running_service,
)
from tests.webhooks.test_commands import assert_problem

HOSTILE_BODIES = {
    "nested 2,000 deep": b'{"a":' * 2000 + b"1" + b"}" * 2000,
    "30,000 open brackets": b"[" * 30_000,
    "an integer of 50,000 digits": b'{"n": ' + b"7" * 50_000 + b"}",
    "NaN": b'{"n": NaN}',
}
ALERT_PATH = "/api/v1/alertmanager"


@pytest.mark.parametrize("body", HOSTILE_BODIES.values(), ids=HOSTILE_BODIES.keys())
async def test_json_that_breaks_the_parser_is_400(body: bytes) -> None:
    assert len(body) < 64 * 1024
    async with running_service() as h:
        for path in (command_path(CHARGING, "pause"), ALERT_PATH):
            reply = await h.post(path, body=body, headers={"Content-Type": "application/json"})
            assert reply.status == 400, (path, reply.body[:200])
            assert reply.content_type == "application/problem+json"
            assert_problem(reply.json, 400, "bad-request")
            assert b"7777" not in reply.body
        assert h.commands() == 0


async def raw_exchange(h: Harness, request: bytes) -> bytes:
    host, port = h.base_url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(request)
        await writer.drain()
        return await asyncio.wait_for(reader.read(), 5.0)
    finally:
        writer.close()


async def test_a_malformed_header_is_a_problem_that_echoes_nothing() -> None:
    async with running_service() as h:
        request = (
            f"POST {command_path(CHARGING, 'pause')} HTTP/1.1\r\nHost: x\r\n"
            f"Authorization: Bearer {TOKEN}\x01\r\nContent-Length: 0\r\n\r\n"
        ).encode()
        with capture_logs() as logs:
            answer = await raw_exchange(h, request)
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 400") or head.startswith(b"HTTP/1.0 400")
        assert b"application/problem+json" in head
        assert TOKEN.encode() not in answer
        assert b"urn:easee-exporter:problem:bad-request" in body
        assert TOKEN not in repr(logs)
        assert h.commands() == 0


async def test_an_over_long_header_is_431_problem() -> None:
    async with running_service() as h:
        secret = "s" * 10_000
        request = (
            f"GET /api/v1/chargers HTTP/1.1\r\nHost: x\r\nX-Filler: {secret}\r\n\r\n"
        ).encode()
        answer = await raw_exchange(h, request)
        head, _, body = answer.partition(b"\r\n\r\n")
        assert b" 431 " in head.split(b"\r\n")[0]
        assert b"application/problem+json" in head
        assert b"urn:easee-exporter:problem:headers-too-large" in body
        assert b"sssss" not in answer


async def test_a_chunked_body_over_the_limit_is_413() -> None:
    async with running_service() as h:
        host, port = h.base_url.removeprefix("http://").split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(
            (
                f"POST {command_path(CHARGING, 'pause')} HTTP/1.1\r\nHost: x\r\n"
                f"Authorization: Bearer {TOKEN}\r\nTransfer-Encoding: chunked\r\n\r\n"
            ).encode()
        )
        chunk = b"x" * 65536
        # 13 MB sent in full before the answer is read, as a simple client does.
        for _ in range(200):
            writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        writer.write(b"0\r\n\r\n")
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10.0)
        writer.close()
        assert head.startswith(b"HTTP/1.1 413")
        assert b"application/problem+json" in head
        assert h.commands() == 0


def alert_schema() -> dict[str, Any]:
    schemas = document()["components"]["schemas"]
    return {**schemas["Alert"], "components": {"schemas": schemas}}


def notification(labels: dict[str, str], status: str = "firing") -> dict[str, Any]:
    return {
        "version": "4",
        "status": status,
        "alerts": [{"status": status, "labels": labels, "fingerprint": "f1"}],
    }


@pytest.mark.parametrize(
    ("labels", "status", "valid"),
    [
        ({"easee_action": "pause", "easee_resolve_action": "resume"}, "resolved", False),
        ({"easee_action": "pause"}, "firing", False),
        ({"easee_action": "pause", "charger_id": "  "}, "firing", False),
        ({"easee_action": "pause", "charger_id": CHARGING}, "firing", True),
        ({"easee_action": "pause", "charger": CHARGING}, "firing", True),
        ({"easee_action": "pause"}, "resolved", True),
        ({"alertname": "x"}, "firing", True),
    ],
)
async def test_the_openapi_document_rejects_an_alert_the_server_rejects(
    labels: dict[str, str], status: str, valid: bool
) -> None:
    alert = notification(labels, status)["alerts"][0]
    errors = list(jsonschema.Draft4Validator(alert_schema()).iter_errors(alert))
    assert (not errors) is valid, errors
    async with running_service() as h:
        reply = await h.post(ALERT_PATH, body=json.dumps(notification(labels, status)))
        assert (reply.status != 400) is valid, reply.json
