"""Pickup codes, pure code.

A code is derived from the server's secret and what it authorizes (a job's authorization, or a
load at one version of its assignment): HMAC-SHA256 truncated to 60 bits, written as 12 Crockford
base32 symbols in groups of four (`K7M2-QX9P-4T0B`). Deriving (not storing) means the carrier can
be shown its code again; the database keeps only a SHA-256 of the normalized code for the gate's
lookup. Crockford's alphabet has no I, L, O or U, and normalization maps the look-alikes a person
might type.
Rotating the secret changes every code (authorizations must then be reissued).
"""

from __future__ import annotations

import hashlib
import hmac
from uuid import UUID

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})
LENGTH = 12


def derive_code(secret: str, purpose: str, subject: UUID) -> str:
    digest = hmac.new(secret.encode(), f"pickup-code:{purpose}:{subject}".encode(), hashlib.sha256).digest()
    number = int.from_bytes(digest[:8], "big") >> 4  # 60 bits
    symbols = []
    for _ in range(LENGTH):
        number, index = divmod(number, 32)
        symbols.append(ALPHABET[index])
    raw = "".join(reversed(symbols))
    return "-".join(raw[i : i + 4] for i in range(0, LENGTH, 4))


def authorization_code(secret: str, authorization_id: UUID) -> str:
    return derive_code(secret, "authorization", authorization_id)


def load_code(secret: str, load_id: UUID, version: int) -> str:
    # The assignment version is part of the derivation: reassigning a load changes its code.
    return derive_code(secret, f"load:v{version}", load_id)


def normalize(code: str) -> str:
    """What a person typed or a scanner read, in canonical form (may still be invalid)."""
    return code.upper().replace("-", "").replace(" ", "").translate(_LOOKALIKES)


def code_hash(code: str) -> bytes:
    return hashlib.sha256(normalize(code).encode()).digest()
