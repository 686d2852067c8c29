"""Driving the driver app (/app) in a headless Chromium phone: the context a phone has (viewport,
touch, location and notification permissions, an emulated position), a count of the notifications
and vibrations the page asks for, and reading the QR code it shows back from a screenshot."""

from __future__ import annotations

import base64
from typing import Any

import zxingcpp
from playwright.async_api import Browser, BrowserContext, Page

PHONE: dict[str, Any] = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "permissions": ["geolocation", "notifications"],
    "service_workers": "allow",
}

# Counts what the page asks of the phone: system notifications (the service worker's
# showNotification and the page's own Notification), and vibrations. Runs before the app's scripts.
COUNT_ALERTS = """
window.__alerts = { notifications: [], vibrations: 0 };
if (window.ServiceWorkerRegistration) {
  const show = ServiceWorkerRegistration.prototype.showNotification;
  ServiceWorkerRegistration.prototype.showNotification = function (title, options) {
    window.__alerts.notifications.push({ via: "service worker", title });
    return show.call(this, title, options);
  };
}
if (window.Notification) {
  const Native = window.Notification;
  window.Notification = class extends Native {
    constructor(title, options) {
      super(title, options);
      window.__alerts.notifications.push({ via: "page", title });
    }
  };
}
const vibrate = navigator.vibrate ? navigator.vibrate.bind(navigator) : null;
navigator.vibrate = (pattern) => {
  window.__alerts.vibrations += 1;
  return vibrate ? vibrate(pattern) : true;
};
"""


async def phone(
    browser: Browser, *, lon: float, lat: float, locale: str = "en-US", **options: Any
) -> BrowserContext:
    context = await browser.new_context(
        **(PHONE | options), locale=locale, geolocation={"longitude": lon, "latitude": lat, "accuracy": 10}
    )
    await context.add_init_script(COUNT_ALERTS)
    return context


async def decode_qr(browser: Browser, png: bytes) -> list[str]:
    """The texts of the QR codes in a PNG screenshot, read by zxing-cpp. The PNG's pixels are taken
    with a canvas in a blank page (the browser's own image decoder), as the grey levels zxing reads."""
    page = await browser.new_page()
    try:
        image = await page.evaluate(
            """async (url) => {
                 const img = new Image(); img.src = url; await img.decode();
                 const canvas = document.createElement("canvas");
                 canvas.width = img.width; canvas.height = img.height;
                 const g = canvas.getContext("2d"); g.drawImage(img, 0, 0);
                 const d = g.getImageData(0, 0, img.width, img.height).data;
                 const grey = new Array(img.width * img.height);
                 for (let i = 0; i < grey.length; i += 1) {
                   grey[i] = Math.round((d[4 * i] + d[4 * i + 1] + d[4 * i + 2]) / 3);
                 }
                 return { width: img.width, height: img.height, grey };
               }""",
            "data:image/png;base64," + base64.b64encode(png).decode(),
        )
    finally:
        await page.close()
    pixels = memoryview(bytes(image["grey"])).cast("B", (image["height"], image["width"]))
    return [found.text for found in zxingcpp.read_barcodes(pixels)]


async def count(page: Page, selector: str) -> int:
    """The number an element carries in data-count (the trip screen's recorded / waiting fixes)."""
    value = await page.get_attribute(selector, "data-count")
    return int(value or 0)


async def wait_count(page: Page, selector: str, predicate: str, within_ms: float = 60_000) -> None:
    """Wait until the element's data-count satisfies `predicate` (a JS expression of `n`)."""
    await page.wait_for_function(
        f"() => {{ const el = document.querySelector({selector!r}); if (!el) return false;"
        f" const n = Number(el.dataset.count || 0); return {predicate}; }}",
        timeout=within_ms,
    )
