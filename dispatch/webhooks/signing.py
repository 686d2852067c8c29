"""Standard Webhooks signatures, made by the project's own library (`standardwebhooks`).

A secret is "whsec_" and the base64 of 32 random bytes. The signature is HMAC-SHA256 over
`<webhook-id>.<webhook-timestamp>.<body>`; during a rotation's grace period the header carries
one signature per secret, space-separated ("v1,<new> v1,<old>"), and a receiver holding either
secret accepts the delivery."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Sequence
from datetime import datetime

from standardwebhooks.webhooks import Webhook

PREFIX = "whsec_"


def new_secret() -> str:
    return PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def headers(event_id: str, sent_at: datetime, body: str, signing_secrets: Sequence[str]) -> dict[str, str]:
    """The Standard Webhooks headers of one attempt (a fresh timestamp each time)."""
    signatures = [Webhook(secret).sign(event_id, sent_at, body) for secret in signing_secrets]
    return {
        "webhook-id": event_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": " ".join(signatures),
        "content-type": "application/json",
    }
