// The driver app's screens, one shown at a time: pairing, today's loads, a load (booking, the gate,
// the code, the trip's start), the free slots, the pickup code and the trip. Each reads the model's
// state and calls its actions; ids, classes and data-attributes are what the tests (and the steps in
// tests/steps/app.py) read.
import { html, useEffect, useRef, useState } from "../vendor/htm-3.1.1/standalone.module.js";
import * as model from "./model.js";
import { keepAwake, releaseAwake } from "./phone.js";
import {
  bookingText, cargoText, distanceM, isBooked, loadNumber, mapLinks, placeText, say, statusText, ticketDetail,
  ticketLine, windowText, zoneOf,
} from "./texts.js";

const I = window.DispatchI18n;
const t = (key, params) => I.t(key, params);
const { state } = model;

function ErrorText({ id, error, ...rest }) {
  return html`<p class="error" id=${id} role="alert" ...${rest}>${say(error) || null}</p>`;
}

function Traccar() {
  const device = window.DriverApi.device();
  return html`<details class="card traccar">
    <summary>${t("app.traccar.heading")}</summary>
    <p>${t("app.traccar.why")}</p>
    <ol>
      <li><span>${t("app.traccar.server")}</span> <code class="tracker-url">${location.origin}/tracker/osmand</code></li>
      <li><span>${t("app.traccar.identifier")}</span> <code class="tracker-id">${
        device && device.tracker_id ? device.tracker_id : t("app.traccar.after_pairing")}</code></li>
      <li>${t("app.traccar.frequency")}</li>
    </ol>
  </details>`;
}

// ---- pairing: a code (typed, or from /app#pair=<code>), or the driver's own account ----------------

function PairForm() {
  const [code, setCode] = useState(state.pairCode || "");
  const submit = (e) => { e.preventDefault(); model.pairWithCode(code); };
  return html`<form id="pair-form" class="card" onSubmit=${submit}>
    <h2>${t("app.pair.heading")}</h2>
    <p class="hint" id="pair-hint">${t("app.pair.hint")}</p>
    <label for="pair-code">${t("app.pair.code")}</label>
    <input id="pair-code" name="code" autocomplete="one-time-code" autocapitalize="characters" spellcheck="false"
      maxlength="12" required placeholder="ABCD-2345" enterkeyhint="go" value=${code} aria-describedby="pair-hint pair-error"
      aria-invalid=${state.errors.pair ? "true" : "false"} onInput=${(e) => setCode(e.currentTarget.value)} />
    <button type="submit" class="primary" disabled=${state.busy === "pair"}>${t("app.pair.submit")}</button>
    <${ErrorText} id="pair-error" error=${state.errors.pair} />
  </form>`;
}

function SignInForm() {
  const [values, setValues] = useState({ email: "", password: "", organization: "" });
  const set = (name) => (e) => setValues({ ...values, [name]: e.currentTarget.value });
  const organizations = state.organizations;
  async function submit(e) {
    e.preventDefault();
    if (await model.signIn(values)) setValues({ email: "", password: "", organization: "" });
  }
  return html`<form id="signin-form" class="card" onSubmit=${submit}>
    <h2>${t("app.signin.heading")}</h2>
    <label for="signin-email">${t("app.signin.email")}</label>
    <input id="signin-email" name="email" type="email" autocomplete="username" autocapitalize="none" required
      value=${values.email} onInput=${set("email")} />
    <label for="signin-password">${t("app.signin.password")}</label>
    <input id="signin-password" name="password" type="password" autocomplete="current-password" required
      value=${values.password} onInput=${set("password")} />
    ${organizations && html`
      <label for="signin-org">${t("app.signin.organization")}</label>
      <select id="signin-org" name="organization" value=${values.organization || organizations[0]}
        onChange=${set("organization")}>
        ${organizations.map((id) => html`<option key=${id} value=${id}>${t("common.signin.organization", { id })}</option>`)}
      </select>`}
    <button type="submit" disabled=${state.busy === "signin"}>${t("app.signin.submit")}</button>
    <${ErrorText} id="signin-error" error=${state.errors.signin} />
  </form>`;
}

function Pair() {
  return html`<section id="screen-pair" class="screen">
    <${PairForm} />
    <${SignInForm} />
    <${Traccar} />
  </section>`;
}

// ---- today's loads ------------------------------------------------------------------------------

function LoadCard({ load }) {
  const ticket = state.tickets[load.id];
  return html`<li><button type="button" class="load" data-load-id=${load.id} onClick=${() => model.openLoad(load.id)}>
    <span class="number">${loadNumber(load)} · ${statusText(load)}</span>
    <span class="site">${load.pickup_site ? load.pickup_site.name : t("app.load.site_unknown")}</span>
    <span class="when">${windowText(load)}</span>
    <span class="slot">${t("app.load.booking")}: ${bookingText(load)}</span>
    ${ticket && html`<span class="ticket">${ticketLine(ticket)}</span>`}
  </button></li>`;
}

function Unpair() {
  // Unpairing drops the device token: the driver needs a new code from the dispatcher. Asked once more.
  const [asking, setAsking] = useState(false);
  const device = window.DriverApi.device();
  return html`<div class="device">
    <span id="device-name">${device && t("app.device.paired", {
      driver: device.driver ? device.driver.name : "", organization: device.organization ? device.organization.name : "",
    })}</span>
    ${asking
      ? html`<span class="confirm">
          <button type="button" id="unpair-confirm" class="danger" onClick=${() => model.unpair()}>${t("app.unpair.confirm")}</button>
          <button type="button" class="link" onClick=${() => setAsking(false)}>${t("app.unpair.keep")}</button>
        </span>`
      : html`<button type="button" id="unpair" class="link" onClick=${() => setAsking(true)}>${t("app.unpair")}</button>`}
  </div>`;
}

function Loads() {
  return html`<section id="screen-loads" class="screen">
    ${!state.fresh && state.savedAt
      && html`<p id="loads-stale" class="hint">${t("app.loads.saved_at", { time: I.dateTime(state.savedAt) })}</p>`}
    <ul id="loads" class="loads">
      ${state.loads.map((load) => html`<${LoadCard} key=${load.id} load=${load} />`)}
    </ul>
    ${state.fresh && state.loads.length === 0 && html`<p id="loads-empty" class="empty">${t("app.loads.empty")}</p>`}
    <${Traccar} />
    <${Unpair} />
  </section>`;
}

// ---- one load: where, when, the booking, the gate, the code, the trip ------------------------------

function Ticket({ ticket }) {
  return html`<div id="ticket" class="card ticket" aria-live="polite" data-status=${ticket.status}>
    <p class="big" id="ticket-main">${ticketLine(ticket)}</p>
    <p id="ticket-detail">${ticketDetail(ticket)}</p>
  </div>`;
}

function Maps({ load }) {
  const maps = mapLinks(load);
  if (!maps) return null;
  return html`
    <a id="do-route" class="button" href=${maps.geo}>${t("app.action.route")}</a>
    <div id="more-maps" class="maps">
      ${maps.links.map(([key, href]) => html`<a key=${key} class="button small" href=${href} target="_blank"
        rel="noopener">${t(key)}</a>`)}
    </div>`;
}

function Load() {
  const load = model.currentLoad();
  if (!load) return html`<section id="screen-load" class="screen"><h2>${t("app.load.heading")}</h2></section>`;
  const zone = zoneOf(load);
  const site = load.pickup_site;
  const ticket = state.tickets[load.id];
  const before = ["planned", "assigned", "booked"].includes(load.status);
  // Driving to the pickup (the trip screen's pickup leg) is not yet the trip.
  const toPickup = Boolean(state.trip && state.trip.leg === "pickup" && state.trip.load_id === load.id);
  const onTrip = state.trip && !toPickup ? state.trip.load_id === load.id : ["in_transit", "arrived"].includes(load.status);
  const busy = Boolean(state.busy);
  const error = state.errors.load;
  return html`<section id="screen-load" class="screen">
    <div class="card">
      <p class="load-number" id="load-number">${loadNumber(load)} · ${statusText(load)}</p>
      <p id="load-cargo">${cargoText(load)} · ${load.vehicle ? load.vehicle.plate : ""}</p>
      <h2 id="load-site">${site ? site.name : t("app.load.site_unknown")}</h2>
      <p id="load-address">${site && site.address ? site.address : ""}</p>
      <p><span>${t("app.load.window")}</span>: <span id="load-window">${windowText(load)}</span></p>
      <p><span>${t("app.load.booking")}</span>: <strong id="load-booking">${bookingText(load)}</strong></p>
      <p id="load-destination">${load.destination ? t("app.load.destination", { place: placeText(load.destination) }) : ""}</p>
      <p class="hint" id="load-zone">${zone ? t("app.load.zone", { zone }) : ""}</p>
    </div>
    ${ticket && html`<${Ticket} ticket=${ticket} />`}
    <${ErrorText} id="load-error" error=${error}
      data-distance-m=${error && error.key === "app.checkin.outside" ? String(state.distanceM) : undefined} />
    <div class="actions">
      <button type="button" id="do-book" hidden=${!before || Boolean(ticket)} disabled=${busy}
        onClick=${model.openSlots}>${isBooked(load) ? t("app.action.move") : t("app.action.book")}</button>
      <button type="button" id="do-cancel" hidden=${!before || Boolean(ticket) || !isBooked(load)} disabled=${busy}
        onClick=${model.cancelBooking}>${t("app.action.cancel")}</button>
      <${Maps} load=${load} />
      <button type="button" id="do-checkin" class="primary" hidden=${!before || Boolean(ticket)} disabled=${busy}
        aria-busy=${state.busy === "checkin" ? "true" : "false"} onClick=${model.checkIn}>${t("app.action.checkin")}</button>
      ${state.busy === "checkin" && html`<p class="hint" id="checkin-locating" role="status">${t("app.checkin.locating")}</p>`}
      <button type="button" id="do-code" hidden=${!load.pickup_code || onTrip}
        onClick=${() => model.show("code")}>${t("app.action.code")}</button>
      <button type="button" id="do-depart" class="primary" hidden=${!(ticket && ticket.status === "loaded") || onTrip}
        disabled=${busy} onClick=${model.depart}>${t("app.action.depart")}</button>
      <button type="button" id="do-start-pickup" hidden=${!before || Boolean(ticket) || toPickup || Boolean(state.trip)}
        disabled=${busy} onClick=${model.startToPickup}>${t("app.action.start_pickup")}</button>
      <button type="button" id="do-trip" class="primary" hidden=${!onTrip && !toPickup}
        onClick=${model.openTrip}>${t(toPickup ? "app.action.to_pickup" : "app.action.trip")}</button>
    </div>
  </section>`;
}

// ---- the free slots at the pickup site, in the site's time zone ----------------------------------

function Slots() {
  const load = model.currentLoad();
  const zone = zoneOf(load);
  const slots = state.slots || [];
  const days = [];
  for (const slot of slots) { // a heading per day, the slots under it by their times
    const day = I.date(slot.start, zone);
    if (!days.length || days[days.length - 1].day !== day) days.push({ day, slots: [] });
    days[days.length - 1].slots.push(slot);
  }
  const mine = (slot) => isBooked(load) && Date.parse(load.booking.slot_start) === Date.parse(slot.start);
  return html`<section id="screen-slots" class="screen">
    <p class="hint" id="slots-zone">${t("app.slots.zone", { zone: zone || Intl.DateTimeFormat().resolvedOptions().timeZone })}</p>
    <${ErrorText} id="slots-error" error=${state.errors.slots} />
    <ul id="slots" class="slots" aria-busy=${state.slots === null ? "true" : "false"}>
      ${days.map(({ day, slots: inDay }) => html`
        <li key=${day} class="day">${day}</li>
        ${inDay.map((slot) => html`<li key=${slot.start}>
          <button type="button" class=${`slot${mine(slot) ? " mine" : ""}`} data-start=${slot.start}
            disabled=${state.busy === "book"} onClick=${() => model.book(slot)}>
            <span>${I.time(slot.start, zone)} – ${I.time(slot.end, zone)}</span>
            <span class="places">${mine(slot) ? t("app.slots.yours") : t("app.slots.free", { count: slot.free })}</span>
          </button></li>`)}`)}
    </ul>
    ${state.slots && state.slots.length === 0 && html`<p id="slots-empty" class="empty">${t("app.slots.empty")}</p>`}
  </section>`;
}

// ---- the pickup code, full screen, for the gate's scanner (drawn on the phone: works without signal)

function Code() {
  const load = model.currentLoad();
  useEffect(() => { keepAwake(); return releaseAwake; }, []);
  let svg = "";
  if (load && load.pickup_code) {
    const qr = window.qrcode(0, "M");
    qr.addData(load.pickup_code);
    qr.make();
    svg = qr.createSvgTag({ cellSize: 8, margin: 32, scalable: true });
  }
  return html`<section id="screen-code" class="screen code">
    ${load && load.pickup_code && html`
      <div id="qr" role="img" aria-label=${t("app.code.qr_label", { code: load.pickup_code })}
        dangerouslySetInnerHTML=${{ __html: svg }}></div>
      <p class="code-text" id="code-text">${load.pickup_code}</p>
      <p class="plate" id="code-plate">${load.vehicle ? load.vehicle.plate : ""}</p>`}
    ${load && (load.approval === "pending" || load.approval === "refused") && html`
      <p class="error" id="code-approval" role="status">${t(`app.code.approval.${load.approval}`)}</p>`}
    <p class="hint">${t("app.code.hint")}</p>
  </section>`;
}

// ---- the trip: distance and ETA left, positions waiting, the receipt's outcome ---------------------

function Outcome({ outcome }) {
  const text = outcome.kind === "received"
    ? outcome.at ? t("app.trip.received", { time: I.dateTime(outcome.at) }) : t("app.trip.received_now")
    : t("app.trip.arrived");
  return html`<div id="trip-outcome" class="card outcome" aria-live="polite" data-kind=${outcome.kind}>
    <p class="big">${text}</p>
    ${outcome.kind === "received"
      && html`<button type="button" class="primary" onClick=${model.finishTrip}>${t("app.trip.done")}</button>`}
  </div>`;
}

function Trip() {
  const trip = state.trip;
  if (!trip) return html`<section id="screen-trip" class="screen"><h2>${t("app.trip.heading")}</h2></section>`;
  const dest = trip.destination;
  const counters = state.gps.counters[trip.load_id] || { recorded: 0 };
  const waiting = state.gps.waiting;
  const fix = state.lastFix;
  let left = "—";
  let eta = "—";
  if (fix && dest && dest.location) {
    const metres = distanceM({ lat: fix.coords.latitude, lon: fix.coords.longitude }, dest.location);
    const speed = model.finite(fix.coords.speed) > 3 ? fix.coords.speed : 60 / 3.6; // 60 km/h standing
    left = I.distance(metres);
    eta = I.time(new Date(Date.now() + (metres / speed) * 1000));
  }
  return html`<section id="screen-trip" class="screen">
    <div class="card">
      ${trip.leg === "pickup" && html`<p class="hint" id="trip-leg">${t("app.trip.to_pickup")}</p>`}
      <h2 id="trip-destination">${dest ? placeText(dest) : t("app.trip.heading")}</h2>
      <dl class="figures">
        <dt>${t("app.trip.left")}</dt><dd id="trip-left">${left}</dd>
        <dt>${t("app.trip.eta")}</dt><dd id="trip-eta">${eta}</dd>
        <dt>${t("app.trip.waiting")}</dt><dd id="trip-waiting" data-count=${String(waiting)}>${I.number(waiting)}</dd>
        <dt>${t("app.trip.recorded")}</dt>
        <dd id="trip-recorded" data-count=${String(counters.recorded)} data-accepted=${String(counters.accepted || 0)}
          data-duplicates=${String(counters.duplicates || 0)} data-rejected=${String(counters.rejected || 0)}
          >${I.number(counters.recorded)}</dd>
      </dl>
      <p class="hint" id="trip-gps">${state.gpsMissing ? t("app.trip.no_gps") : ""}</p>
    </div>
    ${trip.outcome && html`<${Outcome} outcome=${trip.outcome} />`}
    <p class="actions">
      <button type="button" id="do-waybill" disabled=${state.busy === "waybill"}
        aria-busy=${state.busy === "waybill" ? "true" : "false"}
        onClick=${() => model.saveWaybill(trip.load_id)}>${t("app.trip.waybill")}</button>
    </p>
    <${ErrorText} id="trip-error" error=${state.errors.trip} />
    <p class="hint">${t("app.trip.keep_open")}</p>
  </section>`;
}

const SCREENS = { pair: Pair, loads: Loads, load: Load, slots: Slots, code: Code, trip: Trip };
export const TITLES = { pair: "app.title", loads: "app.loads.heading", load: "app.load.heading",
                        slots: "app.slots.heading", code: "app.code.heading", trip: "app.trip.heading" };

// The screen shown; when the driver opened it, the focus goes to its first heading, else the header's
// title (a screen reader says where they are, and Tab starts from the top of the new screen).
export function Screen() {
  const ref = useRef(null);
  useEffect(() => {
    if (!state.focus || !ref.current) return;
    state.focus = false;
    const heading = ref.current.querySelector("h2") || document.getElementById("title");
    if (heading) { heading.tabIndex = -1; heading.focus({ preventScroll: true }); }
    window.scrollTo(0, 0);
  }, [state.screen]);
  const View = SCREENS[state.screen];
  return html`<main ref=${ref}>${View && html`<${View} />`}</main>`;
}
