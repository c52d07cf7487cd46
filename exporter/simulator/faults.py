"""The fault switches of the simulated cloud, as one immutable value.

A ``Faults`` value is replaced as a whole on every change (``Simulator.set_faults``), and
the admin API validates its JSON body against this same class, so the Python API and the
HTTP API share one definition. Everything defaults to "no fault".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import TypeAdapter

from exporter.simulator.config import BoolSpelling

StallMode = Literal["app", "silent", "hard"]
IpBlockVariant = Literal["json", "text"]
#: How a command is answered synchronously (easee-cloud-api.md 3.2): 200 with
#: ``wasAccepted`` true (applied), false (refused, nothing changes), or an empty body (applied).
SyncAnswer = Literal["accepted", "rejected", "empty"]


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestBurst:
    """Answer the next ``count`` matching requests with ``status``.

    ``path_prefix`` limits it to paths starting with that prefix (``None``: every REST and
    negotiate request). ``retry_after`` (seconds) goes into a ``Retry-After`` header.
    """

    count: int
    status: int = 429
    path_prefix: str | None = None
    retry_after: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class NegotiateOverride:
    """Answer every negotiate with ``status`` (401, 403, 429, 503...) until cleared."""

    status: int
    retry_after: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Faults:
    """Every run-time fault; see docs/simulator.md for what each one imitates."""

    # REST and negotiate
    latency: float = 0.0
    ip_block: IpBlockVariant | None = None
    rate_limit: RequestBurst | None = None
    server_errors: RequestBurst | None = None
    reject_refresh: bool = False
    negotiate: NegotiateOverride | None = None
    force_negotiate_v1: bool = False
    # Commands
    reject_commands: bool = False
    command_response_delay: float | None = None  # None: the configured delay
    synchronous_commands: SyncAnswer | None = None
    # Seconds before each command at which "another system" sent one with the same id:
    # its refused CommandResponse reaches our stream while our command is under way.
    foreign_command_responses: float | None = None
    # Stream content
    stall: StallMode | None = None
    bool_spelling: BoolSpelling | None = None  # None: the configured spelling
    duplicates: bool = False
    out_of_order: bool = False
    unknown_ids: bool = False
    # "payload": well-formed JSON with bad payloads; "json": records that are not JSON.
    malformed_frames: Literal["payload", "json"] | None = None
    charger_update: bool = False
    subscribe_to_my_product: bool = False


FAULTS_ADAPTER: TypeAdapter[Faults] = TypeAdapter(Faults)


def validate_faults(data: dict[str, object]) -> Faults:
    """A ``Faults`` from JSON-like data, strict about unknown keys and types."""
    unknown = set(data) - set(Faults.__dataclass_fields__)
    if unknown:
        raise ValueError(f"unknown fault(s): {', '.join(sorted(unknown))}")
    return FAULTS_ADAPTER.validate_python(data)


def faults_as_json(faults: Faults) -> dict[str, object]:
    """JSON-ready form of a ``Faults`` value."""
    dumped = FAULTS_ADAPTER.dump_python(faults, mode="json")
    assert isinstance(dumped, dict)
    return dumped
