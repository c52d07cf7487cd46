"""The bodies of the current routes, and the limits a current must respect; every failure a 400.

``POST /api/v1/chargers/{id}/current``: ``{"amperes": N, "ttl_minutes"?: M}`` with N a whole
number, 0 (pause) or 6 A up to the charger's maximum (observation 47). ``POST
/api/v1/circuits/{id}/current``: ``{"amperes": N}`` (every phase) or ``{"phases": [L1, L2,
L3]}``, and ``"ttl_minutes"?``, each value from 0 to the circuit's maximum for that phase.
Strict models: a string, a boolean, an array where a number belongs, an unknown member or a
missing one is refused, so nothing is ever sent on a guess.
"""

from __future__ import annotations

import re
from typing import Annotated, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from exporter.easee.currents import MIN_CHARGING_CURRENT
from exporter.webhooks.jsonbody import parse_json, validation_detail
from exporter.webhooks.problems import Problem

#: Text that may stand for a current in an alert's labels (amperes, up to six decimals), and a
#: circuit id in a path or a label: written once for the parsers and the OpenAPI document.
AMPERES_TEXT = re.compile(r"[0-9]{1,6}(\.[0-9]{1,6})?")
CIRCUIT_ID_TEXT = re.compile(r"[0-9]{1,11}")

#: Easee keeps a time to live in minutes; a day is the longest this service passes on.
MAX_TTL_MINUTES = 1440

Minutes = Annotated[int, Field(ge=0, le=MAX_TTL_MINUTES)]
Amperes = Annotated[float, Field(ge=0, allow_inf_nan=False)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, hide_input_in_errors=True)

    @model_validator(mode="before")
    @classmethod
    def _no_nulls(cls, data: object) -> object:
        # An optional member is left out, never null: null is no current.
        if isinstance(data, dict):
            nulls = sorted(str(k) for k, v in data.items() if v is None)
            if nulls:
                raise ValueError(f"null is not allowed ({', '.join(nulls)[:80]})")
        return data


class ChargerCurrent(_Body):
    """The body of a charger's current."""

    amperes: Annotated[int, Field(ge=0)]
    ttl_minutes: Minutes | None = None


class CircuitCurrentBody(_Body):
    """The body of a circuit's current: one value for every phase, or one per phase."""

    amperes: Amperes | None = None
    phases: Annotated[list[Amperes], Field(min_length=3, max_length=3)] | None = None
    ttl_minutes: Minutes | None = None

    @model_validator(mode="after")
    def _one_of(self) -> Self:
        if (self.amperes is None) == (self.phases is None):
            raise ValueError("give either amperes or phases")
        return self

    @property
    def per_phase(self) -> tuple[float, float, float]:
        if self.phases is not None:
            l1, l2, l3 = self.phases
            return (l1, l2, l3)
        assert self.amperes is not None
        return (self.amperes, self.amperes, self.amperes)


_T = TypeVar("_T", bound=_Body)


def _parse(model: type[_T], body: bytes, what: str) -> _T:
    if not body.strip():
        raise Problem("bad-request", f"the body must be a JSON object: {what}")
    data = parse_json(body)
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise Problem("bad-request", f"{what}; {validation_detail(error)}") from None


def parse_charger_current(body: bytes) -> ChargerCurrent:
    """The charger current asked for, or a 400 problem (the body is never echoed)."""
    return _parse(ChargerCurrent, body, 'expected {"amperes": N, "ttl_minutes"?: M}')


def parse_circuit_current(body: bytes) -> CircuitCurrentBody:
    """The circuit current asked for, or a 400 problem."""
    return _parse(
        CircuitCurrentBody,
        body,
        'expected {"amperes": N} or {"phases": [L1, L2, L3]}, and "ttl_minutes"?',
    )


def check_charger_current(amperes: int, maximum: float) -> None:
    """0, or from 6 A to the charger's maximum; else a 400 problem."""
    if amperes == 0 or MIN_CHARGING_CURRENT <= amperes <= maximum:
        return
    raise Problem(
        "bad-request",
        f"amperes must be 0 (pause) or from {MIN_CHARGING_CURRENT} to the charger's maximum "
        f"{maximum:g} A (got {amperes})",
    )


def check_circuit_current(
    phases: tuple[float, float, float], maximum: tuple[float, float, float]
) -> None:
    """Each phase from 0 to the circuit's maximum for it; else a 400 problem."""
    for index, (value, top) in enumerate(zip(phases, maximum, strict=True), start=1):
        if value > top:
            raise Problem(
                "bad-request",
                f"L{index}: {value:g} A is above the circuit's maximum of {top:g} A",
            )
