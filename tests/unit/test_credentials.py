import base64
import json
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from dispatch.accounts import credentials
from dispatch.accounts.credentials import InvalidToken, sign_session, verify_session

SECRET = "s" * 40
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def test_round_trip_names_user_and_org():
    user, org = uuid4(), uuid4()
    token, expires = sign_session(SECRET, user, org, 3600, NOW)
    claims = verify_session(SECRET, token, NOW + timedelta(minutes=59))
    assert (claims.sub, claims.org) == (user, org)
    assert expires == NOW + timedelta(hours=1)


def test_expired_token_is_refused():
    token, _ = sign_session(SECRET, uuid4(), uuid4(), 60, NOW)
    with pytest.raises(InvalidToken) as exc:
        verify_session(SECRET, token, NOW + timedelta(seconds=60))
    assert exc.value.reason == "token_expired"


def test_payload_swapped_for_another_org_is_refused():
    token, _ = sign_session(SECRET, uuid4(), uuid4(), 3600, NOW)
    payload, mac = token.removeprefix("u1.").split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["org"] = str(uuid4())
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    with pytest.raises(InvalidToken) as exc:
        verify_session(SECRET, f"u1.{forged}.{mac}", NOW)
    assert exc.value.reason == "token_invalid"


def test_a_token_verified_before_is_still_refused_once_expired():
    """The signature is checked once per token (remembered); the expiry on every call."""
    token, _ = sign_session(SECRET, uuid4(), uuid4(), 60, NOW)
    assert verify_session(SECRET, token, NOW + timedelta(seconds=59)).exp == int(NOW.timestamp()) + 60
    with pytest.raises(InvalidToken) as exc:
        verify_session(SECRET, token, NOW + timedelta(seconds=60))
    assert exc.value.reason == "token_expired"


def test_a_genuine_token_verified_before_vouches_for_no_other_token_or_secret():
    """What is remembered is the verdict on one token's exact text under one secret: a forged
    payload with the genuine signature, the genuine token under another secret, and a forged token
    asked twice are each refused."""
    token, _ = sign_session(SECRET, uuid4(), uuid4(), 3600, NOW)
    verify_session(SECRET, token, NOW)
    payload, mac = token.removeprefix("u1.").split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["org"] = str(uuid4())
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    for _ in range(2):
        with pytest.raises(InvalidToken) as exc:
            verify_session(SECRET, f"u1.{forged}.{mac}", NOW)
        assert exc.value.reason == "token_invalid"
    with pytest.raises(InvalidToken) as exc:
        verify_session("other" * 10, token, NOW)
    assert exc.value.reason == "token_invalid"


def test_token_signed_with_another_secret_is_refused():
    token, _ = sign_session("other" * 10, uuid4(), uuid4(), 3600, NOW)
    with pytest.raises(InvalidToken) as exc:
        verify_session(SECRET, token, NOW)
    assert exc.value.reason == "token_invalid"


@pytest.mark.parametrize("token", ["u1.", "u1.abc", "u1..", "u1.abc."])
def test_malformed_tokens(token):
    with pytest.raises(InvalidToken) as exc:
        verify_session(SECRET, token, NOW)
    assert exc.value.reason == "token_malformed"


def test_opaque_secrets_are_unique_and_only_their_hash_is_kept():
    a, ha = credentials.new_secret(credentials.API_PREFIX)
    b, hb = credentials.new_secret(credentials.API_PREFIX)
    assert a != b and ha != hb
    assert a.startswith("dsp_api_") and len(a) > 40
    assert credentials.secret_hash(a) == ha and a.encode() not in ha
