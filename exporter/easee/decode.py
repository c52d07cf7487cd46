"""Sans-io decoding of Easee payloads into the typed values of :mod:`exporter.easee.models`.

Three inputs:

* the argument of a SignalR ``ProductUpdate`` / ``ChargerUpdate``:
  ``{"mid", "dataType", "id", "timestamp", "value"}``, the value always a string;
* an item of ``GET /state/{id}/observations``: ``{"id", "value", "dataType", "timestamp"?}``
  with typed JSON values (the charger id comes from the URL; a missing timestamp takes a
  fallback the caller gives, usually the request time);
* the argument of a SignalR ``CommandResponse`` (camelCase keys, matched case-insensitively
  as evcc does, since no trace shows the exact casing).

Type decision: the frame's ``dataType`` decides the conversion, as in every other Easee
client (pyeasee, evcc, ioBroker, futurehome), when it is a known type and the value parses
with it. For an id the observation table knows, a frame whose type differs from the table's
is counted (``on_disagreement``, the ``easee_exporter_data_type_disagreements_total``
counter), and the table's type is used instead when the frame's does not parse the value or
is a text type (which would turn a reading into a string no metric can carry). A frame
without a usable ``dataType`` takes the table's type; for an unknown id it is skipped.

Bad input never raises: each decode returns None, and the :class:`Decoder` counts the reason
(:class:`DecodeError`) and hands it to its ``on_error`` callback, which the stream wires to
``ClientEvents.decode_error(account, reason)``.
"""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Callable, Mapping
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType

from exporter.easee.models import CommandResponse, DataType, Observation, ObservationValue
from exporter.easee.observations import OBSERVATIONS, ObservationSpec


class DecodeError(StrEnum):
    """Why an input was skipped (the ``reason`` label of the decode-error counter)."""

    NOT_AN_OBJECT = "not_an_object"
    MISSING_FIELD = "missing_field"
    BAD_FIELD = "bad_field"
    BAD_DATA_TYPE = "bad_data_type"
    NULL_VALUE = "null_value"
    BAD_VALUE = "bad_value"
    NON_FINITE = "non_finite"
    BAD_TIMESTAMP = "bad_timestamp"
    UNEXPECTED = "unexpected"


class _Rejected(Exception):
    """Internal: unwinds a decode to its entry point with the reason."""

    def __init__(self, reason: DecodeError) -> None:
        self.reason = reason


_TRUE = frozenset({"1", "true", "t", "yes", "y", "on", "high", "1.0"})
_FALSE = frozenset({"0", "false", "f", "no", "n", "off", "low", "0.0"})
_RAW_TYPES = frozenset({DataType.STRING, DataType.BINARY, DataType.POSITION, DataType.STATISTICS})
_DATA_TYPES: Mapping[int, DataType] = MappingProxyType({int(t): t for t in DataType})
_EPOCH_NAIVE = datetime(1970, 1, 1)


def parse_bool(text: str) -> bool | None:
    """Every spelling of a boolean seen on the Easee stream, case-insensitive, else None.

    ``1/0``, ``true/false`` (any case: the stream sends ``True``), ``on/off`` and ``yes/no``
    (pyeasee), ``t/f`` (Go's ParseBool, which the futurehome client uses), ``high/low``
    (Jeedom), and ``1.0/0.0`` for a boolean written as a double.
    """
    folded = text.strip().lower()
    if folded in _TRUE:
        return True
    if folded in _FALSE:
        return False
    return None


def _finite(number: float) -> float:
    if not math.isfinite(number):
        raise _Rejected(DecodeError.NON_FINITE)
    return number


def _text_number(text: str) -> float:
    # float() also takes "1_000", "١٢" and surrounding whitespace; Easee writes plain ASCII
    # decimals, so anything else is a corrupt value rather than a number.
    if "_" in text or not text.isascii():
        raise _Rejected(DecodeError.BAD_VALUE)
    try:
        number = float(text)
    except ValueError:
        raise _Rejected(DecodeError.BAD_VALUE) from None
    return _finite(number)


def _integral(number: float) -> int:
    if not number.is_integer():
        raise _Rejected(DecodeError.BAD_VALUE)
    return int(number)


def _convert_text(text: str, data_type: DataType) -> ObservationValue:
    """A stream value (always a string) converted to ``data_type``."""
    if data_type is DataType.DOUBLE:
        return _text_number(text)
    if data_type is DataType.INTEGER:
        if "_" in text or not text.isascii():
            raise _Rejected(DecodeError.BAD_VALUE)
        try:
            return int(text)
        except ValueError:
            # .NET sometimes writes an integer as a double ("3.0").
            return _integral(_text_number(text))
    if data_type is DataType.BOOLEAN:
        flag = parse_bool(text)
        if flag is None:
            raise _Rejected(DecodeError.BAD_VALUE)
        return flag
    return text


def _convert_json(value: object, data_type: DataType) -> ObservationValue:
    """A REST value (typed JSON, or a string as on the stream) converted to ``data_type``."""
    if value is None:
        raise _Rejected(DecodeError.NULL_VALUE)
    if isinstance(value, str):
        return _convert_text(value, data_type)
    if data_type in _RAW_TYPES:
        # A position or statistics value may come as a JSON structure; keep it as its text.
        try:
            return json.dumps(value, separators=(",", ":"), allow_nan=False)
        except (TypeError, ValueError):
            raise _Rejected(DecodeError.BAD_VALUE) from None
    if isinstance(value, bool):
        if data_type is DataType.BOOLEAN:
            return value
        raise _Rejected(DecodeError.BAD_VALUE)
    if isinstance(value, int | float):
        number = _finite(float(value)) if isinstance(value, float) else value
        if data_type is DataType.DOUBLE:
            return float(number)
        if data_type is DataType.INTEGER:
            return number if isinstance(number, int) else _integral(number)
        if number == 0 or number == 1:
            return bool(number)
    raise _Rejected(DecodeError.BAD_VALUE)


def parse_timestamp(text: str) -> float | None:
    """ISO-8601 date and time -> epoch seconds, or None.

    Accepts ``Z`` or an offset or no zone at all (UTC assumed, as .NET writes UTC times
    without a zone), ``T`` or a space between date and time, and 0 to 7+ fractional digits
    (.NET writes 7; digits past microseconds are dropped). A bare date is rejected.
    """
    if len(text) < 19 or len(text) > 48 or text[10] not in "Tt ":
        return None
    try:
        moment = datetime.fromisoformat(text)
        if moment.tzinfo is None:
            return (moment - _EPOCH_NAIVE).total_seconds()
        return moment.timestamp()
    except (ValueError, OverflowError):
        return None


def _timestamp(value: object) -> float:
    if not isinstance(value, str):
        raise _Rejected(DecodeError.BAD_TIMESTAMP)
    seconds = parse_timestamp(value)
    if seconds is None:
        raise _Rejected(DecodeError.BAD_TIMESTAMP)
    return seconds


def _obs_id(payload: Mapping[str, object]) -> int:
    if "id" not in payload:
        raise _Rejected(DecodeError.MISSING_FIELD)
    obs_id = payload["id"]
    if type(obs_id) is not int or obs_id < 0:
        raise _Rejected(DecodeError.BAD_FIELD)
    return obs_id


def _frame_type(payload: Mapping[str, object]) -> DataType | None:
    """The frame's own ``dataType`` when it is a known one."""
    code = payload.get("dataType")
    return _DATA_TYPES.get(code) if type(code) is int else None


def _unknown_id_type(payload: Mapping[str, object]) -> DataType:
    if "dataType" not in payload:
        raise _Rejected(DecodeError.MISSING_FIELD)
    data_type = _frame_type(payload)
    if data_type is None:
        raise _Rejected(DecodeError.BAD_DATA_TYPE)
    return data_type


class Decoder:
    """Decodes Easee payloads and counts what it skips, per reason.

    One decoder per account fits the stream: ``Decoder(on_error=lambda reason:
    events.decode_error(account, reason))``. No method raises; each returns None (or leaves
    an item out) for bad input. ``table`` is injectable for tests.
    """

    __slots__ = ("_counts", "_on_disagreement", "_on_error", "_table")

    def __init__(
        self,
        *,
        on_error: Callable[[str], None] | None = None,
        on_disagreement: Callable[[int], None] | None = None,
        table: Mapping[int, ObservationSpec] = OBSERVATIONS,
    ) -> None:
        self._on_error = on_error
        self._on_disagreement = on_disagreement
        self._table = table
        self._counts: dict[str, int] = {}

    @property
    def errors(self) -> Mapping[str, int]:
        """Skipped inputs so far, by :class:`DecodeError` value (a snapshot)."""
        return MappingProxyType(dict(self._counts))

    def _reject(self, reason: DecodeError) -> None:
        self._counts[reason.value] = self._counts.get(reason.value, 0) + 1
        if self._on_error is not None:
            # A broken hook must not stop decoding; the reason is counted above anyway.
            with contextlib.suppress(Exception):
                self._on_error(reason.value)

    def _typed(
        self,
        payload: Mapping[str, object],
        obs_id: int,
        convert: Callable[[DataType], ObservationValue],
    ) -> tuple[DataType, ObservationValue]:
        """The data type and converted value, by the rule of the module docstring."""
        spec = self._table.get(obs_id)
        if spec is None:
            data_type = _unknown_id_type(payload)
            return data_type, convert(data_type)
        table_type = spec.data_type
        frame_type = _frame_type(payload)
        if frame_type is None or frame_type is table_type:
            return table_type, convert(table_type)
        if self._on_disagreement is not None:
            with contextlib.suppress(Exception):
                self._on_disagreement(obs_id)
        if frame_type not in _RAW_TYPES:
            with contextlib.suppress(_Rejected):
                return frame_type, convert(frame_type)
        return table_type, convert(table_type)

    def product_update(self, payload: object, *, received_at: float) -> Observation | None:
        """A ``ProductUpdate`` / ``ChargerUpdate`` argument -> Observation, or None."""
        try:
            if not isinstance(payload, dict):
                raise _Rejected(DecodeError.NOT_AN_OBJECT)
            if "mid" not in payload or "value" not in payload or "timestamp" not in payload:
                raise _Rejected(DecodeError.MISSING_FIELD)
            charger_id = payload["mid"]
            if not isinstance(charger_id, str) or not charger_id:
                raise _Rejected(DecodeError.BAD_FIELD)
            obs_id = _obs_id(payload)
            raw = payload["value"]
            convert = _convert_text if isinstance(raw, str) else _convert_json
            data_type, value = self._typed(payload, obs_id, lambda t: convert(raw, t))
            return Observation(
                charger_id=charger_id,
                obs_id=obs_id,
                data_type=data_type,
                value=value,
                timestamp=_timestamp(payload["timestamp"]),
                received_at=received_at,
            )
        except _Rejected as rejected:
            self._reject(rejected.reason)
        except Exception:
            self._reject(DecodeError.UNEXPECTED)
        return None

    def rest_observation(
        self,
        item: object,
        *,
        charger_id: str,
        received_at: float,
        fallback_timestamp: float,
    ) -> Observation | None:
        """One item of ``/state/{id}/observations`` -> Observation, or None.

        A missing or null ``timestamp`` takes ``fallback_timestamp``: the endpoint's items
        may not carry one (API doc 12), and the request time is the honest upper bound.
        """
        try:
            if not isinstance(item, dict):
                raise _Rejected(DecodeError.NOT_AN_OBJECT)
            if "value" not in item:
                raise _Rejected(DecodeError.MISSING_FIELD)
            obs_id = _obs_id(item)
            raw = item["value"]
            data_type, value = self._typed(item, obs_id, lambda t: _convert_json(raw, t))
            stamp = item.get("timestamp")
            timestamp = fallback_timestamp if stamp is None else _timestamp(stamp)
            return Observation(
                charger_id=charger_id,
                obs_id=obs_id,
                data_type=data_type,
                value=value,
                timestamp=timestamp,
                received_at=received_at,
            )
        except _Rejected as rejected:
            self._reject(rejected.reason)
        except Exception:
            self._reject(DecodeError.UNEXPECTED)
        return None

    def rest_observations(
        self,
        body: object,
        *,
        charger_id: str,
        received_at: float,
        fallback_timestamp: float,
    ) -> tuple[Observation, ...]:
        """A whole ``/state/{id}/observations`` answer (``{"observations": [...]}``, or the
        bare list) -> the items that decode; bad items are counted and left out."""
        items = body.get("observations") if isinstance(body, dict) else body
        if not isinstance(items, list):
            self._reject(DecodeError.NOT_AN_OBJECT)
            return ()
        decoded = (
            self.rest_observation(
                item,
                charger_id=charger_id,
                received_at=received_at,
                fallback_timestamp=fallback_timestamp,
            )
            for item in items
        )
        return tuple(observation for observation in decoded if observation is not None)

    def command_response(self, payload: object) -> CommandResponse | None:
        """A ``CommandResponse`` argument -> CommandResponse, or None.

        Required: the serial number, the command ``id`` and ``wasAccepted`` (null counts as
        not accepted, as Homey saw it answered). ``ticks`` and ``resultCode`` default to 0 when
        absent, ``comment`` to "". ``timestamp`` / ``deliveredAt`` are informative: an
        unreadable one becomes None rather than losing the verdict.
        """
        try:
            if not isinstance(payload, dict):
                raise _Rejected(DecodeError.NOT_AN_OBJECT)
            fields = {key.lower(): value for key, value in payload.items() if isinstance(key, str)}
            if "serialnumber" not in fields or "id" not in fields or "wasaccepted" not in fields:
                raise _Rejected(DecodeError.MISSING_FIELD)
            charger_id = fields["serialnumber"]
            if not isinstance(charger_id, str) or not charger_id:
                raise _Rejected(DecodeError.BAD_FIELD)
            comment = fields.get("comment")
            return CommandResponse(
                charger_id=charger_id,
                command_id=_whole(fields["id"], required=True),
                ticks=_whole(fields.get("ticks"), required=False),
                was_accepted=_accepted(fields["wasaccepted"]),
                result_code=_whole(fields.get("resultcode"), required=False),
                comment=comment if isinstance(comment, str) else "",
                timestamp=_optional_timestamp(fields.get("timestamp")),
                delivered_at=_optional_timestamp(fields.get("deliveredat")),
            )
        except _Rejected as rejected:
            self._reject(rejected.reason)
        except Exception:
            self._reject(DecodeError.UNEXPECTED)
        return None


def _whole(value: object, *, required: bool) -> int:
    """An integer field given as a JSON integer, an integral number or decimal text."""
    if value is None and not required:
        return 0
    if type(value) is int:
        return value
    with contextlib.suppress(_Rejected):
        if isinstance(value, float):
            return _integral(_finite(value))
        if isinstance(value, str):
            return _integral(_text_number(value))
    raise _Rejected(DecodeError.BAD_FIELD)


def _accepted(value: object) -> bool:
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        flag = parse_bool(value)
        if flag is not None:
            return flag
    raise _Rejected(DecodeError.BAD_FIELD)


def _optional_timestamp(value: object) -> float | None:
    return parse_timestamp(value) if isinstance(value, str) else None


def convert_value(text: str, data_type: DataType) -> ObservationValue | None:
    """A stream value converted to ``data_type`` as the decoder does, or None when invalid."""
    try:
        return _convert_text(text, data_type)
    except _Rejected:
        return None
