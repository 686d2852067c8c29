"""Idempotency keys for state-changing requests (the drivers' phones retry on flaky networks).

A request with an `Idempotency-Key` header is handled once per (credential, key):
- the first one runs; its answer (status, content type, body) is stored, unless it is a 5xx,
  which is forgotten so that a retry may succeed;
- a retry with the same method, path and body gets the stored answer again, with
  `Idempotency-Replayed: true`, and changes nothing;
- the same key with another request is refused (422 `idempotency_key_reused`); while the first is
  still running, a retry gets 409 `request_in_progress`.

Before a byte of the body is read, the route's guards run (a credential of the wrong kind gets its
403 `wrong_credential_kind`) and the body limit is checked against `Content-Length`; the body is then
read counting its bytes as they arrive (chunked bodies too), 413 `body_too_large` past the limit,
the same limit (`DISPATCH_MAX_BODY_BYTES`) Litestar enforces on requests without a key.

Faults (a killed worker, a database restart, a client that goes away):
- The key is claimed only once the whole body has arrived. A request whose client disconnects
  before that claims nothing and stores nothing: its retry with the full body runs normally.
  A client that disconnects after its body arrived does not stop the work: the answer is stored,
  and the retry gets it.
- A claim is a lease (`DISPATCH_IDEMPOTENCY_LEASE_SECONDS`, default 60, far longer than a request
  takes). When it runs out with no answer stored (the worker died, or could not reach the database
  to store or forget), a retry with the same request takes the claim over and runs. Claiming and
  taking over are one conditional statement, so two racing retries cannot both run. The holder
  that was taken over (if it was only slow) can no longer store or forget the claim.
Keys older than 24 hours are purged by the background loops.
"""

from __future__ import annotations

import contextlib
import hashlib
import uuid
from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from litestar.types import ASGIApp

from dispatch.accounts.principal import Principal
from dispatch.db.availability import is_database_away
from dispatch.errors import problem_response, send_problem

HEADER = b"idempotency-key"
KEEP_HOURS = 24
_CHANGES = {"POST", "PUT", "PATCH", "DELETE"}
Headers = tuple[tuple[bytes, bytes], ...]

# A new key, or one whose holder's lease ran out with no answer stored and the same request: ON
# CONFLICT locks the row, so of two racing retries the second sees the first's fresh lease.
CLAIM = """
INSERT INTO idempotency_keys AS k (credential_id, key, request_hash, claim_id, lease_until)
VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5))
ON CONFLICT (credential_id, key) DO UPDATE
    SET claim_id = excluded.claim_id, lease_until = excluded.lease_until, created_at = now()
    WHERE k.status IS NULL AND k.lease_until <= now() AND k.request_hash = excluded.request_hash
RETURNING k.key"""

EXISTING = """
SELECT request_hash, status, content_type, body FROM idempotency_keys
WHERE credential_id = $1 AND key = $2"""

STORE = """
UPDATE idempotency_keys SET status = $4, content_type = $5, body = $6
WHERE credential_id = $1 AND key = $2 AND claim_id = $3"""

FORGET = "DELETE FROM idempotency_keys WHERE credential_id = $1 AND key = $2 AND claim_id = $3"

PURGE = "DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(hours => $1)"


def request_hash(method: str, path: str, query: bytes, body: bytes) -> bytes:
    """What makes a retry "the same request": method, path, query and body."""
    return hashlib.sha256(b"\n".join([method.encode(), path.encode(), query, body])).digest()


async def claim(db: Any, credential: uuid.UUID, key: str, digest: bytes, lease_s: float) -> uuid.UUID | None:
    """Claim `key` for a request with this digest; its claim id, or None if the key is taken (answered,
    held under a live lease, or used for another request)."""
    claim_id = uuid.uuid4()
    if await db.fetchval(CLAIM, credential, key, digest, claim_id, float(lease_s)) is None:
        return None
    return claim_id


async def _send(send: Any, status: int, body: bytes, content_type: str, extra: Headers = ()) -> None:
    headers = [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode()), *extra]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _content_length(scope: Any) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            with contextlib.suppress(ValueError):
                return int(value)
    return None


async def _read_body(receive: Any, limit: float) -> bytes | None:
    """The whole body, or None when the client went away before it all arrived; 413 past `limit`,
    counted as the chunks arrive, so no more than the limit is ever held."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise RequestEntityTooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
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
            # Without a key, Litestar runs the guards before reading the body and enforces the limit
            # (request_max_body_size) while streaming it.
            await app(scope, receive, send)
            return
        handler = scope["route_handler"]
        # Litestar would run the guards after this middleware; a caller they refuse must not get to
        # send a body first. (They run again in the route: cheap, and the same answer.)
        await handler.authorize_connection(ASGIConnection(scope, receive, send))
        if not 1 <= len(key) <= 200:
            await send_problem(
                send,
                problem_response(400, "bad_idempotency_key", "Idempotency-Key must be 1 to 200 characters."),
            )
            return
        limit = handler.resolve_request_max_body_size() or float("inf")
        announced = _content_length(scope)
        if announced is not None and announced > limit:
            raise RequestEntityTooLarge
        body = await _read_body(receive, limit)
        if body is None:
            # Nobody is left to answer, and an answer to a truncated body must never be stored under
            # the key: nothing is claimed, so the retry with the full body runs.
            return
        digest = request_hash(scope["method"], scope["path"], scope.get("query_string", b""), body)
        runtime = scope["app"].state.runtime
        db = runtime.db
        credential = principal.credential_id

        claim_id = await claim(db, credential, key, digest, runtime.settings.idempotency_lease_seconds)
        if claim_id is None:
            row = await db.fetchrow(EXISTING, credential, key)
            if row is None or row["request_hash"] != digest:
                await send_problem(
                    send,
                    problem_response(
                        422,
                        "idempotency_key_reused",
                        "This Idempotency-Key was used for a different request.",
                    ),
                )
            elif row["status"] is None:
                await send_problem(
                    send,
                    problem_response(
                        409,
                        "request_in_progress",
                        "The first request with this Idempotency-Key is still being handled.",
                        headers={"Retry-After": "1"},
                    ),
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
            # Recorded before it is sent: if the client has gone meanwhile (uvicorn then drops what is
            # sent), the answer is still stored for its retry.
            if message["type"] == "http.response.start":
                answer["status"] = message["status"]
                answer["content_type"] = next(
                    (bytes(v).decode() for k, v in message.get("headers", []) if k == b"content-type"), None
                )
            elif message["type"] == "http.response.body":
                answer["body"].append(message.get("body", b""))
            await send(message)

        try:
            await app(scope, replay_body, capture)
        except BaseException:
            # If the database is away this fails too: the lease then frees the key.
            with contextlib.suppress(Exception):
                await _record(runtime, FORGET, credential, key, claim_id)
            raise
        if answer["status"] >= 500:
            await _record(runtime, FORGET, credential, key, claim_id)
        else:
            await _record(
                runtime,
                STORE,
                credential,
                key,
                claim_id,
                answer["status"],
                answer["content_type"],
                b"".join(answer["body"]),
            )

    return middleware


async def _record(runtime: Any, query: str, *args: Any) -> None:
    """Store the answer or release the claim. With the database away (the answer, a 503, is sent
    already) it is done as soon as the database is back, so a retry gets the stored answer rather
    than waiting for the lease to run out and running again."""
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
