"""Wire-type building blocks shared by every area."""

from __future__ import annotations

import msgspec


class Input(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Base of every request body: unknown fields are an error, not silently dropped."""
