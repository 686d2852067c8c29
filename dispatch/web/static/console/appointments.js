// The day's appointments at a site (GET /sites/{site}/appointments): which carrier, truck and driver
// comes when, with a booked slot or as a walk-in, where each stands, and the ETA of a truck on the
// road to the site (tracking's), marked when the truck is late (tracking's alerts). No prices. Times are the site's, in its time zone (the screen says so).
//
// Live by a poll every 5 s: the rows come from bookings, the yard and tracking, and no one socket
// carries all three (the gate board's carries the yard only, and needs gate.operate, which a site
// manager may not hold); a poll of one small query covers them all and cannot miss a change.
import { html, useEffect, useState } from "../vendor/htm-3.1.1/standalone.module.js";
import { api } from "./api.js";
import { Status, t, useLoad } from "./ui.js";

const i18n = window.DispatchI18n;
const POLL_MS = 5000;

function when(item, zone) {
  if (item.slot) return `${i18n.time(item.slot.starts_at, zone)}–${i18n.time(item.slot.ends_at, zone)}`;
  if (item.arrived_at) return t("sites.appointments.arrived_at", { time: i18n.time(item.arrived_at, zone) });
  if (item.eta) return i18n.time(item.eta, zone);
  return "—";
}

function Row({ item, zone }) {
  return html`<tr id=${`appointment-${item.load_id}`} data-state=${item.state} data-kind=${item.kind}
    data-late=${item.late ? "true" : "false"}>
    <td>${when(item, zone)}</td>
    <td>${item.load_number} <span class="muted">${t(`sites.appointments.direction.${item.direction}`)}</span></td>
    <td>${item.carrier.name}</td>
    <td class="plate">${item.vehicle ? item.vehicle.plate : "—"}</td>
    <td>${item.driver ? item.driver.name : "—"}</td>
    <td>${t(`sites.appointments.kind.${item.kind}`)}</td>
    <td class="state">${t(`sites.appointments.state.${item.state}`)}</td>
    <td class="eta">${item.eta ? i18n.time(item.eta, zone) : "—"}${item.late
      && html` <strong class="late tag" data-late="true">${t(`sites.appointments.late.${item.direction}`)}</strong>`}</td>
  </tr>`;
}

// The component (also for the gate screen): `siteId` is one of the organization's sites.
export function Appointments({ me, siteId }) {
  const [day, setDay] = useState(""); // "": today at the site, as the API decides
  const query = day ? `?date=${encodeURIComponent(day)}` : "";
  const list = useLoad(() => api("GET", `/sites/${siteId}/appointments${query}`), [siteId, query, me]);
  useEffect(() => {
    const timer = setInterval(() => list.reload(), POLL_MS);
    return () => clearInterval(timer);
  }, [list.reload]);
  const data = list.data;
  const zone = data && data.timezone;
  return html`<section class="panel appointments" id="appointments" aria-labelledby="appointments-title">
    <h3 id="appointments-title">${data
      ? t("sites.appointments.title_on", { date: i18n.date(`${data.date}T12:00:00Z`, "UTC") })
      : t("sites.appointments.title")}</h3>
    <div class="field"><label for="appointments-day">${t("sites.appointments.day")}</label>
      <input id="appointments-day" type="date" value=${day || (data ? data.date : "")}
        onChange=${(e) => setDay(e.currentTarget.value)} /></div>
    <${Status} state=${list} />
    ${data && html`<p class="muted" id="appointments-zone">${t("sites.appointments.zone", { zone })}</p>`}
    ${data && (data.items.length === 0
      ? html`<p id="no-appointments">${t("sites.appointments.none")}</p>`
      : html`<table class="list" id="appointment-list" aria-labelledby="appointments-title">
        <thead><tr><th scope="col">${t("sites.appointments.when")}</th><th scope="col">${t("sites.appointments.load")}</th>
          <th scope="col">${t("sites.appointments.carrier")}</th><th scope="col">${t("sites.appointments.truck")}</th>
          <th scope="col">${t("sites.appointments.driver")}</th><th scope="col">${t("sites.appointments.booking")}</th>
          <th scope="col">${t("sites.appointments.state_title")}</th><th scope="col">${t("sites.appointments.eta")}</th></tr></thead>
        <tbody>${data.items.map((item) => html`<${Row} key=${item.load_id} item=${item} zone=${zone} />`)}</tbody>
      </table>`)}
  </section>`;
}

// The screen #/sites/:site/appointments: the site's name, and the day's appointments.
export function AppointmentsScreen({ me, params }) {
  const site = useLoad(() => api("GET", `/sites/${params.site}`), [params.site]);
  if (site.error && site.error.status === 404) return html`<p role="alert" id="site-not-found">${t("sites.not_found")}</p>`;
  if (!site.data) return html`<${Status} state=${site} />`;
  return html`<section aria-labelledby="appointments-site" class="sites">
    ${me.permissions.includes("sites.manage") && html`<p><a href=${`#/sites/${site.data.id}`}>
      ${t("sites.appointments.back", { site: site.data.name })}</a></p>`}
    <h2 id="appointments-site">${t("sites.appointments.heading", { site: site.data.name })}</h2>
    <${Appointments} me=${me} siteId=${site.data.id} />
  </section>`;
}
