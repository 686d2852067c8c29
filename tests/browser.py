"""A real browser for page tests: Debian's Chromium driven by playwright (which downloads nothing:
`.ci/run` installs the `chromium` package). The flags keep Chromium off the network entirely."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from axe_playwright_python.async_playwright import Axe
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
async def chromium(*, fake_camera: Path | None = None) -> AsyncIterator[Browser]:
    """Chromium, headless. `fake_camera`: a video file (`.y4m` or `.mjpeg`) that Chromium shows as
    the camera of every page (a context still needs the "camera" permission to open it)."""
    if not shutil.which(CHROMIUM):
        raise RuntimeError("Chromium is not installed: `apt-get install chromium` (.ci/run does it)")
    args = list(FLAGS)
    if fake_camera is not None:
        args += ["--use-fake-device-for-media-stream", f"--use-file-for-fake-video-capture={fake_camera}"]
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, headless=True, args=args)
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


# The rules the pages are held to: axe-core's WCAG 2.0 and 2.1 level A and AA rules. Violations of
# impact "serious" or "critical" fail the test; "minor" and "moderate" ones are left to review.
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
FAILING_IMPACTS = ("serious", "critical")


async def assert_accessible(page: Page, *, context: str) -> None:
    """Run axe-core on the page as it is now (what is hidden is not checked: check each state) and
    fail with every serious or critical WCAG 2.1 A/AA violation: the rule, its impact, what to do,
    and the selectors of the offending elements. `context` names the page and state in the message."""
    results = await Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}})
    violations = [v for v in results.response["violations"] if v.get("impact") in FAILING_IMPACTS]
    if not violations:
        return
    lines = [f"{context}: {len(violations)} serious or critical accessibility violation(s) (axe-core)"]
    for v in violations:
        lines.append(f"- {v['id']} ({v['impact']}): {v['help']} <{v['helpUrl']}>")
        for node in v["nodes"]:
            target = " ".join(str(t) for t in node["target"])
            summary = node.get("failureSummary", "").replace("\n", " ")
            lines.append(f"    {target}: {summary}")
    raise AssertionError("\n".join(lines))


def watch(page: Page, server: Any) -> tuple[list[str], list[str]]:
    """Requests and websockets that leave the app (its origin, or its own websocket), and the
    page's script errors: every page test asserts both stay empty."""
    own = (server.base_url + "/", server.base_url.replace("http://", "ws://", 1) + "/")
    foreign: list[str] = []
    errors: list[str] = []
    page.on("request", lambda r: None if r.url.startswith(own) else foreign.append(r.url))
    page.on("websocket", lambda ws: None if ws.url.startswith(own) else foreign.append(ws.url))
    page.on("pageerror", lambda e: errors.append(str(e)))
    return foreign, errors


def qr_video(text: str, path: Path, *, width: int = 640, height: int = 480) -> Path:
    """A one-frame Y4M video (Chromium loops it) of `text` as a QR code made by segno, dark on white
    with its quiet zone, for `chromium(fake_camera=...)`: a phone showing its code to the camera."""
    import segno  # only the camera tests need it

    matrix = segno.make(text, error="m", micro=False).matrix
    quiet = 4
    modules = len(matrix) + 2 * quiet
    scale = min(width, height) * 3 // 4 // modules
    left, top = (width - modules * scale) // 2, (height - modules * scale) // 2
    luma = bytearray(b"\xeb" * (width * height))  # white (video range)
    for r, row in enumerate(matrix):
        for c, dark in enumerate(row):
            if dark:
                x = left + (c + quiet) * scale
                for dy in range(scale):
                    start = (top + (r + quiet) * scale + dy) * width + x
                    luma[start : start + scale] = b"\x10" * scale  # black
    chroma = b"\x80" * ((width // 2) * (height // 2))  # no colour
    header = f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode()
    path.write_bytes(header + b"FRAME\n" + bytes(luma) + chroma + chroma)
    return path
