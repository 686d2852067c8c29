"""The permission catalogue. Mirrors the `permissions` table (a test keeps them equal)."""

from __future__ import annotations

from enum import StrEnum


class Permission(StrEnum):
    MANAGE_MEMBERS = "org.manage_members"
    MANAGE_ROLES = "org.manage_roles"
    MANAGE_TOKENS = "org.manage_tokens"
    MANAGE_SITES = "sites.manage"
    POST_JOBS = "jobs.post"
    AWARD_JOBS = "jobs.award"
    BID = "jobs.bid"
    MANAGE_FLEET = "fleet.manage"
    DISPATCH_LOADS = "loads.dispatch"
    OPERATE_GATE = "gate.operate"
    RECORD_EVIDENCE = "evidence.record"
    CONFIRM_RECEIPT = "receipt.confirm"
    VIEW_TRACKING = "tracking.view"
    READ_EVENTS = "events.read"
    MANAGE_WEBHOOKS = "webhooks.manage"
    DRIVE = "drive"
