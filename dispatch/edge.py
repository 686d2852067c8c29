"""What every request's input must satisfy beyond its declared types, checked where it is decoded.

- **No NUL character in any text.** PostgreSQL `text` (and `jsonb`) cannot hold U+0000, so a NUL
  that reached a query would fail it with a database error. The path and query string are checked
  by `nul_guard` before routing to a handler (and before authentication: nothing of the request is
  used yet), the JSON body by `EdgeRequest.json` where it is decoded; either refuses with 400
  `invalid_text` naming the field. Headers cannot carry a NUL: the HTTP parser refuses it.
- **JSON nested deeper than the decoder's recursion limit** is a 400 `malformed_body`, not the
  `RecursionError` it raises.

The codes are in docs/errors.md; `dispatch.errors` maps the database's own refusal of such text to
the same `invalid_text`, as a safety net behind these checks.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote_plus

from litestar import Request
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.routes import HTTPRoute
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from dispatch.errors import BadRequest, refuse_upgrade

# How JSON writes U+0000 (a raw NUL byte is not valid JSON): found in the body's bytes, the decoded
# value is searched for the field that holds it. Bodies without it (all but hostile ones) pay for a
# search for a backslash (memchr: 0.4 us on a 50-point GPS batch, against 29 us to decode it),
# and only bodies with escapes for the escape itself (9 us: its digits are common in such bodies).
_NUL_ESCAPE = b"\\u0000"


def invalid_text(field: str, source: str) -> BadRequest:
    reason = "contains a NUL character (U+0000), which text cannot hold"
    return BadRequest(
        f"{field}: {reason}.",
        code="invalid_text",
        params={"field": field},
        errors=[{"field": field, "reason": reason, "source": source}],
    )


def nul_field(value: Any) -> str | None:
    """The JSON path (`$.a.b[0]`) of the first string or key holding a NUL, or None. Iterative, so a
    deeply nested value cannot exhaust the stack."""
    stack: list[tuple[str, Any]] = [("$", value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return path
        elif isinstance(item, dict):
            for key, child in item.items():
                if "\x00" in key:
                    return path
                stack.append((f"{path}.{key}", child))
        elif isinstance(item, list):
            stack.extend((f"{path}[{i}]", child) for i, child in enumerate(item))
    return None


class EdgeRequest(Request[Any, Any, Any]):
    """The application's request class: JSON bodies are decoded here for every handler."""

    async def json(self) -> Any:
        try:
            value = await super().json()
        except RecursionError:
            # msgspec decodes nesting recursively, to Python's recursion limit (about 1,000 levels).
            raise BadRequest("The JSON body is nested too deeply.", code="malformed_body") from None
        body = await self.body()
        if b"\\" in body and _NUL_ESCAPE in body:
            field = nul_field(value)
            if field is not None:
                raise invalid_text(field, "body")
        return value


def _nul_in_target(scope: Scope) -> BadRequest | None:
    if "\x00" in scope["path"]:
        return invalid_text("path", "path")
    query: bytes = scope.get("query_string", b"")
    if b"%00" in query or b"\x00" in query:
        names = [
            unquote_plus(name.decode("latin-1"))
            for name, _, value in (part.partition(b"=") for part in query.split(b"&"))
            if b"%00" in value or b"\x00" in value
        ]
        return invalid_text(names[0] if names else "query", "query")
    return None


class NulGuardMiddleware(ASGIMiddleware):
    """Refuse a NUL in the path or the query string (either percent-encoded, `%00`, or raw)."""

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        problem = _nul_in_target(scope)
        if problem is None:
            await next_app(scope, receive, send)
        elif scope["type"] == ScopeType.WEBSOCKET and "websocket.http.response" in (
            scope.get("extensions") or {}
        ):
            await receive()  # the client's connect
            await refuse_upgrade(send, problem)
        else:
            raise problem


class AllowHeaderMiddleware(ASGIMiddleware):
    """`OPTIONS` answers with every method of the route in `Allow`. Litestar 2's automatic OPTIONS
    handler lists only the methods of the first handler registered on a path (litestar#4169, fixed
    in v3), e.g. `OPTIONS, POST` for `/fleet/vehicles`, which also has GET: a client (or a CORS
    preflight) would think GET is not allowed. The route's own method set is right, so this sets
    `Allow` from it, by the route template the router put in the scope."""

    scopes = (ScopeType.HTTP,)

    def __init__(self) -> None:
        self._allow: dict[str, bytes] | None = None  # route template -> Allow, read from the app once

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        if scope["type"] != ScopeType.HTTP or scope["method"] != "OPTIONS":
            await next_app(scope, receive, send)
            return
        if self._allow is None:
            self._allow = {
                route.path_format: ", ".join(sorted(route.methods)).encode()
                for route in scope["app"].routes
                if isinstance(route, HTTPRoute)
            }
        allow = self._allow.get(scope.get("path_template", ""))

        async def send_with_allow(message: Message) -> None:
            if message["type"] == "http.response.start" and allow is not None:
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"allow"]
                message = {**message, "headers": [*headers, (b"allow", allow)]}
            await send(message)

        await next_app(scope, receive, send_with_allow)
