// The tracking page (/track/loads/{load}, /track/jobs/{job}): one job's (or one load's) trucks on
// their way, live, for the buyer and the seller; Preact + htm like the console (docs/ui.md).
//
// live.js keeps the socket and the loads; map.js draws them (SVG, optional tiles, GCJ-02 shift);
// this module renders the header (the job, the status, the language), the sign-in form, the load
// cards, and, for a member of the consignee who may confirm receipt, the receipt form on a load
// that has arrived (receipt.js).
//
// In English or Chinese (i18n.js): texts from the catalogue at render time, numbers, distances and
// times formatted for the language, times in the viewer's own zone (the page says which); switching
// the language redraws the page in place, the socket stays open. A signed-in viewer's language is
// their own setting (GET /me); a share link's viewer has no account: the device's or browser's.
import { html, render, useEffect, useRef, useState } from "./vendor/htm-3.1.1/standalone.module.js";
import { api, blob } from "./console/api.js";
import { LoadPapers } from "./console/papers.js";
import { OrganizationChoice, useSignIn } from "./console/signin.js";
import { Field, siteTime, t } from "./console/ui.js";
import { createTracker } from "./track/live.js";
import { createMap } from "./track/map.js";
import { ReceiptForm } from "./track/receipt.js";

const i18n = window.DispatchI18n;
const [, , kind, targetId] = location.pathname.split("/"); // /track/{jobs|loads}/{id}
const tracker = createTracker(kind, targetId);

// ---- formats ------------------------------------------------------------------------------------

// A time in the viewer's zone: the time alone today, with the date on other days.
function clock(iso) {
  if (!iso) return t("common.none");
  const d = new Date(iso);
  return new Date().toDateString() === d.toDateString() ? i18n.time(d) : i18n.dateTime(d);
}

// A time at a site (its slot, the truck's ETA there, its departure from the gate): in the site's zone,
// as the gate shows it, named when it differs from the viewer's; the date when not the site's today.
function siteClock(iso, zone) {
  if (!iso) return t("common.none");
  if (!zone) return clock(iso);
  return siteTime(iso, zone, { withDate: i18n.date(new Date(), zone) !== i18n.date(iso, zone) });
}

// The site a timeline entry happened at, by its type: the gate it left, the destination it reached.
const SITE_OF_ENTRY = { "load.departed": "origin", "load.arrived": "destination", "load.received": "destination" };
const zoneOf = (job, side) => (job && job[side] ? job[side].timezone : null);

function ago(iso) {
  if (!iso) return "";
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (s < 60) return t("track.ago.now");
  if (s < 3600) return t("track.ago.minutes", { count: Math.round(s / 60) });
  if (s >= 172800) return t("track.ago.days", { count: Math.floor(s / 86400) });
  return t("track.ago.hours", { hours: i18n.number(Math.floor(s / 3600)), minutes: i18n.number(Math.round((s % 3600) / 60)) });
}

const km = (m) => (m === null || m === undefined ? t("common.none") : i18n.distance(m));
const loadName = (load) => load.plate || t("track.load_number", { number: i18n.number(load.number) });
const translated = (key, fallback) => (i18n.has(key) ? t(key) : fallback);

function receiptText(r) {
  const parts = [t("track.receipt.confirmed")];
  const at = r.received_at || r.confirmed_at || r.created_at;
  if (at) parts.push(clock(at));
  if (typeof r.received_weight_kg === "number" && r.received_weight_kg > 0) parts.push(i18n.weight(r.received_weight_kg));
  if (r.condition) parts.push(translated(`track.receipt.condition.${r.condition}`, r.condition));
  if (r.signer_name) parts.push(t("track.receipt.signed_by", { name: r.signer_name }));
  if (Array.isArray(r.discrepancies) && r.discrepancies.length) {
    parts.push(t("track.receipt.discrepancies", { count: r.discrepancies.length }));
  }
  return parts.join(" · ");
}

// ---- components ---------------------------------------------------------------------------------

function LanguageSwitcher() {
  return html`<select data-i18n-switcher aria-label=${t("common.language")} value=${i18n.locale}
    onChange=${(e) => i18n.switchTo(e.currentTarget.value)}>
    ${i18n.LOCALES.map((l) => html`<option key=${l} value=${l}>${t(`common.language.${l}`)}</option>`)}
  </select>`;
}

function Header({ job, status }) {
  const name = job && job.reference ? t("track.title_reference", { reference: job.reference }) : t("track.title");
  useEffect(() => { document.title = name; });
  const from = job && job.origin && (job.origin.name || job.origin.address);
  const to = job && job.destination && (job.destination.name || job.destination.address);
  return html`<header class="bar track-bar">
    <div class="title">
      <h1 id="job-name">${name}</h1>
      <p id="route" class="route">${[from, to].filter(Boolean).join(" → ")}</p>
    </div>
    <span id="status" class=${`status${status.className ? ` ${status.className}` : ""}`}>${t(status.key)}</span>
    <${LanguageSwitcher} />
  </header>`;
}

// The sign-in: POST /auth/login; a person in several organizations is asked which one.
function SignIn({ messageKey }) {
  const form = useSignIn((token) => {
    tracker.signedIn(token);
    adoptUserLanguage(token);
  });
  const { email, setEmail, password, setPassword, error, busy, submit } = form;
  // The message: the API's detail of a refused sign-in, else the page's reason for asking.
  const message = error ? error.message : messageKey ? t(messageKey) : "";
  return html`<main class="single">
    <form id="login" class="panel" onSubmit=${submit} aria-labelledby="login-title">
      <h2 id="login-title">${t("track.login.intro")}</h2>
      <${Field} name="email" type="email" label=${t("console.signin.email")} value=${email}
        onInput=${setEmail} required autocomplete="username" />
      <${Field} name="password" type="password" label=${t("console.signin.password")} value=${password}
        onInput=${setPassword} required autocomplete="current-password" />
      <${OrganizationChoice} id="login-organization" form=${form} />
      <p class="error" id="login-error" role="alert">${message}</p>
      <button type="submit" disabled=${busy}>${t("track.login.submit")}</button>
    </form>
  </main>`;
}

function Facts({ load }) {
  const received = load.status === "received";
  const eta = received ? null : load.eta;
  const progress = received ? 1 : eta && typeof eta.progress === "number" ? eta.progress : null;
  const speed = load.last && typeof load.last.speed_mps === "number" ? load.last.speed_mps
    : eta && typeof eta.speed_mps === "number" ? eta.speed_mps : null;
  const at = load.last && load.last.recorded_at;
  return html`<dl class="facts">
    <dt>${t("track.fact.eta")}</dt>
    <dd class="eta-at">${eta && eta.eta_at ? i18n.dateTime(eta.eta_at) : received ? t("track.eta_delivered") : t("common.none")}</dd>
    <dt>${t("track.fact.remaining")}</dt>
    <dd class="remaining">${eta ? km(eta.remaining_m) : t("common.none")}</dd>
    <dt>${t("track.fact.progress")}</dt>
    <dd><span class="progress">${progress === null ? t("common.none")
      : t("track.percent", { value: i18n.number(Math.round(progress * 100)) })}</span><span class="bar-track"
      ><span style=${{ width: `${progress === null ? 0 : Math.round(progress * 100)}%` }}></span></span></dd>
    <dt>${t("track.fact.speed")}</dt>
    <dd class="speed">${speed === null ? t("common.none") : t("track.speed_kmh", { value: i18n.number(Math.round(speed * 3.6)) })}</dd>
    <dt>${t("track.fact.last_update")}</dt>
    <dd class="last-update" data-at=${at || ""}>${at ? t("track.last_update", { time: clock(at), ago: ago(at) }) : t("track.no_position")}</dd>
  </dl>`;
}

// The alerts standing on a load (dispatch/tracking/README.md "Alerts"), from its timeline: late for
// the pickup slot until the truck checks in (or its ETA recovered), late delivery until it arrives,
// off route until back on route.
function standingAlerts(load, job) {
  const pickupZone = zoneOf(job, "origin");
  let slot = null, delivery = null, off = null;
  for (const e of load.timeline) {
    if (e.type === "load.late_for_slot") slot = e;
    else if (e.type === "load.late_delivery") delivery = e;
    else if (e.type === "load.off_route") off = e;
    else if (e.type === "load.back_on_route") off = null;
  }
  const approaching = ["assigned", "booked"].includes(load.status);
  const out = [];
  if (slot && approaching && (!load.approach || load.approach.late)) {
    const eta = (load.approach && load.approach.eta_at) || slot.data.eta_at;
    out.push({ type: slot.type, text: t("track.alert.late_for_slot", { slot: siteClock(slot.data.slot_starts_at, pickupZone), eta: siteClock(eta, pickupZone) }) });
  }
  if (delivery && load.status === "in_transit") {
    const eta = (load.eta && load.eta.eta_at) || delivery.data.eta_at;
    out.push({ type: delivery.type, text: t("track.alert.late_delivery", { eta: clock(eta), due: clock(delivery.data.deliver_by) }) });
  }
  if (off && load.status === "in_transit") {
    out.push({ type: off.type, text: t("track.alert.off_route", { distance: km(off.data.distance_m) }) });
  }
  return out;
}

function Alerts({ load, job }) {
  const alerts = standingAlerts(load, job);
  if (!alerts.length) return null;
  return html`<div role="alert"><ul class="alerts">
    ${alerts.map((a) => html`<li key=${a.type} class="alert" data-type=${a.type}>${a.text}</li>`)}
  </ul></div>`;
}

// On the way to the pickup (the driver started towards it): when the truck is expected there.
function Approach({ load, job }) {
  const a = load.approach;
  if (!a || !["assigned", "booked"].includes(load.status)) return null;
  return html`<p class="approach">${t("track.approach", { eta: siteClock(a.eta_at, zoneOf(job, "origin")),
    distance: km(a.remaining_m) })}</p>`;
}

// `papersFor`: the signed-in person's token (a share link's viewer has no party's session, and the
// papers are the parties'): the load's papers once it is received.
function LoadCard({ load, job, receiptFor, papersFor }) {
  const jobId = job && job.id;
  const status = load.status || "";
  return html`<section class="load" id=${`load-${load.id}`} data-load-id=${load.id} data-status=${status}
      aria-labelledby=${`load-${load.id}-title`}>
    <h2 id=${`load-${load.id}-title`}><span class="swatch" style=${{ background: load.color }}></span><span
      class="plate">${loadName(load)}</span> <span class=${`load-status tag ${status}`}>${translated(
        `track.status.${status}`, status.replaceAll("_", " "))}</span></h2>
    <${Alerts} load=${load} job=${job} />
    <${Approach} load=${load} job=${job} />
    <${Facts} load=${load} />
    ${load.receipt && html`<p class="receipt">${receiptText(load.receipt)}</p>`}
    ${papersFor && status === "received" && html`<p class="load-papers"><${LoadPapers} load=${{ ...load, status }}
      title=${loadName(load)} fetchPdf=${(path) => blob(path, { token: papersFor })} /></p>`}
    <ol class="timeline">
      ${load.timeline.map((e) => html`<li key=${`${e.type}@${e.at}`} data-type=${e.type}><time dateTime=${e.at}>${SITE_OF_ENTRY[e.type] ? siteClock(e.at, zoneOf(job, SITE_OF_ENTRY[e.type])) : clock(e.at)}</time>
        ${" "}${translated(`track.event.${e.type}`, e.type)}</li>`)}
    </ol>
    ${receiptFor && !load.receipt && status === "arrived" && html`<${ReceiptForm} load=${load} jobId=${jobId} token=${receiptFor} />`}
  </section>`;
}

function MapView({ scene }) {
  const wrap = useRef(null);
  const map = useRef(null);
  useEffect(() => {
    map.current = createMap(wrap.current);
    return () => map.current.stop();
  }, []);
  useEffect(() => { map.current.draw(scene); });
  return html`<div id="map-wrap" ref=${wrap}></div>`;
}

// GET /track/config: tiles are optional (without them the map is drawn on a plain background).
function useConfig() {
  const [config, setConfig] = useState({ tiles_url: null, attribution: "", datum: "wgs84" });
  useEffect(() => {
    fetch("/track/config").then((r) => (r.ok ? r.json() : null)).then((c) => { if (c) setConfig(c); }, () => {});
  }, []);
  return config;
}

// After signing in: the user's language setting decides the page's language, and a switch is saved
// to it. The answer also says who may confirm receipt.
async function adoptUserLanguage(token) {
  try {
    const me = await api("GET", "/me", undefined, { token });
    await i18n.signedIn(me, (locale) => api("PATCH", "/me", { locale }, { token }));
    tracker.setMe(me);
  } catch (err) { /* the page keeps the language it has */ }
}

function App() {
  const [, setVersion] = useState(0);
  const [, setLocale] = useState(i18n.locale);
  const [, setTick] = useState(0);
  const config = useConfig();
  useEffect(() => tracker.subscribe(() => setVersion((v) => v + 1)), []);
  useEffect(() => i18n.onChange(setLocale), []);
  useEffect(() => {
    const every = setInterval(() => setTick((n) => n + 1), 15_000); // "x min ago"
    return () => clearInterval(every);
  }, []);

  const { state } = tracker;
  const { me } = state;
  const loads = [...state.loads.values()].sort((a, b) => a.number - b.number);
  // The receipt form: for a signed-in member of the consignee who may confirm receipt.
  const token = state.credential && state.credential.token;
  const mayConfirm = Boolean(token && me && state.job && me.organization.id === state.job.consignee_org_id
    && me.permissions.includes("receipt.confirm"));
  const scene = { job: state.job, loads, config, name: loadName };
  return html`
    <${Header} job=${state.job} status=${state.status} />
    ${state.login && html`<${SignIn} messageKey=${state.login.messageKey} />`}
    ${!state.login && html`<main id="tracking" hidden=${!state.job}>
      <${MapView} scene=${scene} />
      <aside id="panel" aria-label=${t("track.panel_label")}>
        ${state.ended && html`<p id="ended" class="ended-note">${t(state.ended)}</p>`}
        <div id="loads">${loads.map((load) => html`<${LoadCard} key=${load.id} load=${load} job=${state.job}
          receiptFor=${mayConfirm ? token : null} papersFor=${token || null} />`)}</div>
        <p id="zone-note" class="zone-note">${t("track.zone_note", { zone: Intl.DateTimeFormat().resolvedOptions().timeZone })}</p>
      </aside>
    </main>`}`;
}

// The language first (the device's or the browser's), then the delivery; once signed in, the
// user's own setting. A catalogue that cannot be loaded leaves the texts as their keys.
await i18n.start().catch((err) => console.warn("i18n:", err));
render(html`<${App} />`, document.getElementById("root"));
tracker.start();
if (tracker.state.credential && tracker.state.credential.token) adoptUserLanguage(tracker.state.credential.token);
