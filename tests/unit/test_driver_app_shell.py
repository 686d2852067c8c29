"""The driver app starts offline only if its service worker cached every file the page loads: the
scripts of index.html and, module by module, everything they import (the app's modules and the
vendored Preact + htm). A module added without a line in sw.js's SHELL would load online and fail in
a dead zone, which no online test notices."""

from __future__ import annotations

import posixpath
import re
from pathlib import Path

STATIC = Path(__file__).resolve().parents[2] / "dispatch" / "web" / "static"
APP = STATIC / "app"


def shell() -> set[str]:
    text = (APP / "sw.js").read_text()
    listed = re.search(r"const SHELL = \[(.*?)\];", text, re.S)
    assert listed, "sw.js has no SHELL list"
    return set(re.findall(r'"([^"]+)"', listed.group(1)))


def loaded_by_the_page() -> set[str]:
    """Every /static path the page loads: its <script> and stylesheet, then the imports, transitively."""
    html = (APP / "index.html").read_text()
    found: set[str] = set(re.findall(r'(?:src|href)="(/static/[^"]+)"', html))
    todo = [path for path in found if path.endswith(".js")]
    while todo:
        path = todo.pop()
        source = (STATIC / path.removeprefix("/static/")).read_text()
        for target in re.findall(r'^\s*(?:import|export)\b[^";]*?from\s+"(\.{1,2}/[^"]+)"', source, re.M):
            resolved = posixpath.normpath(posixpath.join(posixpath.dirname(path), target))
            if resolved not in found:
                found.add(resolved)
                todo.append(resolved)
    return found


def test_the_service_worker_caches_every_file_the_app_loads() -> None:
    loaded = loaded_by_the_page()
    # The walk itself reaches the modules and the vendored library (else it would prove nothing).
    assert {
        "/static/app/app.js",
        "/static/app/views.js",
        "/static/vendor/htm-3.1.1/standalone.module.js",
    } <= loaded
    assert sorted(loaded - shell()) == []
