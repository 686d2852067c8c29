"""Bearer credentials, pure code (no I/O).

Three kinds, told apart by their prefix so a request needs at most one lookup:
- user session tokens `u1.<payload>.<mac>`: signed with HMAC-SHA256 over the settings' secret,
  expiring; the payload names the user, the one organization the session acts for, and the
  session's row (`sid`), which authentication checks so that a session can be ended before it expires.
- API tokens `dsp_api_<secret>` and driver device tokens `dsp_dev_<secret>`: random 256-bit
  secrets shown once; the database keeps only their SHA-256 and can revoke them.

And two that people read and type, in Crockford's base32 (digits and letters without I, L, O and U,
so nothing reads as something else; typed in any case, with or without dashes and spaces, an I or
L taken as 1 and an O as 0):
- pairing codes `ABCD-2345`: 8 characters (40 bits), single-use, valid for minutes, throttled; the
  database keeps an HMAC of them under the server's secret (a plain hash of so small a space could
  be reversed by trying every code).
- tracker ids: 20 characters (100 bits), the device identifier Traccar Client sends with each
  position; the database keeps their SHA-256.
"""

from __future__ import annotations

import base64
import functools
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
    claims = _signed_claims(secret, token)
    if claims.exp <= now.timestamp():
        expired = datetime.fromtimestamp(claims.exp, UTC).isoformat()
        raise InvalidToken("token_expired", f"The bearer token expired at {expired}; log in again.")
    return claims


@functools.lru_cache(maxsize=4096)
def _signed_claims(secret: str, token: str) -> SessionClaims:
    """The claims a token's signature vouches for, or InvalidToken. Remembered for the token (its
    whole text, signature included): a worker checks a token's signature once, not on every request
    (15-40 us of a worker's CPU each, a twentieth of a grab's in the grab race: market README
    "Performance"). A refusal is not remembered: a forged token is checked every time. What can
    change (the expiry against the clock, the session ended, the membership) is judged on every
    request, after it."""
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
    return claims


def new_secret(prefix: str) -> tuple[str, bytes]:
    """A fresh opaque token and the hash to store for it."""
    token = prefix + secrets.token_urlsafe(32)
    return token, secret_hash(token)


def secret_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


# -- codes people read aloud and type ------------------------------------------------------------

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
PAIRING_CODE_LENGTH = 8
TRACKER_ID_LENGTH = 20
# Crockford's decoding of look-alikes, and what people put between groups.
_TYPED = str.maketrans({"I": "1", "L": "1", "O": "0", "-": None, " ": None})


def _random_code(length: int) -> str:
    return "".join(secrets.choice(CROCKFORD) for _ in range(length))


def canonical_code(text: str) -> str | None:
    """A typed code as issued (upper case, no separators, look-alikes decoded); None when it holds
    anything that is not in the alphabet."""
    code = text.strip().upper().translate(_TYPED)
    if not code or any(c not in CROCKFORD for c in code):
        return None
    return code


def new_pairing_code() -> str:
    """A fresh pairing code as shown: `ABCD-2345`."""
    code = _random_code(PAIRING_CODE_LENGTH)
    return f"{code[:4]}-{code[4:]}"


def pairing_code_hash(secret: str, code: str) -> bytes | None:
    """What the database keeps of a pairing code, from the code as typed; None: not a code at all."""
    canonical = canonical_code(code)
    if canonical is None or len(canonical) != PAIRING_CODE_LENGTH:
        return None
    return hmac.new(secret.encode(), b"pairing:" + canonical.encode(), hashlib.sha256).digest()


def new_tracker_id() -> tuple[str, bytes]:
    """A fresh tracker id and the hash to store for it."""
    tracker_id = _random_code(TRACKER_ID_LENGTH)
    hashed = tracker_id_hash(tracker_id)
    assert hashed is not None
    return tracker_id, hashed


def tracker_id_hash(tracker_id: str) -> bytes | None:
    """What the database keeps of a tracker id, from the id as typed; None: not a tracker id at all."""
    canonical = canonical_code(tracker_id)
    if canonical is None or len(canonical) != TRACKER_ID_LENGTH:
        return None
    return hashlib.sha256(canonical.encode()).digest()
