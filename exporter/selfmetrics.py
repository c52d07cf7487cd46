"""The service's own metrics: how it talks to the Easee cloud and how it is used.

These are direct instrumentation (counters and gauges that live as long as the service), the
one case where the Prometheus rulebook allows it; charger readings come from the custom
collector instead. Every known label value is created at 0 so that ``rate()`` and alerts see
a series before the first event, and an account's series are removed when it leaves the
configuration.
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, Info

from exporter import __version__
from exporter.easee.client import ENDPOINTS as API_ENDPOINTS
from exporter.easee.decode import DecodeError

#: Answers worth a series from the start: success, and the ones alerts watch.
API_CODES = ("200", "202", "400", "401", "403", "404", "429", "500", "502", "503")
TOKEN_RESULTS = ("refreshed", "login", "failed")
COMMAND_ACTIONS = ("pause", "resume", "lock", "unlock", "current", "circuit_current")
COMMAND_RESULTS = (
    "confirmed",
    "unchanged",
    "accepted",
    "rejected",
    "timeout",
    "conflict",
    "cloud_unavailable",
    "error",
)
WEBHOOK_ROUTES = (
    *("command", "current", "alertmanager", "chargers", "circuits", "circuit_current"),
)
WEBHOOK_STATUSES = ("200", "202", "400", "401", "403", "404", "409", "413", "429", "502", "503")
AUTH_FAILURE_REASONS = (
    "missing",
    "bad_token",
    "bad_signature",
    "expired_timestamp",
    "forbidden",
    "rate_limited",
)
#: The decoder's reasons, plus the stream's own: a frame it could not read, a failing handler.
DECODE_REASONS = (*(reason.value for reason in DecodeError), "frame", "handler")


class ServiceMetrics:
    """Counters and gauges about the service itself, registered on one registry.

    It implements :class:`exporter.easee.events.ClientEvents`, so the Easee client reports
    into it without knowing Prometheus.
    """

    def __init__(self, registry: CollectorRegistry, *, max_data_age: float) -> None:
        self._accounts: set[str] = set()
        # Label tuples in use per account, so that an account's series can all be removed.
        self._account_series: dict[str, set[tuple[Counter, tuple[str, ...]]]] = {}
        self.build_info = Info(
            "easee_exporter_build",
            "Version of the running easee-exporter.",
            registry=registry,
        )
        self.build_info.info({"version": __version__})
        self.liveness_max_data_age = Gauge(
            "easee_exporter_liveness_max_data_age_seconds",
            "Seconds without data from the Easee cloud after which liveness fails.",
            registry=registry,
        )
        self.liveness_max_data_age.set(max_data_age)
        self.stream_connected = Gauge(
            "easee_exporter_stream_connected",
            "1 while the account's SignalR stream is connected and subscribed.",
            ["account"],
            registry=registry,
        )
        self.stream_reconnects = Counter(
            "easee_exporter_stream_reconnects",
            "Stream sessions started after a previous one ended.",
            ["account"],
            registry=registry,
        )
        self.watchdog_reconnects = Counter(
            "easee_exporter_watchdog_reconnects",
            "Reconnects forced because the stream stayed silent while the charger had news.",
            ["account"],
            registry=registry,
        )
        self.api_requests = Counter(
            "easee_exporter_api_requests",
            "REST calls to the Easee cloud, by endpoint and HTTP status "
            "(error/timeout when no answer came).",
            ["account", "endpoint", "code"],
            registry=registry,
        )
        self.token_refreshes = Counter(
            "easee_exporter_token_refreshes",
            "Access tokens obtained (refreshed, login) or failed attempts.",
            ["account", "result"],
            registry=registry,
        )
        self.decode_errors = Counter(
            "easee_exporter_decode_errors",
            "Frames or values from the cloud that were malformed and skipped.",
            ["account", "reason"],
            registry=registry,
        )
        self.data_type_disagreements = Counter(
            "easee_exporter_data_type_disagreements",
            "Values whose dataType in the frame differs from the observation table's; the "
            "frame's type is used when the value parses with it.",
            ["account"],
            registry=registry,
        )
        self.commands = Counter(
            "easee_exporter_commands",
            "Charger commands asked through the controller, by outcome.",
            ["action", "result"],
            registry=registry,
        )
        self.webhook_requests = Counter(
            "easee_exporter_webhook_requests",
            "Requests to the controller's API, by route and HTTP status.",
            ["route", "status"],
            registry=registry,
        )
        self.webhook_auth_failures = Counter(
            "easee_exporter_webhook_auth_failures",
            "Controller requests refused for authentication, by reason.",
            ["reason"],
            registry=registry,
        )
        for action in COMMAND_ACTIONS:
            for result in COMMAND_RESULTS:
                self.commands.labels(action, result)
        for route in WEBHOOK_ROUTES:
            for status in WEBHOOK_STATUSES:
                self.webhook_requests.labels(route, status)
        for reason in AUTH_FAILURE_REASONS:
            self.webhook_auth_failures.labels(reason)

    def set_accounts(self, accounts: Iterable[str]) -> None:
        """Create every account's series at 0 and drop those of accounts that left."""
        wanted = set(accounts)
        for gone in self._accounts - wanted:
            self._remove_account(gone)
        for account in wanted - self._accounts:
            self.stream_connected.labels(account).set(0)
            self.stream_reconnects.labels(account)
            self.watchdog_reconnects.labels(account)
            for endpoint in API_ENDPOINTS:
                for code in API_CODES:
                    self._counter(self.api_requests, account, endpoint, code)
            for result in TOKEN_RESULTS:
                self._counter(self.token_refreshes, account, result)
            for reason in DECODE_REASONS:
                self._counter(self.decode_errors, account, reason)
            self._counter(self.data_type_disagreements, account)
        self._accounts = wanted

    def _counter(self, metric: Counter, account: str, *labels: str) -> Counter:
        self._account_series.setdefault(account, set()).add((metric, (account, *labels)))
        return metric.labels(account, *labels)

    def _remove_account(self, account: str) -> None:
        for metric in (self.stream_connected, self.stream_reconnects, self.watchdog_reconnects):
            metric.remove(account)
        for counter, labels in self._account_series.pop(account, set()):
            counter.remove(*labels)

    # ClientEvents ---------------------------------------------------------------------------

    def api_request(self, account: str, endpoint: str, code: str) -> None:
        self._counter(self.api_requests, account, endpoint, code).inc()

    def token_refresh(self, account: str, result: str) -> None:
        self._counter(self.token_refreshes, account, result).inc()

    def stream_state(self, account: str, connected: bool) -> None:
        self.stream_connected.labels(account).set(1 if connected else 0)

    def stream_reconnect(self, account: str) -> None:
        self.stream_reconnects.labels(account).inc()

    def watchdog_reconnect(self, account: str) -> None:
        self.watchdog_reconnects.labels(account).inc()

    def decode_error(self, account: str, reason: str) -> None:
        self._counter(self.decode_errors, account, reason).inc()

    def data_type_disagreement(self, account: str) -> None:
        self._counter(self.data_type_disagreements, account).inc()

    # Control plane --------------------------------------------------------------------------

    def command(self, action: str, result: str) -> None:
        self.commands.labels(action, result).inc()

    def webhook_request(self, route: str, status: int) -> None:
        self.webhook_requests.labels(route, str(status)).inc()

    def webhook_auth_failure(self, reason: str) -> None:
        self.webhook_auth_failures.labels(reason).inc()
