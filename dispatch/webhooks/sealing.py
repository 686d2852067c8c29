"""Webhook signing secrets are sealed at rest: the database holds them encrypted, never in clear.

A signing secret must be read back to sign each delivery (it is not a password: a hash would not
do), so a copy of the database (a backup, a replica, a dump handed over for a support case) would
otherwise let anyone forge deliveries to the organizations' systems. Each secret is stored as
`sealed1:` and the base64 of a 12-byte nonce and its AES-256-GCM ciphertext, under a key derived
from DISPATCH_SECRET_KEY (HKDF-SHA256, its own `info`, so it is not the key that signs tokens), with
the endpoint's organization as associated data: a sealed secret moved to another organization's
row does not open. Both from `cryptography` (the Python Cryptographic Authority's library).

A secret stored before sealing (it starts with `whsec_`) is still read as it is, and `dispatch
migrate` / `dispatch serve` seal every such secret once (`seal_stored`). Changing DISPATCH_SECRET_KEY
makes the sealed secrets unreadable: deliveries then fail with a reason that says so, until each
endpoint's secret is rotated (README, "Signing").
"""

from __future__ import annotations

import base64
import functools
import os
from uuid import UUID

import asyncpg
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from dispatch.webhooks import queries
from dispatch.webhooks.signing import PREFIX

SEALED = "sealed1:"
_NONCE_BYTES = 12


class CannotUnseal(ValueError):
    """The stored secret does not open with this server's key (DISPATCH_SECRET_KEY changed)."""


@functools.lru_cache(maxsize=4)
def _cipher(secret_key: str) -> AESGCM:
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"dispatch webhook signing secrets v1"
    ).derive(secret_key.encode())
    return AESGCM(key)


def seal(secret_key: str, org_id: UUID, secret: str) -> str:
    nonce = os.urandom(_NONCE_BYTES)
    sealed = _cipher(secret_key).encrypt(nonce, secret.encode(), org_id.bytes)
    return SEALED + base64.b64encode(nonce + sealed).decode()


def unseal(secret_key: str, org_id: UUID, stored: str) -> str:
    if stored.startswith(PREFIX):  # stored before secrets were sealed
        return stored
    if not stored.startswith(SEALED):
        raise CannotUnseal("not a sealed webhook secret")
    raw = base64.b64decode(stored.removeprefix(SEALED))
    try:
        return _cipher(secret_key).decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], org_id.bytes).decode()
    except InvalidTag:
        raise CannotUnseal("the secret does not open with this server's DISPATCH_SECRET_KEY") from None


async def seal_stored(conn: asyncpg.Connection, secret_key: str) -> int:
    """Seal every secret still stored in clear; how many endpoints were sealed. Each row is sealed
    only if it still holds what was read, so a rotation meanwhile is not overwritten."""
    sealed = 0
    for row in await conn.fetch(queries.ENDPOINTS_WITH_CLEAR_SECRETS):
        previous = row["previous_secret"]
        done = await conn.execute(
            queries.SEAL_SECRETS,
            row["id"],
            row["secret"],
            previous,
            _sealed_if_clear(secret_key, row["org_id"], row["secret"]),
            None if previous is None else _sealed_if_clear(secret_key, row["org_id"], previous),
        )
        sealed += done == "UPDATE 1"
    return sealed


def _sealed_if_clear(secret_key: str, org_id: UUID, stored: str) -> str:
    return seal(secret_key, org_id, stored) if stored.startswith(PREFIX) else stored
