"""Problem details (RFC 9457) for every error the API returns.

Services raise `Problem` subclasses with a stable machine-readable `code`; the handlers here turn
those, Litestar's own HTTP errors and validation failures into `application/problem+json`:

    {"type": "/problems/<code>", "title": ..., "status": ..., "detail": ..., "code": ...,
     "request_id": ..., "errors": [{"field": "$.cargo.weight_kg", "reason": "..."}]}

The codes are listed in docs/errors.md. `detail` is in the language the request asks for
(`Accept-Language`, negotiated by `dispatch.i18n.negotiate`): a zh-CN request gets the catalogue's
`problem.<code>` text, filled with the problem's `params`; everything else (`code`, `type`, the
English `title`, extension members) is the same in every language, and `Content-Language` says
which language `detail` is in.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from contextvars import ContextVar
from http import HTTPStatus
from typing import Any

import asyncpg
import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, SerializationException, ValidationException
from litestar.types import ASGIApp, ExceptionHandlersMap, Message, Receive, Send

from dispatch.close_codes import CloseCode
from dispatch.db.availability import RETRY_AFTER_S, is_database_away
from dispatch.i18n import DEFAULT_LOCALE, LocaleName, catalogue, negotiate, number, placeholders, translate
from dispatch.observability import current_request_id

log = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"


Params = Mapping[str, object]


class Problem(Exception):
    """A client-facing error. Subclasses fix the status; `code` names the specific case.

    `detail` is the English text; `params` (never sent as such) are the values the localized text
    `problem.<code>` names, e.g. `{"distance_m": 420}`: what the English detail says that matters."""

    status: int = 400
    code: str = "bad_request"

    def __init__(
        self, detail: str, *, code: str | None = None, params: Params | None = None, **extra: Any
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code
        self.params = params
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


# The request's Accept-Language, for the language of a problem's `detail`. Set around the whole
# app by `answer_in_request_language` (the problems of middlewares, handlers and refused sockets
# all run inside it), read only when a problem is answered; the header alone decides, not the
# user's setting: the request says what it asks for. Like the request id, a context variable, so
# that every place that answers a problem gets it without being handed the request.
_accept_language: ContextVar[str | None] = ContextVar("accept_language", default=None)


def answer_in_request_language(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Any, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await app(scope, receive, send)
            return
        header = next(
            (bytes(v).decode("latin-1") for k, v in scope["headers"] if k == b"accept-language"), None
        )
        token = _accept_language.set(header)
        try:
            await app(scope, receive, send)
        finally:
            _accept_language.reset(token)

    return middleware


def localized_detail(code: str, detail: str, params: Params | None = None) -> tuple[str, LocaleName]:
    """The detail in the language the request asks for, and that language. English is the detail
    as given. Chinese is the catalogue's `problem.<code>` with `params` filled in (numbers in the
    locale's format, lists joined); a code without a text, or a text naming a value the raising
    site did not give, keeps the English detail (and says so): never a raw key or `{placeholder}`."""
    locale = negotiate(_accept_language.get())
    if locale == DEFAULT_LOCALE:
        return detail, DEFAULT_LOCALE
    template = catalogue(locale).get(f"problem.{code}")
    values = dict(params or {})
    if template is None or not placeholders(template) <= values.keys():
        return detail, DEFAULT_LOCALE
    # Any: translate's own `count` keyword is not one of these (no problem text is a plural).
    filled: dict[str, Any] = {name: _param_text(locale, value) for name, value in values.items()}
    return translate(locale, f"problem.{code}", **filled), locale


def _param_text(locale: LocaleName, value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float | list | tuple):
        return str(value)
    if isinstance(value, list | tuple):
        return ("、" if locale == "zh-CN" else ", ").join(_param_text(locale, v) for v in value)
    return number(locale, value)


def problem_response(
    status: int,
    code: str,
    detail: str,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    params: Params | None = None,
) -> Response[dict[str, Any]]:
    text, language = localized_detail(code, detail, params)
    body = _body(status, code, text, extra)
    # Vary: the detail depends on Accept-Language, so a shared cache must not hand one language's
    # answer to a request for the other.
    headers = {**(headers or {}), "Content-Language": language, "Vary": "Accept-Language"}
    return Response(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def problem_body(
    status: int, code: str, detail: str, extra: dict[str, Any] | None = None, params: Params | None = None
) -> dict[str, Any]:
    """The one shape of a problem-details body, for HTTP answers and refused websocket handshakes,
    its `detail` in the request's language."""
    return _body(status, code, localized_detail(code, detail, params)[0], extra)


def _body(status: int, code: str, detail: str, extra: dict[str, Any] | None) -> dict[str, Any]:
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


async def send_json(send: Any, data: bytes) -> None:
    """Send a 200 JSON answer through raw ASGI (the fast paths in front of the router)."""
    fields = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": fields})
    await send({"type": "http.response.body", "body": data, "more_body": False})


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
    # The Chinese text names the fields; each one's reason stays in `errors` (msgspec's English).
    fields = list(dict.fromkeys(e["field"] for e in errors)) or ["$"]
    return problem_response(400, "validation_failed", detail, {"errors": errors}, params={"fields": fields})


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


def _http_answer(exc: HTTPException, params: Params | None = None) -> Response[dict[str, Any]]:
    status = exc.status_code
    if status == 400 and isinstance(exc.__cause__, SerializationException):
        return problem_response(400, "malformed_body", f"The request body is not valid JSON: {exc.detail}")
    code = _HTTP_CODES.get(status, "http_error" if status < 500 else "internal_error")
    return problem_response(status, code, exc.detail, headers=exc.headers, params=params)


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
        params={"seconds": RETRY_AFTER_S},
    )


def problem_answer(exc: Exception, params: Params | None = None) -> Response[dict[str, Any]]:
    """The problem answer for an error, the same over HTTP and to a refused websocket upgrade.
    `params` are what the handler knows of a framework error (the body limit of a 413)."""
    if isinstance(exc, Problem):
        return problem_response(exc.status, exc.code, exc.detail, exc.extra, params=exc.params)
    if isinstance(exc, ValidationException):
        return _validation_answer(exc)
    if isinstance(exc, HTTPException):
        return _http_answer(exc, params)
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


def _handle_expected(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    if isinstance(exc, HTTPException) and exc.status_code == 413 and "route_handler" in request.scope:
        # Litestar's own 413 does not say the limit; the route does.
        limit = request.route_handler.resolve_request_max_body_size()
        return problem_answer(exc, {"limit": limit} if limit else None)
    return problem_answer(exc)


def _handle_out_of_range(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    return _out_of_range(request.method, request.url.path, exc)


def _out_of_range(method: str, path: str, exc: Exception) -> Response[dict[str, Any]]:
    # A safety net behind the checks where requests are decoded (dispatch.edge, the wire types):
    # PostgreSQL's "data exception" class (and asyncpg's refusal to bind a value) means a value the
    # database cannot hold (NUL in text, beyond int64 or float32, a time it cannot place), and an
    # OverflowError one that date or float arithmetic cannot (a time in year 1 or 9999 moved by a
    # day). Either is the request's: the statement stored nothing. One line, no traceback: it means
    # a check is missing.
    log.warning("a value out of range on %s %s: %.200s", method, path, exc)
    return problem_answer(exc)


def _handle_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    return _unexpected(request.method, request.url.path, request.app.state.runtime, exc)


def _unexpected(method: str, path: str, runtime: Any, exc: Exception) -> Response[dict[str, Any]]:
    if is_database_away(exc):
        # Not a bug, and not worth a traceback per request: the outage is logged once, by the
        # process's Availability (dispatch/db/availability.py).
        runtime.availability.noticed(exc)
    else:
        log.exception("unhandled error on %s %s", method, path)
    return problem_answer(exc)


def raised_answer(scope: Any, exc: Exception) -> Response[dict[str, Any]]:
    """What EXCEPTION_HANDLERS answer (and log) for `exc`, for a route served outside Litestar's
    handlers (driver_api/positions.py); call it in the `except` block."""
    if isinstance(exc, Problem | ValidationException | HTTPException):
        return problem_answer(exc)
    if isinstance(exc, asyncpg.DataError | OverflowError):
        return _out_of_range(scope["method"], scope["path"], exc)
    return _unexpected(scope["method"], scope["path"], scope["app"].state.runtime, exc)


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
    "answer_in_request_language",
    "database_unavailable",
    "localized_detail",
    "note_socket_failure",
    "problem_answer",
    "problem_body",
    "problem_response",
    "raised_answer",
    "refuse_failed_sockets",
    "refuse_upgrade",
    "send_problem",
]
