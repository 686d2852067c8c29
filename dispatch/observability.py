"""Request ids and logging.

Every HTTP request and websocket gets a request id (the client's `X-Request-ID` when it sends a
sane one, else a new one). It is echoed in the response header, put in every log line written
while the request runs, and in problem-details bodies, so a user's error report leads to the logs.
"""

from __future__ import annotations

import contextvars
import logging
import re
import secrets
import time
from typing import Any

from litestar.types import ASGIApp, Message, Receive, Scope, Send

_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
_SANE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
access_log = logging.getLogger("dispatch.access")


def current_request_id() -> str | None:
    return _request_id.get()


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get() or "-"
        return True


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler()
    handler.addFilter(_RequestIdFilter())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


def request_id_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Any, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await app(scope, receive, send)
            return
        incoming = _header(scope, b"x-request-id")
        request_id = incoming if incoming and _SANE_ID.match(incoming) else secrets.token_hex(8)
        token = _request_id.set(request_id)
        started = time.perf_counter()
        status: list[int] = []

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await app(scope, receive, send_with_id)
        finally:
            if scope["type"] == "http":
                access_log.info(
                    "%s %s %s %.1fms",
                    scope["method"],
                    scope["path"],
                    status[0] if status else "-",
                    (time.perf_counter() - started) * 1000,
                )
            _request_id.reset(token)

    return middleware


def _header(scope: Scope, name: bytes) -> str | None:
    headers: Any = scope.get("headers", [])
    for key, value in headers:
        if key == name:
            return bytes(value).decode("latin-1")
    return None
