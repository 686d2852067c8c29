"""Dependency markers for handlers: the app provides `runtime` and `p` (the caller) by name."""

from __future__ import annotations

from litestar.di import NamedDependency

from dispatch.accounts.principal import Principal
from dispatch.runtime import Runtime

RuntimeDep = NamedDependency[Runtime]
Caller = NamedDependency[Principal]
