"""The sans-io decoder: stream frames, REST observation items and command responses."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exporter.easee.decode import (
    DecodeError,
    Decoder,
    convert_value,
    parse_bool,
    parse_timestamp,
)
from exporter.easee.models import CommandResponse, DataType, Observation
from exporter.easee.observations import OBSERVATIONS, ObservationSpec

NOW = 1_780_000_000.0

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=40)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
#: Frames with the right keys and arbitrary values, to reach past the shape checks.
frame_like = st.fixed_dictionaries(
    {},
    optional={
        "mid": st.text(max_size=10) | json_values,
        "dataType": st.integers(min_value=-2, max_value=9) | json_values,
        "id": st.integers(min_value=-5, max_value=300) | json_values,
        "timestamp": st.sampled_from(["2026-01-01T00:00:00Z", "garbage", ""]) | json_values,
        "value": st.sampled_from(["1", "0.5", "True", "nan", "", "B"]) | json_values,
    },
)
command_like = st.fixed_dictionaries(
    {},
    optional={
        "serialNumber": st.text(max_size=10) | json_values,
        "ID": st.integers() | json_values,
        "wasAccepted": st.booleans() | json_values,
        "resultCode": st.integers() | json_values,
        "ticks": st.integers(min_value=0, max_value=2**63) | json_values,
        "timestamp": st.text(max_size=30) | json_values,
        "deliveredAt": st.text(max_size=30) | json_values,
        "comment": json_values,
    },
)


def frame(obs_id: int, value: str, *, data_type: int = 3, **extra: Any) -> dict[str, Any]:
    return {
        "mid": "EH000001",
        "dataType": data_type,
        "id": obs_id,
        "timestamp": "2026-06-01T12:00:00Z",
        "value": value,
        **extra,
    }


def decode(payload: object) -> tuple[Observation | None, dict[str, int]]:
    decoder = Decoder()
    observation = decoder.product_update(payload, received_at=NOW)
    return observation, dict(decoder.errors)


class TestProductUpdate:
    def test_the_recorded_frame(self) -> None:
        """The frame from pyeasee#30, as the cloud sent it."""
        payload = {
            "mid": "EHXXXXXX",
            "dataType": 3,
            "id": 120,
            "timestamp": "2020-10-24T22:21:04Z",
            "value": "5.24599981307983",
        }
        assert Decoder().product_update(payload, received_at=NOW) == Observation(
            charger_id="EHXXXXXX",
            obs_id=120,
            data_type=DataType.DOUBLE,
            value=5.24599981307983,
            timestamp=datetime(2020, 10, 24, 22, 21, 4, tzinfo=UTC).timestamp(),
            received_at=NOW,
        )

    @pytest.mark.parametrize(
        ("obs_id", "data_type", "text", "expected"),
        [
            (109, 4, "3", 3),
            (109, 4, "3.0", 3),
            (104, 3, "-1", -1.0),
            (48, 3, "0", 0.0),
            (105, 3, "9009", 9009.0),
            (150, 3, "33", 33.0),
            (100, 6, "B", "B"),
            (62, 6, "", ""),
            (30, 2, "True", True),
            (103, 2, "0", False),
        ],
    )
    def test_values_are_typed_by_data_type(
        self, obs_id: int, data_type: int, text: str, expected: object
    ) -> None:
        observation, errors = decode(frame(obs_id, text, data_type=data_type))
        assert observation is not None, errors
        assert observation.value == expected
        assert type(observation.value) is type(expected)

    @pytest.mark.parametrize(
        ("obs_id", "data_type", "text", "expected"),
        [
            # The frame's type decides when it parses the value, as in every other client.
            (150, 4, "33", 33),  # TEMP_MAX: Double in the table, Integer in this frame
            (109, 3, "3.5", 3.5),  # op mode as a Double
            (104, 4, "32", 32),
            (62, 4, "7", 7),  # a String in the table
            # It does not parse: the table's type.
            (150, 4, "33.5", 33.5),
            (103, 4, "True", True),
            # A text type in the frame would make a reading a string: the table's type.
            (120, 6, "5.2", 5.2),
        ],
    )
    def test_the_frame_type_decides_when_it_parses_and_disagreements_are_counted(
        self, obs_id: int, data_type: int, text: str, expected: object
    ) -> None:
        disagreements: list[int] = []
        decoder = Decoder(on_disagreement=disagreements.append)
        observation = decoder.product_update(
            frame(obs_id, text, data_type=data_type), received_at=NOW
        )
        assert observation is not None, decoder.errors
        assert observation.value == expected
        assert type(observation.value) is type(expected)
        assert disagreements == [obs_id]
        rest = decoder.rest_observation(
            {"id": obs_id, "value": text, "dataType": data_type},
            charger_id="EH1",
            received_at=NOW,
            fallback_timestamp=NOW,
        )
        assert rest is not None
        assert (rest.value, rest.data_type) == (observation.value, observation.data_type)
        assert disagreements == [obs_id, obs_id]

    @pytest.mark.parametrize("data_type", [None, 99, "3"])
    def test_a_frame_without_a_known_type_takes_the_table_type_uncounted(
        self, data_type: object
    ) -> None:
        disagreements: list[int] = []
        decoder = Decoder(on_disagreement=disagreements.append)
        payload = frame(150, "33", data_type=3)
        if data_type is None:
            del payload["dataType"]
        else:
            payload["dataType"] = data_type
        observation = decoder.product_update(payload, received_at=NOW)
        assert observation is not None
        assert (observation.value, observation.data_type) == (33.0, DataType.DOUBLE)
        assert disagreements == []

    def test_an_agreeing_frame_is_not_counted(self) -> None:
        disagreements: list[int] = []
        decoder = Decoder(on_disagreement=disagreements.append)
        assert decoder.product_update(frame(120, "5.2", data_type=3), received_at=NOW)
        assert disagreements == []

    def test_unknown_ids_are_kept_raw_with_the_frame_type(self) -> None:
        """Ids 156, 157, 233, 234 appear in 2026 traces; they must come through as they are."""
        observation, _ = decode(frame(233, "17.5", data_type=3))
        assert observation is not None
        assert (observation.obs_id, observation.data_type, observation.value) == (
            233,
            DataType.DOUBLE,
            17.5,
        )
        text, _ = decode(frame(157, "hello", data_type=6))
        assert text is not None
        assert text.value == "hello"

    @pytest.mark.parametrize(
        ("payload", "reason"),
        [
            ("not a dict", DecodeError.NOT_AN_OBJECT),
            ([frame(120, "1")], DecodeError.NOT_AN_OBJECT),
            ({"mid": "EH1", "id": 120, "timestamp": "2026-01-01T00:00:00Z"}, "missing_field"),
            ({k: v for k, v in frame(120, "1").items() if k != "mid"}, "missing_field"),
            ({k: v for k, v in frame(233, "1").items() if k != "dataType"}, "missing_field"),
            ({k: v for k, v in frame(120, "1").items() if k != "id"}, "missing_field"),
            (frame(120, "1", mid=""), DecodeError.BAD_FIELD),
            (frame(120, "1", mid=17), DecodeError.BAD_FIELD),
            (frame(120, "1", id="120"), DecodeError.BAD_FIELD),
            (frame(120, "1", id=True), DecodeError.BAD_FIELD),
            (frame(120, "1", id=-3), DecodeError.BAD_FIELD),
            (frame(233, "1", data_type=9), DecodeError.BAD_DATA_TYPE),
            (frame(233, "1", data_type="3"), DecodeError.BAD_DATA_TYPE),
            (frame(120, "abc"), DecodeError.BAD_VALUE),
            (frame(120, ""), DecodeError.BAD_VALUE),
            (frame(120, "1_000"), DecodeError.BAD_VALUE),
            (frame(120, "١٢"), DecodeError.BAD_VALUE),
            (frame(109, "2.5", data_type=4), DecodeError.BAD_VALUE),
            (frame(103, "maybe", data_type=2), DecodeError.BAD_VALUE),
            (frame(103, "2", data_type=2), DecodeError.BAD_VALUE),
            (frame(120, "NaN"), DecodeError.NON_FINITE),
            (frame(120, "inf"), DecodeError.NON_FINITE),
            (frame(120, "-Infinity"), DecodeError.NON_FINITE),
            (frame(120, "1e400"), DecodeError.NON_FINITE),
            (frame(120, "1", timestamp="yesterday"), DecodeError.BAD_TIMESTAMP),
            (frame(120, "1", timestamp="2026-01-01"), DecodeError.BAD_TIMESTAMP),
            (frame(120, "1", timestamp=1767225600), DecodeError.BAD_TIMESTAMP),
            (frame(120, "1", timestamp=None), DecodeError.BAD_TIMESTAMP),
            (frame(120, None), DecodeError.NULL_VALUE),
        ],
    )
    def test_bad_input_is_counted_by_reason_and_skipped(self, payload: object, reason: str) -> None:
        observation, errors = decode(payload)
        assert observation is None
        assert errors == {reason: 1}

    def test_errors_reach_the_callback(self) -> None:
        """The stream forwards reasons to ClientEvents.decode_error(account, reason)."""
        seen: list[tuple[str, str]] = []
        decoder = Decoder(on_error=lambda reason: seen.append(("acct", reason)))
        decoder.product_update(frame(120, "x"), received_at=NOW)
        decoder.product_update(42, received_at=NOW)
        assert seen == [("acct", "bad_value"), ("acct", "not_an_object")]
        assert decoder.errors == {"bad_value": 1, "not_an_object": 1}

    def test_a_failing_callback_does_not_escape(self) -> None:
        def broken(reason: str) -> None:
            raise RuntimeError(reason)

        decoder = Decoder(on_error=broken)
        assert decoder.product_update(frame(120, "x"), received_at=NOW) is None
        assert decoder.product_update(frame(120, "2"), received_at=NOW) is not None
        assert decoder.errors == {"bad_value": 1}

    def test_errors_is_a_snapshot(self) -> None:
        decoder = Decoder()
        before = decoder.errors
        decoder.product_update(None, received_at=NOW)
        assert before == {}
        assert decoder.errors == {"not_an_object": 1}


BOOLEAN_SPELLINGS = [
    ("1", True),
    ("0", False),
    ("true", True),
    ("false", False),
    ("True", True),
    ("False", False),
    ("TRUE", True),
    ("FALSE", False),
    ("on", True),
    ("off", False),
    ("On", True),
    ("OFF", False),
    ("yes", True),
    ("no", False),
    ("Yes", True),
    ("NO", False),
    ("t", True),
    ("f", False),
    ("high", True),
    ("low", False),
    ("1.0", True),
    ("0.0", False),
    (" true ", True),
]


class TestBooleans:
    @pytest.mark.parametrize(("text", "expected"), BOOLEAN_SPELLINGS)
    def test_every_spelling(self, text: str, expected: bool) -> None:
        """Easee spells booleans "1"/"0", "True"/"False", "true"/"false" and more (pyeasee#70)."""
        observation, _ = decode(frame(30, text, data_type=2))
        assert observation is not None
        assert observation.value is expected
        assert parse_bool(text) is expected

    @given(st.sampled_from(BOOLEAN_SPELLINGS), st.randoms())
    def test_any_letter_case(self, spelling: tuple[str, bool], rnd: Any) -> None:
        text, expected = spelling
        mixed = "".join(c.upper() if rnd.random() < 0.5 else c.lower() for c in text)
        assert parse_bool(mixed) is expected

    @pytest.mark.parametrize("text", ["", "2", "-1", "truee", "nope", "0.5", "ja"])
    def test_other_text_is_not_a_boolean(self, text: str) -> None:
        assert parse_bool(text) is None
        assert convert_value(text, DataType.BOOLEAN) is None


class TestTimestamps:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("2020-10-24T22:21:04Z", datetime(2020, 10, 24, 22, 21, 4, tzinfo=UTC)),
            ("2020-10-24T22:21:04", datetime(2020, 10, 24, 22, 21, 4, tzinfo=UTC)),
            ("2020-10-24 22:21:04", datetime(2020, 10, 24, 22, 21, 4, tzinfo=UTC)),
            (
                "2024-04-29 08:00:06.510023",
                datetime(2024, 4, 29, 8, 0, 6, 510023, tzinfo=UTC),
            ),
            (
                "2023-08-03T05:30:40.7066800Z",
                datetime(2023, 8, 3, 5, 30, 40, 706680, tzinfo=UTC),
            ),
            ("2023-08-03T05:30:40.379Z", datetime(2023, 8, 3, 5, 30, 40, 379000, tzinfo=UTC)),
            ("2023-08-03T05:30:40.3Z", datetime(2023, 8, 3, 5, 30, 40, 300000, tzinfo=UTC)),
            ("2023-08-03T07:30:40+02:00", datetime(2023, 8, 3, 5, 30, 40, tzinfo=UTC)),
            ("2023-08-03T05:30:40.5+00:00", datetime(2023, 8, 3, 5, 30, 40, 500000, tzinfo=UTC)),
        ],
    )
    def test_variants(self, text: str, expected: datetime) -> None:
        assert parse_timestamp(text) == pytest.approx(expected.timestamp(), abs=1e-6)

    @pytest.mark.parametrize(
        "text", ["", "2026-01-01", "01/02/2026 10:00", "2026-13-01T00:00:00Z", "x" * 100, "now"]
    )
    def test_rejected(self, text: str) -> None:
        assert parse_timestamp(text) is None

    @given(
        st.datetimes(
            min_value=datetime(1970, 1, 2),
            max_value=datetime(2200, 1, 1),
            timezones=st.just(UTC),
        ),
        st.sampled_from(["T", " "]),
        st.integers(min_value=0, max_value=7),
        st.sampled_from(["Z", "", "+00:00", "+02:00", "-05:30"]),
    )
    def test_any_instant_in_any_spelling(
        self, moment: datetime, separator: str, digits: int, zone: str
    ) -> None:
        """.NET and Python spellings: with or without zone, 0-7 fractional digits."""
        offset = {"Z": 0, "": 0, "+00:00": 0, "+02:00": 120, "-05:30": -330}[zone]
        local = moment.astimezone(timezone(timedelta(minutes=offset)))
        fraction = f"{local.microsecond:06d}0"[:digits]
        text = local.strftime(f"%Y-%m-%d{separator}%H:%M:%S") + (f".{fraction}" if digits else "")
        expected = moment.replace(microsecond=int(fraction.ljust(6, "0")[:6]) if digits else 0)
        assert parse_timestamp(text + zone) == pytest.approx(expected.timestamp(), abs=1e-6)


def encoded(spec: ObservationSpec, value: object, style: int) -> str:
    """``value`` written as the cloud writes it, in one of its spellings."""
    if isinstance(value, bool):
        spellings = [("1", "0"), ("True", "False"), ("true", "false")]
        return spellings[style % 3][0 if value else 1]
    if isinstance(value, int):
        return f"{value}.0" if style % 2 else str(value)
    if isinstance(value, float):
        return repr(value)
    assert isinstance(value, str)
    return value


def typed_values(data_type: DataType) -> st.SearchStrategy[object]:
    if data_type is DataType.BOOLEAN:
        return st.booleans()
    if data_type is DataType.INTEGER:
        return st.integers(min_value=-(2**40), max_value=2**40)
    if data_type is DataType.DOUBLE:
        return st.floats(allow_nan=False, allow_infinity=False)
    return st.text(max_size=30)


@st.composite
def valid_frames(draw: st.DrawFn) -> tuple[dict[str, Any], ObservationSpec, object, float]:
    spec = draw(st.sampled_from(list(OBSERVATIONS.values())))
    value = draw(typed_values(spec.data_type))
    moment = draw(
        st.datetimes(
            min_value=datetime(2015, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(UTC)
        )
    )
    text = moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    payload = {
        "mid": draw(st.text(alphabet="EHCQP0123456789ABCDEF", min_size=1, max_size=10)),
        "dataType": int(spec.data_type),
        "id": spec.obs_id,
        "timestamp": text,
        "value": encoded(spec, value, draw(st.integers(0, 5))),
    }
    return payload, spec, value, moment.timestamp()


class TestProperties:
    @given(json_values)
    @settings(max_examples=300)
    def test_arbitrary_json_never_raises(self, payload: object) -> None:
        decoder = Decoder()
        assert decoder.product_update(payload, received_at=NOW) is None
        assert decoder.command_response(payload) is None or isinstance(payload, dict)
        decoder.rest_observation(payload, charger_id="EH1", received_at=NOW, fallback_timestamp=NOW)
        decoder.rest_observations(
            payload, charger_id="EH1", received_at=NOW, fallback_timestamp=NOW
        )

    @given(frame_like)
    @settings(max_examples=500)
    def test_frame_shaped_input_never_raises_and_each_skip_is_counted(
        self, payload: dict[str, object]
    ) -> None:
        decoder = Decoder()
        observation = decoder.product_update(payload, received_at=NOW)
        assert sum(decoder.errors.values()) == (0 if observation is not None else 1)
        if observation is not None:
            assert isinstance(observation.value, bool | int | float | str)
            if isinstance(observation.value, float):
                assert math.isfinite(observation.value)
            assert "unexpected" not in decoder.errors

    @given(frame_like)
    def test_rest_items_never_raise(self, item: dict[str, object]) -> None:
        decoder = Decoder()
        result = decoder.rest_observation(
            item, charger_id="EH1", received_at=NOW, fallback_timestamp=NOW
        )
        assert sum(decoder.errors.values()) == (0 if result is not None else 1)
        assert "unexpected" not in decoder.errors

    @given(command_like)
    def test_command_responses_never_raise(self, payload: dict[str, object]) -> None:
        decoder = Decoder()
        result = decoder.command_response(payload)
        assert sum(decoder.errors.values()) == (0 if result is not None else 1)
        assert "unexpected" not in decoder.errors

    @given(valid_frames())
    @settings(max_examples=500)
    def test_valid_frames_round_trip(
        self, case: tuple[dict[str, Any], ObservationSpec, object, float]
    ) -> None:
        """Any value of a row's type, written as the cloud writes it, decodes back to itself."""
        payload, spec, value, timestamp = case
        decoder = Decoder()
        observation = decoder.product_update(payload, received_at=NOW)
        assert observation is not None, (payload, decoder.errors)
        assert observation == Observation(
            charger_id=payload["mid"],
            obs_id=spec.obs_id,
            data_type=spec.data_type,
            value=value,
            timestamp=observation.timestamp,
            received_at=NOW,
        )
        assert type(observation.value) is type(value)
        assert observation.timestamp == pytest.approx(timestamp, abs=1e-6)


class TestRestObservations:
    def test_typed_values_and_fallback_timestamp(self) -> None:
        """The REST endpoint answers typed JSON values; items may lack a timestamp."""
        body = {
            "observations": [
                {"id": 109, "value": 3, "dataType": 4},
                {"id": 120, "value": 7.4, "dataType": 3, "timestamp": "2026-06-01T12:00:00Z"},
                {"id": 30, "value": True, "dataType": 2},
                {"id": 103, "value": "False", "dataType": 2},
                {"id": 48, "value": 16, "dataType": 3},
                {"id": 100, "value": "C", "dataType": 6},
                {"id": 25, "value": {"latitude": 59.9, "longitude": 10.7}, "dataType": 5},
                {"id": 233, "value": 2, "dataType": 4, "timestamp": None},
                {"id": 96, "value": None, "dataType": 4},
                {"id": 121, "value": "lots", "dataType": 3},
                "junk",
            ]
        }
        decoder = Decoder()
        items = decoder.rest_observations(
            body, charger_id="EH000001", received_at=NOW, fallback_timestamp=NOW - 1
        )
        by_id = {item.obs_id: item for item in items}
        assert {k: v.value for k, v in by_id.items()} == {
            109: 3,
            120: 7.4,
            30: True,
            103: False,
            48: 16.0,
            100: "C",
            25: '{"latitude":59.9,"longitude":10.7}',
            233: 2,
        }
        assert type(by_id[48].value) is float
        assert by_id[109].timestamp == NOW - 1
        assert by_id[233].timestamp == NOW - 1
        assert by_id[120].timestamp == datetime(2026, 6, 1, 12, tzinfo=UTC).timestamp()
        assert all(item.charger_id == "EH000001" and item.received_at == NOW for item in items)
        assert decoder.errors == {"null_value": 1, "bad_value": 1, "not_an_object": 1}

    def test_bare_list_and_bad_bodies(self) -> None:
        decoder = Decoder()
        items = decoder.rest_observations(
            [{"id": 109, "value": 1}], charger_id="EH1", received_at=NOW, fallback_timestamp=NOW
        )
        assert [item.value for item in items] == [1]
        assert (
            decoder.rest_observations(
                {"errors": []}, charger_id="EH1", received_at=NOW, fallback_timestamp=NOW
            )
            == ()
        )
        assert decoder.errors == {"not_an_object": 1}

    @pytest.mark.parametrize(
        ("obs_id", "value"),
        [(109, 2.5), (109, True), (120, False), (120, math.nan), (30, 2), (120, [1])],
    )
    def test_bad_typed_values(self, obs_id: int, value: object) -> None:
        decoder = Decoder()
        item = {"id": obs_id, "value": value}
        assert (
            decoder.rest_observation(
                item, charger_id="EH1", received_at=NOW, fallback_timestamp=NOW
            )
            is None
        )
        assert sum(decoder.errors.values()) == 1


class TestCommandResponse:
    def test_the_evcc_trace(self) -> None:
        """EV#9181: the CommandResponse of a pause, decoded case-insensitively."""
        payload = {
            "SerialNumber": "EH63____",
            "ID": 48,
            "Timestamp": "2023-08-03T05:30:40.70668Z",
            "DeliveredAt": "2023-08-03T05:30:40.379Z",
            "WasAccepted": True,
            "ResultCode": 0,
            "Comment": "",
            "Ticks": 638266374407066800,
        }
        assert Decoder().command_response(payload) == CommandResponse(
            charger_id="EH63____",
            command_id=48,
            ticks=638266374407066800,
            was_accepted=True,
            result_code=0,
            comment="",
            timestamp=datetime(2023, 8, 3, 5, 30, 40, 706680, tzinfo=UTC).timestamp(),
            delivered_at=datetime(2023, 8, 3, 5, 30, 40, 379000, tzinfo=UTC).timestamp(),
        )

    def test_camel_case_and_defaults(self) -> None:
        response = Decoder().command_response(
            {"serialNumber": "EH1", "id": 30, "wasAccepted": None, "timestamp": "bad"}
        )
        assert response == CommandResponse(
            charger_id="EH1", command_id=30, ticks=0, was_accepted=False, result_code=0
        )

    @pytest.mark.parametrize(
        ("payload", "reason"),
        [
            ([], "not_an_object"),
            ({"serialNumber": "EH1", "id": 48}, "missing_field"),
            ({"id": 48, "wasAccepted": True}, "missing_field"),
            ({"serialNumber": "", "id": 48, "wasAccepted": True}, "bad_field"),
            ({"serialNumber": "EH1", "id": "x", "wasAccepted": True}, "bad_field"),
            ({"serialNumber": "EH1", "id": 48, "wasAccepted": "perhaps"}, "bad_field"),
            ({"serialNumber": "EH1", "id": 48, "wasAccepted": True, "ticks": 1.5}, "bad_field"),
        ],
    )
    def test_bad_responses(self, payload: object, reason: str) -> None:
        decoder = Decoder()
        assert decoder.command_response(payload) is None
        assert decoder.errors == {reason: 1}
