// The tracking page: one job's (or one load's) trucks on their way, live, for the buyer and the
// seller. The page signs in with a bearer token from the URL fragment (#token=..., never sent to the
// server in the URL), a share link (#share=... or ?share=...), or a login form; then it opens the
// tracking websocket: a snapshot first, then points, events, the receipt and a final frame.
//
// It keeps the last point seq seen per load, so when the socket drops (or the server reports a gap)
// it reconnects with ?after=<load>:<seq>,... and gets exactly the points it missed.
// The map is plain SVG in Web Mercator, fitted to both sites' geofences and the trails; background
// tiles are drawn only when the server is configured with a tile URL (GET /track/config). Positions
// are stored and sent in WGS-84; tiles in GCJ-02 (mainland China) get everything drawn shifted to
// their datum (datum.js) in fit(), the one place a position enters the map (view.project).
//
// In English or Chinese (i18n.js): texts from the catalogue, numbers, distances and times formatted
// for the language, times in the viewer's own zone (the page says which); switching the language
// redraws the header and the panel in place, the socket stays open. A signed-in viewer's language is
// their own setting (GET /me); a share link's viewer has no account: the device's or browser's.
"use strict";

const [, , kind, targetId] = location.pathname.split("/"); // /track/{jobs|loads}/{id}
const $ = (selector, root = document) => root.querySelector(selector);
const SVG = "http://www.w3.org/2000/svg";
const TOKEN_KEY = "dispatch-token";
const SHARE_KEY = `dispatch-share-${targetId}`;
const COLORS = ["#f5b700", "#4cc9f0", "#f72585", "#2fbf71", "#ff8c42", "#b388ff", "#ff6b6b", "#9ef01a"];
const i18n = window.DispatchI18n;
const t = i18n.t;
const SILENCE_MS = 60_000; // the server pings after 25 s of silence: twice that means the line is dead
const MAX_BACKOFF_MS = 30_000;

const state = {
  credential: null, // {token} or {share}
  config: { tiles_url: null, attribution: "", datum: "wgs84" },
  job: null,
  loads: new Map(), // load_id -> the load as drawn (trail, last seq seen, status, eta, timeline ...)
  ended: false,
  socket: null,
  attempt: 0, // reconnections since the last snapshot, for the backoff
  refusals: 0, // sockets refused before opening while the server was up
  reconnects: 0,
  timer: null,
  watchdog: null,
  tilesKey: "",
};

// ---- credentials and sign-in ----------------------------------------------------------------------

function credential() {
  const hash = new URLSearchParams(location.hash.slice(1));
  const query = new URLSearchParams(location.search);
  const share = hash.get("share") || query.get("share");
  const token = hash.get("token");
  if (share || token) {
    if (share) sessionStorage.setItem(SHARE_KEY, share);
    if (token) { sessionStorage.setItem(TOKEN_KEY, token); if (!share) sessionStorage.removeItem(SHARE_KEY); }
    query.delete("share");
    const rest = query.toString();
    history.replaceState(null, "", location.pathname + (rest ? `?${rest}` : ""));
  }
  const stored = sessionStorage.getItem(SHARE_KEY);
  if (stored) return { share: stored };
  const bearer = sessionStorage.getItem(TOKEN_KEY);
  return bearer ? { token: bearer } : null;
}

// The login form itself is signin.js's (included before this script).
function showLogin(messageKey) {
  setStatus("common.status.signed_out", "");
  DispatchSignin.showLoginForm($("#login"), {
    messageKey,
    tokenKey: TOKEN_KEY,
    onSignedIn(token) {
      sessionStorage.removeItem(SHARE_KEY); // a signed-in user watches as themselves, not by the share link
      state.credential = { token };
      state.refusals = 0;
      connect();
      DispatchSignin.useUserLanguage(token);
    },
  });
}

// ---- the socket -----------------------------------------------------------------------------------

// `key`: a catalogue text, kept on the element so that a language switch re-translates it.
function setStatus(key, className) {
  const el = $("#status");
  el.dataset.i18n = key;
  el.textContent = t(key);
  el.className = `status${className ? ` ${className}` : ""}`;
  document.body.dataset.reconnects = String(state.reconnects);
}

function socketUrl(cursor) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const params = new URLSearchParams();
  if (state.credential.share) params.set("share", state.credential.share);
  else params.set("access_token", state.credential.token);
  if (cursor.length) params.set("after", cursor.map(([id, seq]) => `${id}:${seq}`).join(","));
  return `${scheme}://${location.host}/tracking/${kind}/${targetId}/live?${params}`;
}

function connect() {
  clearTimeout(state.timer);
  state.timer = null;
  // The cursor: every load we have points of, at the last seq seen. Loads without points get their
  // whole trail in the snapshot.
  const cursor = [...state.loads.values()].filter((l) => l.lastSeq > 0).map((l) => [l.id, l.lastSeq]);
  const socket = new WebSocket(socketUrl(cursor));
  socket.cursor = new Set(cursor.map(([id]) => id));
  socket.opened = false;
  state.socket = socket;
  socket.onopen = () => { socket.opened = true; keepAlive(socket); };
  socket.onmessage = (event) => {
    if (socket !== state.socket) return;
    keepAlive(socket);
    let frame;
    try { frame = JSON.parse(event.data); } catch (err) { return; }
    handle(socket, frame);
  };
  socket.onclose = (event) => {
    if (socket !== state.socket) return;
    state.socket = null;
    clearTimeout(state.watchdog);
    if (state.ended) return;
    if (event.code === 1008 || event.code === 4401 || event.code === 4403) return refused(true);
    if (!socket.opened) return refusedOrDown();
    reconnectLater();
  };
}

// Drop the current socket (without waiting for its close) and connect again from the cursor.
function resync() {
  const socket = state.socket;
  if (socket) {
    state.socket = null;
    socket.onmessage = socket.onclose = null;
    try { socket.close(1000); } catch (err) { /* already closing */ }
  }
  clearTimeout(state.watchdog);
  if (!state.ended) reconnectLater(state.attempt === 0 ? 0 : undefined);
}

function reconnectLater(delay) {
  if (state.timer) return;
  setStatus("common.status.reconnecting", "");
  state.reconnects += 1;
  document.body.dataset.reconnects = String(state.reconnects);
  const backoff = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** state.attempt) * (0.75 + Math.random() / 2);
  state.attempt += 1;
  state.timer = setTimeout(connect, delay ?? backoff);
}

function keepAlive(socket) {
  clearTimeout(state.watchdog);
  state.watchdog = setTimeout(() => { if (socket === state.socket) resync(); }, SILENCE_MS);
}

// The handshake was refused (nothing tells a browser why) or the server is down: find out which.
async function refusedOrDown() {
  try {
    if (state.credential.token) {
      const me = await fetch("/me", { headers: { authorization: `Bearer ${state.credential.token}` } });
      if (me.status === 401) return refused(true);
      if (!me.ok) return reconnectLater();
    } else if (!(await fetch("/healthz")).ok) {
      return reconnectLater();
    }
  } catch (err) {
    return reconnectLater(); // the server is down: keep trying
  }
  state.refusals += 1;
  if (state.refusals >= 3) return refused(false);
  reconnectLater();
}

function refused(sessionGone) {
  if (state.credential.token && sessionGone) {
    sessionStorage.removeItem(TOKEN_KEY);
    return showLogin("common.signin.ended");
  }
  if (state.credential.share) {
    sessionStorage.removeItem(SHARE_KEY);
    return setStatus("track.share_expired", "error");
  }
  // Signed in, but as someone who may not watch this delivery (or it does not exist): offer to sign
  // in as someone else.
  sessionStorage.removeItem(TOKEN_KEY);
  showLogin("track.no_access_signin");
  setStatus("track.no_access", "error");
}

// ---- frames ---------------------------------------------------------------------------------------

function handle(socket, frame) {
  switch (frame.type) {
    case "snapshot": return onSnapshot(socket, frame);
    case "points": return onPoints(frame);
    case "event": return onEvent(frame);
    case "received": return onReceived(frame);
    case "final": return onFinal(frame);
    case "gap": return resync();
    default: return undefined; // "ping", and frames this page does not know yet
  }
}

function onSnapshot(socket, frame) {
  state.job = frame.job;
  state.attempt = 0;
  state.refusals = 0;
  const seen = new Set();
  frame.loads.forEach((track, index) => {
    seen.add(track.load_id);
    let load = state.loads.get(track.load_id);
    if (!load) {
      load = { id: track.load_id, trail: [], lastSeq: 0, color: COLORS[state.loads.size % COLORS.length] };
      state.loads.set(track.load_id, load);
    }
    Object.assign(load, {
      number: track.seq ?? index + 1, plate: track.plate, status: track.status, eta: track.eta,
      receipt: track.receipt, timeline: (track.timeline || []).slice(), pointsTotal: track.points_total,
    });
    if (track.last && !newer(load.last, track.last)) load.last = track.last;
    if (!(frame.resumed && socket.cursor.has(track.load_id))) {
      // Not resumed for this load: the snapshot's trail is the whole story so far.
      load.trail = (track.trail || []).map(([lon, lat]) => ({ lon, lat, t: -Infinity }));
      load.lastSeq = track.last_seq || 0;
    }
  });
  for (const id of [...state.loads.keys()]) if (!seen.has(id)) state.loads.delete(id);
  $("#tracking").hidden = false;
  setStatus("common.status.live", "live");
  renderHeader();
  renderPanel();
  scheduleDraw();
}

function onPoints(frame) {
  const load = state.loads.get(frame.load_id);
  if (!load) return resync(); // a load the snapshot did not have: start over
  for (const p of frame.points) {
    if (p.seq <= load.lastSeq) continue; // seen already
    if (p.seq !== load.lastSeq + 1) return resync(); // a hole: fetch it from the cursor
    insertPoint(load, p);
    load.lastSeq = p.seq;
    if (load.pointsTotal !== undefined) load.pointsTotal += 1;
  }
  if (frame.status) load.status = frame.status;
  if (frame.eta !== undefined) load.eta = frame.eta;
  renderPanel();
  scheduleDraw();
}

// Points come in seq order (the order they were stored), which is time order except for late ones.
function insertPoint(load, p) {
  const t = Date.parse(p.recorded_at);
  const point = { lon: p.lon, lat: p.lat, t };
  let i = load.trail.length;
  while (i > 0 && load.trail[i - 1].t > t) i -= 1;
  load.trail.splice(i, 0, point);
  if (!newer(load.last, p)) load.last = p;
}

// Whether point a was recorded after point b.
function newer(a, b) {
  return Boolean(a && a.recorded_at && b.recorded_at && Date.parse(a.recorded_at) > Date.parse(b.recorded_at));
}

function onEvent(frame) {
  const load = state.loads.get(frame.load_id);
  if (!load) return resync();
  addTimeline(load, frame.event);
  if (frame.status) load.status = frame.status;
  renderPanel();
  scheduleDraw();
}

function onReceived(frame) {
  const load = state.loads.get(frame.load_id);
  if (!load) return resync();
  load.receipt = frame.receipt;
  load.status = "received";
  if (!load.timeline.some((e) => e.type === "load.received")) {
    const r = frame.receipt || {};
    addTimeline(load, { type: "load.received", at: r.received_at || r.confirmed_at || r.created_at || r.at
                        || new Date().toISOString(), data: {} });
  }
  renderPanel();
  scheduleDraw();
}

function onFinal(frame) {
  state.ended = true;
  clearTimeout(state.watchdog);
  clearTimeout(state.timer);
  const delivered = !frame.reason || frame.reason === "received";
  const ended = $("#ended");
  ended.dataset.i18n = delivered ? "track.delivered" : "track.ended_note";
  ended.textContent = t(ended.dataset.i18n);
  ended.hidden = false;
  setStatus(delivered ? "track.delivered" : "track.ended", "ended");
  renderPanel();
}

function addTimeline(load, event) {
  if (!event || load.timeline.some((e) => e.type === event.type && e.at === event.at)) return;
  load.timeline.push(event);
  load.timeline.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
}

// ---- the panel ------------------------------------------------------------------------------------

// A time in the viewer's zone: the time alone today, with the date on other days.
function clock(iso) {
  if (!iso) return t("common.none");
  const d = new Date(iso);
  return new Date().toDateString() === d.toDateString() ? i18n.time(d) : i18n.dateTime(d);
}

function ago(iso) {
  if (!iso) return "";
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (s < 60) return t("track.ago.now");
  if (s < 3600) return t("track.ago.minutes", { count: Math.round(s / 60) });
  if (s >= 172800) return t("track.ago.days", { count: Math.floor(s / 86400) });
  return t("track.ago.hours", { hours: i18n.number(Math.floor(s / 3600)), minutes: i18n.number(Math.round((s % 3600) / 60)) });
}

function km(m) {
  return m === null || m === undefined ? t("common.none") : i18n.distance(m);
}

function loadName(load) {
  return load.plate || t("track.load_number", { number: i18n.number(load.number) });
}

function renderHeader() {
  const job = state.job;
  if (!job) return;
  const name = job.reference ? t("track.title_reference", { reference: job.reference }) : t("track.title");
  $("#job-name").removeAttribute("data-i18n");
  $("#job-name").textContent = name;
  document.title = name;
  const from = job.origin && (job.origin.name || job.origin.address);
  const to = job.destination && (job.destination.name || job.destination.address);
  $("#route").textContent = [from, to].filter(Boolean).join(" → ");
}

function renderPanel() {
  const list = $("#loads");
  const loads = [...state.loads.values()].sort((a, b) => a.number - b.number);
  for (const load of loads) {
    let card = document.getElementById(`load-${load.id}`);
    if (!card) {
      card = $("#load-card").content.firstElementChild.cloneNode(true);
      card.id = `load-${load.id}`;
      card.dataset.loadId = load.id;
      i18n.apply(card); // the template's labels
      $(".swatch", card).style.background = load.color;
    }
    list.append(card); // keeps the order by load number
    card.dataset.status = load.status || "";
    $(".plate", card).textContent = loadName(load);
    const tag = $(".load-status", card);
    const statusKey = `track.status.${load.status}`;
    tag.textContent = i18n.has(statusKey) ? t(statusKey) : (load.status || "").replaceAll("_", " ");
    tag.className = `load-status tag ${load.status || ""}`;
    const eta = load.status === "received" ? null : load.eta;
    // The ETA with its date: a delivery may arrive on another day than today.
    $(".eta-at", card).textContent = eta && eta.eta_at ? i18n.dateTime(eta.eta_at)
      : load.status === "received" ? t("track.eta_delivered") : t("common.none");
    $(".remaining", card).textContent = eta ? km(eta.remaining_m) : t("common.none");
    const progress = load.status === "received" ? 1 : eta && typeof eta.progress === "number" ? eta.progress : null;
    $(".progress", card).textContent = progress === null ? t("common.none")
      : t("track.percent", { value: i18n.number(Math.round(progress * 100)) });
    $(".bar span", card).style.width = `${progress === null ? 0 : Math.round(progress * 100)}%`;
    const speed = load.last && typeof load.last.speed_mps === "number" ? load.last.speed_mps
      : eta && typeof eta.speed_mps === "number" ? eta.speed_mps : null;
    $(".speed", card).textContent = speed === null ? t("common.none")
      : t("track.speed_kmh", { value: i18n.number(Math.round(speed * 3.6)) });
    const at = load.last && load.last.recorded_at;
    const update = $(".last-update", card);
    update.textContent = at ? t("track.last_update", { time: clock(at), ago: ago(at) }) : t("track.no_position");
    update.dataset.at = at || "";
    const receipt = $(".receipt", card);
    receipt.hidden = !load.receipt;
    if (load.receipt) receipt.textContent = receiptText(load.receipt);
    const timeline = $(".timeline", card);
    timeline.replaceChildren(...load.timeline.map((e) => {
      const li = document.createElement("li");
      li.dataset.type = e.type;
      const when = document.createElement("time");
      when.dateTime = e.at;
      when.textContent = clock(e.at);
      const label = `track.event.${e.type}`;
      li.append(when, ` ${i18n.has(label) ? t(label) : e.type}`);
      return li;
    }));
  }
  for (const card of [...list.children]) if (!state.loads.has(card.dataset.loadId)) card.remove();
}

function receiptText(r) {
  const parts = [t("track.receipt.confirmed")];
  const at = r.received_at || r.confirmed_at || r.created_at;
  if (at) parts.push(clock(at));
  if (typeof r.received_weight_kg === "number" && r.received_weight_kg > 0) parts.push(i18n.weight(r.received_weight_kg));
  const condition = `track.receipt.condition.${r.condition}`;
  if (r.condition) parts.push(i18n.has(condition) ? t(condition) : r.condition);
  if (r.signer_name) parts.push(t("track.receipt.signed_by", { name: r.signer_name }));
  if (Array.isArray(r.discrepancies) && r.discrepancies.length) {
    parts.push(t("track.receipt.discrepancies", { count: r.discrepancies.length }));
  }
  return parts.join(" · ");
}

// ---- the map --------------------------------------------------------------------------------------

const TILE = 256;
const C_EARTH = 40075016.686; // metres around the equator: one unit of the normalized Mercator x

// Web Mercator, normalized: the world is the square [0, 1] x [0, 1], north up (as XYZ tiles).
function mercator(lon, lat) {
  const s = Math.sin(Math.max(-85.05113, Math.min(85.05113, lat)) * Math.PI / 180);
  return [(lon + 180) / 360, 0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI)];
}

// The datum the map is drawn in: the tiles' (GCJ-02 shifts positions inside China), and WGS-84
// without tiles (the plain grid has no datum). fromMap is the inverse, for a position picked on the map.
function datum() {
  return DispatchDatum.forTiles(state.config.tiles_url ? state.config.datum : "wgs84");
}

function lonLat(location) {
  if (!location) return null;
  if (Array.isArray(location)) return location; // [lon, lat]
  if (location.type === "Point") return location.coordinates;
  return typeof location.lon === "number" ? [location.lon, location.lat] : null;
}

function rings(geometry) {
  if (!geometry || !geometry.coordinates) return [];
  if (geometry.type === "Polygon") return geometry.coordinates;
  if (geometry.type === "MultiPolygon") return geometry.coordinates.flat();
  return [];
}

function el(name, attrs, parent) {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (parent) parent.append(node);
  return node;
}

let drawPending = false;
function scheduleDraw() {
  if (drawPending) return;
  drawPending = true;
  const run = () => { drawPending = false; draw(); };
  if (document.hidden) setTimeout(run, 0); else requestAnimationFrame(run);
}

function sites() {
  const job = state.job || {};
  return [["origin", job.origin], ["destination", job.destination]].filter(([, site]) => site);
}

// The view: a stored (WGS-84) position goes through the tiles' datum, then Mercator, then the fit.
function fit(width, height) {
  const { toMap } = datum();
  const mapPoint = (lon, lat) => mercator(...toMap(lon, lat));
  let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
  const add = (lon, lat) => {
    const [x, y] = mapPoint(lon, lat);
    minX = Math.min(minX, x); maxX = Math.max(maxX, x); minY = Math.min(minY, y); maxY = Math.max(maxY, y);
  };
  for (const [, site] of sites()) {
    for (const ring of rings(site.geofence)) for (const [lon, lat] of ring) add(lon, lat);
    const at = lonLat(site.location);
    if (at) add(at[0], at[1]);
  }
  for (const load of state.loads.values()) {
    for (const p of load.trail) add(p.lon, p.lat);
    if (load.last) add(load.last.lon, load.last.lat);
  }
  if (minX === Infinity) return null;
  const minSpan = 2e-5; // about 800 m: never zoom in closer than that
  if (maxX - minX < minSpan) { const c = (minX + maxX) / 2; minX = c - minSpan / 2; maxX = c + minSpan / 2; }
  if (maxY - minY < minSpan) { const c = (minY + maxY) / 2; minY = c - minSpan / 2; maxY = c + minSpan / 2; }
  const margin = Math.min(48, Math.min(width, height) / 6);
  const scale = Math.min((width - 2 * margin) / (maxX - minX), (height - 2 * margin) / (maxY - minY));
  const ox = (minX + maxX) / 2 - width / 2 / scale;
  const oy = (minY + maxY) / 2 - height / 2 / scale;
  const project = (lon, lat) => {
    const [x, y] = mapPoint(lon, lat);
    return [(x - ox) * scale, (y - oy) * scale];
  };
  return { width, height, scale, ox, oy, project, toMap };
}

function draw() {
  const svg = $("#map");
  const width = Math.max(1, svg.clientWidth), height = Math.max(1, svg.clientHeight);
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  const view = fit(width, height);
  const layers = ["#grid", "#geofences", "#trails", "#trucks"].map((id) => $(id, svg));
  for (const layer of layers) layer.replaceChildren();
  if (!view) return;
  const [grid, geofences, trails, trucks] = layers;
  const xy = (lon, lat) => view.project(lon, lat).map((v) => v.toFixed(1)).join(",");
  drawTiles(view);
  if (!state.config.tiles_url) drawGraticule(view, grid);
  // A label beside a marker, on the side with room for it.
  const label = (parent, text, x, y, cls) => {
    const left = x > view.width - 220;
    const node = el("text", { class: cls, x: left ? -14 : 14, y: 5, "text-anchor": left ? "end" : "start" }, parent);
    node.textContent = text;
    return node;
  };

  const [origin, destination] = ["origin", "destination"].map((role) => {
    const site = state.job && state.job[role];
    return site ? lonLat(site.location) || centroid(site.geofence) : null;
  });
  if (origin && destination) el("path", { class: "planned", d: `M${xy(...origin)}L${xy(...destination)}` }, geofences);

  for (const [role, site] of sites()) {
    const d = rings(site.geofence).map((ring) => `M${ring.map(([lon, lat]) => xy(lon, lat)).join("L")}Z`).join("");
    if (d) el("path", { id: `geofence-${role}`, class: `geofence ${role}`, d }, geofences);
    const at = lonLat(site.location) || centroid(site.geofence);
    if (!at) continue;
    const [x, y] = view.project(at[0], at[1]);
    const pin = el("g", { class: `site-pin ${role}`, transform: `translate(${x.toFixed(1)},${y.toFixed(1)})` }, geofences);
    el("circle", { class: `site ${role}`, r: 5 }, pin);
    label(pin, site.name || site.address || t(`track.site.${role}`), x, y, `site-label ${role}`).setAttribute("y", -14);
  }

  for (const load of state.loads.values()) {
    el("polyline", {
      id: `trail-${load.id}`, class: "trail", stroke: load.color, "data-points": load.trail.length,
      points: load.trail.map((p) => xy(p.lon, p.lat)).join(" "),
    }, trails);
    const at = load.trail.length ? load.trail[load.trail.length - 1] : load.last;
    if (!at) continue;
    const [x, y] = view.project(at.lon, at.lat);
    const [mapLon, mapLat] = view.toMap(at.lon, at.lat); // data-map-*: where it is drawn, in the tiles' datum
    const truck = el("g", {
      id: `truck-${load.id}`, class: `truck ${load.status || ""}`, "data-lon": at.lon, "data-lat": at.lat,
      "data-map-lon": mapLon, "data-map-lat": mapLat,
      transform: `translate(${x.toFixed(1)},${y.toFixed(1)})`,
    }, trucks);
    el("circle", { class: "halo", r: 13, fill: load.color }, truck);
    el("circle", { class: "body", r: 8, fill: load.color }, truck);
    const heading = load.last && typeof load.last.heading_deg === "number" ? load.last.heading_deg : null;
    if (heading !== null && load.status !== "received" && load.status !== "arrived") {
      el("path", { class: "heading", d: "M0,-15 L5,-8 L-5,-8 Z", transform: `rotate(${heading})` }, truck);
    }
    label(truck, loadName(load), x, y, "plate-label");
  }
  drawScale(view);
}

// Faint meridians and parallels at a round step, for a sense of place when there are no tiles.
function drawGraticule(view, layer) {
  const west = view.ox * 360 - 180, east = (view.ox + view.width / view.scale) * 360 - 180;
  const lat = (y) => Math.atan(Math.sinh(Math.PI * (1 - 2 * y))) * 180 / Math.PI;
  const north = lat(view.oy), south = lat(view.oy + view.height / view.scale);
  const span = Math.max(east - west, 1e-6);
  const step = [10, 5, 2, 1, 0.5, 0.2, 0.1, 0.05, 0.02, 0.01, 0.005, 0.002, 0.001].find((s) => span / s >= 4) || 0.001;
  let d = "";
  for (let lon = Math.ceil(west / step) * step; lon <= east; lon += step) {
    const [x] = view.project(lon, 0);
    d += `M${x.toFixed(1)},0V${view.height}`;
  }
  for (let la = Math.ceil(south / step) * step; la <= north; la += step) {
    const [, y] = view.project(0, la);
    d += `M0,${y.toFixed(1)}H${view.width}`;
  }
  el("path", { class: "graticule", d }, layer);
}

function centroid(geometry) {
  const ring = rings(geometry)[0];
  if (!ring || !ring.length) return null;
  const n = ring.length;
  return [ring.reduce((s, p) => s + p[0], 0) / n, ring.reduce((s, p) => s + p[1], 0) / n];
}

// XYZ tiles under the vector layers, rebuilt only when the view changes. A tile that fails to load
// is removed; the geofences, trails and trucks do not depend on them.
function drawTiles(view) {
  const layer = $("#tiles");
  const template = state.config.tiles_url;
  if (!template) { layer.replaceChildren(); return; }
  const z = Math.max(0, Math.min(19, Math.round(Math.log2(view.scale / TILE))));
  const key = [z, view.ox, view.oy, view.scale, view.width, view.height].join(":");
  if (key === state.tilesKey) return;
  state.tilesKey = key;
  layer.replaceChildren();
  const n = 2 ** z, size = view.scale / n;
  const i0 = Math.floor(view.ox * n), i1 = Math.floor((view.ox + view.width / view.scale) * n);
  const j0 = Math.max(0, Math.floor(view.oy * n)), j1 = Math.min(n - 1, Math.floor((view.oy + view.height / view.scale) * n));
  for (let j = j0; j <= j1; j += 1) {
    for (let i = i0; i <= i1; i += 1) {
      const x = ((i % n) + n) % n;
      const href = template.replaceAll("{z}", z).replaceAll("{x}", x).replaceAll("{y}", j)
        .replaceAll("{s}", "abc"[(x + j) % 3]).replaceAll("{r}", "");
      const image = el("image", {
        class: "tile", href, x: (i / n - view.ox) * view.scale, y: (j / n - view.oy) * view.scale,
        width: size + 0.5, height: size + 0.5, preserveAspectRatio: "none",
      }, layer);
      image.addEventListener("error", () => image.remove());
    }
  }
}

function drawScale(view) {
  const bar = $("#scale span");
  const centerLat = (() => {
    const y = view.oy + view.height / 2 / view.scale;
    return Math.atan(Math.sinh(Math.PI * (1 - 2 * y))) * 180 / Math.PI;
  })();
  const metresPerPx = C_EARTH * Math.cos(centerLat * Math.PI / 180) / view.scale;
  const target = metresPerPx * 120;
  const power = 10 ** Math.floor(Math.log10(target));
  const nice = [5, 2, 1].map((m) => m * power).find((m) => m <= target) || power;
  bar.style.width = `${(nice / metresPerPx).toFixed(0)}px`;
  bar.textContent = nice >= 1000 ? t("common.unit.km", { value: i18n.number(nice / 1000) })
    : t("track.metres", { value: i18n.number(nice) });
}

// ---- start ----------------------------------------------------------------------------------------

async function loadConfig() {
  try {
    const answer = await fetch("/track/config");
    if (answer.ok) state.config = await answer.json();
  } catch (err) { /* no background map then */ }
  const attribution = $("#attribution");
  attribution.textContent = state.config.tiles_url ? state.config.attribution || "" : "";
  attribution.hidden = !attribution.textContent;
  state.tilesKey = "";
  scheduleDraw();
}

new ResizeObserver(scheduleDraw).observe($("#map-wrap"));
setInterval(() => { if (state.loads.size) renderPanel(); }, 15_000); // "x min ago"
window.addEventListener("online", () => { if (state.timer) { clearTimeout(state.timer); state.timer = null; connect(); } });
// The page's times are the viewer's: say in which zone.
function zoneNote() {
  $("#zone-note").textContent = t("common.time.your_zone", { zone: Intl.DateTimeFormat().resolvedOptions().timeZone });
}

// Switching the language: the static texts and the status are re-translated by i18n.js; the rest
// is drawn again from the state (the socket is not touched).
i18n.onChange(() => {
  zoneNote();
  renderHeader();
  if (state.loads.size) renderPanel();
  scheduleDraw();
});
loadConfig();
// The language first (the device's or the browser's), then the delivery; once signed in, the user's
// own setting. A catalogue that cannot be loaded leaves the page in its English markup.
i18n.start().catch((err) => console.warn("i18n:", err)).finally(() => {
  zoneNote();
  state.credential = credential();
  if (!state.credential) return showLogin();
  connect();
  if (state.credential.token) DispatchSignin.useUserLanguage(state.credential.token);
  return undefined;
});
