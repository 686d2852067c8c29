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

from litestar import Request, Response
from litestar.exceptions import HTTPException, SerializationException, ValidationException
from litestar.types import ExceptionHandlersMap

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


def problem_response(
    status: int,
    code: str,
    detail: str,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[dict[str, Any]]:
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
    return Response(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


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
        source = str(item.get("source") or "body")
        key = str(item.get("key") or "")
        if source == "body":
            # "data" is the whole body; otherwise a path inside it such as "role_ids[0]".
            field = "$" if key in ("", "data") else f"$.{key}"
        else:
            field = key
        errors.append({"field": field, "reason": reason, "source": source})
    return errors


def _handle_problem(_: Request[Any, Any, Any], exc: Problem) -> Response[dict[str, Any]]:
    return problem_response(exc.status, exc.code, exc.detail, exc.extra)


def _handle_validation(_: Request[Any, Any, Any], exc: ValidationException) -> Response[dict[str, Any]]:
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


def _handle_http(_: Request[Any, Any, Any], exc: HTTPException) -> Response[dict[str, Any]]:
    status = exc.status_code
    if status == 400 and isinstance(exc.__cause__, SerializationException):
        return problem_response(400, "malformed_body", f"The request body is not valid JSON: {exc.detail}")
    code = _HTTP_CODES.get(status, "http_error" if status < 500 else "internal_error")
    return problem_response(status, code, exc.detail, headers=exc.headers)


def database_unavailable() -> Response[dict[str, Any]]:
    """503 while the database is away: nothing was changed, the same request may be sent again."""
    return problem_response(
        503,
        "database_unavailable",
        f"The database is unavailable right now; nothing was changed. Retry in {RETRY_AFTER_S} s.",
        headers={"Retry-After": str(RETRY_AFTER_S)},
    )


def _handle_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    if is_database_away(exc):
        # Not a bug, and not worth a traceback per request: the outage is logged once, by the
        # process's Availability (dispatch/db/availability.py).
        request.app.state.runtime.availability.noticed(exc)
        return database_unavailable()
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return problem_response(500, "internal_error", "An unexpected error occurred; it has been logged.")


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    Problem: _handle_problem,
    ValidationException: _handle_validation,
    HTTPException: _handle_http,
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
    "database_unavailable",
    "problem_response",
]
