// The trip: the phone's position watched (high accuracy) and every fix stored in the GPS queue
// (gps-queue.js: IndexedDB, sent in order, nothing lost), and how the trip ended (arrived, then
// delivered once the consignee confirms the receipt), read from the answers to the position batches.
import { changed, currentLoad, LAST_FIX_KEY, show, state, store, stored, TRIP_KEY } from "./store.js";

const api = window.DriverApi;

let watch = null;

// The trip's load left the list: read how it ended.
export async function tripEnded(loadId) {
  try {
    const answer = await api.call("GET", `/driver/v1/assignments/${loadId}`);
    if (answer.ok && answer.data.state === "received") tripOutcome({ kind: "received", at: null });
  } catch (err) { /* offline: the next answer tells */ }
}

// The trip screen for the current load; a trip started on another phone (or before a reset) goes on here.
export function openTrip() {
  if (!state.trip) beginTrip(currentLoad());
  show("trip");
}

// `leg`: "delivery" (from the gate to the destination) or "pickup" (the drive to the pickup site,
// before loading: the server takes its positions apart from the delivery's and warns the site when
// the truck will miss its slot; dispatch/tracking/README.md "Alerts").
export function beginTrip(load, leg = "delivery") {
  const destination = leg === "pickup" ? load.pickup_site || null : load.destination || null;
  state.trip = { load_id: load.id, leg, destination, started_at: new Date().toISOString(), outcome: null };
  store(TRIP_KEY, state.trip);
  startTracking();
}

// Checked in at the gate: the drive to the pickup is over (the delivery trip starts at departure).
export function endPickupLeg(loadId) {
  if (!state.trip || state.trip.leg !== "pickup" || state.trip.load_id !== loadId) return;
  stopTracking();
  state.trip = null;
  store(TRIP_KEY, null);
}

export function startTracking() {
  if (!state.trip || state.trip.outcome && state.trip.outcome.kind === "received") return;
  if (watch === null && navigator.geolocation) {
    watch = navigator.geolocation.watchPosition(onFix, (err) => {
      state.gpsMissing = true;
      changed();
      console.warn("gps:", err.message);
    }, { enableHighAccuracy: true, maximumAge: 0, timeout: 60_000 });
  }
  window.GpsQueue.start({
    post: async (body, key) => {
      const answer = await api.call("POST", "/driver/v1/positions", { body, key });
      return { status: answer.status, data: answer.data };
    },
    onChange(gps) { state.gps = gps; changed(); },
    onAnswer: tripAnswer,
  });
}

export function stopTracking() {
  if (watch !== null) navigator.geolocation.clearWatch(watch);
  watch = null;
}

export const finite = (v) => (typeof v === "number" && Number.isFinite(v) ? v : null);


async function onFix(position) {
  if (!state.trip) return;
  // The same fix can be delivered twice (a watch restarted after a reload): recorded once.
  if (position.timestamp <= (stored(LAST_FIX_KEY) || 0)) return;
  store(LAST_FIX_KEY, position.timestamp);
  state.lastFix = position;
  state.gpsMissing = false;
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
  changed();
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

export function tripOutcome(outcome) {
  const trip = state.trip;
  if (!trip || trip.outcome && (trip.outcome.kind === "received" || trip.outcome.kind === outcome.kind)) return;
  state.trip = { ...trip, outcome };
  store(TRIP_KEY, state.trip);
  if (outcome.kind === "received") stopTracking();
  changed();
}
