"""What clients did to the simulated cloud, for tests to make assertions on.

``RequestLog`` records every REST, negotiate and WebSocket-upgrade request (never the admin
API), with counters per path, per route template and per account. ``EventLog`` records what
happened on the hub: negotiations with versions and auth method, ``ws_404``, ``ws_open``,
handshakes, invocations, client pings and completions, closes. Neither ever holds a token:
invocation ``headers`` (pysignalr copies the bearer token into them) are reduced to their
key names.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

_MAX_ENTRIES = 100_000  # a long demo run must not grow without bound


@dataclass(frozen=True, slots=True)
class RequestEntry:
    """One HTTP request as the cloud saw it."""

    at: float  # Unix time (real)
    method: str
    path: str
    route: str  # template, e.g. /api/chargers/{id}/commands/{command}
    account: str | None  # username, when the request carried a valid token or credentials
    status: int


@dataclass(slots=True)
class RequestLog:
    """Request entries and their counters; ``reset`` starts a new count."""

    clock: Callable[[], float] = time.time
    entries: list[RequestEntry] = field(default_factory=list)

    def add(self, method: str, path: str, route: str, account: str | None, status: int) -> None:
        if len(self.entries) >= _MAX_ENTRIES:
            del self.entries[: _MAX_ENTRIES // 10]
        self.entries.append(RequestEntry(self.clock(), method, path, route, account, status))

    def reset(self) -> None:
        self.entries.clear()

    def count(
        self,
        *,
        path: str | None = None,
        route: str | None = None,
        account: str | None = None,
        method: str | None = None,
        status: int | None = None,
    ) -> int:
        """How many recorded requests match every given criterion."""
        return sum(
            1
            for e in self.entries
            if (path is None or e.path == path)
            and (route is None or e.route == route)
            and (account is None or e.account == account)
            and (method is None or e.method == method)
            and (status is None or e.status == status)
        )

    def summary(self) -> dict[str, Any]:
        """Counters per path, route, account and status, plus the entries (JSON-ready)."""
        return {
            "total": len(self.entries),
            "by_path": dict(Counter(f"{e.method} {e.path}" for e in self.entries)),
            "by_route": dict(Counter(f"{e.method} {e.route}" for e in self.entries)),
            "by_account": dict(Counter(e.account or "-" for e in self.entries)),
            "by_status": dict(Counter(str(e.status) for e in self.entries)),
            "entries": [asdict(e) for e in self.entries],
        }


@dataclass(frozen=True, slots=True)
class HubEvent:
    """One thing that happened on the hub. ``data`` holds the event's own fields."""

    at: float
    kind: str
    data: dict[str, Any]


@dataclass(slots=True)
class EventLog:
    """Hub events in order."""

    clock: Callable[[], float] = time.time
    events: list[HubEvent] = field(default_factory=list)

    def add(self, kind: str, **data: Any) -> None:
        if len(self.events) >= _MAX_ENTRIES:
            del self.events[: _MAX_ENTRIES // 10]
        self.events.append(HubEvent(self.clock(), kind, data))

    def reset(self) -> None:
        self.events.clear()

    def of(self, kind: str) -> list[HubEvent]:
        return [e for e in self.events if e.kind == kind]

    def as_json(self) -> list[dict[str, Any]]:
        return [{"at": e.at, "kind": e.kind, **e.data} for e in self.events]
