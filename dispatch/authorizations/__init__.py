"""Pickup authorizations: the goods owner's authorization of the awarded carrier, the pickup codes
(a job authorization's and each load's), and the gate's check of a code."""

from dispatch.authorizations.codes import authorization_code, code_hash, load_code
from dispatch.authorizations.models import (
    Authorization,
    AuthorizationCreate,
    AuthorizationRevoke,
    GateCheck,
    GateResult,
    GateVerdict,
)
from dispatch.authorizations.service import (
    AutomaticAuthorizer,
    assignment_named,
    check_load_code,
    get_authorization,
    issue_authorization,
    retired_here,
    revoke_authorization,
    revoke_for_withdrawn_award,
    verify_at_gate,
)

__all__ = [
    "Authorization",
    "AuthorizationCreate",
    "AuthorizationRevoke",
    "AutomaticAuthorizer",
    "GateCheck",
    "GateResult",
    "GateVerdict",
    "assignment_named",
    "authorization_code",
    "check_load_code",
    "code_hash",
    "get_authorization",
    "issue_authorization",
    "load_code",
    "retired_here",
    "revoke_authorization",
    "revoke_for_withdrawn_award",
    "verify_at_gate",
]
