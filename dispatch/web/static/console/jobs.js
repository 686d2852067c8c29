// The seller's (shipper's) job screens on the market API (dispatch/market/api.py): post a job
// (grab at a price or a reverse auction; item lines or bulk), and the organization's posted jobs with their bids, kept
// live by a poll (the market feed websocket is for carriers: it needs jobs.bid), awarded early or
// cancelled from the list.
import { html, useEffect, useState } from "../vendor/htm-3.1.1/standalone.module.js";
import { api } from "./api.js";
import { CarrierPicker } from "./carriers.js";
import { BidderFigures } from "./scorecards.js";
import { Field, FormError, Select, Status, t, useForm, useLoad } from "./ui.js";

const i18n = window.DispatchI18n;
const VEHICLE_TYPES = ["flatbed", "curtainsider", "box", "refrigerated", "tanker", "bulk_tipper", "silo", "container", "lowloader"];
// How often the jobs list and the open job's bids are read again.
const POLL_MS = 4000;

// Problems the API answers without errors[] that concern one field of the form.
const FIELD_OF_CODE = {
  invalid_pickup_window: "pickup_until",
  pickup_window_past: "pickup_until",
  invalid_delivery_deadline: "deliver_by",
  deadline_in_past: "deadline",
  deadline_after_pickup: "deadline",
  naive_datetime: "pickup_from",
  price_required: "price_minor",
  ceiling_on_grab: "ceiling_minor",
  price_on_auction: "price_minor",
  destination_required: "destination_site_id",
};

// Problems about the "Tender first" part of the form, by the tender's field they concern.
const TENDER_FIELD_OF_CODE = {
  tender_carrier_unknown: "carriers",
  tender_carrier_repeated: "carriers",
  carrier_excluded: "carriers",
  own_job: "carriers",
  tender_price_required: "price_minor",
};

// The form value behind each of the tender's fields, whose change clears that field's error.
const TENDER_VALUE_OF_FIELD = {
  carriers: "tender_carriers",
  order: "tender_order",
  window_seconds: "tender_window_minutes",
  price_minor: "tender_price",
  then: "tender_then",
};

// The API's reasons for the tender's fields: "$.tender.window_seconds" → window_seconds (ApiError's
// `fields` has it as "tender.window_seconds"; "$.tender" itself, the carriers); a problem without
// errors[] by its code. A field changed since the refusal shows its error no more.
function tenderErrors(form) {
  const out = {};
  const error = form.error;
  if (!error) return out;
  for (const [path, text] of Object.entries(error.fields || {})) {
    const match = /^tender(?:\.([a-z_]+))?$/.exec(path);
    if (!match || (!match[1] && Object.keys(error.fields).some((p) => p.startsWith("tender.")))) continue;
    const name = match[1] || "carriers";
    out[name] = out[name] ? `${out[name]}; ${text}` : text;
  }
  const field = TENDER_FIELD_OF_CODE[error.code];
  if (field && !out[field]) out[field] = error.message;
  for (const name of Object.keys(out)) if (form.changed(TENDER_VALUE_OF_FIELD[name] || name)) delete out[name];
  return out;
}

// The "Tender first" part of the body; the price left empty is the grab price (the API's default).
function tenderBody(v, currency) {
  const minutes = String(v.tender_window_minutes).trim();
  const tender = {
    carriers: v.tender_carriers.map((c) => c.id),
    order: v.tender_order,
    window_seconds: /^\d+$/.test(minutes) ? Number(minutes) * 60 : minutes || undefined,
    then: v.tender_then,
  };
  const priceTyped = v.tender_price === null ? (v.mode === "grab" ? v.price_minor : "") : v.tender_price;
  tender.price_minor = toMinor(priceTyped, currency);
  return tender;
}

function TenderFirst({ v, set, errors, currency }) {
  // Until typed in, the price offered shows (and is) the grab price.
  const price = v.tender_price === null ? (v.mode === "grab" ? v.price_minor : "") : v.tender_price;
  return html`<fieldset class="tender-first" id="tender-first">
    <legend>${t("carriers.tender.legend")}</legend>
    <label class="check"><input type="checkbox" name="tender_on" checked=${v.tender_on}
      onChange=${(e) => set("tender_on")(e.currentTarget.checked)} /> ${t("carriers.tender.on")}</label>
    ${v.tender_on && html`
      <${CarrierPicker} legend=${t("carriers.tender.carriers")} chosen=${v.tender_carriers}
        onChange=${set("tender_carriers")} error=${errors.carriers} />
      <fieldset class="checks">
        <legend>${t("carriers.tender.order")}</legend>
        ${["as_given", "by_score"].map((o) => html`<label key=${o}><input type="radio" name="tender_order" value=${o}
          checked=${v.tender_order === o} onChange=${() => set("tender_order")(o)} /> ${t(`carriers.tender.order_${o}`)}</label>`)}
        ${errors.order && html`<p class="field-error error" data-field="order">${errors.order}</p>`}
      </fieldset>
      <${Field} name="tender_window_minutes" type="number" label=${t("carriers.tender.window")}
        value=${v.tender_window_minutes} onInput=${set("tender_window_minutes")} error=${errors.window_seconds} autocomplete="off" />
      <${Field} name="tender_price" label=${t(v.mode === "grab" ? "carriers.tender.price" : "carriers.tender.price_auction", { currency })}
        value=${price} onInput=${set("tender_price")} error=${errors.price_minor} autocomplete="off" />
      <fieldset class="checks">
        <legend>${t("carriers.tender.then")}</legend>
        ${["market", "expire"].map((x) => html`<label key=${x}><input type="radio" name="tender_then" value=${x}
          checked=${v.tender_then === x} onChange=${() => set("tender_then")(x)} /> ${t(`carriers.tender.then_${x}`)}</label>`)}
        ${errors.then && html`<p class="field-error error" data-field="then">${errors.then}</p>`}
      </fieldset>`}
  </fieldset>`;
}

// The number of decimals a currency's minor unit has (EUR 2, JPY 0), as Intl knows it.
function minorDigits(currency) {
  try {
    return new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits;
  } catch (err) {
    return 2;
  }
}

// "1,280.00" typed in major units → 128000 minor units. Left as typed when it is not a number, so
// that the API's refusal (not the console's) is shown next to the field. Empty → not sent.
export function toMinor(typed, currency) {
  const text = String(typed).replace(/[\s,']/g, "");
  if (text === "") return undefined;
  if (!/^-?\d+(\.\d+)?$/.test(text)) return typed;
  return Math.round(Number(text) * 10 ** minorDigits(currency));
}

// A datetime-local value (the browser's local time) → an ISO instant; empty → not sent.
const toInstant = (local) => (local ? new Date(local).toISOString() : undefined);

const EMPTY_LINE = { description: "", count: "", unit_weight_kg: "", unit_volume_m3: "" };
const number = (typed) => (String(typed).trim() === "" || Number.isNaN(Number(typed)) ? typed : Number(typed));

function CargoLines({ lines, onChange, error }) {
  const set = (i, key) => (value) => onChange(lines.map((l, j) => (j === i ? { ...l, [key]: value } : l)));
  return html`<fieldset class="cargo" aria-invalid=${error ? "true" : "false"}>
    <legend>${t("console.jobs.cargo")}</legend>
    ${lines.map((line, i) => html`<div class="cargo-line" key=${i}>
      <${Field} name=${`line-${i}-description`} label=${t("console.jobs.line_description", { n: i + 1 })}
        value=${line.description} onInput=${set(i, "description")} />
      <${Field} name=${`line-${i}-count`} type="number" label=${t("console.jobs.line_count")}
        value=${line.count} onInput=${set(i, "count")} />
      <${Field} name=${`line-${i}-weight`} label=${t("console.jobs.line_weight")}
        value=${line.unit_weight_kg} onInput=${set(i, "unit_weight_kg")} />
      <${Field} name=${`line-${i}-volume`} label=${t("console.jobs.line_volume")}
        value=${line.unit_volume_m3} onInput=${set(i, "unit_volume_m3")} />
      ${lines.length > 1 && html`<button type="button" onClick=${() => onChange(lines.filter((_, j) => j !== i))}>
        ${t("console.jobs.remove_line", { n: i + 1 })}</button>`}
    </div>`)}
    <button type="button" id="add-line" onClick=${() => onChange([...lines, { ...EMPTY_LINE }])}>${t("console.jobs.add_line")}</button>
    ${error && html`<p class="field-error error" data-field="cargo">${error}</p>`}
  </fieldset>`;
}

export function PostJob({ me }) {
  const own = useLoad(() => api("GET", "/sites"), [me]);
  const shared = useLoad(() => api("GET", "/sites/shared?limit=200"), [me]);
  const currency = me.organization.currency;
  const [posted, setPosted] = useState(null);
  const form = useForm({
    origin_site_id: "", destination_site_id: "", vehicle_type: "flatbed", cargo_kind: "items",
    lines: [{ ...EMPTY_LINE }], bulk_description: "", bulk_weight_kg: "", bulk_volume_m3: "",
    pickup_from: "", pickup_until: "", deliver_by: "", mode: "auction", price_minor: "",
    ceiling_minor: "", min_step_minor: "", deadline: "", reference: "",
    tender_on: false, tender_carriers: [], tender_order: "as_given", tender_window_minutes: "60",
    tender_price: null, tender_then: "market",
  }, async (v) => {
    const body = {
      origin_site_id: v.origin_site_id || undefined,
      destination_site_id: v.destination_site_id || undefined,
      vehicle_type: v.vehicle_type,
      cargo: v.cargo_kind === "bulk"
        ? { kind: "bulk", description: v.bulk_description, weight_kg: number(v.bulk_weight_kg),
          volume_m3: number(v.bulk_volume_m3) }
        : { kind: "items", lines: v.lines.map((l) => ({
          description: l.description, count: number(l.count),
          unit_weight_kg: number(l.unit_weight_kg), unit_volume_m3: number(l.unit_volume_m3),
        })) },
      pickup_from: toInstant(v.pickup_from),
      pickup_until: toInstant(v.pickup_until),
      deliver_by: toInstant(v.deliver_by),
      deadline: toInstant(v.deadline),
      mode: v.mode,
      currency,
      reference: v.reference || undefined,
    };
    if (v.mode === "grab") body.price_minor = toMinor(v.price_minor, currency);
    else {
      body.ceiling_minor = toMinor(v.ceiling_minor, currency);
      body.min_step_minor = toMinor(v.min_step_minor, currency);
    }
    if (v.tender_on) body.tender = tenderBody(v, currency);
    setPosted(await api("POST", "/jobs", body, { fieldOfCode: FIELD_OF_CODE }));
  });
  const sites = [...(own.data || []), ...(shared.data || [])].map((s) => ({ value: s.id, label: `${s.name} — ${s.address}` }));
  const v = form.values;
  const f = (name, label, type = "text") => html`<${Field} name=${name} type=${type} label=${label}
    value=${v[name]} onInput=${form.set(name)} error=${form.fieldError(name)} autocomplete="off" />`;
  const money = (name, label) => f(name, t("console.jobs.in_currency", { label, currency }));
  return html`<section aria-labelledby="post-job-title">
    <h2 id="post-job-title">${t("console.nav.post_job")}</h2>
    ${posted && html`<p class="panel" role="status" id="posted" data-job-id=${posted.id}>${t("console.jobs.posted")}
      <a href=${`#/jobs/${posted.id}`} id="posted-job">${t("console.jobs.open_posted")}</a>
      <a href="#/jobs">${t("console.nav.my_jobs")}</a></p>`}
    <${Status} state=${own} />
    ${own.data && html`<form class="panel" id="post-job" onSubmit=${(e) => { setPosted(null); form.submit(e); }} novalidate>
      <${Select} name="origin_site_id" label=${t("console.jobs.origin")} value=${v.origin_site_id}
        onChange=${form.set("origin_site_id")} error=${form.fieldError("origin_site_id")}
        options=${sites} blank=${t("console.jobs.choose_site")} />
      <${Select} name="destination_site_id" label=${t("console.jobs.destination")} value=${v.destination_site_id}
        onChange=${form.set("destination_site_id")} error=${form.fieldError("destination_site_id") || form.fieldError("destination", "destination_site_id")}
        options=${sites} blank=${t("console.jobs.choose_site")} />
      <${Select} name="vehicle_type" label=${t("console.jobs.vehicle_type")} value=${v.vehicle_type}
        onChange=${form.set("vehicle_type")} error=${form.fieldError("vehicle_type")}
        options=${VEHICLE_TYPES.map((x) => ({ value: x, label: t(`console.jobs.vehicle.${x}`) }))} />
      <fieldset class="checks">
        <legend>${t("console.jobs.cargo_kind")}</legend>
        ${["items", "bulk"].map((k) => html`<label key=${k}><input type="radio" name="cargo_kind" value=${k}
          checked=${v.cargo_kind === k} onChange=${() => form.set("cargo_kind")(k)} /> ${t(`console.jobs.cargo_${k}`)}</label>`)}
      </fieldset>
      ${v.cargo_kind === "bulk"
        ? html`<fieldset class="cargo" aria-invalid=${form.fieldError("cargo") ? "true" : "false"}>
            <legend>${t("console.jobs.cargo_bulk")}</legend>
            ${f("bulk_description", t("console.jobs.bulk_description"))}
            ${f("bulk_weight_kg", t("console.jobs.bulk_weight"))}
            ${f("bulk_volume_m3", t("console.jobs.bulk_volume"))}
            ${form.fieldError("cargo") && html`<p class="field-error error" data-field="cargo">${form.fieldError("cargo")}</p>`}
          </fieldset>`
        : html`<${CargoLines} lines=${v.lines} onChange=${form.set("lines")} error=${form.fieldError("cargo", "lines")} />`}
      ${f("pickup_from", t("console.jobs.pickup_from"), "datetime-local")}
      ${f("pickup_until", t("console.jobs.pickup_until"), "datetime-local")}
      ${f("deliver_by", t("console.jobs.deliver_by"), "datetime-local")}
      <fieldset class="checks">
        <legend>${t("console.jobs.mode")}</legend>
        ${["auction", "grab"].map((m) => html`<label key=${m}><input type="radio" name="mode" value=${m}
          checked=${v.mode === m} onChange=${() => form.set("mode")(m)} /> ${t(`console.jobs.mode_${m}`)}</label>`)}
      </fieldset>
      ${v.mode === "grab"
        ? money("price_minor", t("console.jobs.price"))
        : html`${money("ceiling_minor", t("console.jobs.ceiling"))}${money("min_step_minor", t("console.jobs.min_step"))}`}
      ${f("deadline", t("console.jobs.deadline"), "datetime-local")}
      ${f("reference", t("console.jobs.reference"))}
      <${TenderFirst} v=${v} set=${form.set} errors=${tenderErrors(form)} currency=${currency} />
      <${FormError} error=${form.error} />
      <button type="submit" disabled=${form.busy}>${t("console.jobs.post_submit")}</button>
    </form>`}
  </section>`;
}

// -- my jobs and their bids -------------------------------------------------------------------

// Re-run `reload` every POLL_MS while the screen is open (the job's screen, orders.js, too).
export function usePoll(reload) {
  useEffect(() => {
    const timer = setInterval(reload, POLL_MS);
    return () => clearInterval(timer);
  }, [reload]);
}

// The bids of a job for its shipper or consignee; only the poster awards (the API refuses others).
export function Bids({ me, job, onChanged }) {
  const bids = useLoad(() => api("GET", `/jobs/${job.id}/bids`), [job.id]);
  usePoll(bids.reload);
  const [error, setError] = useState(null);
  const mayAward = me.permissions.includes("jobs.award") && job.status === "open"
    && job.poster_org_id === me.organization.id;
  async function award(bid) {
    try {
      await api("POST", `/jobs/${job.id}/bids/${bid.id}/award`);
      setError(null);
      await Promise.all([bids.reload(), onChanged()]);
    } catch (err) { setError(err); }
  }
  return html`<div class="panel" id=${`bids-${job.id}`} aria-live="polite">
    <h3>${t("console.jobs.bids_title")}</h3>
    <${Status} state=${bids} />
    ${bids.data && (bids.data.length === 0
      ? html`<p class="no-bids">${t("console.jobs.no_bids")}</p>`
      : html`<table class="list bids"><thead><tr><th scope="col">${t("console.jobs.rank")}</th>
          <th scope="col">${t("console.jobs.amount")}</th><th scope="col">${t("console.jobs.placed")}</th>
          <th scope="col">${t("console.jobs.status")}</th><th scope="col">${t("scorecards.bid.carrier")}</th>
          <th scope="col">${t("console.actions")}</th></tr></thead>
        <tbody>${bids.data.map((b) => html`<tr key=${b.id} id=${`bid-${b.id}`}>
          <td>${b.rank || "–"}</td><td class="amount">${i18n.money(b.amount_minor, b.currency)}</td>
          <td>${i18n.dateTime(b.placed_at)}</td><td>${t(`console.jobs.bid_status.${b.status}`)}</td>
          <td class="bidder-figures"><${BidderFigures} carrier=${b.carrier_org_id} /></td>
          <td class="actions">${mayAward && b.status === "active" && html`<button type="button"
            onClick=${() => award(b)}>${t("console.jobs.award")}</button>`}</td></tr>`)}</tbody></table>`)}
    ${error && html`<p class="error" role="alert">${error.message}</p>`}
  </div>`;
}

export function price(job) {
  if (job.award_price_minor) return i18n.money(job.award_price_minor, job.currency);
  if (job.mode === "grab") return i18n.money(job.price_minor, job.currency);
  return job.ceiling_minor ? t("console.jobs.up_to", { amount: i18n.money(job.ceiling_minor, job.currency) }) : "–";
}

function JobRow({ job, mine, open, onOpen, onCancel }) {
  const [asking, setAsking] = useState(false);
  const [error, setError] = useState(null);
  return html`<tr id=${`job-${job.id}`}>
    <td><a href=${`#/jobs/${job.id}`}>${job.reference || job.id.slice(0, 8)}</a><div class="muted">${t(`console.jobs.mode_${job.mode}`)}</div></td>
    <td>${job.origin.name || job.origin.address} → ${job.destination.name || job.destination.address}</td>
    <td>${i18n.dateTime(job.pickup_from)}</td>
    <td class="price">${price(job)}</td>
    <td class="state">${t(`console.jobs.state.${job.status}`)}</td>
    <td>${job.bid_count}</td>
    <td class="actions">
      <button type="button" aria-expanded=${open ? "true" : "false"} onClick=${onOpen}>${t("console.jobs.show_bids")}</button>
      ${mine && job.status === "open" && (asking
        ? html`<span class="confirm" onKeyDown=${(e) => e.key === "Escape" && setAsking(false)}>
            <button type="button" class="danger" autofocus
              onClick=${() => onCancel().catch(setError)}>${t("console.jobs.cancel_confirm")}</button>
            <button type="button" onClick=${() => setAsking(false)}>${t("console.keep")}</button></span>`
        : html`<button type="button" class="danger" onClick=${() => setAsking(true)}>${t("console.jobs.cancel_job")}</button>`)}
      ${error && html`<span class="error" role="alert">${error.message}</span>`}
    </td></tr>`;
}

export function MyJobs({ me }) {
  // GET /jobs lists every job the organization is a party to; those it posted, ships or receives
  // are kept (a buyer finds the jobs its supplier posted to it); the carrier's are another screen's.
  const own = me.organization.id;
  const jobs = useLoad(async () => {
    const page = await api("GET", "/jobs?limit=200");
    return page.items.filter((j) => [j.poster_org_id, j.shipper_org_id, j.consignee_org_id].includes(own));
  }, [me]);
  usePoll(jobs.reload);
  const [openId, setOpenId] = useState(null);
  const openJob = jobs.data && jobs.data.find((j) => j.id === openId);
  return html`<section aria-labelledby="my-jobs-title">
    <h2 id="my-jobs-title">${t("console.nav.my_jobs")}</h2>
    <p class="muted">${t("console.jobs.live_note")}</p>
    <${Status} state=${jobs} />
    ${jobs.data && (jobs.data.length === 0
      ? html`<p id="no-jobs">${t("console.jobs.none")} <a href="#/jobs/new">${t("console.nav.post_job")}</a></p>`
      : html`<table class="list" id="my-jobs">
      <thead><tr><th scope="col">${t("console.jobs.reference")}</th><th scope="col">${t("console.jobs.route")}</th>
        <th scope="col">${t("console.jobs.pickup_from")}</th><th scope="col">${t("console.jobs.price")}</th>
        <th scope="col">${t("console.jobs.status")}</th><th scope="col">${t("console.jobs.bid_count")}</th>
        <th scope="col">${t("console.actions")}</th></tr></thead>
      <tbody>${jobs.data.map((j) => html`<${JobRow} key=${j.id} job=${j} mine=${j.poster_org_id === own} open=${openId === j.id}
        onOpen=${() => setOpenId(openId === j.id ? null : j.id)}
        onCancel=${() => api("POST", `/jobs/${j.id}/cancel`).then(jobs.reload)} />`)}</tbody></table>`)}
    ${openJob && html`<${Bids} key=${openJob.id} me=${me} job=${openJob} onChanged=${jobs.reload} />`}
  </section>`;
}
