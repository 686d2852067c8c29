"""Idempotency keys for state-changing requests (the drivers' phones retry on flaky networks).

A request with an `Idempotency-Key` header is handled once per (credential, key):
- the first one runs; its answer (status, content type, body) is stored, unless it is a 5xx,
  which is forgotten so that a retry may succeed;
- a retry with the same method, path and body gets the stored answer again, with
  `Idempotency-Replayed: true`, and changes nothing;
- the same key with another request is refused (422 `idempotency_key_reused`); while the first is
  still running, a retry gets 409 `request_in_progress`.
The key row is claimed with one conditional insert, so two racing retries cannot both run.
Keys older than 24 hours are purged by the background loops.
"""

from __future__ import annotations

import hashlib
from typing import Any

import msgspec
from litestar.types import ASGIApp

from dispatch.accounts.models import Principal
from dispatch.db.availability import is_database_away

HEADER = b"idempotency-key"
KEEP_HOURS = 24
_CHANGES = {"POST", "PUT", "PATCH", "DELETE"}
Headers = tuple[tuple[bytes, bytes], ...]

CLAIM = """
INSERT INTO idempotency_keys (credential_id, key, request_hash) VALUES ($1, $2, $3)
ON CONFLICT (credential_id, key) DO NOTHING
RETURNING key"""

EXISTING = """
SELECT request_hash, status, content_type, body FROM idempotency_keys
WHERE credential_id = $1 AND key = $2"""

STORE = """
UPDATE idempotency_keys SET status = $3, content_type = $4, body = $5
WHERE credential_id = $1 AND key = $2"""

FORGET = "DELETE FROM idempotency_keys WHERE credential_id = $1 AND key = $2"

PURGE = "DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(hours => $1)"


async def _send(send: Any, status: int, body: bytes, content_type: str, extra: Headers = ()) -> None:
    headers = [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode()), *extra]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _problem(send: Any, status: int, code: str, detail: str, extra: Headers = ()) -> None:
    body = {
        "type": f"/problems/{code}",
        "title": "Idempotency",
        "status": status,
        "detail": detail,
        "code": code,
    }
    await _send(send, status, msgspec.json.encode(body), "application/problem+json", extra)


async def _read_body(receive: Any) -> bytes:
    chunks: list[bytes] = []
    more = True
    while more:
        message = await receive()
        chunks.append(message.get("body", b""))
        more = bool(message.get("more_body", False))
    return b"".join(chunks)


def idempotency_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Any, receive: Any, send: Any) -> None:
        key = next((bytes(v).decode("latin-1") for k, v in scope.get("headers", []) if k == HEADER), None)
        principal = scope.get("user")
        if (
            scope["type"] != "http"
            or scope.get("method") not in _CHANGES
            or key is None
            or not isinstance(principal, Principal)
            or principal.credential_id is None
        ):
            await app(scope, receive, send)
            return
        if not 1 <= len(key) <= 200:
            await _problem(send, 400, "bad_idempotency_key", "Idempotency-Key must be 1 to 200 characters.")
            return
        # The body is part of what makes a retry "the same request".
        body = await _read_body(receive)
        digest = hashlib.sha256(
            b"\n".join(
                [scope["method"].encode(), scope["path"].encode(), scope.get("query_string", b""), body]
            )
        ).digest()
        db = scope["app"].state.runtime.db
        credential = principal.credential_id

        if await db.fetchval(CLAIM, credential, key, digest) is None:
            row = await db.fetchrow(EXISTING, credential, key)
            if row is None or row["request_hash"] != digest:
                await _problem(
                    send,
                    422,
                    "idempotency_key_reused",
                    "This Idempotency-Key was used for a different request.",
                )
            elif row["status"] is None:
                await _problem(
                    send,
                    409,
                    "request_in_progress",
                    "The first request with this Idempotency-Key is still being handled.",
                    ((b"retry-after", b"1"),),
                )
            else:
                await _send(
                    send,
                    row["status"],
                    bytes(row["body"] or b""),
                    row["content_type"] or "application/json",
                    ((b"idempotency-replayed", b"true"),),
                )
            return

        delivered = False

        async def replay_body() -> Any:
            nonlocal delivered
            if delivered:
                return {"type": "http.disconnect"}
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}

        answer: dict[str, Any] = {"status": 500, "content_type": None, "body": []}

        async def capture(message: Any) -> None:
            if message["type"] == "http.response.start":
                answer["status"] = message["status"]
                answer["content_type"] = next(
                    (bytes(v).decode() for k, v in message.get("headers", []) if k == b"content-type"), None
                )
            elif message["type"] == "http.response.body":
                answer["body"].append(message.get("body", b""))
            await send(message)

        runtime = scope["app"].state.runtime
        try:
            await app(scope, replay_body, capture)
        except BaseException:
            await _record(runtime, FORGET, credential, key)
            raise
        if answer["status"] >= 500:
            await _record(runtime, FORGET, credential, key)
        else:
            await _record(
                runtime,
                STORE,
                credential,
                key,
                answer["status"],
                answer["content_type"],
                b"".join(answer["body"]),
            )

    return middleware


async def _record(runtime: Any, query: str, *args: Any) -> None:
    """Store the answer or release the claim. With the database away (the answer, a 503, is sent
    already) it is done as soon as the database is back, so a retry is not refused meanwhile."""
    try:
        await runtime.db.execute(query, *args)
    except Exception as exc:
        if not is_database_away(exc):
            raise
        runtime.availability.noticed(exc)
        runtime.availability.after_recovery(lambda: runtime.db.execute(query, *args))


async def purge(db: Any) -> int:
    """Forget keys older than KEEP_HOURS; returns 0 so the loop runner does not repeat it."""
    await db.execute(PURGE, KEEP_HOURS)
    return 0
