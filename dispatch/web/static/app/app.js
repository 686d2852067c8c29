// The driver's phone app (/app): pairing, today's loads, slots, the gate (check-in from the phone's
// position, the queue live, "go to dock N"), the pickup code as a QR code, and the trip with GPS that
// survives dead zones (gps-queue.js). One screen at a time, phone-first, for one hand in sunlight.
//
// What it keeps on the phone: the pairing (device token; localStorage, so it stays paired across
// restarts), the last assignments and tickets (shown when offline), the trip in progress, and the
// GPS fixes not yet acknowledged (IndexedDB, gps-queue.js). The service worker (/app/sw.js) serves
// the shell offline. See docs/driver-app.md.
"use strict";

(() => {
  const $ = (selector) => document.querySelector(selector);
  const I = window.DispatchI18n;
  const api = window.DriverApi;
  const t = (key, params) => I.t(key, params);
  const LOADS_KEY = "driver.assignments";
  const TICKETS_KEY = "driver.tickets";
  const TRIP_KEY = "driver.trip";
  const ALERTED_KEY = "driver.alerted";
  const MESSAGES_KEY = "driver.messages_after";
  const LAST_FIX_KEY = "driver.last_fix_at";
  const POLL_MS = 10_000;
  const CN_ZONES = new Set(["Asia/Shanghai", "Asia/Chongqing", "Asia/Harbin", "Asia/Urumqi", "Asia/Kashgar"]);

  const stored = (key, fallback = null) => {
    try { const v = localStorage.getItem(key); return v === null ? fallback : JSON.parse(v); } catch (err) { return fallback; }
  };
  const store = (key, value) => {
    if (value === null || value === undefined) localStorage.removeItem(key);
    else localStorage.setItem(key, JSON.stringify(value));
  };

  const state = {
    screen: null,
    back: [],
    loads: [],
    savedAt: null,
    fresh: false, // the loads came from the server since the app started
    unreachable: false, // the last read of the loads got no answer
    tickets: stored(TICKETS_KEY, {}),
    current: null, // the load shown on the load, slots and code screens
    socket: null,
    live: false,
    attempt: 0,
    pollTimer: null,
    trip: stored(TRIP_KEY),
    watch: null,
    lastFix: null,
    gps: { waiting: 0, counters: {}, offline: false },
    audio: null,
    wakeLock: null,
  };

  // ---- screens ----------------------------------------------------------------------------------

  const TITLES = { pair: "app.title", loads: "app.loads.heading", load: "app.load.heading",
                   slots: "app.slots.heading", code: "app.code.heading", trip: "app.trip.heading" };

  function show(name, { push = true } = {}) {
    if (push && state.screen && state.screen !== name) state.back.push(state.screen);
    state.screen = name;
    for (const section of document.querySelectorAll(".screen")) section.hidden = section.id !== `screen-${name}`;
    document.body.dataset.screen = name;
    $("#back").hidden = state.back.length === 0 || name === "pair";
    if (name === "code") keepAwake(); else releaseAwake();
    render();
    const heading = $(`#screen-${name} h2`);
    if (heading && push) { heading.tabIndex = -1; heading.focus({ preventScroll: true }); }
  }

  function goBack() {
    const previous = state.back.pop();
    if (previous) show(previous, { push: false });
  }

  function render() {
    $("#title").textContent = t(TITLES[state.screen] || "app.title");
    renderStatus();
    renderOffline();
    const call = $("#call-banner");
    if (!call.hidden) $("#call-text").textContent = t("app.call.go", { dock: call.dataset.dock });
    fillTraccar();
    if (state.screen === "loads") renderLoads();
    if (state.screen === "load") renderLoad();
    if (state.screen === "slots") renderSlotsZone();
    if (state.screen === "code") renderCode();
    if (state.screen === "trip") renderTrip();
  }

  function renderStatus() {
    const el = $("#status");
    const paired = Boolean(api.token());
    const live = state.live && navigator.onLine;
    el.className = `status ${live ? "live" : ""}`;
    el.textContent = !paired ? "" : live ? t("app.status.live") : t("app.status.offline");
  }

  function renderOffline() {
    const banner = $("#offline-banner");
    const offline = Boolean(api.token()) && (!navigator.onLine || state.gps.offline || state.unreachable);
    const waiting = state.gps.waiting;
    banner.hidden = !offline;
    banner.dataset.waiting = String(waiting);
    banner.textContent = waiting > 0
      ? t("app.offline.waiting", { count: waiting })
      : t("app.offline.banner");
  }

  // A short note at the top (booked, paired, the dispatcher's message), gone after a while.
  let messageTimer = null;
  function message(text, kind = "info") {
    const el = $("#message");
    el.textContent = text;
    el.className = `banner ${kind}`;
    el.hidden = !text;
    clearTimeout(messageTimer);
    if (text) messageTimer = setTimeout(() => { el.hidden = true; }, 15_000);
  }

  function problemText(data) {
    const code = data && data.code;
    if (code && I.has(`app.problem.${code}`)) return t(`app.problem.${code}`);
    return (data && data.detail) || t("app.error.generic");
  }

  // ---- pairing ----------------------------------------------------------------------------------

  function deviceName() {
    const ua = navigator.userAgent;
    const platform = /Android/.test(ua) ? "Android" : /iPhone|iPad/.test(ua) ? "iPhone" : /Windows/.test(ua) ? "Windows"
      : /Mac/.test(ua) ? "Mac" : /Linux/.test(ua) ? "Linux" : "";
    return `${t("app.device.name")}${platform ? ` (${platform})` : ""}`;
  }

  async function paired(answer, errorEl) {
    if (answer.status === 201) {
      api.keep(answer.data);
      store(LOADS_KEY, null); store(TICKETS_KEY, null); store(ALERTED_KEY, null); store(MESSAGES_KEY, null);
      state.loads = []; state.tickets = {};
      state.back = [];
      message(t("app.pair.done", { name: answer.data.driver.name }));
      startPaired();
      return true;
    }
    errorEl.textContent = problemText(answer.data);
    return false;
  }

  async function pairWithCode(code) {
    const error = $("#pair-error");
    error.textContent = "";
    const body = { code: code.trim(), device_name: deviceName() };
    try {
      return await paired(await api.call("POST", "/driver/v1/pairing", { body, auth: false }), error);
    } catch (err) {
      error.textContent = t("app.error.offline");
      return false;
    }
  }

  async function signIn(form) {
    const error = $("#signin-error");
    error.textContent = "";
    const select = $("#signin-org");
    const body = { email: form.email.value, password: form.password.value, device_name: deviceName() };
    if (!select.hidden && select.value) body.organization_id = select.value;
    let answer;
    try {
      answer = await api.call("POST", "/driver/v1/pairing/sign-in", { body, auth: false });
    } catch (err) {
      error.textContent = t("app.error.offline");
      return;
    }
    if (answer.data && answer.data.code === "organization_required" && Array.isArray(answer.data.organization_ids)) {
      select.replaceChildren(...answer.data.organization_ids.map((id) => new Option(t("common.signin.organization", { id }), id)));
      select.hidden = false;
      $("label[for=signin-org]").hidden = false;
      error.textContent = t("app.signin.choose_organization");
      return;
    }
    if (await paired(answer, error)) form.reset();
  }

  function unpair(reason) {
    stopTracking();
    api.forget();
    if (state.socket) state.socket.close();
    store(LOADS_KEY, null); store(TICKETS_KEY, null); store(TRIP_KEY, null);
    state.trip = null; state.loads = []; state.tickets = {}; state.back = [];
    message(reason || "");
    show("pair", { push: false });
  }

  function fillTraccar() {
    const device = api.device();
    for (const el of document.querySelectorAll(".tracker-url")) el.textContent = `${location.origin}/tracker/osmand`;
    for (const el of document.querySelectorAll(".tracker-id")) {
      el.textContent = device && device.tracker_id ? device.tracker_id : t("app.traccar.after_pairing");
    }
    if (device) $("#device-name").textContent = t("app.device.paired", {
      driver: device.driver ? device.driver.name : "", organization: device.organization ? device.organization.name : "",
    });
  }

  // ---- loads ------------------------------------------------------------------------------------

  function setLoads(loads, fromServer) {
    state.loads = loads;
    if (fromServer) {
      state.fresh = true;
      state.savedAt = new Date().toISOString();
      store(LOADS_KEY, { loads, saved_at: state.savedAt });
      const trip = state.trip;
      if (trip && !(trip.outcome && trip.outcome.kind === "received")) {
        const mine = loads.find((l) => l.id === trip.load_id);
        if (!mine) tripEnded(trip.load_id); // received (or cancelled): the list holds loads still to do
        else if (mine.status === "arrived") tripOutcome({ kind: "arrived" });
      }
    }
    render();
  }

  // The trip's load left the list: read how it ended.
  async function tripEnded(loadId) {
    try {
      const answer = await api.call("GET", `/driver/v1/assignments/${loadId}`);
      if (answer.ok && answer.data.state === "received") tripOutcome({ kind: "received", at: null });
    } catch (err) { /* offline: the next answer tells */ }
  }

  async function refreshLoads() {
    try {
      const answer = await api.call("GET", "/driver/v1/assignments");
      state.unreachable = false;
      if (answer.ok) setLoads(answer.data, true);
    } catch (err) {
      state.unreachable = true;
      render();
    }
  }

  const byId = (id) => state.loads.find((l) => l.id === id);
  const zoneOf = (load) => (load && load.pickup_site && load.pickup_site.timezone) || undefined;
  const loadNumber = (load) => load.load_number || t("app.load.number_seq", { seq: load.seq });

  function cargoText(load) {
    const c = load.cargo;
    if (typeof c === "string") return c;
    if (c && (c.summary || c.description)) return c.summary || c.description;
    return I.weight(load.weight_kg);
  }

  function windowText(load) {
    const w = load.pickup_window || { from: load.pickup_from, until: load.pickup_until };
    const zone = zoneOf(load);
    if (!w || !w.from) return t("common.none");
    const sameDay = I.date(w.from, zone) === I.date(w.until, zone);
    return `${I.dateTime(w.from, zone)} – ${sameDay ? I.time(w.until, zone) : I.dateTime(w.until, zone)}`;
  }

  // A site's name and address, once each (an address often starts with the name already).
  function placeText(place) {
    if (!place.name || (place.address || "").startsWith(place.name)) return place.address || place.name || "";
    return `${place.name}, ${place.address}`;
  }

  function bookingOf(load) {
    return load.booking || null;
  }

  function bookingText(load) {
    const b = bookingOf(load);
    if (!b || b.status === "cancelled") return t("app.load.no_booking");
    const zone = zoneOf(load);
    return `${I.dateTime(b.slot_start, zone)} – ${I.time(b.slot_end, zone)}`;
  }

  function statusText(load) {
    const key = `app.state.${load.state || load.status}`;
    return I.has(key) ? t(key) : load.state || load.status;
  }

  function renderLoads() {
    const list = $("#loads");
    list.replaceChildren();
    for (const load of state.loads) {
      const item = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "load";
      button.dataset.loadId = load.id;
      const lines = [
        ["number", `${loadNumber(load)} · ${statusText(load)}`],
        ["site", load.pickup_site ? load.pickup_site.name : t("app.load.site_unknown")],
        ["when", windowText(load)],
        ["slot", `${t("app.load.booking")}: ${bookingText(load)}`],
      ];
      const ticket = state.tickets[load.id];
      if (ticket) lines.push(["ticket", ticketLine(ticket)]);
      for (const [cls, text] of lines) {
        const span = document.createElement("span");
        span.className = cls;
        span.textContent = text;
        button.append(span);
      }
      button.addEventListener("click", () => openLoad(load.id));
      item.append(button);
      list.append(item);
    }
    $("#loads-empty").hidden = state.loads.length > 0 || !state.fresh;
    const stale = $("#loads-stale");
    stale.hidden = state.fresh || !state.savedAt;
    if (state.savedAt) stale.textContent = t("app.loads.saved_at", { time: I.dateTime(state.savedAt) });
  }

  function openLoad(id) {
    state.current = id;
    message("");
    $("#load-error").textContent = "";
    show("load");
    if (!state.tickets[id]) refreshTicket(id);
  }

  // ---- one load -----------------------------------------------------------------------------------

  function ticketLine(ticket) {
    switch (ticket.status) {
      case "waiting": return t("app.ticket.place", { position: ticket.position });
      case "called": return t("app.call.go", { dock: ticket.dock ? ticket.dock.name : "" });
      case "loading": return t("app.ticket.loading", { dock: ticket.dock ? ticket.dock.name : "" });
      case "loaded": return t("app.ticket.loaded");
      default: return t("app.ticket.departed");
    }
  }

  function renderLoad() {
    const load = byId(state.current);
    if (!load) return;
    const zone = zoneOf(load);
    const site = load.pickup_site;
    $("#load-number").textContent = `${loadNumber(load)} · ${statusText(load)}`;
    $("#load-cargo").textContent = `${cargoText(load)} · ${load.vehicle ? load.vehicle.plate : ""}`;
    $("#load-site").textContent = site ? site.name : t("app.load.site_unknown");
    $("#load-address").textContent = site && site.address ? site.address : "";
    $("#load-window").textContent = windowText(load);
    $("#load-booking").textContent = bookingText(load);
    const dest = load.destination;
    $("#load-destination").textContent = dest ? t("app.load.destination", { place: placeText(dest) }) : "";
    $("#load-zone").textContent = zone ? t("app.load.zone", { zone }) : "";

    const ticket = state.tickets[load.id];
    const box = $("#ticket");
    box.hidden = !ticket;
    if (ticket) {
      box.dataset.status = ticket.status;
      $("#ticket-main").textContent = ticketLine(ticket);
      const waiting = ticket.status === "waiting";
      $("#ticket-detail").textContent = [
        waiting && ticket.waiting_for_slot ? t("app.ticket.early") : "",
        waiting && ticket.estimated_wait_minutes
          ? t("app.ticket.wait", { minutes: I.duration(ticket.estimated_wait_minutes * 60) })
          : waiting && !ticket.waiting_for_slot ? t("app.ticket.next") : "",
      ].filter(Boolean).join(" · ");
    }
    const before = ["planned", "assigned", "booked"].includes(load.status);
    const onTrip = state.trip && state.trip.load_id === load.id
      || !state.trip && ["in_transit", "arrived"].includes(load.status);
    $("#do-book").hidden = !before || Boolean(ticket);
    $("#do-book").textContent = bookingOf(load) && bookingOf(load).status === "booked"
      ? t("app.action.move") : t("app.action.book");
    $("#do-cancel").hidden = !before || Boolean(ticket) || !(bookingOf(load) && bookingOf(load).status === "booked");
    $("#do-checkin").hidden = !before || Boolean(ticket);
    $("#do-code").hidden = !load.pickup_code || onTrip;
    $("#do-depart").hidden = !(ticket && ticket.status === "loaded") || onTrip;
    $("#do-trip").hidden = !onTrip;
    renderMaps(load);
  }

  // The route in the phone's maps app: a geo: URI (Android asks which app), and links for the maps
  // most drivers use; AMap and Baidu for sites in China (they take WGS-84 when told so).
  function renderMaps(load) {
    const site = load.pickup_site;
    const route = $("#do-route");
    const more = $("#more-maps");
    more.replaceChildren();
    if (!site || !site.location) { route.hidden = true; return; }
    route.hidden = false;
    const { lat, lon } = site.location;
    const name = encodeURIComponent(site.name);
    route.href = `geo:${lat},${lon}?q=${lat},${lon}(${name})`;
    const links = [
      ["app.maps.google", `https://www.google.com/maps/dir/?api=1&destination=${lat},${lon}`],
      ["app.maps.apple", `https://maps.apple.com/?daddr=${lat},${lon}&q=${name}`],
    ];
    if (CN_ZONES.has(zoneOf(load))) {
      links.unshift(
        ["app.maps.amap", `https://uri.amap.com/navigation?to=${lon},${lat},${name}&coordinate=wgs84&callnative=1`],
        ["app.maps.baidu", `https://api.map.baidu.com/marker?location=${lat},${lon}&title=${name}&content=${name}&coord_type=wgs84&output=html&src=dispatch.driver`],
      );
    }
    for (const [key, href] of links) {
      const a = document.createElement("a");
      a.className = "button small";
      a.href = href;
      a.target = "_blank";
      a.rel = "noopener";
      a.textContent = t(key);
      more.append(a);
    }
  }

  async function refreshTicket(loadId) {
    try {
      const answer = await api.call("GET", `/driver/v1/loads/${loadId}/ticket`);
      if (answer.ok) setTicket(answer.data);
    } catch (err) { /* offline: keep the saved one */ }
  }

  function setTicket(ticket) {
    const before = state.tickets[ticket.load_id];
    state.tickets[ticket.load_id] = ticket;
    store(TICKETS_KEY, state.tickets);
    if (ticket.status === "called" && ticket.dock && (!before || before.status !== "called")) {
      dockCall(ticket.load_id, ticket.dock.name);
    }
    const banner = $("#call-banner");
    if (ticket.status !== "called" && banner.dataset.load === ticket.load_id) banner.hidden = true; // at the dock
    render();
  }

  // ---- slots ------------------------------------------------------------------------------------------

  function renderSlotsZone() {
    const zone = zoneOf(byId(state.current));
    $("#slots-zone").textContent = t("app.slots.zone", { zone: zone || Intl.DateTimeFormat().resolvedOptions().timeZone });
  }

  async function openSlots() {
    const load = byId(state.current);
    show("slots");
    $("#slots-error").textContent = "";
    $("#slots").replaceChildren();
    let answer;
    try {
      answer = await api.call("GET", `/driver/v1/loads/${load.id}/slots`);
    } catch (err) {
      $("#slots-error").textContent = t("app.error.offline");
      return;
    }
    if (!answer.ok) { $("#slots-error").textContent = problemText(answer.data); return; }
    const zone = zoneOf(load);
    const booked = bookingOf(load);
    const free = answer.data.filter((s) => s.free > 0);
    $("#slots-empty").hidden = free.length > 0;
    let day = null;
    for (const slot of free) {
      if (I.date(slot.start, zone) !== day) { // a heading per day, the slots under it by their times
        day = I.date(slot.start, zone);
        const heading = document.createElement("li");
        heading.className = "day";
        heading.textContent = day;
        $("#slots").append(heading);
      }
      const item = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "slot";
      button.dataset.start = slot.start;
      const mine = booked && booked.status === "booked" && Date.parse(booked.slot_start) === Date.parse(slot.start);
      if (mine) button.classList.add("mine");
      const when = document.createElement("span");
      when.textContent = `${I.time(slot.start, zone)} – ${I.time(slot.end, zone)}`;
      const places = document.createElement("span");
      places.className = "places";
      places.textContent = mine ? t("app.slots.yours") : t("app.slots.free", { count: slot.free });
      button.append(when, places);
      button.addEventListener("click", () => book(load, slot));
      item.append(button);
      $("#slots").append(item);
    }
  }

  async function book(load, slot) {
    let answer;
    try {
      answer = await api.call("PUT", `/driver/v1/loads/${load.id}/booking`,
                              { body: { slot_start: slot.start }, key: api.newKey() });
    } catch (err) {
      $("#slots-error").textContent = t("app.error.offline");
      return;
    }
    if (!answer.ok) { $("#slots-error").textContent = problemText(answer.data); return; }
    load.booking = answer.data;
    if (load.status === "assigned") load.status = "booked";
    if (load.state === "assigned") load.state = "booked";
    store(LOADS_KEY, { loads: state.loads, saved_at: state.savedAt });
    goBack();
    message(t("app.slots.booked", { slot: bookingText(load) }));
  }

  // The driver cannot make the slot (or arrives without one): the place goes back to the others.
  async function cancelBooking() {
    const load = byId(state.current);
    const error = $("#load-error");
    error.textContent = "";
    let answer;
    try {
      answer = await api.call("DELETE", `/driver/v1/loads/${load.id}/booking`, { key: api.newKey() });
    } catch (err) {
      error.textContent = t("app.error.offline");
      return;
    }
    if (!answer.ok) { error.textContent = problemText(answer.data); return; }
    load.booking = null;
    if (load.status === "booked") load.status = "assigned";
    if (load.state === "booked") load.state = "assigned";
    message(t("app.slots.cancelled"));
    render();
  }

  // ---- the gate: check-in, queue, dock call -------------------------------------------------------

  function currentPosition() {
    return new Promise((resolve, reject) => {
      if (!navigator.geolocation) { reject(new Error("no geolocation")); return; }
      navigator.geolocation.getCurrentPosition(resolve, reject, { enableHighAccuracy: true, timeout: 20_000, maximumAge: 0 });
    });
  }

  async function checkIn() {
    const load = byId(state.current);
    const error = $("#load-error");
    error.textContent = "";
    delete error.dataset.distanceM;
    unlockSound();
    const button = $("#do-checkin");
    button.disabled = true;
    try {
      let position;
      try {
        position = await currentPosition();
      } catch (err) {
        error.textContent = t("app.checkin.no_position");
        return;
      }
      const body = {
        position: { lat: position.coords.latitude, lon: position.coords.longitude },
        accuracy_m: Math.min(2000, Math.max(0, position.coords.accuracy || 0)),
      };
      let answer;
      try {
        answer = await api.call("POST", `/driver/v1/loads/${load.id}/check-in`, { body, key: api.newKey() });
      } catch (err) {
        error.textContent = t("app.error.offline");
        return;
      }
      if (answer.status === 201) {
        load.status = "at_gate";
        setTicket(answer.data);
        askNotificationPermission();
      } else if (answer.data && answer.data.code === "outside_geofence") {
        error.dataset.distanceM = String(answer.data.distance_m);
        error.textContent = t("app.checkin.outside", {
          distance: I.distance(answer.data.distance_m), site: load.pickup_site ? load.pickup_site.name : "",
        });
      } else if (answer.data && answer.data.code === "already_checked_in") {
        await refreshTicket(load.id);
      } else {
        error.textContent = problemText(answer.data);
      }
    } finally {
      button.disabled = false;
    }
  }

  // Asked right after check-in: the driver has just joined the queue and waits to be called.
  function askNotificationPermission() {
    if ("Notification" in window && Notification.permission === "default") {
      Notification.requestPermission().catch(() => {});
    }
  }

  const alerted = () => new Set(stored(ALERTED_KEY, []));

  // "Go to dock N": a banner, vibration, a beep and a system notification, once per load and dock.
  function dockCall(loadId, dock) {
    const seen = alerted();
    const key = `${loadId}|${dock}`;
    const load = byId(loadId);
    $("#call-text").textContent = t("app.call.go", { dock });
    $("#call-banner").hidden = false;
    $("#call-banner").dataset.dock = dock;
    $("#call-banner").dataset.load = loadId;
    if (seen.has(key)) return;
    seen.add(key);
    store(ALERTED_KEY, [...seen]);
    if (navigator.vibrate) navigator.vibrate([400, 150, 400, 150, 800]);
    beep();
    notify(t("app.call.go", { dock }), load ? `${loadNumber(load)} · ${load.vehicle ? load.vehicle.plate : ""}` : "",
           `dock-${loadId}`);
  }

  // A sound needs an AudioContext started by a tap (autoplay rules): made on the first one.
  function unlockSound() {
    const Ctx = window.AudioContext || window.webkitAudioContext;
    if (!state.audio && Ctx) state.audio = new Ctx();
    if (state.audio && state.audio.state === "suspended") state.audio.resume().catch(() => {});
  }

  function beep() {
    const ctx = state.audio;
    if (!ctx) return;
    for (let i = 0; i < 3; i += 1) {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.frequency.value = 880;
      gain.gain.value = 0.4;
      osc.connect(gain).connect(ctx.destination);
      const at = ctx.currentTime + i * 0.35;
      osc.start(at);
      osc.stop(at + 0.2);
    }
  }

  async function notify(title, body, tag) {
    if (!("Notification" in window) || Notification.permission !== "granted") return;
    const options = { body, tag, renotify: true, requireInteraction: true, icon: "/static/app/icon-192.png",
                      vibrate: [400, 150, 400] };
    try {
      const registration = navigator.serviceWorker && await navigator.serviceWorker.getRegistration("/app");
      if (registration) { await registration.showNotification(title, options); return; }
    } catch (err) { /* fall back to the page's own notification */ }
    try { new Notification(title, options); } catch (err) { console.warn("notification:", err); }
  }

  // ---- the live socket, and the poll when it is down -----------------------------------------------

  function connectLive() {
    if (state.socket || !api.token()) return;
    const socket = new WebSocket(api.liveUrl());
    state.socket = socket;
    socket.onopen = () => { state.live = true; state.attempt = 0; render(); };
    socket.onmessage = (event) => {
      const frame = JSON.parse(event.data);
      if (frame.type === "assignments") setLoads(frame.loads, true);
      else if (frame.type === "tickets") {
        for (const ticket of frame.tickets) setTicket(ticket);
      } else if (frame.type === "called") dockCall(frame.load_id, frame.dock);
      else if (frame.type === "inbox") inboxItem(frame.message);
    };
    socket.onclose = () => {
      state.socket = null;
      state.live = false;
      render();
      if (!api.token()) return;
      state.attempt += 1;
      setTimeout(connectLive, Math.min(30_000, 1000 * 2 ** Math.min(state.attempt, 5)));
    };
  }

  // While the socket is down: the assignments, the tickets and the driver's messages, every 10 s.
  async function poll() {
    if (!api.token() || state.live) return;
    await refreshLoads();
    for (const load of state.loads) {
      if (["at_gate", "loading"].includes(load.status) || state.tickets[load.id]) await refreshTicket(load.id);
    }
    try {
      const after = stored(MESSAGES_KEY);
      const answer = await api.call("GET", `/driver/v1/messages?after=${after === null ? 0 : after}`);
      if (answer.ok) {
        // The first read after pairing only sets the cursor: older messages are not news.
        if (after !== null) for (const item of answer.data.items) inboxItem(item);
        store(MESSAGES_KEY, answer.data.next_after);
      }
    } catch (err) { /* offline */ }
  }

  // A stored message (GET /driver/v1/messages, or the socket's `inbox` frame), in the phone's language.
  function inboxItem(item) {
    const seen = stored(MESSAGES_KEY);
    if (seen !== null && item.id <= seen) return;
    store(MESSAGES_KEY, item.id);
    if (item.kind === "dock_call" && item.dock) dockCall(item.load_id, item.dock);
    else message(item.key && I.has(item.key) ? t(item.key, item.params || {}) : item.text);
  }

  // ---- the pickup code ------------------------------------------------------------------------------

  function renderCode() {
    const load = byId(state.current);
    if (!load || !load.pickup_code) return;
    const qr = window.qrcode(0, "M");
    qr.addData(load.pickup_code);
    qr.make();
    $("#qr").innerHTML = qr.createSvgTag({ cellSize: 8, margin: 32, scalable: true });
    $("#qr").setAttribute("aria-label", t("app.code.qr_label", { code: load.pickup_code }));
    $("#code-text").textContent = load.pickup_code;
    $("#code-plate").textContent = load.vehicle ? load.vehicle.plate : "";
  }

  async function keepAwake() {
    try { if (navigator.wakeLock && !state.wakeLock) state.wakeLock = await navigator.wakeLock.request("screen"); } catch (err) { /* not allowed */ }
  }
  function releaseAwake() {
    if (state.wakeLock) { state.wakeLock.release().catch(() => {}); state.wakeLock = null; }
  }

  // ---- the trip ------------------------------------------------------------------------------------

  async function depart() {
    const load = byId(state.current);
    const error = $("#load-error");
    error.textContent = "";
    let answer;
    try {
      answer = await api.call("POST", `/driver/v1/loads/${load.id}/depart`, { key: api.newKey() });
    } catch (err) {
      error.textContent = t("app.error.offline");
      return;
    }
    if (!answer.ok) { error.textContent = problemText(answer.data); return; }
    setTicket(answer.data);
    load.status = "in_transit";
    state.trip = { load_id: load.id, destination: load.destination || null, started_at: new Date().toISOString(),
                   outcome: null };
    store(TRIP_KEY, state.trip);
    startTracking();
    show("trip");
  }

  function startTracking() {
    if (!state.trip || state.trip.outcome && state.trip.outcome.kind === "received") return;
    if (state.watch === null && navigator.geolocation) {
      state.watch = navigator.geolocation.watchPosition(onFix, (err) => {
        $("#trip-gps").textContent = t("app.trip.no_gps");
        console.warn("gps:", err.message);
      }, { enableHighAccuracy: true, maximumAge: 0, timeout: 60_000 });
    }
    window.GpsQueue.start({
      post: async (body, key) => {
        const answer = await api.call("POST", "/driver/v1/positions", { body, key });
        return { status: answer.status, data: answer.data };
      },
      onChange(gps) { state.gps = gps; render(); },
      onAnswer: tripAnswer,
    });
  }

  function stopTracking() {
    if (state.watch !== null) navigator.geolocation.clearWatch(state.watch);
    state.watch = null;
  }

  const finite = (v) => (typeof v === "number" && Number.isFinite(v) ? v : null);

  async function onFix(position) {
    if (!state.trip) return;
    // The same fix can be delivered twice (a watch restarted after a reload): recorded once.
    if (position.timestamp <= (stored(LAST_FIX_KEY) || 0)) return;
    store(LAST_FIX_KEY, position.timestamp);
    state.lastFix = position;
    const c = position.coords;
    const speed = finite(c.speed);
    await window.GpsQueue.record(state.trip.load_id, {
      lon: c.longitude,
      lat: c.latitude,
      recorded_at: new Date(position.timestamp).toISOString(),
      accuracy_m: finite(c.accuracy),
      speed_mps: speed,
      heading_deg: finite(c.heading),
      moving: speed === null ? null : speed > 0.5,
    });
    $("#trip-gps").textContent = "";
  }

  // What the server says about the trip, from the answers to the position batches.
  function tripAnswer(loadId, status, data) {
    if (!state.trip || state.trip.load_id !== loadId) return;
    let outcome = null;
    if (status === 409 && data && data.code === "load_received") {
      outcome = { kind: "received", at: data.received_at || null };
    } else if (status === 200 && data.loads.some((l) => l.load_id === loadId && l.status === "arrived")) {
      outcome = { kind: "arrived" };
    }
    if (outcome) tripOutcome(outcome);
  }

  function tripOutcome(outcome) {
    const trip = state.trip;
    if (!trip || trip.outcome && (trip.outcome.kind === "received" || trip.outcome.kind === outcome.kind)) return;
    trip.outcome = outcome;
    store(TRIP_KEY, trip);
    if (outcome.kind === "received") stopTracking();
    render();
  }

  // Straight-line distance (haversine) from the last fix to the destination; the ETA at the current
  // speed, or 60 km/h when standing or unknown. A hint for the driver, not the platform's ETA.
  function distanceM(a, b) {
    const rad = Math.PI / 180;
    const dLat = (b.lat - a.lat) * rad;
    const dLon = (b.lon - a.lon) * rad;
    const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
    return 2 * 6_371_000 * Math.asin(Math.sqrt(h));
  }

  function renderTrip() {
    const trip = state.trip;
    if (!trip) return;
    const dest = trip.destination;
    $("#trip-destination").textContent = dest ? placeText(dest) : t("app.trip.heading");
    const counters = state.gps.counters[trip.load_id] || { recorded: 0 };
    $("#trip-waiting").textContent = I.number(state.gps.waiting);
    $("#trip-waiting").dataset.count = String(state.gps.waiting);
    $("#trip-recorded").textContent = I.number(counters.recorded);
    $("#trip-recorded").dataset.count = String(counters.recorded);
    for (const field of ["accepted", "duplicates", "rejected"]) {
      $("#trip-recorded").dataset[field] = String(counters[field] || 0);
    }
    const fix = state.lastFix;
    if (fix && dest && dest.location) {
      const left = distanceM({ lat: fix.coords.latitude, lon: fix.coords.longitude }, dest.location);
      const speed = finite(fix.coords.speed) > 3 ? fix.coords.speed : 60 / 3.6;
      $("#trip-left").textContent = I.distance(left);
      $("#trip-eta").textContent = I.time(new Date(Date.now() + (left / speed) * 1000));
    }
    const outcome = $("#trip-outcome");
    outcome.hidden = !trip.outcome;
    if (trip.outcome) {
      outcome.dataset.kind = trip.outcome.kind;
      outcome.replaceChildren();
      const p = document.createElement("p");
      p.className = "big";
      p.textContent = trip.outcome.kind === "received"
        ? trip.outcome.at ? t("app.trip.received", { time: I.dateTime(trip.outcome.at) }) : t("app.trip.received_now")
        : t("app.trip.arrived");
      outcome.append(p);
      if (trip.outcome.kind === "received") {
        const done = document.createElement("button");
        done.type = "button";
        done.className = "primary";
        done.textContent = t("app.trip.done");
        done.addEventListener("click", () => {
          state.trip = null; store(TRIP_KEY, null); state.back = []; show("loads", { push: false }); refreshLoads();
        });
        outcome.append(done);
      }
    }
  }

  // ---- start ---------------------------------------------------------------------------------------

  function startPaired() {
    const saved = stored(LOADS_KEY);
    if (saved) { state.loads = saved.loads; state.savedAt = saved.saved_at; }
    if (state.trip) state.back = ["loads"];
    show(state.trip ? "trip" : "loads", { push: false });
    if (state.trip) {
      state.current = state.trip.load_id;
      startTracking();
      window.GpsQueue.state().then((gps) => { state.gps = { ...state.gps, ...gps }; render(); });
    }
    refreshLoads();
    connectLive();
    if (!state.pollTimer) state.pollTimer = setInterval(poll, POLL_MS);
  }

  function wire() {
    $("#back").addEventListener("click", goBack);
    document.addEventListener("keydown", (e) => { if (e.key === "Escape" && !$("#back").hidden) goBack(); });
    $("#pair-form").addEventListener("submit", (e) => { e.preventDefault(); unlockSound(); pairWithCode($("#pair-code").value); });
    $("#signin-form").addEventListener("submit", (e) => { e.preventDefault(); unlockSound(); signIn(e.target); });
    $("#unpair").addEventListener("click", () => unpair(""));
    $("#do-book").addEventListener("click", openSlots);
    $("#do-checkin").addEventListener("click", checkIn);
    $("#do-cancel").addEventListener("click", cancelBooking);
    $("#do-code").addEventListener("click", () => show("code"));
    $("#do-depart").addEventListener("click", depart);
    $("#do-trip").addEventListener("click", () => {
      // A trip started before this phone was paired (or before a reset): it goes on from here.
      if (!state.trip) {
        const load = byId(state.current);
        state.trip = { load_id: load.id, destination: load.destination || null, started_at: new Date().toISOString(),
                       outcome: null };
        store(TRIP_KEY, state.trip);
        startTracking();
      }
      show("trip");
    });
    $("#call-ok").addEventListener("click", () => { $("#call-banner").hidden = true; });
    $("#upgrade-reload").addEventListener("click", async () => {
      const registration = navigator.serviceWorker && await navigator.serviceWorker.getRegistration("/app");
      if (registration) await registration.update().catch(() => {});
      location.reload();
    });
    document.addEventListener("pointerdown", unlockSound, { once: true });
    addEventListener("online", () => { refreshLoads(); render(); });
    // Back from the background (a phone unlocked): catch up at once instead of at the next timer.
    document.addEventListener("visibilitychange", () => {
      if (document.hidden || !api.token()) return;
      connectLive();
      refreshLoads();
      if (state.trip) window.GpsQueue.kick();
    });
    // The socket may take a while to notice the network is gone: closed now, it retries with backoff.
    addEventListener("offline", () => { if (state.socket) state.socket.close(); render(); });
    api.on("upgrade", () => { $("#upgrade-banner").hidden = false; });
    api.on("unpaired", () => unpair(t("app.pair.revoked")));
    I.onChange(render);
  }

  async function boot() {
    if (navigator.serviceWorker) {
      navigator.serviceWorker.register("/app/sw.js", { scope: "/app" }).catch((err) => console.warn("sw:", err));
    }
    try { await I.start(); } catch (err) { console.warn("i18n:", err); }
    wire();
    const hash = new URLSearchParams(location.hash.slice(1));
    const code = hash.get("pair");
    const token = hash.get("token"); // for a dispatcher's tests: a device token handed over directly
    if (code || token) history.replaceState(null, "", location.pathname);
    if (token) api.keep({ device_token: token, driver: null, organization: null });
    if (code) {
      $("#pair-code").value = code;
      show("pair", { push: false });
      if (await pairWithCode(code)) return;
      return;
    }
    if (!api.token()) { show("pair", { push: false }); return; }
    startPaired();
  }

  window.DriverApp = { state };
  boot();
})();
