// The driver app's service worker (served at /app/sw.js, scope /app): the app shell (the page, its
// scripts and modules, Preact + htm from static/vendor, the catalogues) from the cache
// when the network fails, so the app opens in a dead zone or with the server away, and shows the last
// assignments it saved. The shell is fetched from the network first (a new release is seen on the next
// start), with a short timeout; the API is never cached here (the app keeps what it needs itself).
"use strict";

const CACHE = "driver-app-v2";
const SHELL = [
  "/app",
  "/app/manifest.webmanifest",
  "/static/app/app.css",
  "/static/app/app.js",
  "/static/app/model.js",
  "/static/app/views.js",
  "/static/app/texts.js",
  "/static/app/store.js",
  "/static/app/trip.js",
  "/static/app/phone.js",
  "/static/vendor/htm-3.1.1/standalone.module.js",
  "/static/app/driver-api.js",
  "/static/app/gps-queue.js",
  "/static/app/vendor/qrcode.js",
  "/static/app/icon.svg",
  "/static/app/icon-192.png",
  "/static/app/icon-512.png",
  "/static/i18n.js",
  "/i18n/en.json",
  "/i18n/zh-CN.json",
];
const NETWORK_TIMEOUT_MS = 4000;

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) if (name !== CACHE) await caches.delete(name);
    await self.clients.claim();
  })());
});

function isShell(url) {
  return url.origin === self.location.origin && (SHELL.includes(url.pathname) || url.pathname === "/app/");
}

async function networkFirst(request) {
  const cache = await caches.open(CACHE);
  const key = new URL(request.url).pathname === "/app/" ? "/app" : request;
  try {
    const answer = await Promise.race([
      fetch(request),
      new Promise((resolve, reject) => setTimeout(() => reject(new Error("timeout")), NETWORK_TIMEOUT_MS)),
    ]);
    if (answer.ok) await cache.put(key, answer.clone());
    return answer;
  } catch (err) {
    const cached = await cache.match(key, { ignoreSearch: true });
    if (cached) return cached;
    throw err;
  }
}

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || !isShell(url)) return;
  event.respondWith(networkFirst(event.request));
});

// A tap on the "go to dock" notification brings the app forward.
self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  event.waitUntil((async () => {
    const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
    const app = windows.find((w) => new URL(w.url).pathname.startsWith("/app"));
    if (app) return app.focus();
    return self.clients.openWindow("/app");
  })());
});
