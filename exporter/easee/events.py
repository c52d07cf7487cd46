"""What the Easee client reports about itself, without knowing how it is recorded.

The client calls these hooks; the service implements them with Prometheus counters
(``exporter/selfmetrics.py``), so this package stays free of metrics code. Every method must
be cheap and must not raise: they run inside request and stream callbacks.
"""

from __future__ import annotations

from typing import Protocol


class ClientEvents(Protocol):
    """Hooks the Easee client calls on notable events, labelled by account name."""

    def api_request(self, account: str, endpoint: str, code: str) -> None:
        """A REST call finished; ``endpoint`` is a template name, ``code`` the HTTP status
        or ``"error"`` / ``"timeout"`` when no answer came."""

    def token_refresh(self, account: str, result: str) -> None:
        """A token was obtained: ``result`` is ``"refreshed"``, ``"login"`` or ``"failed"``."""

    def stream_state(self, account: str, connected: bool) -> None:
        """The account's stream connected (subscribed) or went down."""

    def stream_reconnect(self, account: str) -> None:
        """A new stream session is being started after a previous one ended."""

    def watchdog_reconnect(self, account: str) -> None:
        """The silent-stream watchdog forced a reconnect."""

    def decode_error(self, account: str, reason: str) -> None:
        """A frame or value from the cloud was malformed and skipped."""

    def data_type_disagreement(self, account: str) -> None:
        """A value came with another ``dataType`` than the observation table's."""
