"""The close codes of the live sockets, listed once (the READMEs of tracking, market and gate say
what each socket's client does on each)."""

from __future__ import annotations

from enum import IntEnum


class CloseCode(IntEnum):
    # The stream is over (tracking: after `final`, every watched load received).
    NORMAL = 1000
    # The database went away while the socket needed it: reconnect (with a cursor where it has one).
    TRY_AGAIN_LATER = 1013
    # The peer fell behind (its outbox overflowed, or one send waited SEND_TIMEOUT_S): reconnect for
    # a fresh state, or with the cursor.
    TOO_SLOW = 4008
    # Nothing to stream for this caller (the market feed without saved areas).
    NOT_FOUND = 4404
