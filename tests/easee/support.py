"""Shared helpers of the Easee client tests: a recording ClientEvents and a manual clock."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class RecordingEvents:
    """A ``ClientEvents`` that remembers every call, in order (a test double of a hook)."""

    calls: list[tuple[str, tuple[object, ...]]] = field(default_factory=list)

    def api_request(self, account: str, endpoint: str, code: str) -> None:
        self.calls.append(("api_request", (account, endpoint, code)))

    def token_refresh(self, account: str, result: str) -> None:
        self.calls.append(("token_refresh", (account, result)))

    def stream_state(self, account: str, connected: bool) -> None:
        self.calls.append(("stream_state", (account, connected)))

    def stream_reconnect(self, account: str) -> None:
        self.calls.append(("stream_reconnect", (account,)))

    def watchdog_reconnect(self, account: str) -> None:
        self.calls.append(("watchdog_reconnect", (account,)))

    def decode_error(self, account: str, reason: str) -> None:
        self.calls.append(("decode_error", (account, reason)))

    def of(self, kind: str) -> list[tuple[object, ...]]:
        """The arguments of every call of one kind."""
        return [args for name, args in self.calls if name == kind]

    def requests(self, account: str | None = None) -> Counter[tuple[str, str]]:
        """``(endpoint, code)`` counts of the REST calls reported (for one account)."""
        return Counter(
            (str(args[1]), str(args[2]))
            for args in self.of("api_request")
            if account is None or args[0] == account
        )


@dataclass
class ManualClock:
    """A clock that moves only when told to."""

    now: float = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
