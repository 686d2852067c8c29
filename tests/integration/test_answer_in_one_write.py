"""An HTTP answer's head and body leave the server in one write (dispatch/protocols.py,
`_AnswerInOneWrite`): one TCP segment for a small answer, so the client is woken once. Measured by
the client's own socket (Linux's TCP_INFO: data segments received). Writes that must not wait for a
body (`100 Continue`) still go out at once."""

from __future__ import annotations

import asyncio
import socket
import struct

import pytest

pytestmark = pytest.mark.server

# struct tcp_info (linux/tcp.h): tcpi_data_segs_in, the data segments received, a u32 at this offset.
_DATA_SEGS_IN = 152


def _open(server) -> socket.socket:  # type: ignore[no-untyped-def]
    sock = socket.create_connection(("127.0.0.1", int(server.base_url.rsplit(":", 1)[1])))
    sock.settimeout(60)
    return sock


def _data_segments_in(sock: socket.socket) -> int:
    info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 256)
    (segments,) = struct.unpack_from("I", info, _DATA_SEGS_IN)
    return int(segments)


def _read_answer(sock: socket.socket, got: bytes = b"") -> tuple[bytes, bytes]:
    """One answer's head and its Content-Length body."""
    while b"\r\n\r\n" not in got:
        got += sock.recv(65536)
    head, _, body = got.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        body += sock.recv(65536)
    return head, body


def _exchange(sock: socket.socket, request: bytes) -> tuple[bytes, bytes, int]:
    """Send a request on a kept-alive connection; its answer and the data segments it came in."""
    before = _data_segments_in(sock)
    sock.sendall(request)
    head, body = _read_answer(sock)
    return head, body, _data_segments_in(sock) - before


async def test_an_answer_comes_in_one_segment_from_the_fast_path_the_router_and_a_refusal(server_factory):
    server = server_factory()
    with _open(server) as sock:
        requests = {
            "healthz": b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n",
            # Litestar's router and its problem answer (no token: 401)
            "router": b"GET /jobs/mine HTTP/1.1\r\nHost: test\r\n\r\n",
            # the grab's fast path passes a token that does not authenticate to the route (401)
            "grab": (
                b"POST /jobs/00000000-0000-4000-8000-000000000000/grab HTTP/1.1\r\nHost: test\r\n"
                b"Authorization: Bearer u.nonsense\r\nContent-Length: 0\r\n\r\n"
            ),
        }
        for name, request in requests.items():
            for _ in range(3):  # a kept-alive connection: every answer, not only the first
                head, body, segments = await asyncio.to_thread(_exchange, sock, request)
                assert head.startswith(b"HTTP/1.1 "), name
                assert body, name
                assert segments == 1, (name, head)


async def test_a_100_continue_is_sent_before_the_body_is_read(server_factory):
    """A client that waits for `100 Continue` before sending its body gets it (the write before the
    answer's head is not held), then its answer."""
    server = server_factory()
    body = b'{"email": "nobody@example.com", "password": "not the password"}'
    with _open(server) as sock:
        sock.sendall(
            b"POST /auth/login HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
            b"Expect: 100-continue\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n"
        )
        interim = b""
        while b"\r\n\r\n" not in interim:
            interim += await asyncio.to_thread(sock.recv, 65536)
        assert interim.startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
        rest = interim.removeprefix(b"HTTP/1.1 100 Continue\r\n\r\n")
        sock.sendall(body)
        head, answer = await asyncio.to_thread(_read_answer, sock, rest)
        assert head.startswith(b"HTTP/1.1 401 "), head
        assert b'"code":"bad_credentials"' in answer, answer
