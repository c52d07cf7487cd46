"""How values look on Easee's wire: stream strings, timestamps, .NET ticks, SignalR records.

Pure functions, no I/O. The stream sends every value as a string (``"5.24599981307983"``,
``"B"``, ``"True"``); the REST observations endpoint sends typed JSON values.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, Final

from exporter.simulator.catalog import DataType

RECORD_SEPARATOR: Final = "\x1e"

# .NET DateTime.Ticks: 100-ns units since 0001-01-01T00:00:00 UTC.
_TICKS_AT_UNIX_EPOCH: Final = 621_355_968_000_000_000
_TICKS_PER_SECOND: Final = 10_000_000

ObservationValue = bool | int | float | str


def to_ticks(epoch_seconds: float) -> int:
    """.NET ``DateTime.Ticks`` of a Unix time."""
    return _TICKS_AT_UNIX_EPOCH + round(epoch_seconds * _TICKS_PER_SECOND)


def from_ticks(ticks: int) -> float:
    """Unix time of .NET ``DateTime.Ticks``."""
    return (ticks - _TICKS_AT_UNIX_EPOCH) / _TICKS_PER_SECOND


def format_timestamp(epoch_seconds: float, *, digits: int = 0) -> str:
    """UTC ISO-8601 ending in ``Z``: whole seconds, or ``digits`` fraction digits."""
    moment = datetime.fromtimestamp(epoch_seconds, UTC)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if digits:
        text += f".{moment.microsecond:06d}"[: digits + 1]
    return text + "Z"


def format_model_timestamp(epoch_seconds: float) -> str:
    """An observation timestamp: whole seconds, microseconds when the time has a fraction."""
    moment = datetime.fromtimestamp(epoch_seconds, UTC)
    return format_timestamp(epoch_seconds, digits=6 if moment.microsecond else 0)


def format_double(value: float) -> str:
    """A double as .NET prints it: ``32`` for 32.0, shortest round-trip text otherwise."""
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def bool_text(value: bool, spelling: str) -> str:
    """A boolean in one of the real stream's spellings (the caller resolves ``mix``)."""
    if spelling == "1":
        return "1" if value else "0"
    if spelling == "true":
        return "true" if value else "false"
    return "True" if value else "False"


def stream_text(value: ObservationValue, spelling: str) -> str:
    """The string a ProductUpdate carries for ``value``."""
    if isinstance(value, bool):
        return bool_text(value, spelling)
    if isinstance(value, float):
        return format_double(value)
    return str(value)


def json_value(value: ObservationValue, data_type: DataType) -> ObservationValue:
    """The typed JSON value the REST observations endpoint answers."""
    if (
        data_type is DataType.DOUBLE
        and isinstance(value, int | float)
        and not isinstance(value, bool)
    ):
        return float(value)
    return value


def dumps(obj: Any) -> str:
    """Compact JSON, as ASP.NET writes it."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def record(message: dict[str, Any]) -> str:
    """One SignalR JSON record, terminated by the record separator."""
    return dumps(message) + RECORD_SEPARATOR


def split_records(frame: str) -> Iterator[str]:
    """The records of one text frame (a frame may carry several, each ending in 0x1E)."""
    for part in frame.split(RECORD_SEPARATOR):
        if part.strip():
            yield part
