// The carriers' job board: the open jobs whose pickup lies in the carrier's saved market areas,
// live. The page signs in with a bearer token from the URL fragment (#token=..., never sent to the
// server in the URL) or a login form, then opens the market feed websocket: a snapshot first, then
// job.posted and job.removed frames (both idempotent), so jobs come and go without reload.
//
// Grab jobs have a "Grab at <price>" button (POST /jobs/{id}/grab: the first carrier wins, the others
// get 409); auctions a bid form (POST /jobs/{id}/bids, or PUT .../bids/{bid} to lower one's own
// bid) with the deadline's countdown. The market never shows a carrier the other carriers' amounts:
// the card shows the number of bids, the ceiling, and the carrier's own bid with its rank.
// Without a saved area the feed closes with 4404: the page says so and offers to save one.
"use strict";

const $ = (selector, root = document) => root.querySelector(selector);
const TOKEN_KEY = "dispatch-token";
const MAX_BACKOFF_MS = 30_000;
const REFRESH_BIDS_MS = 30_000;
const VEHICLES = { bulk_tipper: "bulk tipper" };

const state = {
  token: null,
  me: null,
  jobs: new Map(), // job_id -> the market view of an open job (JobPublic)
  bids: new Map(), // job_id -> the organization's own latest bid on it
  won: new Map(), // job_id -> the full view of a job awarded to this organization
  areas: [],
  socket: null,
  attempt: 0, // reconnections since the last snapshot, for the backoff
  refusals: 0,
  reconnects: 0,
  timer: null,
  noAreas: false,
};

// ---- the API --------------------------------------------------------------------------------------

class SignedOut extends Error {}

// A call with the bearer token: {ok, status, data}. A 401 means the session ended: sign in again.
async function api(method, path, body) {
  const headers = { authorization: `Bearer ${state.token}` };
  if (body !== undefined) headers["content-type"] = "application/json";
  const answer = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  let data = null;
  if (answer.status !== 204) {
    try { data = await answer.json(); } catch (err) { data = null; }
  }
  if (answer.status === 401) {
    signOut("Your session has ended: sign in again.");
    throw new SignedOut();
  }
  return { ok: answer.ok, status: answer.status, data };
}

// The message of a problem detail (RFC 9457), with the first field error when there is one.
function problemText(answer, fallback) {
  const data = answer.data || {};
  let text = data.detail || data.title || fallback || `The request failed (${answer.status}).`;
  if (Array.isArray(data.errors) && data.errors.length) {
    const e = data.errors[0];
    text += ` (${[e.field, e.reason || e.message].filter(Boolean).join(": ")})`;
  }
  return text;
}

// ---- sign-in --------------------------------------------------------------------------------------

function signOut(message) {
  sessionStorage.removeItem(TOKEN_KEY);
  state.token = null;
  clearTimeout(state.timer);
  state.timer = null;
  const socket = state.socket;
  state.socket = null;
  if (socket) { socket.onclose = socket.onmessage = null; try { socket.close(1000); } catch (err) { /* closing */ } }
  showLogin(message);
}

// The login form itself is signin.js's (included before this script).
function showLogin(message) {
  setStatus("signed out", "");
  $("#board").hidden = true;
  const form = $("#login");
  DispatchSignin.showLoginForm(form, {
    message,
    tokenKey: TOKEN_KEY,
    onSignedIn(token) {
      form.password.value = ""; // the form stays in the page, hidden, for the next sign-in
      state.token = token;
      start();
    },
  });
}

// Who we are, then the areas, the jobs already won, and the feed.
async function start() {
  let answer;
  try {
    answer = await api("GET", "/me");
  } catch (err) {
    if (err instanceof SignedOut) return;
    setStatus("server unreachable, retrying…", "");
    state.timer = setTimeout(start, 3000);
    return;
  }
  if (!answer.ok) { state.timer = setTimeout(start, 3000); return; }
  state.me = answer.data;
  if (!state.me.permissions.includes("jobs.bid")) {
    signOut("This account cannot grab or bid on jobs: sign in as a carrier's dispatcher.");
    return;
  }
  const org = state.me.organization || {};
  $("#who").textContent = [state.me.name || state.me.email, org.name].filter(Boolean).join(" · ");
  $("#board").hidden = false;
  state.refusals = 0;
  try {
    await Promise.all([loadAreas(), loadWon()]);
  } catch (err) {
    if (err instanceof SignedOut) return;
  }
  connect();
}

// ---- the socket -----------------------------------------------------------------------------------

function setStatus(text, className) {
  const el = $("#status");
  el.textContent = text;
  el.className = `status${className ? ` ${className}` : ""}`;
  document.body.dataset.reconnects = String(state.reconnects);
}

function connect() {
  clearTimeout(state.timer);
  state.timer = null;
  if (!state.token) return;
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}/market/feed?access_token=${encodeURIComponent(state.token)}`);
  socket.opened = false;
  state.socket = socket;
  setStatus(state.reconnects ? "reconnecting…" : "connecting…", "");
  socket.onopen = () => { socket.opened = true; };
  socket.onmessage = (event) => {
    if (socket !== state.socket) return;
    let frame;
    try { frame = JSON.parse(event.data); } catch (err) { return; }
    handle(frame);
  };
  socket.onclose = (event) => {
    if (socket !== state.socket) return;
    state.socket = null;
    if (event.code === 4404) return noAreas(); // accepted, then closed: nothing to watch yet
    if (event.code === 1008 || event.code === 4401 || event.code === 4403) return refusedOrSignedOut();
    if (!socket.opened) return refusedOrDown();
    reconnectLater(event.code === 4008 ? 0 : undefined); // 4008: too slow, come back for a fresh snapshot
  };
}

// Close the socket on purpose (areas changed) and open a new one at once.
function reconnectNow() {
  const socket = state.socket;
  state.socket = null;
  if (socket) { socket.onclose = socket.onmessage = null; try { socket.close(1000); } catch (err) { /* closing */ } }
  state.attempt = 0;
  connect();
}

function reconnectLater(delay) {
  if (state.timer || !state.token) return;
  state.reconnects += 1;
  setStatus("reconnecting…", "");
  const backoff = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** state.attempt) * (0.75 + Math.random() / 2);
  state.attempt += 1;
  state.timer = setTimeout(connect, delay ?? backoff);
}

// The handshake was refused (a browser is not told why) or the server is down: find out which.
async function refusedOrDown() {
  try {
    const me = await api("GET", "/me");
    if (!me.ok) return reconnectLater();
  } catch (err) {
    if (err instanceof SignedOut) return undefined;
    return reconnectLater(); // the server is down: keep trying
  }
  state.refusals += 1;
  if (state.refusals >= 3) return refusedOrSignedOut();
  return reconnectLater();
}

function refusedOrSignedOut() {
  signOut("The job feed refused this account: sign in as a carrier's dispatcher.");
}

function noAreas() {
  state.noAreas = true;
  state.jobs.clear();
  renderJobs();
  setStatus("no saved area", "warn");
  $("#no-areas").hidden = false;
  $("#area-form").area_name.focus();
}

// ---- frames ---------------------------------------------------------------------------------------

function handle(frame) {
  switch (frame.type) {
    case "snapshot": {
      state.attempt = 0;
      state.refusals = 0;
      state.noAreas = false;
      $("#no-areas").hidden = true;
      state.jobs = new Map(frame.jobs.map((job) => [job.id, job]));
      setStatus("live", "live");
      renderJobs();
      for (const job of frame.jobs) if (job.mode === "auction") queueOwnBids(job.id);
      return undefined;
    }
    case "job.posted": {
      const known = state.jobs.has(frame.job.id);
      state.jobs.set(frame.job.id, frame.job);
      renderJobs();
      if (!known) {
        const card = document.getElementById(`job-${frame.job.id}`);
        if (card) { card.classList.add("new"); setTimeout(() => card.classList.remove("new"), 4000); }
        if (frame.job.mode === "auction") queueOwnBids(frame.job.id);
      }
      return undefined;
    }
    case "job.removed": return onRemoved(frame.job_id, frame.reason);
    default: return undefined; // frames this page does not know yet
  }
}

function onRemoved(jobId, reason) {
  const job = state.jobs.get(jobId);
  state.jobs.delete(jobId);
  renderJobs();
  const bid = state.bids.get(jobId);
  // An auction we bid on was awarded: was it to us?
  if (reason === "awarded" && job && job.mode === "auction" && bid && bid.status === "active") checkWon(jobId);
}

async function checkWon(jobId) {
  try {
    const answer = await api("GET", `/jobs/${jobId}`);
    if (answer.ok && answer.data.carrier_org_id === state.me.organization.id) {
      addWon(answer.data);
      notice(`You won the auction ${label(answer.data)} at ${money(answer.data.award_price_minor, answer.data.currency)}.`, "ok");
    }
  } catch (err) { /* signed out or offline: the awarded list is read again on the next sign-in */ }
}

// ---- own bids -------------------------------------------------------------------------------------

const bidQueue = [];
let bidWorkers = 0;

// The organization's own bid on each auction, a few requests at a time.
function queueOwnBids(jobId) {
  if (!bidQueue.includes(jobId)) bidQueue.push(jobId);
  while (bidWorkers < 3 && bidQueue.length) {
    bidWorkers += 1;
    (async () => {
      try {
        while (bidQueue.length) await loadOwnBid(bidQueue.shift());
      } finally {
        bidWorkers -= 1;
      }
    })();
  }
}

async function loadOwnBid(jobId) {
  if (!state.jobs.has(jobId)) return;
  try {
    const answer = await api("GET", `/jobs/${jobId}/bids`);
    if (!answer.ok) return;
    // The latest active bid, else the latest of any status.
    const bids = answer.data.slice().sort((a, b) => Date.parse(b.placed_at) - Date.parse(a.placed_at));
    const bid = bids.find((b) => b.status === "active") || bids[0];
    if (bid) state.bids.set(jobId, bid); else state.bids.delete(jobId);
    renderJobs();
  } catch (err) { /* signed out or offline */ }
}

// A job's market view again (its bid count), after a bid of ours.
async function refreshJob(jobId) {
  try {
    const answer = await api("GET", `/jobs/${jobId}`);
    if (answer.ok && answer.data.status === "open" && state.jobs.has(jobId)) {
      state.jobs.set(jobId, answer.data);
      renderJobs();
    }
  } catch (err) { /* signed out or offline */ }
}

// ---- actions --------------------------------------------------------------------------------------

async function grab(jobId, card) {
  const job = state.jobs.get(jobId);
  const button = $("button.grab", card);
  button.disabled = true;
  setMessage(card, "Grabbing…", "");
  let answer;
  try {
    answer = await api("POST", `/jobs/${jobId}/grab`);
  } catch (err) {
    if (err instanceof SignedOut) return;
    button.disabled = false;
    setMessage(card, "The server cannot be reached; try again.", "error");
    return;
  }
  if (answer.ok) {
    state.jobs.delete(jobId);
    addWon(answer.data);
    renderJobs();
    notice(`${label(answer.data)} is awarded to you at ${money(answer.data.award_price_minor, answer.data.currency)}.`, "ok");
    return;
  }
  const text = problemText(answer, "The job could not be taken.");
  setMessage(card, text, "error");
  notice(`${job ? label(job) : "The job"}: ${text}`, "error");
  // Taken or closed: it goes from the board with the feed's job.removed; anything else may be retried.
  if (answer.status !== 409 && answer.status !== 404) button.disabled = false;
}

async function bid(jobId, card, form) {
  const job = state.jobs.get(jobId);
  if (!job) return;
  const amount = toMinor(form.amount.value, job.currency);
  if (!amount) { setMessage(card, "Enter a price above zero.", "error"); return; }
  const own = state.bids.get(jobId);
  const button = $("button", form);
  button.disabled = true;
  setMessage(card, "Sending the bid…", "");
  let answer;
  try {
    answer = own && own.status === "active"
      ? await api("PUT", `/jobs/${jobId}/bids/${own.id}`, { amount_minor: amount })
      : await api("POST", `/jobs/${jobId}/bids`, { amount_minor: amount });
  } catch (err) {
    if (err instanceof SignedOut) return;
    button.disabled = false;
    setMessage(card, "The server cannot be reached; try again.", "error");
    return;
  }
  button.disabled = false;
  if (!answer.ok) {
    setMessage(card, problemText(answer, "The bid was refused."), "error");
    if (answer.data && answer.data.code === "bid_exists") queueOwnBids(jobId);
    return;
  }
  state.bids.set(jobId, answer.data);
  form.amount.value = "";
  setMessage(card, `Bid placed: ${money(answer.data.amount_minor, answer.data.currency)}.`, "ok");
  renderJobs();
  await Promise.all([loadOwnBid(jobId), refreshJob(jobId)]);
}

// ---- areas and awarded jobs -----------------------------------------------------------------------

async function loadAreas() {
  const answer = await api("GET", "/market/areas");
  if (!answer.ok) return;
  state.areas = answer.data;
  renderAreas();
}

async function loadWon() {
  const answer = await api("GET", "/jobs?status=awarded&limit=50");
  if (!answer.ok) return;
  for (const job of answer.data.items) if (job.carrier_org_id === state.me.organization.id) state.won.set(job.id, job);
  renderWon();
}

function addWon(job) {
  state.won.set(job.id, job);
  renderWon();
}

async function saveArea(event) {
  event.preventDefault();
  const form = event.target;
  const body = {
    name: form.area_name.value.trim(),
    center: { lat: Number(form.lat.value), lon: Number(form.lon.value) },
    radius_km: Number(form.radius_km.value),
  };
  if (form.vehicle_type.value) body.vehicle_types = [form.vehicle_type.value];
  $("#area-error").textContent = "";
  let answer;
  try {
    answer = await api("POST", "/market/areas", body);
  } catch (err) {
    if (!(err instanceof SignedOut)) $("#area-error").textContent = "The server cannot be reached; try again.";
    return;
  }
  if (!answer.ok) { $("#area-error").textContent = problemText(answer, "The area was refused."); return; }
  state.areas.push(answer.data);
  form.reset();
  renderAreas();
  notice(`Area "${answer.data.name}" saved.`, "ok");
  reconnectNow(); // the feed reads the areas when it opens
}

async function deleteArea(area) {
  let answer;
  try {
    answer = await api("DELETE", `/market/areas/${area.id}`);
  } catch (err) { return; }
  if (!answer.ok && answer.status !== 404) { notice(problemText(answer), "error"); return; }
  state.areas = state.areas.filter((a) => a.id !== area.id);
  renderAreas();
  reconnectNow();
}

function useMyLocation() {
  if (!navigator.geolocation) { $("#area-error").textContent = "This browser cannot tell its location."; return; }
  navigator.geolocation.getCurrentPosition((position) => {
    const form = $("#area-form");
    form.lat.value = position.coords.latitude.toFixed(5);
    form.lon.value = position.coords.longitude.toFixed(5);
    if (!form.area_name.value) form.area_name.value = `Around here, ${form.radius_km.value} km`;
  }, () => { $("#area-error").textContent = "The location is not available: type it in."; });
}

// ---- formatting -----------------------------------------------------------------------------------

function digits(currency) {
  try {
    return new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits;
  } catch (err) { return 2; }
}

function money(minor, currency) {
  if (minor === null || minor === undefined) return "–";
  const d = digits(currency);
  try {
    return new Intl.NumberFormat(undefined, { style: "currency", currency, minimumFractionDigits: d })
      .format(minor / 10 ** d);
  } catch (err) { return `${(minor / 10 ** d).toFixed(d)} ${currency}`; }
}

// "2450.50" in the currency's major unit -> 245050 minor units (null when not a positive amount).
function toMinor(text, currency) {
  const value = Number(String(text).replace(",", "."));
  if (!Number.isFinite(value) || value <= 0) return null;
  return Math.round(value * 10 ** digits(currency));
}

function label(job) {
  return job.reference ? job.reference : `Job ${job.id.slice(0, 8)}`;
}

function placeName(place) {
  if (!place) return "–";
  return place.name || place.address || `${place.location.lat.toFixed(3)}, ${place.location.lon.toFixed(3)}`;
}

function weight(kg) {
  if (kg >= 1000) return `${(kg / 1000).toLocaleString(undefined, { maximumFractionDigits: 1 })} t`;
  return `${Math.round(kg).toLocaleString()} kg`;
}

function cargoText(job) {
  const parts = [weight(job.total_weight_kg)];
  if (job.total_volume_m3) parts.push(`${job.total_volume_m3.toLocaleString(undefined, { maximumFractionDigits: 1 })} m³`);
  const cargo = job.cargo || {};
  if (job.cargo_kind === "items" && Array.isArray(cargo.lines)) {
    const count = cargo.lines.reduce((n, line) => n + (line.count || 0), 0);
    const names = cargo.lines.map((line) => `${line.count} × ${line.description}`);
    parts.push(`${count} item${count === 1 ? "" : "s"}: ${names.slice(0, 3).join(", ")}${names.length > 3 ? ", …" : ""}`);
  } else if (cargo.description) {
    parts.push(`bulk: ${cargo.description}`);
  }
  return parts.join(" · ");
}

function when(iso, withDay = true) {
  const d = new Date(iso);
  const options = withDay ? { weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" }
    : { hour: "2-digit", minute: "2-digit" };
  return d.toLocaleString([], options);
}

function windowText(from, until) {
  const sameDay = new Date(from).toDateString() === new Date(until).toDateString();
  return `${when(from)} – ${when(until, !sameDay)}`;
}

function countdown(iso) {
  const s = Math.floor((Date.parse(iso) - Date.now()) / 1000);
  if (s <= 0) return "closing…";
  const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, "0");
  if (d) return `${d} d ${h} h ${m} min`;
  if (h) return `${h} h ${String(m).padStart(2, "0")} min ${ss} s`;
  return `${m} min ${ss} s`;
}

// ---- rendering ------------------------------------------------------------------------------------

function setMessage(card, text, kind) {
  const el = $(".message", card);
  el.textContent = text;
  el.className = `message${kind ? ` ${kind}` : ""}`;
}

function notice(text, kind) {
  const list = $("#notices");
  const li = document.createElement("li");
  li.className = kind || "";
  const at = document.createElement("time");
  at.textContent = new Date().toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  li.append(at, ` ${text}`);
  list.prepend(li);
  while (list.children.length > 5) list.lastElementChild.remove();
}

function fillCard(card, job) {
  $(".ref", card).textContent = label(job);
  const mode = $(".mode", card);
  mode.textContent = job.mode === "grab" ? "grab" : "auction";
  mode.className = `mode tag mode-${job.mode}`;
  $(".price", card).textContent = job.mode === "grab" ? money(job.price_minor, job.currency)
    : job.ceiling_minor ? `max ${money(job.ceiling_minor, job.currency)}` : "open price";
  $(".from", card).textContent = placeName(job.origin);
  $(".to", card).textContent = placeName(job.destination);
  // The addresses (when the names are shown above) and the distance between the two sites.
  const addresses = [job.origin, job.destination].filter((p) => p && p.name && p.address).map((p) => p.address);
  const line = addresses.length ? [addresses.join(" → ")] : [];
  if (typeof job.distance_km === "number") line.push(`${Math.round(job.distance_km)} km`);
  $(".addresses", card).textContent = line.join(" · ");
  $(".cargo", card).textContent = cargoText(job);
  $(".vehicle", card).textContent = VEHICLES[job.vehicle_type] || job.vehicle_type;
  $(".pickup", card).textContent = windowText(job.pickup_from, job.pickup_until);
  $(".deliver-by", card).textContent = when(job.deliver_by);
  $(".deadline-label", card).textContent = job.mode === "auction" ? "Bids close" : "Offer ends";
  const cd = $(".countdown", card);
  cd.dataset.deadline = job.deadline;
  cd.textContent = countdown(job.deadline);
  cd.title = when(job.deadline);
}

function renderJobs() {
  const list = $("#jobs");
  const jobs = [...state.jobs.values()].sort((a, b) => Date.parse(a.deadline) - Date.parse(b.deadline));
  for (const job of jobs) {
    let card = document.getElementById(`job-${job.id}`);
    if (!card) {
      card = $("#job-card").content.firstElementChild.cloneNode(true);
      card.id = `job-${job.id}`;
      card.dataset.jobId = job.id;
      $("button.grab", card).addEventListener("click", () => grab(job.id, card));
      const form = $(".bid-form", card);
      form.addEventListener("submit", (event) => { event.preventDefault(); bid(job.id, card, form); });
    }
    list.append(card); // keeps the order by deadline
    card.dataset.mode = job.mode;
    fillCard(card, job);
    $(".grab-actions", card).hidden = job.mode !== "grab";
    $(".auction-actions", card).hidden = job.mode !== "auction";
    if (job.mode === "grab") {
      $("button.grab", card).textContent = `Grab at ${money(job.price_minor, job.currency)}`;
    } else {
      $(".bid-count", card).textContent = `${job.bid_count} bid${job.bid_count === 1 ? "" : "s"}`;
      $(".ceiling", card).textContent = job.ceiling_minor ? `· ceiling ${money(job.ceiling_minor, job.currency)}` : "";
      $(".currency", card).textContent = job.currency;
      const amount = $(".bid-form input", card);
      amount.step = String(1 / 10 ** digits(job.currency));
      amount.min = amount.step;
      const own = state.bids.get(job.id);
      const ownEl = $(".own-bid", card);
      ownEl.hidden = !own;
      if (own) {
        const rank = own.status === "active" && own.rank ? ` — rank ${own.rank} of ${own.active_bids}` : ` (${own.status})`;
        ownEl.textContent = `Your bid: ${money(own.amount_minor, own.currency)}${rank}`;
        ownEl.className = `own-bid${own.rank === 1 ? " lowest" : ""}`;
      }
      $(".bid-form button", card).textContent = own && own.status === "active" ? "Lower my bid" : "Bid";
    }
  }
  for (const card of [...list.children]) if (!state.jobs.has(card.dataset.jobId)) card.remove();
  $("#empty").hidden = jobs.length > 0 || state.noAreas;
  const count = $("#open-count");
  count.textContent = `${jobs.length} open`;
  count.hidden = state.noAreas;
}

function renderWon() {
  const list = $("#won");
  const jobs = [...state.won.values()].sort((a, b) => Date.parse(b.awarded_at || 0) - Date.parse(a.awarded_at || 0));
  list.replaceChildren(...jobs.map((job) => {
    const card = document.createElement("article");
    card.className = "won";
    card.id = `won-${job.id}`;
    card.dataset.jobId = job.id;
    const head = document.createElement("div");
    head.className = "job-head";
    const h = document.createElement("h3");
    h.textContent = label(job);
    const tag = document.createElement("span");
    tag.className = "tag awarded";
    tag.textContent = "awarded to you";
    const price = document.createElement("span");
    price.className = "price";
    price.textContent = money(job.award_price_minor, job.currency);
    head.append(h, tag, price);
    const route = document.createElement("p");
    route.className = "route";
    route.textContent = `${placeName(job.origin)} → ${placeName(job.destination)}`;
    const pickup = document.createElement("p");
    pickup.className = "addresses";
    pickup.textContent = `Pickup ${windowText(job.pickup_from, job.pickup_until)}`;
    card.append(head, route, pickup);
    return card;
  }));
  $("#won-empty").hidden = jobs.length > 0;
}

function renderAreas() {
  const list = $("#area-list");
  list.replaceChildren(...state.areas.map((area) => {
    const li = document.createElement("li");
    li.dataset.areaId = area.id;
    const name = document.createElement("span");
    const shape = area.center ? `${Math.round(area.radius_km)} km around ${area.center.lat.toFixed(3)}, ${area.center.lon.toFixed(3)}`
      : "polygon";
    const filters = [...area.vehicle_types.map((v) => VEHICLES[v] || v), ...area.cargo_kinds].join(", ");
    name.textContent = `${area.name} — ${shape}${filters ? ` (${filters})` : ""}`;
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "remove";
    remove.title = "Delete this area";
    remove.textContent = "×";
    remove.addEventListener("click", () => deleteArea(area));
    li.append(name, remove);
    return li;
  }));
  $("#no-areas").hidden = state.areas.length > 0 || !state.noAreas;
}

// ---- start ----------------------------------------------------------------------------------------

$("#area-form").addEventListener("submit", saveArea);
$("#here").addEventListener("click", useMyLocation);
setInterval(() => {
  for (const el of document.querySelectorAll(".countdown")) {
    el.textContent = countdown(el.dataset.deadline);
    const closed = Date.parse(el.dataset.deadline) <= Date.now();
    const card = el.closest(".job");
    if (card) for (const b of card.querySelectorAll("button")) if (closed) b.disabled = true;
  }
}, 1000);
setInterval(() => {
  for (const [jobId, own] of state.bids) if (own.status === "active" && state.jobs.has(jobId)) queueOwnBids(jobId);
}, REFRESH_BIDS_MS);
window.addEventListener("online", () => { if (state.timer && state.token) { clearTimeout(state.timer); state.timer = null; connect(); } });
state.token = DispatchSignin.tokenFromFragment(TOKEN_KEY);
if (state.token) start(); else showLogin();
