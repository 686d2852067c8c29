"""Problem details (RFC 9457) for every error the API returns.

Services raise `Problem` subclasses with a stable machine-readable `code`; the handlers here turn
those, Litestar's own HTTP errors and validation failures into `application/problem+json`:

    {"type": "/problems/<code>", "title": ..., "status": ..., "detail": ..., "code": ...,
     "request_id": ..., "errors": [{"field": "$.cargo.weight_kg", "reason": "..."}]}

The codes are listed in docs/errors.md.
"""

from __future__ import annotations

import logging
import re
from http import HTTPStatus
from typing import Any

import asyncpg
import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, SerializationException, ValidationException
from litestar.types import ASGIApp, ExceptionHandlersMap, Message, Receive, Send

from dispatch.close_codes import CloseCode
from dispatch.db.availability import RETRY_AFTER_S, is_database_away
from dispatch.observability import current_request_id

log = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"


class Problem(Exception):
    """A client-facing error. Subclasses fix the status; `code` names the specific case."""

    status: int = 400
    code: str = "bad_request"

    def __init__(self, detail: str, *, code: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code
        self.extra = extra


class BadRequest(Problem):
    status, code = 400, "bad_request"


class Unauthorized(Problem):
    status, code = 401, "unauthorized"


class Forbidden(Problem):
    status, code = 403, "forbidden"


class NotFound(Problem):
    status, code = 404, "not_found"


class Conflict(Problem):
    status, code = 409, "conflict"


class Unprocessable(Problem):
    status, code = 422, "unprocessable"


class UpgradeRequired(Problem):
    """The client is older than the server serves (the driver app's X-App-Version)."""

    status, code = 426, "upgrade_required"


def problem_response(
    status: int,
    code: str,
    detail: str,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[dict[str, Any]]:
    body = problem_body(status, code, detail, extra)
    return Response(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def problem_body(status: int, code: str, detail: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The one shape of a problem-details body, for HTTP answers and refused websocket handshakes."""
    body: dict[str, Any] = {
        "type": f"/problems/{code}",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "code": code,
    }
    request_id = current_request_id()
    if request_id:
        body["request_id"] = request_id
    if extra:
        body.update(extra)
    return body


async def send_problem(send: Any, answer: Response[dict[str, Any]], *, upgrade: bool = False) -> None:
    """Send a problem answer through raw ASGI: from a middleware, outside Litestar's handlers, or
    (`upgrade`) as the HTTP answer that refuses a websocket's upgrade (ASGI's websocket denial
    response, which uvicorn offers; nothing is sent on a socket)."""
    data = msgspec.json.encode(answer.content)
    fields = [(b"content-type", PROBLEM_MEDIA_TYPE.encode()), (b"content-length", str(len(data)).encode())]
    fields += [(k.lower().encode(), v.encode()) for k, v in answer.headers.items()]
    kind = "websocket.http.response" if upgrade else "http.response"
    await send({"type": f"{kind}.start", "status": answer.status_code, "headers": fields})
    await send({"type": f"{kind}.body", "body": data, "more_body": False})


async def refuse_upgrade(send: Any, failure: Exception) -> None:
    """Answer a websocket's upgrade request with the problem answer `failure` gets over HTTP."""
    await send_problem(send, problem_answer(failure), upgrade=True)


# msgspec says e.g. "Expected `int`, got `str` - at `$.cargo[0].weight_kg`".
_MSGSPEC_AT = re.compile(r"^(?P<reason>.*?)(?: - at `(?P<path>[^`]*)`)?$", re.DOTALL)


def _field_errors(exc: ValidationException) -> list[dict[str, str]]:
    """Litestar's validation extras as `{field, reason, source}`, body fields as JSON paths."""
    errors: list[dict[str, str]] = []
    extra = exc.extra if isinstance(exc.extra, list) else [exc.extra] if exc.extra else []
    for item in extra:
        if not isinstance(item, dict):
            continue
        match = _MSGSPEC_AT.match(str(item.get("message", "")))
        reason = match.group("reason") if match else str(item.get("message", ""))
        raw_source = item.get("source") or "body"  # ParamType.QUERY: its value, "query"
        source = str(getattr(raw_source, "value", raw_source))
        key = str(item.get("key") or "")
        if source == "body":
            # "data" is the whole body; otherwise a path inside it such as "role_ids[0]".
            field = "$" if key in ("", "data") else f"$.{key}"
        else:
            field = key
        errors.append({"field": field, "reason": reason, "source": source})
    return errors


def _validation_answer(exc: ValidationException) -> Response[dict[str, Any]]:
    errors = _field_errors(exc)
    if errors:
        detail = "; ".join(f"{e['field']}: {e['reason']}" for e in errors)
    else:
        detail = exc.detail
    return problem_response(400, "validation_failed", detail, {"errors": errors})


_HTTP_CODES = {
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "body_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
    503: "unavailable",
}


def _http_answer(exc: HTTPException) -> Response[dict[str, Any]]:
    status = exc.status_code
    if status == 400 and isinstance(exc.__cause__, SerializationException):
        return problem_response(400, "malformed_body", f"The request body is not valid JSON: {exc.detail}")
    code = _HTTP_CODES.get(status, "http_error" if status < 500 else "internal_error")
    return problem_response(status, code, exc.detail, headers=exc.headers)


_UNAVAILABLE_DETAIL = (
    f"The database is unavailable right now; nothing was changed. Retry in {RETRY_AFTER_S} s."
)


def database_unavailable() -> Response[dict[str, Any]]:
    """503 while the database is away: nothing was changed, the same request may be sent again."""
    return problem_response(
        503,
        "database_unavailable",
        _UNAVAILABLE_DETAIL,
        headers={"Retry-After": str(RETRY_AFTER_S)},
    )


def problem_answer(exc: Exception) -> Response[dict[str, Any]]:
    """The problem answer for an error, the same over HTTP and to a refused websocket upgrade."""
    if isinstance(exc, Problem):
        return problem_response(exc.status, exc.code, exc.detail, exc.extra)
    if isinstance(exc, ValidationException):
        return _validation_answer(exc)
    if isinstance(exc, HTTPException):
        return _http_answer(exc)
    if isinstance(exc, asyncpg.CharacterNotInRepertoireError | asyncpg.UntranslatableCharacterError):
        return problem_response(
            400, "invalid_text", "The request holds text the database cannot store (NUL)."
        )
    if isinstance(exc, asyncpg.DataError | OverflowError):
        return problem_response(
            400, "invalid_value", "A value in the request is outside what can be handled."
        )
    if is_database_away(exc):
        return database_unavailable()
    return problem_response(500, "internal_error", "An unexpected error occurred; it has been logged.")


def _handle_expected(_: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    return problem_answer(exc)


def _handle_out_of_range(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    # A safety net behind the checks where requests are decoded (dispatch.edge, the wire types):
    # PostgreSQL's "data exception" class (and asyncpg's refusal to bind a value) means a value the
    # database cannot hold (NUL in text, beyond int64 or float32, a time it cannot place), and an
    # OverflowError one that date or float arithmetic cannot (a time in year 1 or 9999 moved by a
    # day). Either is the request's: the statement stored nothing. One line, no traceback: it means
    # a check is missing.
    log.warning("a value out of range on %s %s: %.200s", request.method, request.url.path, exc)
    return problem_answer(exc)


def _handle_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    if is_database_away(exc):
        # Not a bug, and not worth a traceback per request: the outage is logged once, by the
        # process's Availability (dispatch/db/availability.py).
        request.app.state.runtime.availability.noticed(exc)
    else:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
    return problem_answer(exc)


# Websockets: Litestar closes a socket whose handler raised with 4500 (4000 + the status of an HTTP
# error), whatever the error, and uvicorn answers a close before the accept with a bare 403. A live
# socket is accepted only once its credentials, guards and the handler's own checks passed
# (dispatch/realtime/session.py), so what failed before the accept is answered as over HTTP: the
# problem-details answer of the same failure (401, 403, 404, 503 with Retry-After while the
# database is away...). An accepted socket that failed because the database is away is closed with
# 1013 (Try Again Later; reconnect, with its cursor where it has one).
_FAILURES = "dispatch.socket_failures"


async def note_socket_failure(exc: Exception, scope: Any) -> None:
    """Litestar's after-exception hook: keeps what a websocket's handler (or its guards, or the
    bearer middleware) raised, for `refuse_failed_sockets`."""
    if scope["type"] != "websocket":
        return
    if is_database_away(exc):
        scope["app"].state.runtime.availability.noticed(exc)
    failures = scope.get(_FAILURES)
    if isinstance(failures, list):
        failures.append(exc)


def refuse_failed_sockets(app: ASGIApp) -> ASGIApp:
    """Around the app: turns Litestar's close of a socket that failed (see `note_socket_failure`)
    into the problem answer before the accept, or 1013 after it for the database (see above)."""

    async def middleware(scope: Any, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket":
            await app(scope, receive, send)
            return
        failures: list[Exception] = []
        scope[_FAILURES] = failures
        can_refuse = "websocket.http.response" in (scope.get("extensions") or {})
        accepted = False

        async def send_or_refuse(message: Message) -> None:
            nonlocal accepted
            if message["type"] == "websocket.accept":
                accepted = True
            elif message["type"] == "websocket.close" and failures:
                if not accepted and can_refuse:
                    await refuse_upgrade(send, failures[-1])
                    return
                if accepted and is_database_away(failures[-1]):
                    message = {
                        "type": "websocket.close",
                        "code": CloseCode.TRY_AGAIN_LATER,
                        "reason": "database unavailable",
                    }
            await send(message)

        await app(scope, receive, send_or_refuse)

    return middleware


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    Problem: _handle_expected,
    ValidationException: _handle_expected,
    HTTPException: _handle_expected,
    asyncpg.DataError: _handle_out_of_range,
    OverflowError: _handle_out_of_range,
    Exception: _handle_unexpected,
}

__all__ = [
    "EXCEPTION_HANDLERS",
    "PROBLEM_MEDIA_TYPE",
    "BadRequest",
    "Conflict",
    "Forbidden",
    "NotFound",
    "Problem",
    "Unauthorized",
    "Unprocessable",
    "UpgradeRequired",
    "database_unavailable",
    "note_socket_failure",
    "problem_answer",
    "problem_body",
    "problem_response",
    "refuse_failed_sockets",
    "refuse_upgrade",
    "send_problem",
]
