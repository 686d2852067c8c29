// The driver API (/driver/v1) as the app calls it: the device token from this phone's pairing, the
// app's version on every request (X-App-Version: the server answers 426 upgrade_required to versions
// it no longer serves), an Idempotency-Key on the requests that change something, and the answer
// read as {ok, status, data} with problem details as data.
//
// A classic script like the platform's other page scripts: only window.DriverApi is defined.
"use strict";

window.DriverApi = (() => {
  const VERSION = "1.0.0";
  const DEVICE_KEY = "driver.device"; // the pairing answer, token included (kept across restarts)
  const listeners = { upgrade: [], unpaired: [] };

  // The network failed (offline, server down): the caller decides whether to retry or show the cache.
  class Offline extends Error {}

  function device() {
    try { return JSON.parse(localStorage.getItem(DEVICE_KEY) || "null"); } catch (err) { return null; }
  }
  function keep(pairing) { localStorage.setItem(DEVICE_KEY, JSON.stringify(pairing)); }
  function forget() { localStorage.removeItem(DEVICE_KEY); }
  function token() { const d = device(); return d ? d.device_token : null; }

  function on(event, listener) { listeners[event].push(listener); }

  // One request. `key`: the Idempotency-Key (a retry passes the same one and changes nothing twice).
  async function call(method, path, { body, key, auth = true } = {}) {
    const headers = { "X-App-Version": VERSION, Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (key) headers["Idempotency-Key"] = key;
    const bearer = token();
    if (auth && bearer) headers.Authorization = `Bearer ${bearer}`;
    let answer;
    try {
      answer = await fetch(path, {
        method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: "no-store",
      });
    } catch (err) {
      throw new Offline(String(err));
    }
    let data = null;
    try { data = await answer.json(); } catch (err) { data = null; }
    if (answer.status === 426) for (const l of listeners.upgrade) l(data);
    if (answer.status === 401 && auth && bearer && data && data.code !== "token_missing") {
      for (const l of listeners.unpaired) l(data);
    }
    return { ok: answer.ok, status: answer.status, data };
  }

  // A document (the waybill) as a Blob; a refusal as {ok: false, status, data} like `call`.
  async function file(path) {
    const headers = { "X-App-Version": VERSION, Accept: "application/pdf, application/problem+json" };
    const bearer = token();
    if (bearer) headers.Authorization = `Bearer ${bearer}`;
    let answer;
    try {
      answer = await fetch(path, { headers, cache: "no-store" });
    } catch (err) {
      throw new Offline(String(err));
    }
    if (answer.ok) return { ok: true, status: answer.status, data: await answer.blob() };
    let data = null;
    try { data = await answer.json(); } catch (err) { data = null; }
    return { ok: false, status: answer.status, data };
  }

  const newKey = () =>
    (crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(16).slice(2)}`);

  // The live socket authenticates with the token in the query: a browser's WebSocket cannot send headers.
  function liveUrl() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    return `${scheme}://${location.host}/driver/v1/live?access_token=${encodeURIComponent(token() || "")}`;
  }

  return { VERSION, Offline, call, file, device, keep, forget, token, on, newKey, liveUrl };
})();
