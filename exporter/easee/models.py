"""Typed values that cross the boundary between the Easee package and the rest of the service.

Everything here is immutable and free of I/O, so the store, the collector and the controller
can hold and compare these values without knowing Easee's wire formats.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import TypeAlias

ObservationValue: TypeAlias = bool | int | float | str


class DataType(IntEnum):
    """Easee's ``dataType`` of an observation (Masterloop ``DataType``)."""

    BINARY = 1
    BOOLEAN = 2
    DOUBLE = 3
    INTEGER = 4
    POSITION = 5
    STRING = 6
    STATISTICS = 7


def json_int(value: object) -> int | None:
    """A JSON integer of an answer, None for anything else (a boolean is not one)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


@dataclass(frozen=True, slots=True)
class Observation:
    """One reading of one product, with its value already converted to its type.

    ``charger_id`` is the product's id, the frame's ``mid``: a charger's serial, or an
    Equalizer's id (``Q...``) for a reading decoded with the Equalizer's own table.

    ``timestamp`` is the charger-side time of the reading (epoch seconds, UTC); after a
    (re)subscription the cloud replays old readings with their old timestamps, so ordering
    decisions use it. ``received_at`` is when this service got it (epoch seconds); freshness
    and liveness use that one.
    """

    charger_id: str
    obs_id: int
    data_type: DataType
    value: ObservationValue
    timestamp: float
    received_at: float


def number_of(observation: Observation | None) -> float | None:
    """A number reading as a float; None for none, booleans and text."""
    value = None if observation is None else observation.value
    # type(), not isinstance(): a bool is an int, and not a number of amperes or volts.
    return float(value) if type(value) is float or type(value) is int else None


@dataclass(frozen=True, slots=True)
class CommandAccepted:
    """The cloud's 202 answer to a command: it was queued for the charger, not yet applied."""

    charger_id: str
    command_id: int
    ticks: int


@dataclass(frozen=True, slots=True)
class CommandResponse:
    """The charger's verdict on a command, pushed on the stream as ``CommandResponse``."""

    charger_id: str
    command_id: int
    ticks: int
    was_accepted: bool
    result_code: int
    comment: str = ""
    #: when the command was created (equals ``ticks``), epoch seconds; None when unreadable
    timestamp: float | None = None
    #: when the charger acknowledged it, epoch seconds; can precede ``timestamp`` by ~1 s
    delivered_at: float | None = None
    #: how it was paired with our command (:mod:`exporter.easee.dispatch`), None until then
    matched_by: str | None = None


@dataclass(frozen=True, slots=True)
class ChargerSummary:
    """A charger as ``GET /api/chargers`` lists it (the fields the service uses)."""

    charger_id: str
    name: str
    product_code: int | None = None
    color: int | None = None
    level_of_access: int | None = None
    is_circuit_master: bool | None = None


@dataclass(frozen=True, slots=True)
class Equalizer:
    """An Easee Equalizer of a site, as ``GET /api/accounts/products`` lists it."""

    equalizer_id: str
    name: str
    site_id: int | None = None
    circuit_id: int | None = None


@dataclass(frozen=True, slots=True)
class Circuit:
    """One circuit (a fuse in the site's panel) and the chargers wired to it."""

    circuit_id: int
    site_id: int
    #: the panel's name for the circuit (``panelName``), e.g. "1"
    panel: str
    #: the fuse rating (``ratedCurrent``), None when Easee does not say
    rated_current: float | None
    charger_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Site:
    """A site of the account with its circuits and Equalizers."""

    site_id: int
    name: str
    site_key: str = ""
    #: the main fuse (``ratedCurrent``), None when Easee does not say
    rated_current: float | None = None
    circuits: tuple[Circuit, ...] = ()
    equalizers: tuple[Equalizer, ...] = ()

    def circuit_of(self, charger_id: str) -> Circuit | None:
        """The circuit the charger is wired to, None when it is not on this site."""
        return next((c for c in self.circuits if charger_id in c.charger_ids), None)
