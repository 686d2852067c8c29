// The trip's GPS fixes on their way to the server, losing none: a dead zone, a reload, a crash or a
// day without signal only delays them. A classic script: only window.GpsQueue is defined.
//
// The contract:
//   await GpsQueue.record(loadId, point)  the fix is in IndexedDB (a committed, durable transaction)
//                                         when this resolves; nothing is sent from memory.
//   GpsQueue.start({post, onChange, onAnswer})
//                                         sends what is stored, in batches in the order of recording:
//                                         post(body, idempotencyKey) → {status, data}, throwing when the
//                                         network failed; onChange({waiting, offline, counters}) after
//                                         every change; onAnswer(loadId, status, data) for each answer.
//   GpsQueue.kick()                       send now (the network came back, a new trip).
//   await GpsQueue.state()                {waiting, counters} (counters per load: recorded, accepted,
//                                         duplicates, rejected).
// The rules:
//   - A batch (up to 100 fixes of one load, the oldest first) is written to IndexedDB with its
//     Idempotency-Key and its exact body BEFORE it is posted; until it is settled, every retry, also
//     after a reload, posts the same body with the same key (the server answers a retry as the first
//     time and stores nothing twice; a fix is also stored once per load and recorded_at).
//   - A fix is deleted only when the server has settled it: 200 (accepted, duplicate, or rejected with
//     a reason: all final), or a 4xx that no retry can change (409 load_received / not_in_transit,
//     404, 400, 422). Those are counted; the batch record goes in the same transaction.
//   - No answer, 5xx, 408, 429 or 409 request_in_progress: kept, retried with exponential backoff
//     (1 s doubling to 60 s, with jitter). 401 (token revoked) and 426 (app too old): kept, paused
//     until the phone is paired again or the app updated.
//   - Batches go one at a time (a Web Lock keeps two tabs from sending together), so the server
//     numbers the fixes in the order they were recorded. Between batches the queue waits the
//     interval the server suggested (`next_interval_s`), or goes straight on while more are waiting.
"use strict";

window.GpsQueue = (() => {
  const DB_NAME = "driver-gps";
  const BATCH_MAX = 100;
  const DEFAULT_INTERVAL_S = 5;
  const MAX_BACKOFF_S = 60;
  const FINAL = new Set([400, 404, 409, 410, 413, 422]);
  let dbPromise = null;
  let hooks = { post: null, onChange() {}, onAnswer() {} };
  let timer = null;
  let running = false;
  let failures = 0;
  let paused = false;
  let intervalS = DEFAULT_INTERVAL_S;
  let offline = false;

  function open() {
    if (!dbPromise) {
      dbPromise = new Promise((resolve, reject) => {
        const request = indexedDB.open(DB_NAME, 1);
        request.onupgradeneeded = () => {
          const db = request.result;
          db.createObjectStore("fixes", { keyPath: "id", autoIncrement: true });
          db.createObjectStore("batch", { keyPath: "name" }); // the one batch in flight
          db.createObjectStore("counters", { keyPath: "load_id" });
        };
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
      });
    }
    return dbPromise;
  }

  // Run `work(stores)` in one readwrite transaction; resolves with its result once committed to disk.
  async function write(names, work) {
    const db = await open();
    return new Promise((resolve, reject) => {
      const tx = db.transaction(names, "readwrite", { durability: "strict" });
      const stores = Object.fromEntries(names.map((n) => [n, tx.objectStore(n)]));
      let result;
      Promise.resolve(work(stores)).then((r) => { result = r; }, (err) => { tx.abort(); reject(err); });
      tx.oncomplete = () => resolve(result);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
  }

  const req = (request) => new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });

  function bump(store, loadId, field, by) {
    const get = store.get(loadId);
    get.onsuccess = () => {
      const row = get.result || { load_id: loadId, recorded: 0, accepted: 0, duplicates: 0, rejected: 0 };
      row[field] += by;
      store.put(row);
    };
  }

  async function record(loadId, point) {
    await write(["fixes", "counters"], ({ fixes, counters }) => {
      fixes.add({ load_id: loadId, point });
      bump(counters, loadId, "recorded", 1);
    });
    changed();
  }

  async function state() {
    const db = await open();
    const tx = db.transaction(["fixes", "counters"], "readonly");
    const [waiting, rows] = await Promise.all([
      req(tx.objectStore("fixes").count()), req(tx.objectStore("counters").getAll()),
    ]);
    return { waiting, counters: Object.fromEntries(rows.map((r) => [r.load_id, r])) };
  }

  async function changed() {
    try { hooks.onChange({ ...(await state()), offline, paused }); } catch (err) { console.warn(err); }
  }

  // The batch in flight, or a new one made of the oldest fixes (all of one load) and stored first.
  async function nextBatch() {
    const db = await open();
    const inflight = await req(db.transaction("batch").objectStore("batch").get("inflight"));
    if (inflight) return inflight;
    const oldest = await req(db.transaction("fixes").objectStore("fixes").getAll(null, BATCH_MAX));
    if (!oldest.length) return null;
    const loadId = oldest[0].load_id;
    const mine = [];
    for (const fix of oldest) { if (fix.load_id !== loadId) break; mine.push(fix); }
    const batch = {
      name: "inflight",
      key: window.DriverApi.newKey(),
      load_id: loadId,
      ids: mine.map((f) => f.id),
      body: { load_id: loadId, points: mine.map((f) => f.point) },
    };
    await write(["batch"], ({ batch: store }) => { store.add(batch); });
    return batch;
  }

  // The server settled the batch: its fixes and the batch record go together, counted.
  async function settle(batch, counts) {
    await write(["fixes", "batch", "counters"], ({ fixes, batch: store, counters }) => {
      for (const id of batch.ids) fixes.delete(id);
      store.delete("inflight");
      for (const [field, n] of Object.entries(counts)) if (n) bump(counters, batch.load_id, field, n);
    });
  }

  class Retry extends Error {}

  // Send every stored fix, batch after batch. Resolves when none is left; throws Retry to back off.
  async function drain() {
    for (;;) {
      const batch = await nextBatch();
      if (!batch) return;
      let answer;
      try {
        answer = await hooks.post(batch.body, batch.key);
      } catch (err) {
        offline = true;
        throw new Retry("no answer");
      }
      offline = false;
      const { status, data } = answer;
      hooks.onAnswer(batch.load_id, status, data);
      if (status === 200) {
        intervalS = Math.max(1, Number(data.next_interval_s) || DEFAULT_INTERVAL_S);
        await settle(batch, {
          accepted: data.accepted, duplicates: data.duplicates, rejected: data.rejected.length,
        });
      } else if (status === 401 || status === 426) {
        paused = true;
        throw new Retry(`paused: ${status}`);
      } else if (FINAL.has(status) && !(data && data.code === "request_in_progress")) {
        await settle(batch, { rejected: batch.ids.length });
      } else {
        throw new Retry(`HTTP ${status}`);
      }
      changed();
    }
  }

  async function tick() {
    timer = null;
    if (running || !hooks.post || paused) return;
    running = true;
    let delayS;
    try {
      const locked = navigator.locks
        ? await navigator.locks.request("driver-gps-send", { ifAvailable: true }, (lock) => (lock ? drain() : "busy"))
        : await drain();
      failures = 0;
      delayS = locked === "busy" ? DEFAULT_INTERVAL_S : intervalS;
    } catch (err) {
      if (!(err instanceof Retry)) console.warn("gps queue:", err);
      failures += 1;
      delayS = Math.min(MAX_BACKOFF_S, 2 ** (failures - 1)) * (0.75 + Math.random() / 2);
    } finally {
      running = false;
    }
    changed();
    if (!paused) timer = setTimeout(tick, delayS * 1000);
  }

  function start(given) {
    hooks = { ...hooks, ...given };
    paused = false;
    kick();
  }

  function kick() {
    if (timer) clearTimeout(timer);
    timer = null;
    paused = false;
    failures = 0;
    tick();
  }

  addEventListener("online", () => { if (hooks.post) kick(); });

  return { open, record, start, kick, state };
})();
