"""The Standard Webhooks verifier on its own: the spec's test vector, rotation, hostile input."""

from __future__ import annotations

import base64

from hypothesis import given
from hypothesis import strategies as st

from exporter.config.model import secret_key
from exporter.webhooks.standard_webhooks import (
    MAX_SIGNATURES,
    Failure,
    SignedHeaders,
    check_headers,
    matching_key,
    sign,
)

# The test vector of the Standard Webhooks specification (conventions.md 5.2).
VECTOR_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
VECTOR_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
VECTOR_TIMESTAMP = 1614265330
VECTOR_BODY = b'{"test": 2432232314}'
VECTOR_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

KEY = secret_key(VECTOR_SECRET)
OTHER_KEY = b"another secret of at least 24 bytes"


def headers(signature: str, *, webhook_id: str = VECTOR_ID) -> SignedHeaders:
    return SignedHeaders(webhook_id, str(VECTOR_TIMESTAMP), signature)


def test_the_specification_test_vector() -> None:
    assert sign(KEY, VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY) == VECTOR_SIGNATURE
    assert matching_key(headers(VECTOR_SIGNATURE), VECTOR_BODY, [KEY]) == 0


def test_any_entry_may_match_any_key_during_a_rotation() -> None:
    other = sign(OTHER_KEY, VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY)
    both = f"{other} v1a,c29tZSBlZDI1NTE5 {VECTOR_SIGNATURE}"
    assert matching_key(headers(both), VECTOR_BODY, [OTHER_KEY, KEY]) == 0
    assert matching_key(headers(both), VECTOR_BODY, [b"x" * 24, KEY]) == 1
    assert matching_key(headers(VECTOR_SIGNATURE), VECTOR_BODY, [OTHER_KEY]) is (
        Failure.BAD_SIGNATURE
    )


def test_a_changed_body_id_or_timestamp_breaks_the_signature() -> None:
    assert matching_key(headers(VECTOR_SIGNATURE), b'{"test": 1}', [KEY]) is Failure.BAD_SIGNATURE
    moved = SignedHeaders(VECTOR_ID, str(VECTOR_TIMESTAMP + 1), VECTOR_SIGNATURE)
    assert matching_key(moved, VECTOR_BODY, [KEY]) is Failure.BAD_SIGNATURE
    renamed = headers(VECTOR_SIGNATURE, webhook_id="msg_other")
    assert matching_key(renamed, VECTOR_BODY, [KEY]) is Failure.BAD_SIGNATURE


def test_malformed_signatures_are_refused_not_raised() -> None:
    # The standardwebhooks package raises ValueError / binascii.Error on these.
    for signature in ("v1", "garbage", "v1,!!!", "v1,", ",", "v2,abc", "v1,YWJj"):
        assert matching_key(headers(signature), VECTOR_BODY, [KEY]) is Failure.BAD_SIGNATURE


def test_eight_signature_entries_are_read_and_nine_are_refused() -> None:
    # Written out, not taken from the module: a changed bound must fail here.
    assert MAX_SIGNATURES == 8
    filler = sign(OTHER_KEY, VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY)
    eight = " ".join([filler] * 7 + [VECTOR_SIGNATURE])
    assert matching_key(headers(eight), VECTOR_BODY, [KEY]) == 0
    nine = " ".join([filler] * 8 + [VECTOR_SIGNATURE])
    assert matching_key(headers(nine), VECTOR_BODY, [KEY]) is Failure.MALFORMED


def test_webhook_id_characters_and_length_at_their_bounds() -> None:
    now = VECTOR_TIMESTAMP
    # "!" (33) and "~" (126) are the ends of the printable range; 256 characters the limit.
    for webhook_id in ("!", "~", "msg!~", "!" * 256):
        shaped = headers(VECTOR_SIGNATURE, webhook_id=webhook_id)
        assert check_headers(shaped, now, 300) is None, webhook_id
    for webhook_id in (" ", "\x7f", "msg\x1f", "!" * 257):
        shaped = headers(VECTOR_SIGNATURE, webhook_id=webhook_id)
        assert check_headers(shaped, now, 300) is Failure.MALFORMED, webhook_id
    for stamp in ("9" * 12, "9" * 13):
        shaped = SignedHeaders(VECTOR_ID, stamp, VECTOR_SIGNATURE)
        expected = Failure.EXPIRED if len(stamp) == 12 else Failure.MALFORMED
        assert check_headers(shaped, now, 300) is expected


def test_timestamp_window_and_header_shapes() -> None:
    now = VECTOR_TIMESTAMP + 300
    assert check_headers(headers(VECTOR_SIGNATURE), now, 300) is None
    assert check_headers(headers(VECTOR_SIGNATURE), now + 1, 300) is Failure.EXPIRED
    assert check_headers(headers(VECTOR_SIGNATURE), VECTOR_TIMESTAMP - 301, 300) is (
        Failure.EXPIRED
    )
    assert Failure.EXPIRED.reason == "expired_timestamp"
    for webhook_id in ("", "a.b", "with space", "é", "x" * 257):
        shaped = headers(VECTOR_SIGNATURE, webhook_id=webhook_id)
        assert check_headers(shaped, now, 300) is Failure.MALFORMED
    for stamp in ("", "-1", "1.5", "1e9", "0x10", "１２"):
        shaped = SignedHeaders(VECTOR_ID, stamp, VECTOR_SIGNATURE)
        assert check_headers(shaped, now, 300) is Failure.MALFORMED


@given(
    webhook_id=st.text(max_size=40),
    timestamp=st.text(max_size=20),
    signature=st.text(max_size=200),
    body=st.binary(max_size=64),
)
def test_no_header_value_makes_the_verifier_raise(
    webhook_id: str, timestamp: str, signature: str, body: bytes
) -> None:
    signed = SignedHeaders(webhook_id, timestamp, signature)
    if check_headers(signed, VECTOR_TIMESTAMP, 300) is None:
        assert isinstance(matching_key(signed, body, [KEY, OTHER_KEY]), Failure | int)


def test_whsec_keys_are_the_decoded_bytes() -> None:
    raw = bytes(range(24))
    assert secret_key("whsec_" + base64.b64encode(raw).decode()) == raw
