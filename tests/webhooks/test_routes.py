"""``GET /api/v1/chargers``, the OpenAPI document, CORS, routing and a reload's limits."""

from __future__ import annotations

from pydantic import SecretStr

from exporter.config.model import (
    Account,
    EaseeSettings,
    RateLimit,
    Settings,
    Webhooks,
    WebhookToken,
    WebSettings,
)
from exporter.webhooks import ControllerLimits
from exporter.webhooks.limits import Rate
from tests.webhooks.support import (
    CHARGERS,
    CHARGING,
    CONNECTED,
    IDLE,
    PAUSER_TOKEN,
    READER_TOKEN,
    command_path,
    default_webhooks,
    running_service,
)

GRAFANA = "https://grafana.example.org"


async def test_chargers_lists_the_derived_state_for_a_read_credential() -> None:
    async with running_service() as h:
        reply = await h.get("/api/v1/chargers", token=READER_TOKEN)
        assert reply.status == 200
        assert reply.content_type == "application/json"
        listed = {c["charger_id"]: c for c in reply.json}
        assert set(listed) == set(CHARGERS)
        assert listed[CHARGING]["op_mode"] == 3
        assert listed[CHARGING]["paused"] is False
        assert listed[CONNECTED]["vehicle_connected"] is True
        assert listed[IDLE]["vehicle_connected"] is False
        assert listed[IDLE]["account"] == "home"
        assert listed[IDLE]["last_update"].endswith("Z")
        await h.post(command_path(CHARGING, "pause"))
        after = {c["charger_id"]: c for c in (await h.get("/api/v1/chargers")).json}
        assert after[CHARGING]["paused"] is True
        assert (
            h.metric("easee_exporter_webhook_requests_total", route="chargers", status="200") == 2
        )
        assert (await h.get("/api/v1/chargers?limit=1")).status == 400


async def test_openapi_is_public_and_names_every_route() -> None:
    async with running_service() as h:
        reply = await h.get("/api/v1/openapi.json", token=None)
        assert reply.status == 200
        document = reply.json
        assert document["openapi"].startswith("3.")
        assert set(document["paths"]) == {
            "/api/v1/chargers/{charger_id}/{action}",
            "/api/v1/chargers/{charger_id}/current",
            "/api/v1/alertmanager",
            "/api/v1/chargers",
            "/api/v1/circuits",
            "/api/v1/circuits/{circuit_id}/current",
            "/api/v1/openapi.json",
        }
        command = document["paths"]["/api/v1/chargers/{charger_id}/{action}"]["post"]
        assert set(command["responses"]) == {
            "200", "202", "400", "401", "403", "404", "409", "413", "429", "502", "503", "504"
        }  # fmt: skip


async def test_routing_errors_are_problems_too() -> None:
    async with running_service() as h:
        missing = await h.get("/api/v1/nothing")
        assert missing.status == 404
        assert missing.content_type == "application/problem+json"
        wrong = await h.get(command_path(CHARGING, "pause"))
        assert wrong.status == 405
        assert "POST" in wrong.headers["Allow"]
        assert h.commands() == 0


async def test_cors_preflight_and_headers_for_the_configured_origin_only() -> None:
    limits = ControllerLimits(command_timeout=3.0, cors_origin=GRAFANA)
    async with running_service(limits=limits) as h:
        preflight_headers = {
            "Origin": GRAFANA,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        }
        path = command_path(CHARGING, "pause")
        preflight = await h.request("OPTIONS", path, token=None, headers=preflight_headers)
        assert preflight.status == 204
        assert preflight.headers["Access-Control-Allow-Origin"] == GRAFANA
        assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
        assert "authorization" in preflight.headers["Access-Control-Allow-Headers"]
        foreign = {**preflight_headers, "Origin": "https://evil.example"}
        refused = await h.request("OPTIONS", path, token=None, headers=foreign)
        assert refused.status == 403
        assert "Access-Control-Allow-Origin" not in refused.headers
        # The browser's real call, and its errors, carry the header for Grafana only.
        call = await h.post(path, token=PAUSER_TOKEN, headers={"Origin": GRAFANA}, body="{}")
        assert call.status == 200
        assert call.headers["Access-Control-Allow-Origin"] == GRAFANA
        denied = await h.post(path, token=None, headers={"Origin": GRAFANA})
        assert denied.status == 401
        assert denied.headers["Access-Control-Allow-Origin"] == GRAFANA
        other = await h.post(path, headers={"Origin": "https://evil.example"})
        assert "Access-Control-Allow-Origin" not in other.headers
        assert h.commands() == 1


async def test_cors_is_off_by_default() -> None:
    async with running_service() as h:
        headers = {"Origin": GRAFANA, "Access-Control-Request-Method": "POST"}
        preflight = await h.request("OPTIONS", "/api/v1/chargers", token=None, headers=headers)
        assert preflight.status == 403
        reply = await h.get("/api/v1/chargers", headers={"Origin": GRAFANA})
        assert reply.status == 200
        assert "Access-Control-Allow-Origin" not in reply.headers


async def test_a_reload_applies_new_limits() -> None:
    async with running_service() as h:
        h.controller.update_limits(
            ControllerLimits(command_timeout=3.0, max_body_size=1024, lock_rate=Rate(1, 60))
        )
        assert (await h.post(command_path(CHARGING, "pause"), body=" " * 2048)).status == 413
        assert (await h.post(command_path(CHARGING, "lock"))).status == 200
        assert (await h.post(command_path(CHARGING, "unlock"))).status == 429
        assert h.controller.limits.max_body_size == 1024


def test_limits_come_from_the_settings() -> None:
    settings = Settings(
        accounts=(Account(name="home", username="demo", password=SecretStr("demo")),),
        webhooks=default_webhooks(),
        easee=EaseeSettings(command_timeout=12.0),
        web=WebSettings(
            max_body_size=4096,
            lock_rate=RateLimit(calls=2, period=600),
            auth_failure_rate=RateLimit(calls=5, period=30),
            cors_origin=GRAFANA + "/",
        ),
    )
    limits = ControllerLimits.from_settings(settings)
    assert limits.max_body_size == 4096
    assert limits.command_timeout == 12.0
    assert limits.lock_rate == Rate(2, 600)
    assert limits.auth_failure_rate == Rate(5, 30)
    assert limits.cors_origin == GRAFANA
    # Replays are remembered for as long as their timestamp could be accepted, and more.
    assert limits.replay_ttl >= 2 * limits.timestamp_tolerance


async def test_a_reload_from_settings_swaps_credentials_and_limits() -> None:
    async with running_service() as h:
        settings = Settings(
            accounts=(Account(name="home", username="demo", password=SecretStr("demo")),),
            webhooks=Webhooks(
                tokens=(WebhookToken(name="new", token=SecretStr("n" * 32), actions=["read"]),)
            ),
            web=WebSettings(cors_origin=GRAFANA),
        )
        h.controller.apply_settings(settings)
        assert (await h.get("/api/v1/chargers")).status == 401
        reply = await h.get("/api/v1/chargers", token="n" * 32, headers={"Origin": GRAFANA})
        assert reply.status == 200
        assert reply.headers["Access-Control-Allow-Origin"] == GRAFANA
        assert h.controller.limits.cors_origin == GRAFANA
