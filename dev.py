#!/usr/bin/env python3
"""One entry point for a fresh clone with only Python 3.11+:

    python3 dev.py demo  [--exit] [dispatch demo options]  # the whole flow, played live; then serves
    python3 dev.py test  [pytest options]           # the test suite (all of it: in parallel)
    python3 dev.py serve [dispatch serve options]   # the service, on the embedded PostgreSQL
    python3 dev.py check                            # ruff, mypy, import-linter (what CI runs)
    python3 dev.py bench NAME [options]             # a benchmark under bench/ (e.g. market)
    python3 dev.py dispatch <command> ...           # any `dispatch` command (e.g. simulate)
    python3 dev.py screenshots                      # regenerate docs/screenshots/ from the page tests

It creates ./.venv on first use and reinstalls the project whenever pyproject.toml changes.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".installed-from"


def ensure_environment() -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - this script must explain itself on an old Python
        sys.exit(f"freight-dispatch needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == wanted:
        return
    if not (BIN / "python").exists():
        print("creating .venv ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    print("installing freight-dispatch and its tools into .venv ...", flush=True)
    pip = [str(BIN / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "-e", f"{ROOT}[dev]"], check=True)
    STAMP.write_text(wanted)


def ensure_cjk_font() -> None:
    """The zh-CN screenshots need a font with Chinese glyphs (else Chromium draws empty boxes);
    install Debian's WenQuanYi Micro Hei (1.6 MB) when no such font is there and we may (root + apt).
    The tests read the pages' text, not pixels: only the screenshots need it."""
    if shutil.which("fc-list"):
        listed = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True, check=False)
        if listed.stdout.strip():
            return
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("installing a Chinese font for the zh-CN screenshots ...", flush=True)
        env = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(["apt-get", "install", "-y", "-qq", "fonts-wqy-microhei"], check=True, env=env)
    else:
        print(
            "note: no Chinese font (e.g. apt-get install fonts-wqy-microhei): the zh-CN screenshots "
            "will show boxes for Chinese text",
            flush=True,
        )


def ensure_chromium() -> None:
    """The browser tests drive Debian's Chromium; install it when missing and we may (root + apt)."""
    if shutil.which("chromium"):
        return
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("installing Debian's chromium for the browser tests ...", flush=True)
        env = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], check=True, env=env)
    else:
        print(
            "note: the browser tests need Chromium at /usr/bin/chromium (Debian/Ubuntu: "
            "sudo apt-get install chromium); they will fail without it",
            flush=True,
        )


def run(*command: str) -> int:
    return subprocess.run(command, cwd=ROOT).returncode


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"demo", "serve", "test", "check", "dispatch", "bench", "screenshots"}:
        print(__doc__)
        return 2
    ensure_environment()
    task, rest = argv[0], argv[1:]
    if task in ("demo", "serve"):
        return run(str(BIN / "dispatch"), task, *rest)
    if task == "dispatch":
        return run(str(BIN / "dispatch"), *rest)
    if task == "bench":
        if not rest:
            print("usage: python3 dev.py bench NAME [options]; NAME is a module in bench/")
            return 2
        return run(str(BIN / "python"), "-m", f"bench.{rest[0]}", *rest[1:])
    if task == "test":
        ensure_chromium()
        # The whole suite (no arguments) runs on one process more than the cores, up to 4, a test
        # file at a time each (`--dist loadfile` keeps a file's module fixtures, e.g. the demos, in
        # one process): much of a test is waiting on its servers, browsers and timeouts, so a third
        # process on 2 cores fills the waits. It names its slowest tests: CI has a 20-minute budget.
        processes = min(4, (os.cpu_count() or 1) + 1)
        parallel = [] if rest else ["-n", str(processes), "--dist", "loadfile", "--durations=25"]
        return run(str(BIN / "pytest"), *parallel, *rest)
    if task == "screenshots":
        ensure_chromium()
        ensure_cjk_font()
        os.environ["DISPATCH_SCREENSHOTS"] = "1"
        # The pages in English, then in Chinese (docs/screenshots/*-zh-CN.png), then the driver app.
        pages = [
            "test_gate_board_page.py",
            "test_tracking_page.py",
            "test_job_board_page.py",
            "test_pages_zh_cn.py",
            "test_driver_app.py",
            "test_console_page.py",
            "test_console_dispatcher.py",
            "test_console_jobs.py",
            "test_console_orders.py",
            "test_console_plan.py",
            "test_console_sites.py",
            "test_console_gate.py",
            "test_console_gate_evidence.py",
            "test_receipt_page.py",
            "test_job_board_bids.py",
            "test_order_through_pages.py",
            "test_documents.py",  # pictures of the PDFs' pages, rendered by PDFium (no browser)
        ]
        return run(str(BIN / "pytest"), "-q", *[f"tests/integration/{p}" for p in pages])
    for step in (["ruff", "check", "."], ["ruff", "format", "--check", "."], ["mypy"], ["lint-imports"]):
        print(f"$ {' '.join(step)}", flush=True)
        if code := run(str(BIN / step[0]), *step[1:]):
            return code
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        sys.exit(130)
