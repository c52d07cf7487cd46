"""The service's own metrics: created at 0, counted, and removed with their account."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest

from exporter.selfmetrics import ServiceMetrics


def sample(registry: CollectorRegistry, name: str, labels: dict[str, str]) -> float | None:
    return registry.get_sample_value(name, labels)


def test_known_series_start_at_zero() -> None:
    registry = CollectorRegistry()
    metrics = ServiceMetrics(registry, max_data_age=900)
    metrics.set_accounts(["home"])
    assert sample(registry, "easee_exporter_stream_connected", {"account": "home"}) == 0
    assert (
        sample(
            registry,
            "easee_exporter_api_requests_total",
            {"account": "home", "endpoint": "observations", "code": "429"},
        )
        == 0
    )
    assert (
        sample(
            registry, "easee_exporter_commands_total", {"action": "pause", "result": "confirmed"}
        )
        == 0
    )
    assert sample(registry, "easee_exporter_liveness_max_data_age_seconds", {}) == 900
    assert (
        sample(registry, "easee_exporter_data_type_disagreements_total", {"account": "home"}) == 0
    )
    assert b"easee_exporter_build_info{" in generate_latest(registry)


def test_events_are_counted() -> None:
    registry = CollectorRegistry()
    metrics = ServiceMetrics(registry, max_data_age=900)
    metrics.set_accounts(["home"])
    metrics.api_request("home", "chargers", "200")
    metrics.api_request("home", "chargers", "timeout")
    metrics.stream_state("home", True)
    metrics.stream_reconnect("home")
    metrics.token_refresh("home", "refreshed")
    metrics.decode_error("home", "bad_value")
    metrics.data_type_disagreement("home")
    metrics.webhook_request("command", 401)
    assert (
        sample(registry, "easee_exporter_data_type_disagreements_total", {"account": "home"}) == 1
    )
    assert (
        sample(
            registry,
            "easee_exporter_api_requests_total",
            {"account": "home", "endpoint": "chargers", "code": "timeout"},
        )
        == 1
    )
    assert sample(registry, "easee_exporter_stream_connected", {"account": "home"}) == 1
    assert sample(registry, "easee_exporter_stream_reconnects_total", {"account": "home"}) == 1
    assert (
        sample(
            registry,
            "easee_exporter_token_refreshes_total",
            {"account": "home", "result": "refreshed"},
        )
        == 1
    )
    assert (
        sample(
            registry,
            "easee_exporter_decode_errors_total",
            {"account": "home", "reason": "bad_value"},
        )
        == 1
    )
    assert (
        sample(
            registry, "easee_exporter_webhook_requests_total", {"route": "command", "status": "401"}
        )
        == 1
    )


def test_an_account_that_leaves_takes_its_series_along() -> None:
    registry = CollectorRegistry()
    metrics = ServiceMetrics(registry, max_data_age=900)
    metrics.set_accounts(["home", "work"])
    metrics.api_request("work", "login", "error")
    metrics.set_accounts(["home"])
    text = generate_latest(registry).decode()
    assert 'account="work"' not in text
    assert 'account="home"' in text
