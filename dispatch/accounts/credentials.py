"""Bearer credentials, pure code (no I/O).

Three kinds, told apart by their prefix so a request needs at most one lookup:
- user session tokens `u1.<payload>.<mac>`: signed with HMAC-SHA256 over the settings' secret,
  expiring; the payload names the user, the one organization the session acts for, and the
  session's row (`sid`), which authentication checks so that a session can be ended before it expires.
- API tokens `dsp_api_<secret>` and driver device tokens `dsp_dev_<secret>`: random 256-bit
  secrets shown once; the database keeps only their SHA-256 and can revoke them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta
from typing import Literal
from uuid import UUID

import msgspec

USER_PREFIX = "u1."
API_PREFIX = "dsp_api_"
DEVICE_PREFIX = "dsp_dev_"


class InvalidToken(Exception):
    """The token is not one we issued, or no longer valid; the message says which."""

    def __init__(self, reason: Literal["token_malformed", "token_invalid", "token_expired"], detail: str):
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


class SessionClaims(msgspec.Struct, frozen=True):
    sub: UUID
    org: UUID
    iat: int
    exp: int
    # The session's row in `sessions`. Tokens signed before sessions were stored have none, and are
    # refused as ended.
    sid: UUID | None = None


_claims_decoder = msgspec.json.Decoder(SessionClaims)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: str, payload: str) -> str:
    return _b64(hmac.new(secret.encode(), (USER_PREFIX + payload).encode(), hashlib.sha256).digest())


def sign_session(
    secret: str,
    user_id: UUID,
    org_id: UUID,
    ttl_seconds: int,
    now: datetime,
    session_id: UUID | None = None,
) -> tuple[str, datetime]:
    issued = int(now.timestamp())
    claims = SessionClaims(sub=user_id, org=org_id, iat=issued, exp=issued + ttl_seconds, sid=session_id)
    payload = _b64(msgspec.json.encode(claims))
    return f"{USER_PREFIX}{payload}.{_mac(secret, payload)}", now + timedelta(seconds=ttl_seconds)


def verify_session(secret: str, token: str, now: datetime) -> SessionClaims:
    body = token.removeprefix(USER_PREFIX)
    payload, dot, mac = body.partition(".")
    if not dot or not payload or not mac:
        raise InvalidToken("token_malformed", "The bearer token is malformed.")
    if not hmac.compare_digest(mac, _mac(secret, payload)):
        raise InvalidToken("token_invalid", "The bearer token's signature is not valid.")
    try:
        claims = _claims_decoder.decode(_unb64(payload))
    except (ValueError, msgspec.DecodeError):
        raise InvalidToken("token_malformed", "The bearer token is malformed.") from None
    if claims.exp <= now.timestamp():
        expired = datetime.fromtimestamp(claims.exp, UTC).isoformat()
        raise InvalidToken("token_expired", f"The bearer token expired at {expired}; log in again.")
    return claims


def new_secret(prefix: str) -> tuple[str, bytes]:
    """A fresh opaque token and the hash to store for it."""
    token = prefix + secrets.token_urlsafe(32)
    return token, secret_hash(token)


def secret_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()
