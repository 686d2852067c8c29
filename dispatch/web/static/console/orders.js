// One posted job for its shipper, consignee or poster (#/jobs/:job): the summary, the bids while it
// is open (award: jobs.js's Bids), its loads with their state (read again every few seconds) and
// tracking links, the pickup authorization (dispatch/authorizations), share links
// (dispatch/tracking/share_links.py) and each load's evidence (dispatch/evidence): view, export,
// verify. A tendered job shows its offers in rank order with their state and time left (read again
// every few seconds); the poster cancels an award (with a reason) until loading starts, and
// re-tenders a job whose award was given back or cancelled (dispatch/market/README.md "Tenders").
// A job the organization is not a party to, or an id that is none, is "not found", as the API
// answers it; the carrier's own view of a job it won is the carrier screens'.
import { html, useEffect, useState } from "../vendor/htm-3.1.1/standalone.module.js";
import { api, blob } from "./api.js";
import { CarrierPicker } from "./carriers.js";
import { LoadPapers } from "./papers.js";
import { Bids, price, toMinor, usePoll } from "./jobs.js";
import { Checks, Field, FormError, Select, Status, t, useForm, useLoad } from "./ui.js";

const i18n = window.DispatchI18n;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// Job states in which the job has a carrier, and so loads, an authorization and evidence.
const CARRIED = ["awarded", "dispatched", "completed"];

const short = (id) => String(id).slice(0, 8);
const toInstant = (local) => (local ? new Date(local).toISOString() : undefined);
const isNotFound = (err) => err && err.status === 404;
// The organization that authorizes the carrier to collect (dispatch/market/service.goods_owner_org).
const goodsOwnerOrg = (job) => (job.goods_owner === "consignee" ? job.consignee_org_id : job.shipper_org_id);
const place = (p) => (p.name ? `${p.name}, ${p.address}` : p.address);
const loadName = (load) => t("orders.load_number", { n: load.seq });

function NotFound() {
  return html`<section class="refusal" role="alert" id="job-not-found" aria-labelledby="job-not-found-title">
    <h2 id="job-not-found-title">${t("orders.not_found.title")}</h2>
    <p>${t("orders.not_found.text")}</p>
    <p><a href="#/jobs">${t("console.nav.my_jobs")}</a></p></section>`;
}

// `{ data }` for an answer, `{ data: null }` for a 404: "there is none", shown as such, not as an error.
const noneIf404 = (promise) => promise.then((data) => ({ data }), (err) => (isNotFound(err) ? { data: null } : Promise.reject(err)));

export function JobScreen({ me, params }) {
  const id = params.job;
  const valid = UUID.test(id);
  const job = useLoad(() => (valid ? noneIf404(api("GET", `/jobs/${id}`)) : Promise.resolve({ data: null })), [id]);
  usePoll(job.reload);
  const data = job.data && job.data.data;
  const carried = Boolean(data && CARRIED.includes(data.status));
  const loads = useLoad(() => (carried ? api("GET", `/jobs/${id}/loads`) : Promise.resolve([])), [id, carried]);
  usePoll(loads.reload);

  // A failed poll keeps the screen as it was (useLoad keeps the data); only a first load that
  // fails shows the error instead of the screen.
  if (!job.data) return html`<${Status} state=${job} />`;
  const own = me.organization.id;
  // The market view (no parties in it) of an open job is what a non-party gets: not this screen.
  if (!data || !data.poster_org_id) return html`<${NotFound} />`;
  if (![data.poster_org_id, data.shipper_org_id, data.consignee_org_id].includes(own)) {
    return html`<section role="alert" id="job-carrier"><h2>${t("orders.carrier_view.title")}</h2>
      <p>${t("orders.carrier_view.text")}</p></section>`;
  }
  const number = data.reference || short(data.id);
  return html`<section class="order" id="job-view" data-job-id=${data.id} aria-labelledby="job-title">
    <h2 id="job-title">${t("orders.title", { number })}</h2>
    <${Summary} job=${data} />
    ${data.status === "open" && html`<${Bids} me=${me} job=${data} onChanged=${job.reload} />`}
    <${TenderStanding} job=${data} />
    ${mayPost(me, data) && ["awarded", "dispatched"].includes(data.status)
      && html`<${CancelAward} job=${data} onDone=${job.reload} />`}
    ${mayPost(me, data) && data.status === "returned" && html`<${Retender} job=${data} onDone=${job.reload} />`}
    ${carried && html`
      <${Loads} job=${data} loads=${loads} />
      <${Authorization} me=${me} job=${data} loads=${loads.data || []} onLoadsChanged=${loads.reload} />
      <${ShareLinks} job=${data} loads=${loads.data || []} />`}
  </section>`;
}

const mayPost = (me, job) => job.poster_org_id === me.organization.id && me.permissions.includes("jobs.post");

// -- the tender, the award withdrawn, the re-tender -------------------------------------------

// Seconds left of an offer's window, from the clock of this page (the API's clock decides).
function timeLeft(offer, now) {
  if (offer.state !== "offered" || !offer.expires_at) return "–";
  const s = Math.max(0, Math.round((new Date(offer.expires_at) - now) / 1000));
  return t("orders.tender.left", { minutes: Math.floor(s / 60), seconds: String(s % 60).padStart(2, "0") });
}

// Read when the job's state changes (it is polled), and every few seconds while a tender runs.
const still = () => {};
function TenderStanding({ job }) {
  const tender = useLoad(() => noneIf404(api("GET", `/jobs/${job.id}/tender`)), [job.id, job.status]);
  usePoll(job.status === "tendering" ? tender.reload : still);
  const current = tender.data && tender.data.data;
  if (!current) return null;
  const now = new Date();
  return html`<div class="panel" id="tender" aria-labelledby="tender-title" data-status=${current.status}>
    <h3 id="tender-title">${t("orders.tender.title")}</h3>
    <p id="tender-status">${t(`orders.tender.status.${current.status}`)} ·
      ${t("orders.tender.terms", { price: i18n.money(current.price_minor, current.currency),
        minutes: Math.round(current.window_seconds / 60), then: t(`orders.tender.then.${current.then}`) })}</p>
    <table class="list" id="tender-offers"><thead><tr>
      <th scope="col">${t("orders.tender.rank")}</th><th scope="col">${t("orders.carrier")}</th>
      <th scope="col">${t("console.jobs.status")}</th><th scope="col">${t("orders.tender.time_left")}</th>
      <th scope="col">${t("orders.tender.reason")}</th></tr></thead>
      <tbody>${current.offers.map((o) => html`<tr key=${o.id} id=${`offer-${o.rank}`} data-state=${o.state}>
        <td>${o.rank}</td><td>${o.carrier_name}</td>
        <td class="state">${t(`orders.tender.state.${o.state}`)}</td>
        <td>${timeLeft(o, now)}</td><td>${o.reason || ""}</td></tr>`)}</tbody></table>
  </div>`;
}

function CancelAward({ job, onDone }) {
  const [asking, setAsking] = useState(false);
  const form = useForm({ reason: "" }, async (v) => {
    await api("POST", `/jobs/${job.id}/cancel-award`, { reason: v.reason });
    setAsking(false);
    await onDone();
  });
  if (!asking) {
    return html`<p><button type="button" class="danger" id="cancel-award"
      onClick=${() => setAsking(true)}>${t("orders.award.cancel")}</button></p>`;
  }
  return html`<form id="cancel-award-form" class="confirm-form" novalidate onSubmit=${form.submit}
    onKeyDown=${(e) => e.key === "Escape" && setAsking(false)}>
    <p>${t("orders.award.cancel_question")}</p>
    <${Field} name="reason" label=${t("orders.award.reason")} value=${form.values.reason}
      onInput=${form.set("reason")} error=${form.fieldError("reason")} autocomplete="off" />
    <${FormError} error=${form.error && !form.fieldError("reason") ? form.error : null} />
    <button type="submit" class="danger" disabled=${form.busy}>${t("orders.award.cancel_confirm")}</button>
    <button type="button" onClick=${() => setAsking(false)}>${t("console.keep")}</button>
  </form>`;
}

// Problems the API answers without errors[] that concern one field of the re-tender form.
const RETENDER_FIELD_OF_CODE = {
  carrier_excluded: "carriers",
  tender_carrier_unknown: "carriers",
  tender_carrier_repeated: "carriers",
  tender_carriers_required: "carriers",
  own_job: "carriers",
  tender_window_required: "window_seconds",
  tender_price_required: "price_minor",
  price_required: "price_minor",
  price_on_auction: "price_minor",
  deadline_required: "deadline",
  deadline_in_past: "deadline",
  deadline_after_pickup: "deadline",
};

function Retender({ job, onDone }) {
  const form = useForm({ to: "tender", carriers: [], order: "as_given", window_minutes: "60", price_minor: "", mode: job.mode, deadline: "" },
    async (v) => {
      const body = { to: v.to };
      const minutes = String(v.window_minutes).trim();
      if (v.to === "tender") {
        // None picked: the same carriers as before, without those that failed (the API's default).
        if (v.carriers.length) body.carriers = v.carriers.map((c) => c.id);
        body.order = v.order;
        if (minutes) body.window_seconds = /^\d+$/.test(minutes) ? Number(minutes) * 60 : minutes;
      } else {
        body.mode = v.mode;
      }
      if (String(v.price_minor).trim() && (v.to === "tender" || v.mode === "grab")) body.price_minor = toMinor(v.price_minor, job.currency);
      if (v.deadline) body.deadline = toInstant(v.deadline);
      await api("POST", `/jobs/${job.id}/retender`, body, { fieldOfCode: RETENDER_FIELD_OF_CODE });
      await onDone();
    });
  const v = form.values;
  return html`<div class="panel" id="retender" aria-labelledby="retender-title">
    <h3 id="retender-title">${t("orders.retender.title")}</h3>
    <p>${t("orders.retender.note", { excluded: job.excluded_carrier_org_ids.map(short).join(", ") || "–" })}</p>
    <form id="retender-form" novalidate onSubmit=${form.submit}>
      <${Select} name="to" label=${t("orders.retender.to")} value=${v.to} onChange=${form.set("to")}
        options=${[{ value: "tender", label: t("orders.retender.to_tender") }, { value: "market", label: t("orders.retender.to_market") }]} />
      ${v.to === "tender"
        ? html`<${CarrierPicker} legend=${t("orders.retender.carriers")} chosen=${v.carriers}
            onChange=${form.set("carriers")} error=${form.fieldError("carriers")}
            exclude=${job.excluded_carrier_org_ids} />
          <fieldset class="checks" aria-invalid=${form.fieldError("order") ? "true" : "false"}>
            <legend>${t("carriers.tender.order")}</legend>
            ${["as_given", "by_score"].map((o) => html`<label key=${o}><input type="radio" name="retender_order" value=${o}
              checked=${v.order === o} onChange=${() => form.set("order")(o)} /> ${t(`carriers.tender.order_${o}`)}</label>`)}
            ${form.fieldError("order") && html`<p class="field-error error" data-field="order">${form.fieldError("order")}</p>`}
          </fieldset>
          <${Field} name="window_seconds" label=${t("orders.retender.window")} value=${v.window_minutes}
            onInput=${form.set("window_minutes")} error=${form.fieldError("window_seconds", "window_minutes")} autocomplete="off" />`
        : html`<${Select} name="mode" label=${t("console.jobs.mode")} value=${v.mode} onChange=${form.set("mode")}
            options=${[{ value: "grab", label: t("console.jobs.mode_grab") }, { value: "auction", label: t("console.jobs.mode_auction") }]} />`}
      ${(v.to === "tender" || v.mode === "grab") && html`<${Field} name="price_minor"
        label=${t("orders.retender.price", { currency: job.currency })} value=${v.price_minor}
        onInput=${form.set("price_minor")} error=${form.fieldError("price_minor")} autocomplete="off" />`}
      <${Field} name="deadline" type="datetime-local" label=${t("console.jobs.deadline")} value=${v.deadline}
        onInput=${form.set("deadline")} error=${form.fieldError("deadline")} />
      <${FormError} error=${form.error} />
      <button type="submit" disabled=${form.busy}>${t("orders.retender.submit")}</button>
    </form>
  </div>`;
}

// -- summary ----------------------------------------------------------------------------------

function cargoText(job) {
  const cargo = job.cargo || {};
  if (job.cargo_kind === "bulk") return `${cargo.description || ""} · ${i18n.weight(job.total_weight_kg)}`;
  const lines = (cargo.lines || []).map((l) => t("orders.cargo_line", { description: l.description, units: l.count }));
  return `${lines.join("; ")} · ${i18n.weight(job.total_weight_kg)}`;
}

function Summary({ job }) {
  const row = (key, value, cls) => html`<div class=${cls}><dt>${t(key)}</dt><dd>${value}</dd></div>`;
  const carrier = job.carrier_org_id
    ? t("orders.carrier_awarded", { carrier: short(job.carrier_org_id), at: i18n.dateTime(job.awarded_at) })
    : t("orders.no_carrier");
  return html`<div class="panel">
    <dl class="summary" id="job-summary">
      ${row("orders.number", job.reference || short(job.id))}
      ${row("console.jobs.status", t(`console.jobs.state.${job.status}`), "state")}
      ${row("console.jobs.cargo", cargoText(job))}
      ${row("console.jobs.origin", place(job.origin))}
      ${row("console.jobs.destination", place(job.destination))}
      ${row("orders.pickup_window", t("orders.window", { from: i18n.dateTime(job.pickup_from), until: i18n.dateTime(job.pickup_until) }))}
      ${row("console.jobs.deliver_by", i18n.dateTime(job.deliver_by))}
      ${row("console.jobs.mode", t(`console.jobs.mode_${job.mode}`))}
      ${row("console.jobs.price", price(job), "price")}
      ${job.mode === "auction" && job.status === "open" && row("console.jobs.deadline", i18n.dateTime(job.deadline))}
      ${row("orders.carrier", carrier, "carrier")}
      ${row("orders.goods_owner", t(`orders.party.${job.goods_owner}`))}
    </dl></div>`;
}

// -- loads and their evidence -----------------------------------------------------------------

function Loads({ loads }) {
  const [openId, setOpenId] = useState(null);
  const open = loads.data && loads.data.find((l) => l.id === openId);
  return html`<div class="panel" id="loads" aria-labelledby="loads-title">
    <h3 id="loads-title">${t("orders.loads.title")}</h3>
    <p class="muted">${t("orders.loads.live_note")}</p>
    <${Status} state=${loads} />
    ${loads.data && (loads.data.length === 0
      ? html`<p id="no-loads">${t("orders.loads.none")}</p>`
      : html`<table class="list" id="load-list"><thead><tr>
          <th scope="col">${t("orders.loads.load")}</th><th scope="col">${t("console.jobs.status")}</th>
          <th scope="col">${t("orders.loads.vehicle")}</th><th scope="col">${t("orders.loads.driver")}</th>
          <th scope="col">${t("orders.loads.weight")}</th><th scope="col">${t("console.actions")}</th></tr></thead>
        <tbody>${loads.data.map((l) => html`<tr key=${l.id} id=${`load-${l.id}`}>
          <td>${loadName(l)}</td>
          <td class="state" data-status=${l.status}>${t(`orders.load_state.${l.status}`)}</td>
          <td class="plate">${l.vehicle.plate}</td>
          <td>${l.driver ? l.driver.name : t("orders.loads.no_driver")}</td>
          <td>${i18n.weight(l.weight_kg)}</td>
          <td class="actions">
            <a class="track" href=${`/track/loads/${l.id}`}>${t("orders.loads.track", { n: l.seq })}</a>
            <${LoadPapers} load=${l} title=${loadName(l)} />
            <button type="button" class="show-evidence" aria-expanded=${openId === l.id ? "true" : "false"}
              onClick=${() => setOpenId(openId === l.id ? null : l.id)}>${t("orders.evidence.show", { n: l.seq })}</button>
          </td></tr>`)}</tbody></table>`)}
    ${open && html`<${Evidence} key=${open.id} load=${open} />`}
  </div>`;
}

// A photo of the evidence: fetched with the session's token (an <img> cannot send it) and shown
// from a data: URL, so that the page loads nothing but from its own server.
function Photo({ sha256, caption, seq }) {
  const [src, setSrc] = useState(null);
  const [failed, setFailed] = useState(null);
  useEffect(() => {
    let gone = false;
    blob(`/evidence/photos/${sha256}`).then((b) => {
      const reader = new FileReader();
      reader.onload = () => { if (!gone) setSrc(reader.result); };
      reader.readAsDataURL(b);
    }, (err) => { if (!gone) setFailed(err); });
    return () => { gone = true; };
  }, [sha256]);
  if (failed) return html`<p class="error">${failed.message}</p>`;
  if (!src) return html`<p class="muted">${t("console.loading")}</p>`;
  return html`<a href=${src} download=${`photo-${seq}`}><img class="thumb" src=${src}
    alt=${caption || t("orders.evidence.photo_alt", { n: seq })} /></a>`;
}

function RecordDetails({ record }) {
  const d = record.data || {};
  const item = (key, value) => (value === null || value === undefined || value === ""
    ? null : html`<div><dt>${t(key)}</dt><dd>${value}</dd></div>`);
  switch (record.kind) {
    case "weighbridge_tare":
    case "weighbridge_gross":
      return html`<dl>${item("orders.evidence.weight", i18n.weight(d.weight_kg))}
        ${d.net_kg !== undefined && item("orders.evidence.net", i18n.weight(d.net_kg))}
        ${item("orders.evidence.weighbridge", d.weighbridge_id)}${item("orders.evidence.ticket", d.ticket)}</dl>`;
    case "seal":
      return html`<dl>${item("orders.evidence.seals", (d.seal_numbers || []).join(", "))}</dl>`;
    case "photo":
      return html`<div><${Photo} sha256=${d.sha256} caption=${d.caption} seq=${record.seq} />
        ${d.caption && html`<p>${d.caption}</p>`}</div>`;
    case "sample":
      return html`<dl>${item("orders.evidence.sample_id", d.sample_id)}
        ${item("orders.evidence.description", d.description)}${item("orders.evidence.retained_by", d.retained_by)}</dl>`;
    case "receipt":
      return html`<dl>${item("orders.evidence.received", d.received_weight_kg !== undefined && d.received_weight_kg !== null ? i18n.weight(d.received_weight_kg) : null)}
        ${item("orders.evidence.condition", d.condition)}${item("orders.evidence.signer", d.signer_name)}
        ${item("orders.evidence.notes", d.notes)}</dl>`;
    default:
      return html`<p>${d.text}</p>`;
  }
}

function Verdict({ verdict, loadId }) {
  const broken = verdict.first_break;
  return html`<div class=${`verdict ${verdict.ok ? "valid" : "refused"}`} id=${`verdict-${loadId}`}
    data-ok=${verdict.ok ? "true" : "false"} role="status">
    <p class="verdict-title">${verdict.ok ? t("orders.evidence.intact") : t("orders.evidence.broken")}</p>
    <p>${verdict.ok
      ? t("orders.evidence.intact_detail", { count: verdict.records })
      : t("orders.evidence.broken_detail", { seq: broken.seq, reason: broken.reason })}</p>
    ${verdict.head && html`<p class="muted">${t("orders.evidence.head", { head: verdict.head })}</p>`}
  </div>`;
}

function Evidence({ load }) {
  const records = useLoad(() => api("GET", `/loads/${load.id}/evidence`), [load.id]);
  const [verdict, setVerdict] = useState(null);
  const [error, setError] = useState(null);
  async function verify() {
    try { setVerdict(await api("GET", `/loads/${load.id}/evidence/verify`)); setError(null); } catch (err) { setError(err); }
  }
  // The bundle as a file: a data: link clicked, so nothing is fetched but from the API.
  async function download() {
    try {
      const bundle = await api("GET", `/loads/${load.id}/evidence/export`);
      const link = document.createElement("a");
      link.href = `data:application/json;charset=utf-8,${encodeURIComponent(JSON.stringify(bundle, null, 2))}`;
      link.download = `evidence-load-${load.seq}-${short(load.id)}.json`;
      document.body.append(link);
      link.click();
      link.remove();
      setError(null);
    } catch (err) { setError(err); }
  }
  return html`<div class="panel evidence" id=${`evidence-${load.id}`} aria-labelledby=${`evidence-title-${load.id}`}>
    <h3 id=${`evidence-title-${load.id}`}>${t("orders.evidence.title", { n: load.seq })}</h3>
    <${Status} state=${records} />
    ${records.data && (records.data.length === 0
      ? html`<p class="no-evidence">${t("orders.evidence.none")}</p>`
      : html`<ol class="records">${records.data.map((r) => html`<li key=${r.seq} data-kind=${r.kind}>
          <p><strong>${t(`orders.evidence.kind.${r.kind}`)}</strong>
            <span class="muted"> · ${i18n.dateTime(r.recorded_at)}${r.recorded_by_name ? ` · ${r.recorded_by_name}` : ""}</span></p>
          <${RecordDetails} record=${r} /></li>`)}</ol>`)}
    <p>
      <button type="button" class="verify" onClick=${verify}>${t("orders.evidence.verify")}</button>
      <button type="button" class="export" onClick=${download}>${t("orders.evidence.export")}</button>
    </p>
    ${verdict && html`<${Verdict} verdict=${verdict} loadId=${load.id} />`}
    ${error && html`<p class="error" role="alert">${error.message}</p>`}
  </div>`;
}

// -- the pickup authorization ----------------------------------------------------------------

// Problems the API answers without errors[] that concern one field of the form.
const AUTH_FIELD_OF_CODE = {
  invalid_validity: "valid_until",
  validity_in_past: "valid_until",
  naive_datetime: "valid_from",
};

// The plates and drivers the job's loads make known (the carrier's assigned trucks and drivers).
function knownPlates(loads) {
  return [...new Set(loads.map((l) => l.vehicle.plate))].map((p) => ({ value: p, label: p }));
}
function knownDrivers(loads) {
  const byId = new Map();
  for (const l of loads) if (l.driver) byId.set(l.driver.user_id, l.driver.name);
  return [...byId].map(([value, label]) => ({ value, label }));
}

function inForce(auth) {
  return auth && !auth.revoked_at && new Date(auth.valid_until) > new Date();
}

function AuthorizationDetails({ auth, loads }) {
  const names = new Map(knownDrivers(loads).map((d) => [d.value, d.label]));
  const state = auth.revoked_at ? "revoked" : inForce(auth) ? "in_force" : "expired";
  return html`<dl class="summary" id="authorization-current" data-state=${state}>
    <div><dt>${t("console.jobs.status")}</dt><dd class="auth-state">${t(`orders.auth.state.${state}`)}</dd></div>
    <div><dt>${t("orders.auth.valid")}</dt>
      <dd>${t("orders.window", { from: i18n.dateTime(auth.valid_from), until: i18n.dateTime(auth.valid_until) })}</dd></div>
    <div><dt>${t("orders.auth.plates")}</dt>
      <dd class="auth-plates">${auth.allowed_plates.length ? auth.allowed_plates.join(", ") : t("orders.auth.any_plate")}</dd></div>
    <div><dt>${t("orders.auth.drivers")}</dt>
      <dd class="auth-drivers">${auth.allowed_driver_ids.length
        ? auth.allowed_driver_ids.map((d) => names.get(d) || short(d)).join(", ") : t("orders.auth.any_driver")}</dd></div>
    ${auth.code && html`<div><dt>${t("orders.auth.code")}</dt><dd class="plate auth-code">${auth.code}</dd></div>`}
    ${auth.revoked_at && html`<div><dt>${t("orders.auth.revoked_at")}</dt>
      <dd>${i18n.dateTime(auth.revoked_at)}${auth.revoke_reason ? ` · ${auth.revoke_reason}` : ""}</dd></div>`}
  </dl>`;
}

function RevokeAuthorization({ job, onDone }) {
  const [asking, setAsking] = useState(false);
  const form = useForm({ reason: "" }, async (v) => {
    await api("POST", `/jobs/${job.id}/authorization/revoke`, { reason: v.reason });
    setAsking(false);
    await onDone();
  });
  if (!asking) {
    return html`<p><button type="button" class="danger" id="revoke-authorization"
      onClick=${() => setAsking(true)}>${t("orders.auth.revoke")}</button></p>`;
  }
  return html`<form id="revoke-authorization-form" class="confirm-form" novalidate onSubmit=${form.submit}
    onKeyDown=${(e) => e.key === "Escape" && setAsking(false)}>
    <p>${t("orders.auth.revoke_question")}</p>
    <${Field} name="reason" label=${t("orders.auth.reason")} value=${form.values.reason}
      onInput=${form.set("reason")} error=${form.fieldError("reason")} autocomplete="off" />
    <${FormError} error=${form.error && !form.fieldError("reason") ? form.error : null} />
    <button type="submit" class="danger" disabled=${form.busy}>${t("orders.auth.revoke_confirm")}</button>
    <button type="button" onClick=${() => setAsking(false)}>${t("console.keep")}</button>
  </form>`;
}

function GrantAuthorization({ job, loads, onDone }) {
  const plates = knownPlates(loads);
  const drivers = knownDrivers(loads);
  const form = useForm({ known_plates: [], allowed_plates: "", allowed_driver_ids: [], valid_from: "", valid_until: "" },
    async (v) => {
      const typed = v.allowed_plates.split(/[,;\n]/).map((p) => p.trim()).filter(Boolean);
      await api("POST", `/jobs/${job.id}/authorization`, {
        allowed_plates: [...v.known_plates, ...typed],
        allowed_driver_ids: v.allowed_driver_ids,
        valid_from: toInstant(v.valid_from),
        valid_until: toInstant(v.valid_until),
      }, { fieldOfCode: AUTH_FIELD_OF_CODE });
      await onDone();
    });
  const v = form.values;
  return html`<form id="authorize" novalidate onSubmit=${form.submit}>
    <p class="muted">${t("orders.auth.form_note")}</p>
    ${plates.length > 0 && html`<${Checks} name="known_plates" legend=${t("orders.auth.known_plates")}
      options=${plates} chosen=${v.known_plates} onChange=${form.set("known_plates")} />`}
    <${Field} name="allowed_plates" label=${t("orders.auth.other_plates")} value=${v.allowed_plates}
      onInput=${form.set("allowed_plates")} error=${form.fieldError("allowed_plates")} autocomplete="off" />
    ${drivers.length > 0
      ? html`<${Checks} name="allowed_driver_ids" legend=${t("orders.auth.drivers")} options=${drivers}
          chosen=${v.allowed_driver_ids} onChange=${form.set("allowed_driver_ids")} error=${form.fieldError("allowed_driver_ids")} />`
      : html`<p class="muted" id="no-drivers">${t("orders.auth.no_drivers")}</p>`}
    <${Field} name="valid_from" type="datetime-local" label=${t("orders.auth.valid_from")} value=${v.valid_from}
      onInput=${form.set("valid_from")} error=${form.fieldError("valid_from")} />
    <${Field} name="valid_until" type="datetime-local" label=${t("orders.auth.valid_until")} value=${v.valid_until}
      onInput=${form.set("valid_until")} error=${form.fieldError("valid_until")} />
    <${FormError} error=${form.error} />
    <button type="submit" disabled=${form.busy}>${t("orders.auth.grant")}</button>
  </form>`;
}

// A truck or driver the carrier swapped in that the authorization does not name: the goods owner
// approves (the load's code then verifies at the gate) or refuses with a reason (the gate refuses
// that truck; the carrier is told). dispatch/loads/README.md "Swapping a truck or driver".
function SwapRequest({ load, onDone }) {
  const [refusing, setRefusing] = useState(false);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  // The truck and driver shown: a swap changed meanwhile is refused (409 swap_changed), not decided unseen.
  const seen = { vehicle_id: load.vehicle.id, driver_user_id: load.driver ? load.driver.user_id : undefined };
  const form = useForm({ reason: "" }, async (v) => {
    await api("POST", `/loads/${load.id}/swap/refuse`, { ...seen, reason: v.reason });
    setRefusing(false);
    await onDone();
  });
  async function approve() {
    setBusy(true);
    try { await api("POST", `/loads/${load.id}/swap/approve`, seen); setError(null); await onDone(); }
    catch (err) { setError(err); } finally { setBusy(false); }
  }
  const was = (now, before) => (before && before !== now ? t("orders.swap.was", { now, before }) : now);
  const titleId = `swap-${load.seq}-title`;
  return html`<article class="swap-request" id=${`swap-${load.seq}`} aria-labelledby=${titleId}>
    <h4 id=${titleId}>${t("orders.swap.title", { load: loadName(load) })}</h4>
    <dl class="facts">
      <dt>${t("orders.loads.vehicle")}</dt>
      <dd class="plate">${was(load.vehicle.plate, load.previous_vehicle && load.previous_vehicle.plate)}</dd>
      <dt>${t("orders.loads.driver")}</dt>
      <dd>${was(load.driver ? load.driver.name : "", load.previous_driver && load.previous_driver.name)}</dd>
    </dl>
    <p class="muted">${t("orders.swap.explain")}</p>
    <${FormError} error=${error} />
    ${refusing
      ? html`<form class="confirm-form" novalidate onSubmit=${form.submit} aria-label=${t("orders.swap.refuse_for", { load: loadName(load) })}
          onKeyDown=${(e) => e.key === "Escape" && setRefusing(false)}>
          <${Field} name=${`swap-reason-${load.seq}`} label=${t("orders.swap.reason")} value=${form.values.reason}
            onInput=${form.set("reason")} error=${form.fieldError("reason")} autocomplete="off" />
          <${FormError} error=${form.error && !form.fieldError("reason") ? form.error : null} />
          <button type="submit" class="danger" disabled=${form.busy}>${t("orders.swap.refuse_confirm")}</button>
          <button type="button" onClick=${() => setRefusing(false)}>${t("console.keep")}</button>
        </form>`
      : html`<p><button type="button" onClick=${approve} disabled=${busy}>${t("orders.swap.approve")}</button>
          <button type="button" class="danger" onClick=${() => setRefusing(true)}>${t("orders.swap.refuse")}</button></p>`}
  </article>`;
}

// The swaps the owner has decided on, as they stand (refused ones stay refused until the carrier
// assigns a truck and driver the authorization names).
function SwapDecided({ load }) {
  return html`<li id=${`swap-${load.seq}-decided`}>${t(`orders.swap.decided.${load.approval}`, {
    load: loadName(load), plate: load.vehicle.plate })}${load.approval_reason ? ` · ${load.approval_reason}` : ""}</li>`;
}

function Authorization({ me, job, loads, onLoadsChanged }) {
  const auth = useLoad(() => noneIf404(api("GET", `/jobs/${job.id}/authorization`)), [job.id]);
  const owner = goodsOwnerOrg(job) === me.organization.id;
  const mayIssue = owner && me.permissions.includes("jobs.award") && ["awarded", "dispatched"].includes(job.status);
  const current = auth.data && auth.data.data;
  return html`<div class="panel" id="authorization" aria-labelledby="authorization-title">
    <h3 id="authorization-title">${t("orders.auth.title")}</h3>
    ${!owner
      ? html`<p id="authorization-by-owner">${t("orders.auth.by_owner", { owner: t(`orders.party.${job.goods_owner}`) })}</p>`
      : html`<${Status} state=${auth} />
        ${auth.data && !current && html`<p id="no-authorization">${t("orders.auth.none")}</p>`}
        ${current && html`<${AuthorizationDetails} auth=${current} loads=${loads} />`}
        ${mayIssue && inForce(current) && html`<${RevokeAuthorization} job=${job} onDone=${auth.reload} />`}
        ${mayIssue && auth.data && !inForce(current)
          && html`<${GrantAuthorization} job=${job} loads=${loads} onDone=${auth.reload} />`}
        ${me.permissions.includes("jobs.award") && loads.filter((l) => l.approval === "pending").map((l) => html`
          <${SwapRequest} key=${`${l.id}-${l.vehicle.id}-${l.driver && l.driver.user_id}`} load=${l} onDone=${onLoadsChanged} />`)}
        ${loads.some((l) => l.approval === "approved" || l.approval === "refused") && html`<ul id="swaps-decided">
          ${loads.filter((l) => l.approval === "approved" || l.approval === "refused").map((l) => html`<${SwapDecided} key=${l.id} load=${l} />`)}
        </ul>`}`}
  </div>`;
}

// -- share links ------------------------------------------------------------------------------

function NewLink({ link, onDone }) {
  const [copied, setCopied] = useState(null);
  const url = new URL(link.url, location.href).href;
  async function copy() {
    try { await navigator.clipboard.writeText(url); setCopied("console.tokens.copied"); }
    catch (err) { document.getElementById("share-link-url").select(); setCopied("console.tokens.copy_by_hand"); }
  }
  return html`<div class="panel secret" id="new-share-link" role="status">
    <h4>${t("orders.share.new_title")}</h4>
    <p>${t("orders.share.once")}</p>
    <label for="share-link-url">${t("orders.share.url")}</label>
    <input id="share-link-url" readonly value=${url} onFocus=${(e) => e.currentTarget.select()} />
    <button type="button" id="copy-share-link" onClick=${copy}>${t("console.tokens.copy")}</button>
    <button type="button" onClick=${onDone}>${t("console.tokens.secret_done")}</button>
    ${copied && html`<span aria-live="polite">${t(copied)}</span>`}
  </div>`;
}

function linkState(link) {
  if (link.revoked_at) return "revoked";
  return new Date(link.expires_at) <= new Date() ? "expired" : "active";
}

function LinkRow({ link, loads, onRevoke }) {
  const [asking, setAsking] = useState(false);
  const [error, setError] = useState(null);
  const load = link.load_id && loads.find((l) => l.id === link.load_id);
  const state = linkState(link);
  return html`<tr id=${`share-link-${link.id}`}>
    <td>${link.label || "–"}</td>
    <td>${link.load_id ? (load ? loadName(load) : short(link.load_id)) : t("orders.share.whole_job")}</td>
    <td>${i18n.dateTime(link.expires_at)}</td>
    <td class="state" data-state=${state}>${t(`orders.share.state.${state}`)}</td>
    <td class="actions">${state === "active" && (asking
      ? html`<span class="confirm" onKeyDown=${(e) => e.key === "Escape" && setAsking(false)}>
          <button type="button" class="danger" autofocus onClick=${() => onRevoke().catch(setError)}>
            ${t("orders.share.revoke_confirm")}</button>
          <button type="button" onClick=${() => setAsking(false)}>${t("console.keep")}</button></span>`
      : html`<button type="button" class="danger" onClick=${() => setAsking(true)}>${t("orders.share.revoke")}</button>`)}
      ${error && html`<span class="error" role="alert">${error.message}</span>`}</td></tr>`;
}

function ShareLinks({ job, loads }) {
  const links = useLoad(() => api("GET", `/jobs/${job.id}/share-links`), [job.id]);
  const [created, setCreated] = useState(null);
  const form = useForm({ expires_in_minutes: "1440", label: "", load_id: "" }, async (v) => {
    const minutes = String(v.expires_in_minutes).trim();
    setCreated(await api("POST", `/jobs/${job.id}/share-links`, {
      expires_in_minutes: /^\d+$/.test(minutes) ? Number(minutes) : minutes,
      label: v.label,
      load_id: v.load_id || undefined,
    }));
    await links.reload();
  });
  const v = form.values;
  return html`<div class="panel" id="share-links" aria-labelledby="share-links-title">
    <h3 id="share-links-title">${t("orders.share.title")}</h3>
    <p class="muted">${t("orders.share.note")}</p>
    ${created && html`<${NewLink} link=${created} onDone=${() => setCreated(null)} />`}
    <form id="share-link-form" novalidate onSubmit=${(e) => { setCreated(null); form.submit(e); }}>
      <${Field} name="label" label=${t("orders.share.label")} value=${v.label} onInput=${form.set("label")}
        error=${form.fieldError("label")} autocomplete="off" />
      <${Field} name="expires_in_minutes" label=${t("orders.share.minutes")} value=${v.expires_in_minutes}
        onInput=${form.set("expires_in_minutes")} error=${form.fieldError("expires_in_minutes")} autocomplete="off" />
      <${Select} name="load_id" label=${t("orders.share.scope")} value=${v.load_id} onChange=${form.set("load_id")}
        error=${form.fieldError("load_id")} blank=${t("orders.share.whole_job")}
        options=${loads.map((l) => ({ value: l.id, label: `${loadName(l)} · ${l.vehicle.plate}` }))} />
      <${FormError} error=${form.error} />
      <button type="submit" disabled=${form.busy}>${t("orders.share.create")}</button>
    </form>
    <${Status} state=${links} />
    ${links.data && (links.data.length === 0
      ? html`<p id="no-share-links">${t("orders.share.none")}</p>`
      : html`<table class="list" id="share-link-list"><thead><tr>
          <th scope="col">${t("orders.share.label")}</th><th scope="col">${t("orders.share.scope")}</th>
          <th scope="col">${t("orders.share.expires")}</th><th scope="col">${t("console.jobs.status")}</th>
          <th scope="col">${t("console.actions")}</th></tr></thead>
        <tbody>${links.data.map((l) => html`<${LinkRow} key=${l.id} link=${l} loads=${loads}
          onRevoke=${() => api("POST", `/jobs/${job.id}/share-links/${l.id}/revoke`).then(links.reload)} />`)}</tbody></table>`)}
  </div>`;
}
