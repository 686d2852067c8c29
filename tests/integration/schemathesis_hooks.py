"""Schemathesis hooks for the conformance run (loaded through SCHEMATHESIS_HOOKS)."""

from __future__ import annotations

from typing import Any

import schemathesis

EDGE_VALIDATION_CODES = frozenset({"validation_failed", "malformed_body"})


@schemathesis.check
def valid_data_passes_validation(ctx: Any, response: Any, case: Any) -> bool | None:
    """A request the document calls valid is never refused by the edge's own validation (a 400
    `validation_failed` or `malformed_body`): the document and the server agree on every type."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code != 400:
        return None
    try:
        code = response.json().get("code")
    except ValueError:
        return None
    if code in EDGE_VALIDATION_CODES:
        raise AssertionError(f"Valid data refused by validation: {response.text}")
    return None
