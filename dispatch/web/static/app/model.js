// What the driver app does, without any UI: the pairing, today's loads, the booking, the gate
// (check-in, the ticket, the dock calls), the dispatcher's messages, the live socket (and the poll
// while it is down); the trip is in trip.js, the state in store.js. The screens (views.js) read
// `state` and call the actions here.
//
// What it keeps on the phone: the pairing (device token; DriverApi, localStorage), the last
// assignments and tickets (shown when offline), the trip in progress, the dock calls already alerted;
// the GPS fixes not yet acknowledged are in IndexedDB (gps-queue.js). See docs/driver-app.md.
import { beep, notify, unlockSound, vibrate } from "./phone.js";
import {
  ALERTED_KEY, backInApp, byId, changed, currentLoad, during, goBack, LOADS_KEY, MESSAGES_KEY, notice, offlineError, problem,
  setError, show, state, store, stored, TICKETS_KEY, TRIP_KEY,
} from "./store.js";
import { bookingText, loadNumber } from "./texts.js";
import { beginTrip, endPickupLeg, startTracking, stopTracking, tripEnded, tripOutcome } from "./trip.js";

export { currentLoad, goBack, isPaired, show, state, subscribe } from "./store.js";
export { finite, openTrip } from "./trip.js";

const I = window.DispatchI18n;
const api = window.DriverApi;

const POLL_MS = 10_000;

// ---- pairing ------------------------------------------------------------------------------------

function deviceName() {
  const ua = navigator.userAgent;
  const platform = /Android/.test(ua) ? "Android" : /iPhone|iPad/.test(ua) ? "iPhone" : /Windows/.test(ua) ? "Windows"
    : /Mac/.test(ua) ? "Mac" : /Linux/.test(ua) ? "Linux" : "";
  return `${I.t("app.device.name")}${platform ? ` (${platform})` : ""}`;
}

async function paired(answer, place) {
  if (answer.status === 201) {
    api.keep(answer.data);
    for (const key of [LOADS_KEY, TICKETS_KEY, ALERTED_KEY, MESSAGES_KEY]) store(key, null);
    state.loads = []; state.tickets = {}; state.back = []; state.errors = {}; state.organizations = null;
    startPaired();
    notice({ key: "app.pair.done", params: { name: answer.data.driver.name } });
    changed();
    return true;
  }
  setError(place, problem(answer.data));
  return false;
}

export function pairWithCode(code) {
  unlockSound();
  setError("pair", null);
  return during("pair", async () => {
    const body = { code: code.trim(), device_name: deviceName() };
    try {
      return await paired(await api.call("POST", "/driver/v1/pairing", { body, auth: false }), "pair");
    } catch (err) {
      setError("pair", offlineError);
      return false;
    }
  });
}

export function signIn({ email, password, organization }) {
  unlockSound();
  setError("signin", null);
  return during("signin", async () => {
    const body = { email, password, device_name: deviceName() };
    if (state.organizations) body.organization_id = organization || state.organizations[0];
    let answer;
    try {
      answer = await api.call("POST", "/driver/v1/pairing/sign-in", { body, auth: false });
    } catch (err) {
      setError("signin", offlineError);
      return false;
    }
    const data = answer.data;
    if (data && data.code === "organization_required" && Array.isArray(data.organization_ids)) {
      state.organizations = data.organization_ids;
      setError("signin", { key: "app.signin.choose_organization" });
      return false;
    }
    return paired(answer, "signin");
  });
}

export function unpair(reason = null) {
  stopTracking();
  api.forget();
  if (socket) socket.close();
  for (const key of [LOADS_KEY, TICKETS_KEY, TRIP_KEY]) store(key, null);
  Object.assign(state, { trip: null, loads: [], tickets: {}, back: [], call: null, inbox: null, errors: {} });
  show("pair", { push: false });
  notice(reason, reason ? "error" : "info");
  changed();
}

// ---- loads ------------------------------------------------------------------------------------

function setLoads(loads, fromServer) {
  state.loads = loads;
  if (fromServer) {
    state.fresh = true;
    state.savedAt = new Date().toISOString();
    store(LOADS_KEY, { loads, saved_at: state.savedAt });
    const trip = state.trip;
    const pickupLoad = trip && trip.leg === "pickup" && loads.find((l) => l.id === trip.load_id);
    if (pickupLoad && !["assigned", "booked"].includes(pickupLoad.status)) endPickupLeg(trip.load_id); // checked in elsewhere
    else if (trip && !(trip.outcome && trip.outcome.kind === "received")) {
      const mine = loads.find((l) => l.id === trip.load_id);
      if (!mine) tripEnded(trip.load_id); // received (or cancelled): the list holds loads still to do
      else if (mine.status === "arrived") tripOutcome({ kind: "arrived" });
    }
  }
  changed();
}

function saveLoads() { store(LOADS_KEY, { loads: state.loads, saved_at: state.savedAt }); }

export async function refreshLoads() {
  try {
    const answer = await api.call("GET", "/driver/v1/assignments");
    state.unreachable = false;
    if (answer.ok) setLoads(answer.data, true);
  } catch (err) {
    state.unreachable = true;
    changed();
  }
}

export function openLoad(id) {
  state.current = id;
  state.errors = {};
  state.distanceM = null;
  show("load");
  if (!state.tickets[id]) refreshTicket(id);
}

async function refreshTicket(loadId) {
  try {
    const answer = await api.call("GET", `/driver/v1/loads/${loadId}/ticket`);
    if (answer.ok) setTicket(answer.data);
  } catch (err) { /* offline: keep the saved one */ }
}

function setTicket(ticket) {
  const before = state.tickets[ticket.load_id];
  state.tickets = { ...state.tickets, [ticket.load_id]: ticket };
  store(TICKETS_KEY, state.tickets);
  if (ticket.status === "called" && ticket.dock && (!before || before.status !== "called")) {
    dockCall(ticket.load_id, ticket.dock.name);
  }
  if (ticket.status !== "called" && state.call && state.call.load === ticket.load_id) state.call = null; // at the dock
  changed();
}

// ---- slots --------------------------------------------------------------------------------------

export async function openSlots() {
  const load = currentLoad();
  state.slots = null;
  setError("slots", null);
  show("slots");
  let answer;
  try {
    answer = await api.call("GET", `/driver/v1/loads/${load.id}/slots`);
  } catch (err) {
    setError("slots", offlineError);
    changed();
    return;
  }
  if (answer.ok) state.slots = answer.data.filter((s) => s.free > 0);
  else setError("slots", problem(answer.data));
  changed();
}

export function book(slot) {
  const load = currentLoad();
  if (state.busy) return undefined; // a second tap while the first is on its way books nothing twice
  setError("slots", null);
  return during("book", async () => {
    let answer;
    try {
      answer = await api.call("PUT", `/driver/v1/loads/${load.id}/booking`,
                              { body: { slot_start: slot.start }, key: api.newKey() });
    } catch (err) {
      setError("slots", offlineError);
      return;
    }
    if (!answer.ok) { setError("slots", problem(answer.data)); return; }
    load.booking = answer.data;
    if (load.status === "assigned") load.status = "booked";
    if (load.state === "assigned") load.state = "booked";
    saveLoads();
    goBack();
    notice({ key: "app.slots.booked", params: { slot: () => bookingText(load) } }, "info", "load");
  });
}

// The driver cannot make the slot (or arrives without one): the place goes back to the others.
export function cancelBooking() {
  const load = currentLoad();
  setError("load", null);
  return during("cancel", async () => {
    let answer;
    try {
      answer = await api.call("DELETE", `/driver/v1/loads/${load.id}/booking`, { key: api.newKey() });
    } catch (err) {
      setError("load", offlineError);
      return;
    }
    if (!answer.ok) { setError("load", problem(answer.data)); return; }
    load.booking = null;
    if (load.status === "booked") load.status = "assigned";
    if (load.state === "booked") load.state = "assigned";
    saveLoads();
    notice({ key: "app.slots.cancelled" });
  });
}

// ---- the gate: check-in, queue, dock call -------------------------------------------------------

function currentPosition() {
  return new Promise((resolve, reject) => {
    if (!navigator.geolocation) { reject(new Error("no geolocation")); return; }
    navigator.geolocation.getCurrentPosition(resolve, reject, { enableHighAccuracy: true, timeout: 20_000, maximumAge: 0 });
  });
}

export function checkIn() {
  const load = currentLoad();
  setError("load", null);
  state.distanceM = null;
  state.notice = null;
  unlockSound();
  return during("checkin", async () => {
    let position;
    try {
      position = await currentPosition();
    } catch (err) {
      setError("load", { key: "app.checkin.no_position" });
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
      setError("load", offlineError);
      return;
    }
    if (answer.status === 201) {
      load.status = "at_gate";
      endPickupLeg(load.id);
      setTicket(answer.data);
      askNotificationPermission();
    } else if (answer.data && answer.data.code === "outside_geofence") {
      state.distanceM = answer.data.distance_m;
      setError("load", { key: "app.checkin.outside", params: { distance: () => I.distance(answer.data.distance_m),
                                                              site: load.pickup_site ? load.pickup_site.name : "" } });
    } else if (answer.data && answer.data.code === "already_checked_in") {
      await refreshTicket(load.id);
    } else {
      setError("load", problem(answer.data));
    }
  });
}

// Asked right after check-in: the driver has just joined the queue and waits to be called.
function askNotificationPermission() {
  if ("Notification" in window && Notification.permission === "default") {
    Notification.requestPermission().catch(() => {});
  }
}

// "Go to dock N": the banner, a vibration, a beep and a system notification, once per load and dock.
function dockCall(loadId, dock) {
  const seen = new Set(stored(ALERTED_KEY, []));
  const key = `${loadId}|${dock}`;
  const load = byId(loadId);
  state.call = { dock, load: loadId };
  changed();
  if (seen.has(key)) return;
  seen.add(key);
  store(ALERTED_KEY, [...seen]);
  vibrate();
  beep();
  notify(I.t("app.call.go", { dock }), load ? `${loadNumber(load)} · ${load.vehicle ? load.vehicle.plate : ""}` : "",
         `dock-${loadId}`);
}

export function dismissCall() { state.call = null; changed(); }
export function dismissInbox() { state.inbox = null; changed(); }

// ---- the live socket, and the poll when it is down -----------------------------------------------

let socket = null;
let attempt = 0;
let pollTimer = null;

function connectLive() {
  if (socket || !api.token()) return;
  const ws = new WebSocket(api.liveUrl());
  socket = ws;
  ws.onopen = () => { state.live = true; attempt = 0; changed(); };
  ws.onmessage = (event) => {
    const frame = JSON.parse(event.data);
    if (frame.type === "assignments") setLoads(frame.loads, true);
    else if (frame.type === "tickets") for (const ticket of frame.tickets) setTicket(ticket);
    else if (frame.type === "called") dockCall(frame.load_id, frame.dock);
    else if (frame.type === "inbox") inboxItem(frame.message);
  };
  ws.onclose = () => {
    socket = null;
    state.live = false;
    changed();
    if (!api.token()) return;
    attempt += 1;
    setTimeout(connectLive, Math.min(30_000, 1000 * 2 ** Math.min(attempt, 5)));
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
  else {
    state.inbox = item.key && I.has(item.key) ? { key: item.key, params: item.params || {} } : { text: item.text };
    changed();
  }
}

// ---- the trip ------------------------------------------------------------------------------------

// Start driving to the pickup site: the phone's positions go to the server from now (its ETA against
// the booked slot warns the site in time to move the booking).
export function startToPickup() {
  const load = currentLoad();
  setError("load", null);
  return during("pickup", async () => {
    let answer;
    try {
      answer = await api.call("POST", `/driver/v1/loads/${load.id}/start-to-pickup`, { key: api.newKey() });
    } catch (err) {
      setError("load", offlineError);
      return;
    }
    if (!answer.ok) { setError("load", problem(answer.data)); return; }
    beginTrip(load, "pickup");
    show("trip");
  });
}

export function depart() {
  const load = currentLoad();
  setError("load", null);
  return during("depart", async () => {
    let answer;
    try {
      answer = await api.call("POST", `/driver/v1/loads/${load.id}/depart`, { key: api.newKey() });
    } catch (err) {
      setError("load", offlineError);
      return;
    }
    if (!answer.ok) { setError("load", problem(answer.data)); return; }
    setTicket(answer.data);
    load.status = "in_transit";
    beginTrip(load);
    show("trip");
  });
}

// The waybill the driver carries (GET /driver/v1/loads/{id}/waybill.pdf): saved as a file, which the
// phone opens in its PDF viewer. Not kept offline: it changes as the load moves (weighbridge, seals).
export function saveWaybill(loadId) {
  setError("trip", null);
  return during("waybill", async () => {
    let answer;
    try {
      answer = await api.file(`/driver/v1/loads/${loadId}/waybill.pdf`);
    } catch (err) {
      setError("trip", offlineError);
      return;
    }
    if (!answer.ok) { setError("trip", problem(answer.data)); return; }
    const url = URL.createObjectURL(answer.data);
    const link = document.createElement("a");
    link.href = url;
    link.download = `waybill-${loadId}.pdf`;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  });
}

export function finishTrip() {
  state.trip = null;
  store(TRIP_KEY, null);
  state.back = [];
  show("loads", { push: false });
  refreshLoads();
}

// ---- start ---------------------------------------------------------------------------------------

export function startPaired() {
  const saved = stored(LOADS_KEY);
  if (saved) { state.loads = saved.loads; state.savedAt = saved.saved_at; }
  if (state.trip) { state.back = ["loads"]; state.current = state.trip.load_id; }
  show(state.trip ? "trip" : "loads", { push: false });
  if (state.trip) {
    startTracking();
    window.GpsQueue.state().then((gps) => { state.gps = { ...state.gps, ...gps }; changed(); });
  }
  refreshLoads();
  connectLive();
  if (!pollTimer) pollTimer = setInterval(poll, POLL_MS);
}

// The browser's events: back online, back from the background, the app too old, the token revoked.
export function follow() {
  // Entries left from before a reload belong to the old page: going back to one would load the app anew.
  history.replaceState(null, "");
  addEventListener("popstate", backInApp);
  addEventListener("online", () => { refreshLoads(); changed(); });
  // Back from the background (a phone unlocked): catch up at once instead of at the next timer.
  document.addEventListener("visibilitychange", () => {
    if (document.hidden || !api.token()) return;
    connectLive();
    refreshLoads();
    if (state.trip) window.GpsQueue.kick();
  });
  // The socket may take a while to notice the network is gone: closed now, it retries with backoff.
  addEventListener("offline", () => { if (socket) socket.close(); changed(); });
  api.on("upgrade", () => { state.upgrade = true; changed(); });
  api.on("unpaired", () => unpair({ key: "app.pair.revoked" }));
}

// Opened from the dispatcher's QR code (/app#pair=<code>): the code is taken from the fragment and
// removed from the address bar. `#token=` hands a device token over directly (a dispatcher's tests).
export async function start() {
  const hash = new URLSearchParams(location.hash.slice(1));
  const code = hash.get("pair");
  const token = hash.get("token");
  if (code || token) history.replaceState(null, "", location.pathname);
  if (token) api.keep({ device_token: token, driver: null, organization: null });
  if (code) {
    show("pair", { push: false });
    state.pairCode = code;
    await pairWithCode(code);
    return;
  }
  if (!api.token()) { show("pair", { push: false }); return; }
  startPaired();
}
