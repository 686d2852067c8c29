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
//
// In English or Chinese (i18n.js): texts from the catalogue, money in the job's currency, weights,
// distances and times formatted for the language, times in the viewer's zone (the page says which).
// Switching the language redraws the cards, notices and areas from the state: what is typed in the
// forms stays, the feed's socket stays open. Messages are kept as functions that build their text,
// so that they can be built again in the other language.
"use strict";

const $ = (selector, root = document) => root.querySelector(selector);
const TOKEN_KEY = "dispatch-token";
const MAX_BACKOFF_MS = 30_000;
const REFRESH_BIDS_MS = 30_000;
const i18n = window.DispatchI18n;
const t = i18n.t;

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
  // Accept-Language: a problem's detail comes back in the page's language.
  const headers = { authorization: `Bearer ${state.token}`, "accept-language": i18n.locale };
  if (body !== undefined) headers["content-type"] = "application/json";
  const answer = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  let data = null;
  if (answer.status !== 204) {
    try { data = await answer.json(); } catch (err) { data = null; }
  }
  if (answer.status === 401) {
    signOut("common.signin.ended");
    throw new SignedOut();
  }
  return { ok: answer.ok, status: answer.status, data };
}

// The message of a problem detail (RFC 9457), with the first field error when there is one.
function problemText(answer, fallbackKey) {
  const data = answer.data || {};
  let text = data.detail || data.title
    || (fallbackKey ? t(fallbackKey) : t("jobs.request_failed", { status: answer.status }));
  if (Array.isArray(data.errors) && data.errors.length) {
    const e = data.errors[0];
    text += ` (${[e.field, e.reason || e.message].filter(Boolean).join(": ")})`;
  }
  return text;
}

// ---- sign-in --------------------------------------------------------------------------------------

function signOut(messageKey) {
  sessionStorage.removeItem(TOKEN_KEY);
  state.token = null;
  clearTimeout(state.timer);
  state.timer = null;
  const socket = state.socket;
  state.socket = null;
  if (socket) { socket.onclose = socket.onmessage = null; try { socket.close(1000); } catch (err) { /* closing */ } }
  showLogin(messageKey);
}

// The login form itself is signin.js's (included before this script).
function showLogin(messageKey) {
  setStatus("common.status.signed_out", "");
  $("#board").hidden = true;
  const form = $("#login");
  DispatchSignin.showLoginForm(form, {
    messageKey,
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
    setStatus("jobs.status.unreachable", "");
    state.timer = setTimeout(start, 3000);
    return;
  }
  if (!answer.ok) { state.timer = setTimeout(start, 3000); return; }
  state.me = answer.data;
  if (!state.me.permissions.includes("jobs.bid")) {
    signOut("jobs.signout.cannot_bid");
    return;
  }
  // The user's own language setting, if any; a switch on the page is saved to it.
  await i18n.signedIn(state.me, DispatchSignin.localeSaver(state.token)).catch((err) => console.warn("i18n:", err));
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

// `key`: a catalogue text, kept on the element so that a language switch re-translates it.
function setStatus(key, className) {
  const el = $("#status");
  el.dataset.i18n = key;
  el.textContent = t(key);
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
  setStatus(state.reconnects ? "common.status.reconnecting" : "common.status.connecting", "");
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
  setStatus("common.status.reconnecting", "");
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
  signOut("jobs.signout.feed_refused");
}

function noAreas() {
  state.noAreas = true;
  state.jobs.clear();
  renderJobs();
  setStatus("jobs.status.no_area", "warn");
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
      setStatus("common.status.live", "live");
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
      const job = answer.data;
      notice(() => t("jobs.won_auction", { job: label(job), amount: money(job.award_price_minor, job.currency) }), "ok");
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
  setMessage(card, () => t("jobs.grabbing"), "");
  let answer;
  try {
    answer = await api("POST", `/jobs/${jobId}/grab`);
  } catch (err) {
    if (err instanceof SignedOut) return;
    button.disabled = false;
    setMessage(card, () => t("common.signin.unreachable"), "error");
    return;
  }
  if (answer.ok) {
    const won = answer.data;
    state.jobs.delete(jobId);
    addWon(won);
    renderJobs();
    notice(() => t("jobs.grabbed", { job: label(won), amount: money(won.award_price_minor, won.currency) }), "ok");
    return;
  }
  const text = () => problemText(answer, "jobs.grab_failed");
  setMessage(card, text, "error");
  notice(() => t("jobs.notice", { job: job ? label(job) : t("jobs.the_job"), text: text() }), "error");
  // Taken or closed: it goes from the board with the feed's job.removed; anything else may be retried.
  if (answer.status !== 409 && answer.status !== 404) button.disabled = false;
}

async function bid(jobId, card, form) {
  const job = state.jobs.get(jobId);
  if (!job) return;
  const amount = toMinor(form.amount.value, job.currency);
  if (!amount) { setMessage(card, () => t("jobs.bid_above_zero"), "error"); return; }
  const own = state.bids.get(jobId);
  const button = $("button", form);
  button.disabled = true;
  setMessage(card, () => t("jobs.bid_sending"), "");
  let answer;
  try {
    answer = own && own.status === "active"
      ? await api("PUT", `/jobs/${jobId}/bids/${own.id}`, { amount_minor: amount })
      : await api("POST", `/jobs/${jobId}/bids`, { amount_minor: amount });
  } catch (err) {
    if (err instanceof SignedOut) return;
    button.disabled = false;
    setMessage(card, () => t("common.signin.unreachable"), "error");
    return;
  }
  button.disabled = false;
  if (!answer.ok) {
    setMessage(card, () => problemText(answer, "jobs.bid_refused"), "error");
    if (answer.data && answer.data.code === "bid_exists") queueOwnBids(jobId);
    return;
  }
  const placed = answer.data;
  state.bids.set(jobId, placed);
  form.amount.value = "";
  setMessage(card, () => t("jobs.bid_placed", { amount: money(placed.amount_minor, placed.currency) }), "ok");
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
  areaError(null);
  let answer;
  try {
    answer = await api("POST", "/market/areas", body);
  } catch (err) {
    if (!(err instanceof SignedOut)) areaError(() => t("common.signin.unreachable"));
    return;
  }
  if (!answer.ok) { areaError(() => problemText(answer, "jobs.area.refused")); return; }
  const saved = answer.data;
  state.areas.push(saved);
  form.reset();
  renderAreas();
  notice(() => t("jobs.area.saved", { name: saved.name }), "ok");
  reconnectNow(); // the feed reads the areas when it opens
}

async function deleteArea(area) {
  let answer;
  try {
    answer = await api("DELETE", `/market/areas/${area.id}`);
  } catch (err) { return; }
  if (!answer.ok && answer.status !== 404) { notice(() => problemText(answer), "error"); return; }
  state.areas = state.areas.filter((a) => a.id !== area.id);
  renderAreas();
  reconnectNow();
}

function useMyLocation() {
  if (!navigator.geolocation) { areaError(() => t("jobs.area.no_geolocation")); return; }
  navigator.geolocation.getCurrentPosition((position) => {
    const form = $("#area-form");
    form.lat.value = position.coords.latitude.toFixed(5);
    form.lon.value = position.coords.longitude.toFixed(5);
    if (!form.area_name.value) form.area_name.value = t("jobs.area.around_here", { radius: form.radius_km.value });
  }, () => { areaError(() => t("jobs.area.location_unavailable")); });
}

// The area form's error (a function that builds its text, or null), kept for a language switch.
let areaErrorText = null;
function areaError(text) {
  areaErrorText = text;
  $("#area-error").textContent = text ? text() : "";
}

// ---- formatting -----------------------------------------------------------------------------------

function digits(currency) {
  try {
    return new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits;
  } catch (err) { return 2; }
}

// An amount in the currency's minor units, with the currency's symbol as the language writes it
// (€2,500.00; ¥2,500.00 in zh-CN).
function money(minor, currency) {
  if (minor === null || minor === undefined) return t("common.none");
  try {
    return i18n.money(minor, currency);
  } catch (err) { return `${i18n.number(minor / 10 ** digits(currency), digits(currency))} ${currency}`; }
}

// "2450.50" in the currency's major unit -> 245050 minor units (null when not a positive amount).
function toMinor(text, currency) {
  const value = Number(String(text).replace(",", "."));
  if (!Number.isFinite(value) || value <= 0) return null;
  return Math.round(value * 10 ** digits(currency));
}

function label(job) {
  return job.reference ? job.reference : t("jobs.label", { id: job.id.slice(0, 8) });
}

function vehicleName(type) {
  return i18n.has(`jobs.vehicle.${type}`) ? t(`jobs.vehicle.${type}`) : type;
}

function placeName(place) {
  if (!place) return t("common.none");
  return place.name || place.address || `${place.location.lat.toFixed(3)}, ${place.location.lon.toFixed(3)}`;
}

function cargoText(job) {
  const parts = [i18n.weight(job.total_weight_kg)];
  if (job.total_volume_m3) parts.push(i18n.volume(job.total_volume_m3));
  const cargo = job.cargo || {};
  if (job.cargo_kind === "items" && Array.isArray(cargo.lines)) {
    const count = cargo.lines.reduce((n, line) => n + (line.count || 0), 0);
    const names = cargo.lines.map((line) => `${line.count} × ${line.description}`);
    parts.push(t("jobs.cargo.items", {
      items: t("common.unit.items", { count }), names: `${names.slice(0, 3).join(", ")}${names.length > 3 ? ", …" : ""}`,
    }));
  } else if (cargo.description) {
    parts.push(t("jobs.cargo.bulk", { description: cargo.description }));
  }
  return parts.join(" · ");
}

// A date and time in the viewer's zone; withDay false: the time alone.
function when(iso, withDay = true) {
  return withDay ? i18n.dateTime(iso) : i18n.time(iso);
}

function windowText(from, until) {
  const sameDay = new Date(from).toDateString() === new Date(until).toDateString();
  return t("jobs.window", { from: when(from), until: when(until, !sameDay) });
}

function countdown(iso) {
  const s = Math.floor((Date.parse(iso) - Date.now()) / 1000);
  if (s <= 0) return t("jobs.countdown.closing");
  const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
  const two = (n) => String(n).padStart(2, "0");
  if (d) return t("jobs.countdown.days", { days: d, hours: h, minutes: m });
  if (h) return t("jobs.countdown.hours", { hours: h, minutes: two(m), seconds: two(s % 60) });
  return t("jobs.countdown.minutes", { minutes: m, seconds: two(s % 60) });
}

// ---- rendering ------------------------------------------------------------------------------------

// A card's message: `text` is a function that builds it, kept on the card for a language switch.
function setMessage(card, text, kind) {
  const el = $(".message", card);
  card.messageText = text;
  el.textContent = text();
  el.className = `message${kind ? ` ${kind}` : ""}`;
}

// The last five notices, newest first: {at, text (a function that builds it), kind}.
const notices = [];

function notice(text, kind) {
  notices.unshift({ at: new Date(), text, kind });
  notices.length = Math.min(notices.length, 5);
  renderNotices();
}

function renderNotices() {
  $("#notices").replaceChildren(...notices.map(({ at, text, kind }) => {
    const li = document.createElement("li");
    li.className = kind || "";
    const time = document.createElement("time");
    time.textContent = i18n.time(at);
    li.append(time, ` ${text()}`);
    return li;
  }));
}

function fillCard(card, job) {
  $(".ref", card).textContent = label(job);
  const mode = $(".mode", card);
  mode.textContent = t(job.mode === "grab" ? "jobs.mode.grab" : "jobs.mode.auction");
  mode.className = `mode tag mode-${job.mode}`;
  $(".price", card).textContent = job.mode === "grab" ? money(job.price_minor, job.currency)
    : job.ceiling_minor ? t("jobs.price.max", { amount: money(job.ceiling_minor, job.currency) }) : t("jobs.price.open");
  $(".from", card).textContent = placeName(job.origin);
  $(".to", card).textContent = placeName(job.destination);
  // The addresses (when the names are shown above) and the distance between the two sites.
  const addresses = [job.origin, job.destination].filter((p) => p && p.name && p.address).map((p) => p.address);
  const line = addresses.length ? [addresses.join(" → ")] : [];
  if (typeof job.distance_km === "number") line.push(i18n.distance(Math.round(job.distance_km) * 1000));
  $(".addresses", card).textContent = line.join(" · ");
  $(".cargo", card).textContent = cargoText(job);
  $(".vehicle", card).textContent = vehicleName(job.vehicle_type);
  $(".pickup", card).textContent = windowText(job.pickup_from, job.pickup_until);
  $(".deliver-by", card).textContent = when(job.deliver_by);
  $(".deadline-label", card).textContent = t(job.mode === "auction" ? "jobs.fact.bids_close" : "jobs.fact.offer_ends");
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
      i18n.apply(card); // the template's labels
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
      $("button.grab", card).textContent = t("jobs.grab", { amount: money(job.price_minor, job.currency) });
    } else {
      $(".bid-count", card).textContent = t("jobs.bid_count", { count: job.bid_count });
      $(".ceiling", card).textContent = job.ceiling_minor
        ? t("jobs.ceiling", { amount: money(job.ceiling_minor, job.currency) }) : "";
      $(".currency", card).textContent = job.currency;
      const amount = $(".bid-form input", card);
      amount.step = String(1 / 10 ** digits(job.currency));
      amount.min = amount.step;
      const own = state.bids.get(job.id);
      const ownEl = $(".own-bid", card);
      ownEl.hidden = !own;
      if (own) {
        const statusKey = `jobs.bid_status.${own.status}`;
        const rank = own.status === "active" && own.rank
          ? t("jobs.own_bid_rank", { rank: own.rank, total: own.active_bids })
          : t("jobs.own_bid_status", { status: i18n.has(statusKey) ? t(statusKey) : own.status });
        ownEl.textContent = t("jobs.own_bid", { amount: money(own.amount_minor, own.currency), rank });
        ownEl.className = `own-bid${own.rank === 1 ? " lowest" : ""}`;
      }
      $(".bid-form button", card).textContent = t(own && own.status === "active" ? "jobs.lower_bid" : "jobs.bid");
    }
    const message = $(".message", card);
    if (card.messageText) message.textContent = card.messageText();
  }
  for (const card of [...list.children]) if (!state.jobs.has(card.dataset.jobId)) card.remove();
  $("#empty").hidden = jobs.length > 0 || state.noAreas;
  const count = $("#open-count");
  count.textContent = t("jobs.open_count", { count: jobs.length });
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
    tag.textContent = t("jobs.awarded_tag");
    const price = document.createElement("span");
    price.className = "price";
    price.textContent = money(job.award_price_minor, job.currency);
    head.append(h, tag, price);
    const route = document.createElement("p");
    route.className = "route";
    route.textContent = `${placeName(job.origin)} → ${placeName(job.destination)}`;
    const pickup = document.createElement("p");
    pickup.className = "addresses";
    pickup.textContent = t("jobs.won_pickup", { window: windowText(job.pickup_from, job.pickup_until) });
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
    const shape = area.center ? t("jobs.area.circle", {
      radius: i18n.distance(Math.round(area.radius_km) * 1000),
      lat: area.center.lat.toFixed(3), lon: area.center.lon.toFixed(3),
    }) : t("jobs.area.polygon");
    const cargoKind = (k) => (i18n.has(`jobs.cargo_kind.${k}`) ? t(`jobs.cargo_kind.${k}`) : k);
    const filters = [...area.vehicle_types.map(vehicleName), ...area.cargo_kinds.map(cargoKind)].join(", ");
    name.textContent = `${area.name} — ${shape}${filters ? ` (${filters})` : ""}`;
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "remove";
    remove.title = t("jobs.area.delete");
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
// Switching the language: the static texts and the status are re-translated by i18n.js; the cards,
// notices and areas are drawn again from the state. Inputs are not touched, the socket stays open.
i18n.onChange(() => {
  zoneNote();
  renderJobs();
  renderWon();
  renderAreas();
  renderNotices();
  if (areaErrorText) areaError(areaErrorText);
});

function zoneNote() {
  $("#zone-note").textContent = t("common.time.your_zone", { zone: Intl.DateTimeFormat().resolvedOptions().timeZone });
}

// The language first (the device's or the browser's; the user's own setting once signed in), then
// the board. A catalogue that cannot be loaded leaves the page in its English markup.
i18n.start().catch((err) => console.warn("i18n:", err)).finally(() => {
  zoneNote();
  state.token = DispatchSignin.tokenFromFragment(TOKEN_KEY);
  if (state.token) start(); else showLogin();
});
