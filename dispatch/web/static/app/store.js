// The driver app's state and how it changes: one object (`state`) the screens read, `changed()`
// after every change (app.js redraws), the screen shown and the way back, the notes and errors, and
// what is kept on the phone (localStorage). The actions are in model.js and trip.js.
//
// Texts are kept as catalogue keys with their parameters ({key, params}; a parameter that must be
// formatted is a function) or as the server's own text ({text}), never translated here: a language
// switch re-renders them in the new language.
const I = window.DispatchI18n;
const api = window.DriverApi;

export const LOADS_KEY = "driver.assignments";
export const TICKETS_KEY = "driver.tickets";
export const TRIP_KEY = "driver.trip";
export const ALERTED_KEY = "driver.alerted";
export const MESSAGES_KEY = "driver.messages_after";
export const LAST_FIX_KEY = "driver.last_fix_at";

export const stored = (key, fallback = null) => {
  try { const v = localStorage.getItem(key); return v === null ? fallback : JSON.parse(v); } catch (err) { return fallback; }
};

export const store = (key, value) => {
  if (value === null || value === undefined) localStorage.removeItem(key);
  else localStorage.setItem(key, JSON.stringify(value));
};

export const state = {
  screen: null,
  back: [],
  focus: false, // move the focus to the new screen's heading (it was opened by the driver)
  loads: [],
  savedAt: null,
  fresh: false, // the loads came from the server since the app started
  unreachable: false, // the last read of the loads got no answer
  tickets: stored(TICKETS_KEY, {}),
  current: null, // the load shown on the load, slots and code screens
  live: false,
  trip: stored(TRIP_KEY),
  lastFix: null,
  gpsMissing: false,
  gps: { waiting: 0, counters: {}, offline: false },
  // A short note for one screen ({key, params} or {text}, kind, screen): gone when the driver moves on.
  notice: null,
  // A message from the dispatcher: stays, whatever the screen, until the driver has read it (OK).
  inbox: null,
  call: null, // {dock, load}: "go to dock N", on top of every screen
  upgrade: false,
  errors: {}, // per place: pair, signin, load, slots → {key, params} / {text}
  distanceM: null, // the last check-in's distance outside the geofence
  organizations: null, // a driver of several carriers chooses one at sign-in
  slots: null, // the free slots being chosen from (null: being read)
  busy: null, // the action under way ("pair", "book", "checkin", …): its button waits
};

const listeners = new Set();

export function subscribe(listener) { listeners.add(listener); return () => listeners.delete(listener); }

export function changed() { for (const listener of listeners) listener(); }

export const byId = (id) => state.loads.find((l) => l.id === id);

export const currentLoad = () => byId(state.current);

export const isPaired = () => Boolean(api.token());

export function setError(place, error) { state.errors = { ...state.errors, [place]: error }; }

export const offlineError = { key: "app.error.offline" };

export function problem(data) {
  const code = data && data.code;
  if (code && I.has(`app.problem.${code}`)) return { key: `app.problem.${code}` };
  if (data && data.detail) return { text: data.detail };
  return { key: "app.error.generic" };
}

export function notice(message, kind = "info", screen = state.screen) {
  state.notice = message ? { ...message, kind, screen } : null;
}

// Each screen the driver opens is a history entry, so the phone's own back button (Android's, a
// browser's) goes back a screen instead of out of the app.
export function show(name, { push = true } = {}) {
  if (push && state.screen && state.screen !== name) {
    state.back.push(state.screen);
    history.pushState({ driverApp: state.back.length }, "");
  }
  state.screen = name;
  state.focus = push;
  // A note belongs to the screen it was given on (the defect was a "booked" note seen on the next three).
  if (state.notice && state.notice.screen !== name) state.notice = null;
  changed();
}

export function backInApp() {
  const previous = state.back.pop();
  if (previous) show(previous, { push: false });
}

// The header's back button, Escape, and after booking: through the history when this screen has an
// entry of its own (the popstate then goes back a screen), else straight back.
export function goBack() {
  if (history.state && history.state.driverApp) history.back();
  else backInApp();
}

export async function during(name, work) {
  state.busy = name;
  changed();
  try { return await work(); } finally { state.busy = null; changed(); }
}
