"""A real browser for page tests: Debian's Chromium driven by playwright (which downloads nothing:
`.ci/run` installs the `chromium` package). The flags keep Chromium off the network entirely."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from playwright.async_api import Browser, Page, async_playwright

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    if not shutil.which(CHROMIUM):
        raise RuntimeError("Chromium is not installed: `apt-get install chromium` (.ci/run does it)")
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        try:
            yield browser
        finally:
            await browser.close()


SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"


async def keep_screenshot(page: Page, name: str) -> None:
    """Save the page as docs/screenshots/<name>.png for the README when DISPATCH_SCREENSHOTS is set
    (`python3 dev.py screenshots` sets it and runs the page tests)."""
    if os.environ.get("DISPATCH_SCREENSHOTS"):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
