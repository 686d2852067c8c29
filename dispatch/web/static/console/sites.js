// A shipper's or consignee's sites, on the sites and gate APIs (dispatch/sites/api.py,
// dispatch/gate/api.py): the list and a new site (#/sites), one site (#/sites/:site) with its address
// in parts, location, opening hours, time zone, geofence, docks and slot calendar.
//
// The geofence is drawn on a Leaflet map (vendored, loaded on first use) by clicking its corners, and
// the same corners are a list of longitude/latitude fields (add, remove, undo) for the keyboard.
// The console does not judge the polygon: the API does (self-crossing, too few corners, the location
// outside it), and its refusal is shown next to the geofence with nothing stored.
import { html, useEffect, useRef, useState } from "../vendor/htm-3.1.1/standalone.module.js";
import { api } from "./api.js";
import { Checks, Field, FormError, Select, Status, t, useForm, useLoad } from "./ui.js";

const i18n = window.DispatchI18n;

// -- the map library, loaded when a map is first shown ----------------------------------------

const LEAFLET = "/static/vendor/leaflet-1.9.4";
let mapLibrary;

function addScript(src) {
  return new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = src;
    script.onload = resolve;
    script.onerror = () => reject(new Error(src));
    document.head.append(script);
  });
}

// Leaflet (window.L), datum.js (the global `DispatchDatum`, a classic script's const) and the map's
// config (GET /track/config: tiles or none, and their datum), once per page.
function loadMapLibrary() {
  if (!mapLibrary) {
    const css = document.createElement("link");
    css.rel = "stylesheet";
    css.href = `${LEAFLET}/leaflet.css`;
    document.head.append(css);
    mapLibrary = Promise.all([
      window.L ? null : addScript(`${LEAFLET}/leaflet.js`),
      typeof DispatchDatum !== "undefined" ? null : addScript("/static/datum.js"),
      api("GET", "/track/config"),
    ]).then(([, , config]) => config);
  }
  return mapLibrary;
}

// -- small helpers ----------------------------------------------------------------------------

// A number typed in a form; empty is sent as null so that the API names the field that is missing.
const number = (text) => (String(text).trim() === "" ? null : Number(text));
const blankToNull = (text) => (String(text || "").trim() === "" ? null : text);
const round6 = (x) => Math.round(x * 1e6) / 1e6;
const WEEKDAYS = [0, 1, 2, 3, 4, 5, 6];
const VEHICLE_TYPES = [
  "flatbed", "curtainsider", "box", "refrigerated", "tanker", "bulk_tipper", "silo", "container", "lowloader",
];
// New sites start open around the clock: slots can be booked at once; the hours are there to narrow.
const AROUND_THE_CLOCK = WEEKDAYS.map((weekday) => ({ weekday, opens: "00:00", closes: "24:00" }));
// Problems the API answers without `errors[]`, and the field of the form each is about.
const SITE_FIELDS = {
  invalid_geofence: "geofence",
  location_outside_geofence: "location",
  invalid_timezone: "timezone",
  invalid_opening_hours: "opening_hours",
  address_required: "address_parts",
  site_name_taken: "name",
  invalid_country: "address_parts.country",
};

// The reasons the API gave for each part of the address ("$.address_parts.city" → "address_parts.city").
function partErrors(error) {
  const out = {};
  const problem = (error && error.problem) || {};
  for (const e of problem.errors || []) {
    const match = /^\$\.address_parts\.(\w+)/.exec(String(e.field || ""));
    if (match) out[match[1]] = t("console.form.invalid", { reason: e.reason });
  }
  if (error && error.fields && error.fields["address_parts.country"]) out.country = error.fields["address_parts.country"];
  return out;
}

// The ring the API takes: the corners, closed by the first one again.
const ring = (corners) => (corners.length ? [...corners, corners[0]] : []);
// And back: a stored polygon's outer ring without its closing corner.
function cornersOf(geofence) {
  const outer = (geofence && geofence.coordinates && geofence.coordinates[0]) || [];
  const open = outer.length > 1 && outer[0][0] === outer.at(-1)[0] && outer[0][1] === outer.at(-1)[1]
    ? outer.slice(0, -1) : outer;
  return open.map(([lon, lat]) => [lon, lat]);
}

// -- the geofence: a map to click and a list of corners -----------------------------------------

const VIEW_ZOOM = 15;

// The map: the corners as a polygon with a marker at each, the site's location as a dot; a click adds
// a corner. The view follows the typed location (at one zoom), so what a click means is plain.
// Its element carries the view's centre (in the map's datum) and zoom for whoever needs to aim.
function GeofenceMap({ corners, location, onAdd, label }) {
  const box = useRef(null);
  const map = useRef(null);
  // The click handler is made once; it calls the latest `onAdd` (which sees the latest corners).
  const adder = useRef(onAdd);
  adder.current = onAdd;
  const [config, setConfig] = useState(null);
  const [failed, setFailed] = useState(null);
  useEffect(() => { loadMapLibrary().then(setConfig, setFailed); }, []);
  const datum = () => DispatchDatum.forTiles(config && config.tiles_url ? config.datum : "wgs84");

  useEffect(() => {
    if (!config || map.current) return;
    const L = window.L;
    const m = L.map(box.current, { attributionControl: Boolean(config.tiles_url), keyboard: true });
    if (config.tiles_url) L.tileLayer(config.tiles_url, { attribution: config.attribution, maxZoom: 19 }).addTo(m);
    const layer = L.layerGroup().addTo(m);
    const remember = () => {
      const c = m.getCenter();
      box.current.dataset.centerLon = String(c.lng);
      box.current.dataset.centerLat = String(c.lat);
      box.current.dataset.zoom = String(m.getZoom());
    };
    m.on("moveend zoomend", remember);
    m.on("click", (e) => {
      const [lon, lat] = datum().fromMap(e.latlng.lng, e.latlng.lat);
      adder.current([round6(lon), round6(lat)]);
    });
    map.current = { m, layer };
    m.setView([20, 0], 2);
    remember();
    return () => { m.remove(); map.current = null; };
  }, [config]);

  // Follow the location when it is a place on the earth.
  const lat = number(location.lat), lon = number(location.lon);
  const placed = lat !== null && lon !== null && Math.abs(lat) <= 90 && Math.abs(lon) <= 180;
  useEffect(() => {
    if (!map.current || !placed) return;
    const [mLon, mLat] = datum().toMap(lon, lat);
    map.current.m.setView([mLat, mLon], VIEW_ZOOM, { animate: false });
  }, [config, lat, lon]);

  // Draw the corners and the location again whenever they change.
  useEffect(() => {
    if (!map.current) return;
    const L = window.L;
    const { layer } = map.current;
    layer.clearLayers();
    const shown = corners
      .filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y))
      .map(([x, y]) => { const [mx, my] = datum().toMap(x, y); return [my, mx]; });
    if (shown.length >= 2) L.polygon(shown, { color: "#1d4ed8", weight: 2, fillOpacity: 0.15, interactive: false }).addTo(layer);
    shown.forEach((at) => L.circleMarker(at, { radius: 5, color: "#1d4ed8", fillOpacity: 1, interactive: false }).addTo(layer));
    if (placed) {
      const [mx, my] = datum().toMap(lon, lat);
      L.circleMarker([my, mx], { radius: 6, color: "#b45309", fillOpacity: 1, interactive: false }).addTo(layer);
    }
  }, [config, corners, lat, lon]);

  if (failed) return html`<p class="error" role="alert">${t("sites.map.unavailable")}</p>`;
  return html`<div class="site-map" id="geofence-map" ref=${box} role="region" aria-label=${label}
    data-tiles=${config && config.tiles_url ? "yes" : "no"}></div>`;
}

function CornerList({ corners, setCorners, location }) {
  const change = (index, axis) => (text) => setCorners(corners.map((c, i) => {
    if (i !== index) return c;
    const next = [...c];
    next[axis] = text.trim() === "" ? NaN : Number(text);
    return next;
  }));
  const show = (x) => (Number.isFinite(x) ? String(x) : "");
  function add() {
    const last = corners.at(-1);
    const at = last || [number(location.lon) ?? 0, number(location.lat) ?? 0];
    setCorners([...corners, [at[0], at[1]]]);
  }
  return html`<div class="corners">
    ${corners.length === 0 && html`<p class="muted" id="no-corners">${t("sites.geofence.no_corners")}</p>`}
    <ol id="corners">${corners.map((c, i) => html`<li key=${i} class="row">
      <${Field} name=${`corner-${i}-lon`} type="number" label=${t("sites.geofence.corner_lon", { n: i + 1 })}
        value=${show(c[0])} onInput=${change(i, 0)} />
      <${Field} name=${`corner-${i}-lat`} type="number" label=${t("sites.geofence.corner_lat", { n: i + 1 })}
        value=${show(c[1])} onInput=${change(i, 1)} />
      <button type="button" onClick=${() => setCorners(corners.filter((_, j) => j !== i))}>
        ${t("sites.geofence.remove", { n: i + 1 })}</button></li>`)}</ol>
    <p class="actions">
      <button type="button" id="add-corner" onClick=${add}>${t("sites.geofence.add")}</button>
      <button type="button" id="undo-corner" disabled=${corners.length === 0}
        onClick=${() => setCorners(corners.slice(0, -1))}>${t("sites.geofence.undo")}</button>
      <button type="button" id="clear-corners" disabled=${corners.length === 0}
        onClick=${() => setCorners([])}>${t("sites.geofence.clear")}</button></p>
  </div>`;
}

function GeofenceEditor({ corners, setCorners, location, error }) {
  return html`<fieldset class="geofence" id="geofence" aria-invalid=${error ? "true" : "false"}
      aria-describedby=${error ? "geofence-error" : "geofence-how"}>
    <legend>${t("sites.geofence.title")}</legend>
    <p class="muted" id="geofence-how">${t("sites.geofence.how")}</p>
    <${GeofenceMap} corners=${corners} location=${location} label=${t("sites.geofence.map")}
      onAdd=${(corner) => setCorners([...corners, corner])} />
    ${error && html`<p class="field-error error" id="geofence-error" data-field="geofence" role="alert">${error}</p>`}
    <${CornerList} corners=${corners} setCorners=${setCorners} location=${location} />
  </fieldset>`;
}

// -- opening hours --------------------------------------------------------------------------------

function HoursEditor({ hours, setHours, error }) {
  const change = (index, key) => (value) =>
    setHours(hours.map((h, i) => (i === index ? { ...h, [key]: key === "weekday" ? Number(value) : value } : h)));
  const days = WEEKDAYS.map((d) => ({ value: String(d), label: t(`sites.weekday.${d}`) }));
  return html`<fieldset class="hours" id="opening-hours" aria-invalid=${error ? "true" : "false"}>
    <legend>${t("sites.hours.title")}</legend>
    <p class="muted">${t("sites.hours.how")}</p>
    ${hours.length === 0 && html`<p id="no-hours">${t("sites.hours.none")}</p>`}
    <ol>${hours.map((h, i) => html`<li key=${i} class="row">
      <${Select} name=${`hours-${i}-weekday`} label=${t("sites.hours.day")} value=${String(h.weekday)}
        options=${days} onChange=${change(i, "weekday")} />
      <${Field} name=${`hours-${i}-opens`} label=${t("sites.hours.opens")} value=${h.opens} onInput=${change(i, "opens")} />
      <${Field} name=${`hours-${i}-closes`} label=${t("sites.hours.closes")} value=${h.closes} onInput=${change(i, "closes")} />
      <button type="button" onClick=${() => setHours(hours.filter((_, j) => j !== i))}>
        ${t("sites.hours.remove", { day: t(`sites.weekday.${h.weekday}`) })}</button></li>`)}</ol>
    <p class="actions"><button type="button" id="add-hours"
      onClick=${() => setHours([...hours, { weekday: 0, opens: "08:00", closes: "17:00" }])}>${t("sites.hours.add")}</button>
      <button type="button" onClick=${() => setHours(AROUND_THE_CLOCK)}>${t("sites.hours.around_the_clock")}</button></p>
    ${error && html`<p class="field-error error" data-field="opening_hours">${error}</p>`}
  </fieldset>`;
}

// -- the site's form (new, or edit) ---------------------------------------------------------------

const PARTS_EUROPEAN = ["street", "number", "postcode", "city", "province", "district"];
const PARTS_CHINESE = ["province", "city", "district", "street", "number", "postcode"];

function formValues(site, me) {
  const parts = (site && site.address_parts) || {};
  return {
    name: site ? site.name : "",
    country: parts.country || (site ? "" : me.organization.country || ""),
    province: parts.province || "",
    city: parts.city || "",
    district: parts.district || "",
    street: parts.street || "",
    number: parts.number || "",
    postcode: parts.postcode || "",
    lat: site ? String(site.location.lat) : "",
    lon: site ? String(site.location.lon) : "",
    timezone: site ? site.timezone : me.organization.timezone || "",
    hours: site ? site.opening_hours : AROUND_THE_CLOCK,
    corners: site ? cornersOf(site.geofence) : [],
    shared: site ? site.shared : false,
  };
}

function siteBody(v) {
  return {
    name: v.name,
    address_parts: {
      country: blankToNull(v.country && v.country.toUpperCase()),
      province: blankToNull(v.province),
      city: v.city,
      district: blankToNull(v.district),
      street: v.street,
      number: blankToNull(v.number),
      postcode: blankToNull(v.postcode),
    },
    location: { lat: number(v.lat), lon: number(v.lon) },
    geofence: { type: "Polygon", coordinates: [ring(v.corners)] },
    timezone: v.timezone,
    opening_hours: v.hours,
    shared: v.shared,
  };
}

// After a save the parent mounts a fresh form from the site as stored (useForm would reset to the
// values it started with), and says "saved".
function SiteForm({ me, site, onSaved }) {
  const form = useForm(formValues(site, me), async (values) => {
    const answer = site
      ? await api("PATCH", `/sites/${site.id}`, siteBody(values), { fieldOfCode: SITE_FIELDS })
      : await api("POST", "/sites", siteBody(values), { fieldOfCode: SITE_FIELDS });
    onSaved(answer);
  });
  const v = form.values;
  const parts = partErrors(form.error);
  const partsError = form.fieldError("address_parts");
  const order = (v.country || "").toUpperCase() === "CN" ? PARTS_CHINESE : PARTS_EUROPEAN;
  const id = site ? "edit-site" : "new-site";
  return html`<form class="panel site-form" id=${id} onSubmit=${form.submit} aria-labelledby=${`${id}-title`} novalidate>
    <h3 id=${`${id}-title`}>${t(site ? "sites.edit.title" : "sites.new.title")}</h3>
    <${Field} name="name" label=${t("sites.field.name")} value=${v.name} onInput=${form.set("name")}
      error=${form.fieldError("name")} required autocomplete="off" />
    <fieldset class="address" id="address">
      <legend>${t("sites.address.title")}</legend>
      ${site && html`<p class="muted" id="address-line">${t("sites.address.line", { address: site.address })}</p>`}
      <${Field} name="country" label=${t("sites.address.country")} value=${v.country} onInput=${form.set("country")}
        error=${parts.country} autocomplete="country" />
      ${order.map((part) => html`<${Field} key=${part} name=${part} label=${t(`sites.address.${part}`)}
        value=${v[part]} onInput=${form.set(part)} error=${parts[part]} />`)}
      ${partsError && !Object.keys(parts).length && html`<p class="field-error error" data-field="address_parts">${partsError}</p>`}
    </fieldset>
    <fieldset class="location" id="location">
      <legend>${t("sites.location.title")}</legend>
      <p class="muted">${t("sites.location.how")}</p>
      <div class="row">
        <${Field} name="lat" type="number" label=${t("sites.location.lat")} value=${v.lat} onInput=${form.set("lat")} />
        <${Field} name="lon" type="number" label=${t("sites.location.lon")} value=${v.lon} onInput=${form.set("lon")} />
      </div>
      ${form.fieldError("location") && html`<p class="field-error error" data-field="location">${form.fieldError("location")}</p>`}
    </fieldset>
    <${Field} name="timezone" label=${t("sites.field.timezone")} value=${v.timezone} onInput=${form.set("timezone")}
      error=${form.fieldError("timezone")} />
    <${HoursEditor} hours=${v.hours} setHours=${form.set("hours")} error=${form.fieldError("opening_hours", "hours")} />
    <${GeofenceEditor} corners=${v.corners} setCorners=${form.set("corners")} location=${{ lat: v.lat, lon: v.lon }}
      error=${form.fieldError("geofence")} />
    <div class="field"><label><input type="checkbox" name="shared" checked=${v.shared}
      onChange=${(e) => form.set("shared")(e.currentTarget.checked)} /> ${t("sites.field.shared")}</label></div>
    <${FormError} error=${form.error} />
    <button type="submit" disabled=${form.busy}>${t(site ? "sites.edit.submit" : "sites.new.submit")}</button>
  </form>`;
}

// -- docks ----------------------------------------------------------------------------------------

function Docks({ site, onChanged }) {
  const form = useForm({ name: "", vehicle_types: [] }, async (values) => {
    onChanged(await api("POST", `/sites/${site.id}/docks`, values, { fieldOfCode: { dock_name_taken: "name" } }));
  });
  const typeLabel = (type) => t(`console.dispatch.vehicle_type.${type}`);
  return html`<section class="panel" id="docks" aria-labelledby="docks-title">
    <h3 id="docks-title">${t("sites.docks.title")}</h3>
    ${site.docks.length === 0
      ? html`<p id="no-docks">${t("sites.docks.none")}</p>`
      : html`<table class="list" id="dock-list">
        <thead><tr><th scope="col">${t("sites.docks.name")}</th><th scope="col">${t("sites.docks.types")}</th>
          <th scope="col">${t("sites.docks.state")}</th></tr></thead>
        <tbody>${site.docks.map((d) => html`<tr key=${d.id}><td>${d.name}</td>
          <td>${d.vehicle_types.length ? d.vehicle_types.map(typeLabel).join(", ") : t("sites.docks.any_type")}</td>
          <td>${t(d.active ? "sites.docks.active" : "sites.docks.inactive")}</td></tr>`)}</tbody></table>`}
    <form id="add-dock" onSubmit=${form.submit} aria-labelledby="add-dock-title" novalidate>
      <h4 id="add-dock-title">${t("sites.docks.add")}</h4>
      <${Field} name="dock-name" label=${t("sites.docks.name")} value=${form.values.name} onInput=${form.set("name")}
        error=${form.fieldError("name")} autocomplete="off" />
      <${Checks} name="vehicle_types" legend=${t("sites.docks.types_choice")} chosen=${form.values.vehicle_types}
        onChange=${form.set("vehicle_types")} error=${form.fieldError("vehicle_types")}
        options=${VEHICLE_TYPES.map((type) => ({ value: type, label: typeLabel(type) }))} />
      <${FormError} error=${form.error} />
      <button type="submit" disabled=${form.busy}>${t("sites.docks.add_submit")}</button>
    </form>
  </section>`;
}

// -- the slot calendar ----------------------------------------------------------------------------

const CALENDAR_DEFAULTS = {
  slot_minutes: "30", places_per_slot: "1", min_lead_minutes: "0", max_lead_days: "30",
  cutoff_minutes: "60", grace_minutes: "30", late_tolerance_minutes: "15", closed_dates: [],
};
const CALENDAR_NUMBERS = [
  "slot_minutes", "places_per_slot", "min_lead_minutes", "max_lead_days", "cutoff_minutes", "grace_minutes",
  "late_tolerance_minutes",
];

function CalendarForm({ site, calendar, onSaved }) {
  const initial = calendar
    ? { ...Object.fromEntries(CALENDAR_NUMBERS.map((k) => [k, String(calendar[k])])), closed_dates: calendar.closed_dates }
    : CALENDAR_DEFAULTS;
  const form = useForm(initial, async (values) => {
    const body = { ...Object.fromEntries(CALENDAR_NUMBERS.map((k) => [k, number(values[k])])),
      closed_dates: values.closed_dates.filter((d) => d) };
    await api("PUT", `/sites/${site.id}/calendar`, body, { fieldOfCode: { places_exceed_docks: "places_per_slot" } });
    await onSaved();
  });
  const dates = form.values.closed_dates;
  const setDates = form.set("closed_dates");
  return html`<form class="panel" id="calendar" onSubmit=${form.submit} aria-labelledby="calendar-title" novalidate>
    <h3 id="calendar-title">${t("sites.calendar.title")}</h3>
    ${!calendar && html`<p id="no-calendar">${t("sites.calendar.none")}</p>`}
    <div class="row wrap">${CALENDAR_NUMBERS.map((k) => html`<${Field} key=${k} name=${k} type="number"
      label=${t(`sites.calendar.${k}`)} value=${form.values[k]} onInput=${form.set(k)} error=${form.fieldError(k)} />`)}</div>
    <fieldset id="closed-dates"><legend>${t("sites.calendar.closed_dates")}</legend>
      ${dates.length === 0 && html`<p class="muted">${t("sites.calendar.no_closed_dates")}</p>`}
      ${dates.map((d, i) => html`<div class="row" key=${i}>
        <${Field} name=${`closed-${i}`} type="date" label=${t("sites.calendar.closed_date", { n: i + 1 })} value=${d}
          onInput=${(value) => setDates(dates.map((x, j) => (j === i ? value : x)))} />
        <button type="button" onClick=${() => setDates(dates.filter((_, j) => j !== i))}>
          ${t("sites.calendar.remove_date", { n: i + 1 })}</button></div>`)}
      <button type="button" id="add-closed-date" onClick=${() => setDates([...dates, ""])}>${t("sites.calendar.add_date")}</button>
      ${form.fieldError("closed_dates") && html`<p class="field-error error" data-field="closed_dates">${form.fieldError("closed_dates")}</p>`}
    </fieldset>
    <${FormError} error=${form.error} />
    <button type="submit" disabled=${form.busy}>${t("sites.calendar.submit")}</button>
  </form>`;
}

function Calendar({ site }) {
  // A site without a calendar answers 404 no_calendar: that is "none yet", not an error.
  const calendar = useLoad(
    () => api("GET", `/sites/${site.id}/calendar`).catch((err) => {
      if (err.code === "no_calendar") return { none: true };
      throw err;
    }),
    [site.id],
  );
  const [saves, setSaves] = useState(0);
  if (!calendar.data) return html`<${Status} state=${calendar} />`;
  const current = calendar.data.none ? null : calendar.data;
  const saved = async () => { await calendar.reload(); setSaves((n) => n + 1); };
  return html`<${CalendarForm} key=${saves} site=${site} calendar=${current} onSaved=${saved} />
    ${saves > 0 && html`<p role="status" id="calendar-saved">${t("sites.calendar.saved")}</p>`}`;
}

// -- the screens ----------------------------------------------------------------------------------

export function Sites({ me }) {
  const sites = useLoad(() => api("GET", "/sites"), [me]);
  return html`<section aria-labelledby="sites-title" class="sites">
    <h2 id="sites-title">${t("sites.nav.sites")}</h2>
    <${Status} state=${sites} />
    ${sites.data && (sites.data.length === 0
      ? html`<p id="no-sites">${t("sites.list.none")}</p>`
      : html`<table class="list" id="site-list">
        <thead><tr><th scope="col">${t("sites.field.name")}</th><th scope="col">${t("sites.address.title")}</th>
          <th scope="col">${t("sites.docks.title")}</th><th scope="col">${t("sites.field.timezone")}</th>
          <th scope="col">${t("console.actions")}</th></tr></thead>
        <tbody>${sites.data.map((s) => html`<tr key=${s.id} id=${`site-${s.id}`}>
          <td><a href=${`#/sites/${s.id}`}>${s.name}</a></td><td>${s.address}</td><td>${s.docks.length}</td>
          <td>${s.timezone}</td>
          <td class="actions"><a href=${`#/sites/${s.id}/appointments`}>${t("sites.appointments.link")}</a></td></tr>`)}
        </tbody></table>`)}
    <${SiteForm} me=${me} site=${null} onSaved=${(site) => { location.hash = `#/sites/${site.id}`; }} />
  </section>`;
}

export function SiteView({ me, params }) {
  const site = useLoad(() => api("GET", `/sites/${params.site}`), [params.site]);
  const [current, setCurrent] = useState(null);
  const [saves, setSaves] = useState(0);
  useEffect(() => { if (site.data) setCurrent(site.data); }, [site.data]);
  const saved = (answer) => { setCurrent(answer); setSaves((n) => n + 1); };
  if (site.error && site.error.status === 404) {
    return html`<p role="alert" id="site-not-found">${t("sites.not_found")}</p>`;
  }
  if (!current) return html`<${Status} state=${site} />`;
  const own = current.org_id === me.organization.id;
  return html`<section aria-labelledby="site-title" class="sites">
    <p><a href="#/sites">${t("sites.back")}</a></p>
    <h2 id="site-title">${current.name}</h2>
    <p><a id="appointments-link" href=${`#/sites/${current.id}/appointments`}>${t("sites.appointments.link")}</a></p>
    ${own
      ? html`<${SiteForm} key=${saves} me=${me} site=${current} onSaved=${saved} />
        ${saves > 0 && html`<p role="status" id="site-saved">${t("sites.saved")}</p>`}
        <${Docks} site=${current} onChanged=${setCurrent} />
        <${Calendar} site=${current} />`
      : html`<p role="alert" id="site-not-found">${t("sites.not_found")}</p>`}
  </section>`;
}
