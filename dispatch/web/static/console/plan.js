// The carrier dispatcher's screens on the loads API (dispatch/loads/README.md): the jobs the
// organization won, and one won job: the planner's proposal load by load against each truck's
// capacity (edit, re-plan, confirm), then the loads: a vehicle and a driver per load, a message to a
// load's driver, and each load's state and pickup code, kept live by a poll of GET /jobs/{job}/loads.
//
// Why a poll and not the tracking websocket (/tracking/jobs/{job}/live): the socket tells the road
// (departed, arrived, received) but not the states before it (assigned, booked, at the gate,
// loading), it needs `tracking.view` besides `loads.dispatch`, and it does not carry the pickup
// code, which a reassignment changes. GET /jobs/{job}/loads carries all of them.
//
// The carrier may give a won job back (with a reason) until loading starts on one of its loads: the
// loads, bookings and pickup codes are withdrawn and the poster re-tenders the job.
import { html, useEffect, useState } from "../vendor/htm-3.1.1/standalone.module.js";
import { api } from "./api.js";
import { LoadPapers } from "./papers.js";
import { Checks, Field, FormError, Select, Status, t, useForm, useLoad } from "./ui.js";

const i18n = window.DispatchI18n;
// How often the loads of a confirmed plan are read again.
const POLL_MS = 4000;
// The jobs a carrier has work on: won and not yet finished.
const WON = ["awarded", "dispatched"];

// Re-run `reload` every POLL_MS while the screen is open.
function usePoll(reload) {
  useEffect(() => {
    const timer = setInterval(reload, POLL_MS);
    return () => clearInterval(timer);
  }, [reload]);
}

// The load's number for people, as the API writes it for drivers and the gate
// (dispatch/loads/service.py load_number): the job's reference, or the first eight hex digits of its
// id, and the load's sequence: "PO-4711/2".
export function loadNumber(job, seq) {
  const reference = (job.reference || "").trim() || job.id.slice(0, 8).toUpperCase();
  return `${reference}/${seq}`;
}

const jobName = (job) => job.reference || job.id.slice(0, 8);
const percent = (share) => t("plan.percent", { value: i18n.number(share * 100, 0) });

// -- the jobs won ---------------------------------------------------------------------------------

export function CarrierJobs({ me }) {
  // GET /jobs lists every job the organization is a party to; those it carries are kept, with the
  // number of loads each has once its plan is confirmed.
  const jobs = useLoad(async () => {
    const page = await api("GET", "/jobs?limit=200");
    const won = page.items.filter((j) => j.carrier_org_id === me.organization.id && WON.includes(j.status));
    const loads = await Promise.all(won.map((j) => api("GET", `/jobs/${j.id}/loads`)));
    return won.map((j, i) => ({ ...j, loads: loads[i].length }));
  }, [me]);
  return html`<section aria-labelledby="carrier-jobs-title">
    <h2 id="carrier-jobs-title">${t("plan.nav.jobs")}</h2>
    <${Status} state=${jobs} />
    ${jobs.data && (jobs.data.length === 0
      ? html`<p id="no-won-jobs">${t("plan.jobs.none")}</p>`
      : html`<table class="list" id="carrier-jobs">
      <thead><tr><th scope="col">${t("plan.jobs.job")}</th><th scope="col">${t("plan.jobs.route")}</th>
        <th scope="col">${t("plan.jobs.pickup")}</th><th scope="col">${t("plan.jobs.state")}</th>
        <th scope="col">${t("plan.jobs.loads")}</th></tr></thead>
      <tbody>${jobs.data.map((j) => html`<tr key=${j.id} id=${`carrier-job-${j.id}`}>
        <td><a href=${`#/carrier/jobs/${j.id}`}>${jobName(j)}</a></td>
        <td>${j.origin.name || j.origin.address} → ${j.destination.name || j.destination.address}</td>
        <td>${i18n.dateTime(j.pickup_from)}</td>
        <td class="state">${t(`console.jobs.state.${j.status}`)}</td>
        <td class="load-count">${j.loads === 0 ? t("plan.jobs.not_planned") : j.loads}</td></tr>`)}
      </tbody></table>`)}
  </section>`;
}

// -- one job: its plan, then its loads ------------------------------------------------------------

// The job if the organization carries it; `{ missing: true }` for another organization's job or an
// unknown one (the API answers 404, or the market view of an open job, which has no carrier).
async function wonJob(id, me) {
  try {
    const job = await api("GET", `/jobs/${id}`);
    if (job.carrier_org_id === me.organization.id) return job;
  } catch (err) {
    if (err.status !== 404) throw err;
  }
  return { missing: true };
}

function GiveBack({ job, onDone }) {
  const [asking, setAsking] = useState(false);
  const form = useForm({ reason: "" }, async (v) => {
    await api("POST", `/jobs/${job.id}/give-back`, { reason: v.reason });
    onDone();
  });
  if (!asking) {
    return html`<p><button type="button" class="danger" id="give-back"
      onClick=${() => setAsking(true)}>${t("plan.give_back.button")}</button></p>`;
  }
  return html`<form id="give-back-form" class="confirm-form" novalidate onSubmit=${form.submit}
    onKeyDown=${(e) => e.key === "Escape" && setAsking(false)}>
    <p>${t("plan.give_back.question")}</p>
    <${Field} name="reason" label=${t("plan.give_back.reason")} value=${form.values.reason}
      onInput=${form.set("reason")} error=${form.fieldError("reason")} autocomplete="off" />
    <${FormError} error=${form.error && !form.fieldError("reason") ? form.error : null} />
    <button type="submit" class="danger" disabled=${form.busy}>${t("plan.give_back.confirm")}</button>
    <button type="button" onClick=${() => setAsking(false)}>${t("console.keep")}</button>
  </form>`;
}

export function CarrierJob({ me, params }) {
  const id = params.job;
  const [givenBack, setGivenBack] = useState(false);
  const job = useLoad(() => wonJob(id, me), [id]);
  const loads = useLoad(() => api("GET", `/jobs/${id}/loads`), [id]);
  const vehicles = useLoad(() => api("GET", "/fleet/vehicles"), [me]);
  const drivers = useLoad(() => api("GET", "/fleet/drivers"), [me]);
  if (givenBack) {
    return html`<section aria-labelledby="plan-title">
      <h2 id="plan-title">${t("plan.nav.jobs")}</h2>
      <p role="status" id="given-back">${t("plan.give_back.done")}</p>
      <p><a href="#/carrier/jobs">${t("plan.job.back")}</a></p></section>`;
  }
  if (job.data && job.data.missing) {
    return html`<section aria-labelledby="plan-title">
      <h2 id="plan-title">${t("plan.nav.jobs")}</h2>
      <p role="alert" id="job-not-found" class="refusal">${t("plan.job.not_found")}</p>
      <p><a href="#/carrier/jobs">${t("plan.job.back")}</a></p></section>`;
  }
  const all = [job, loads, vehicles, drivers];
  const ready = all.every((s) => s.data);
  const j = job.data;
  return html`<section aria-labelledby="plan-title" id="plan-screen">
    <h2 id="plan-title">${j ? t("plan.job.title", { job: jobName(j) }) : t("plan.nav.jobs")}</h2>
    <${Status} state=${all.find((s) => s.error) || { data: ready }} />
    ${ready && html`
      <p class="lead" id="job-summary">${[
        `${j.origin.name || j.origin.address} → ${j.destination.name || j.destination.address}`,
        i18n.weight(j.total_weight_kg), i18n.volume(j.total_volume_m3),
        t(`console.dispatch.vehicle_type.${j.vehicle_type}`), t(`console.jobs.state.${j.status}`),
      ].join(" · ")}</p>
      ${loads.data.length === 0
        ? html`<${PlanEditor} job=${j} vehicles=${vehicles.data} onConfirmed=${() => Promise.all([loads.reload(), job.reload()])} />`
        : html`<${Loads} job=${j} loads=${loads} vehicles=${vehicles.data} drivers=${drivers.data}
            onAssigned=${() => Promise.all([loads.reload(), job.reload()])} />`}
      ${WON.includes(j.status) && html`<${GiveBack} job=${j} onDone=${() => setGivenBack(true)} />`}`}
    <p><a href="#/carrier/jobs">${t("plan.job.back")}</a></p>
  </section>`;
}

// -- the plan ---------------------------------------------------------------------------------------

// GET /jobs/{job}/plan, or `{ none: true }` before the planner was first asked.
async function currentPlan(jobId) {
  try {
    return await api("GET", `/jobs/${jobId}/plan`);
  } catch (err) {
    if (err.code === "plan_not_found") return { none: true };
    throw err;
  }
}

// A refusal of a plan, per load: plan_invalid's `violations` (`load` 0-based, null for the whole
// plan) and the validator's `errors` (`$.loads[2].items[0]`); what concerns no load is `general`.
export function planErrors(error) {
  const out = { general: [], byLoad: {} };
  if (!error) return out;
  const add = (index, text) => {
    if (index === null || index === undefined) out.general.push(text);
    else (out.byLoad[index] = out.byLoad[index] || []).push(text);
  };
  for (const v of error.problem.violations || []) add(v.load, v.detail);
  for (const e of error.problem.errors || []) {
    const match = /^\$\.loads\[(\d+)\]/.exec(String(e.field || ""));
    add(match ? Number(match[1]) : null, t("console.form.invalid", { reason: e.reason }));
  }
  return out;
}

// A share of a capacity, as a meter and in words (what a screen reader reads, and the same on
// screen): "18 t of 25 t (72 %)".
function Capacity({ id, label, used, capacity, format }) {
  return html`<div class="capacity">
    <label for=${id}>${label}</label>
    <meter id=${id} min="0" max=${capacity} high=${capacity * 0.999} value=${used}
      aria-describedby=${`${id}-text`}></meter>
    <span id=${`${id}-text`} class="capacity-text">${t("plan.load.of_capacity", {
      used: format(used), capacity: format(capacity), percent: percent(used / capacity) })}</span>
  </div>`;
}

function cargoText(load) {
  if (load.bulk_kg !== null && load.bulk_kg !== undefined) return t("plan.load.bulk", { weight: i18n.weight(load.bulk_kg) });
  return (load.items || []).map((i) => t("plan.load.item", { count: i18n.number(i.count), description: i.description })).join(", ");
}

function PlannedLoadView({ load, index, vehicle, errors }) {
  const key = `planned-${index + 1}`;
  return html`<article class="panel planned-load" id=${key} aria-labelledby=${`${key}-title`}>
    <h4 id=${`${key}-title`}>${t("plan.load.title", { n: index + 1, plate: load.plate, trip: load.trip })}</h4>
    <p class="cargo">${cargoText(load)}</p>
    ${vehicle && html`
      <${Capacity} id=${`${key}-kg`} label=${t("plan.load.weight")} used=${load.weight_kg}
        capacity=${vehicle.capacity_kg} format=${i18n.weight} />
      <${Capacity} id=${`${key}-m3`} label=${t("plan.load.volume")} used=${load.volume_m3}
        capacity=${vehicle.capacity_m3} format=${i18n.volume} />`}
    ${errors && errors.map((e) => html`<p class="error load-error">${e}</p>`)}
  </article>`;
}

// The plan as the editor holds it: per load a vehicle and the quantities, as typed.
function draftOf(plan, job) {
  const lines = job.cargo.lines || [];
  return plan.loads.map((l) => ({
    vehicle_id: l.vehicle_id,
    bulk_kg: l.bulk_kg === null ? "" : String(l.bulk_kg),
    items: lines.map((_, k) => String((l.items || []).find((i) => i.line === k)?.count ?? 0)),
  }));
}

// A typed number; left as typed when it is not one, so that the API (not the console) refuses it.
const typed = (text) => (String(text).trim() === "" || Number.isNaN(Number(text)) ? text : Number(text));

function editBody(draft, job) {
  return {
    loads: draft.map((d) => (job.cargo.kind === "bulk"
      ? { vehicle_id: d.vehicle_id, bulk_kg: typed(d.bulk_kg) }
      : { vehicle_id: d.vehicle_id, items: d.items.map(typed) })),
  };
}

function LoadEditor({ job, draft, index, usable, onChange, onRemove, errors }) {
  const set = (key) => (value) => onChange({ ...draft, [key]: value });
  const lines = job.cargo.lines || [];
  return html`<fieldset class="panel edit-load" id=${`edit-load-${index + 1}`}
    aria-invalid=${errors ? "true" : "false"} aria-describedby=${errors ? `edit-load-${index + 1}-error` : undefined}>
    <legend>${t("plan.edit.load", { n: index + 1 })}</legend>
    <${Select} name=${`plan-vehicle-${index + 1}`} label=${t("plan.edit.vehicle")} value=${draft.vehicle_id}
      onChange=${set("vehicle_id")} options=${usable.map((v) => ({ value: v.id, label: vehicleLabel(v) }))} />
    ${job.cargo.kind === "bulk"
      ? html`<${Field} name=${`plan-bulk-${index + 1}`} type="number" label=${t("plan.edit.bulk_kg")}
          value=${draft.bulk_kg} onInput=${set("bulk_kg")} />`
      : lines.map((line, k) => html`<${Field} key=${k} name=${`plan-count-${index + 1}-${k + 1}`} type="number"
          label=${t("plan.edit.units", { description: line.description })} value=${draft.items[k]}
          onInput=${(value) => onChange({ ...draft, items: draft.items.map((c, m) => (m === k ? value : c)) })} />`)}
    ${errors && html`<div id=${`edit-load-${index + 1}-error`}>
      ${errors.map((e) => html`<p class="field-error error load-error">${e}</p>`)}</div>`}
    <button type="button" onClick=${onRemove}>${t("plan.edit.remove", { n: index + 1 })}</button>
  </fieldset>`;
}

const vehicleLabel = (v) => t("plan.vehicle_option", {
  plate: v.plate, weight: i18n.weight(v.capacity_kg), volume: i18n.volume(v.capacity_m3) });

function PlanEditor({ job, vehicles, onConfirmed }) {
  const plan = useLoad(() => currentPlan(job.id), [job.id]);
  // The vehicles the planner may use: the fleet's active ones of the job's type.
  const usable = vehicles.filter((v) => v.active && v.vehicle_type === job.vehicle_type);
  const [chosen, setChosen] = useState(() => usable.map((v) => v.id));
  const [draft, setDraft] = useState(null); // the plan being edited, or null
  const [error, setError] = useState(null); // { action: "plan" | "edit" | "confirm", err }
  const [busy, setBusy] = useState(false);
  const byId = Object.fromEntries(vehicles.map((v) => [v.id, v]));

  async function run(action, call) {
    setBusy(true);
    try {
      await call();
      setError(null);
    } catch (err) {
      setError({ action, err });
    } finally {
      setBusy(false);
    }
  }
  const propose = (e) => {
    e.preventDefault();
    return run("plan", async () => {
      const all = chosen.length === usable.length && usable.every((v) => chosen.includes(v.id));
      await api("POST", `/jobs/${job.id}/plan`, all ? {} : { vehicle_ids: chosen });
      setDraft(null);
      await plan.reload();
    });
  };
  const save = (e) => {
    e.preventDefault();
    return run("edit", async () => {
      await api("PUT", `/jobs/${job.id}/plan`, editBody(draft, job));
      setDraft(null);
      await plan.reload();
    });
  };
  const confirm = () => run("confirm", async () => {
    await api("POST", `/jobs/${job.id}/plan/confirm`);
    await onConfirmed();
  });
  const errorOf = (action) => (error && error.action === action ? error.err : null);
  const refused = planErrors(errorOf("edit"));
  const p = plan.data;
  const blankLoad = () => ({
    vehicle_id: usable[0] ? usable[0].id : "", bulk_kg: "", items: (job.cargo.lines || []).map(() => "0") });

  return html`<div id="plan">
    <form class="panel" id="propose" onSubmit=${propose} novalidate aria-labelledby="propose-title">
      <h3 id="propose-title">${t("plan.propose.title")}</h3>
      <p class="muted">${t("plan.propose.how")}</p>
      ${usable.length === 0
        ? html`<p id="no-usable">${t("plan.propose.no_vehicles", { type: t(`console.dispatch.vehicle_type.${job.vehicle_type}`) })}
            <a href="#/fleet/vehicles">${t("console.dispatch.nav.vehicles")}</a></p>`
        : html`<${Checks} name="vehicle_ids" legend=${t("plan.propose.vehicles")} chosen=${chosen} onChange=${setChosen}
            options=${usable.map((v) => ({ value: v.id, label: vehicleLabel(v) }))}
            error=${errorOf("plan") && (errorOf("plan").fields.vehicle_ids || errorOf("plan").message)} />`}
      <button type="submit" disabled=${busy}>${t(p && !p.none ? "plan.propose.again" : "plan.propose.submit")}</button>
    </form>
    <${Status} state=${plan} />
    ${p && p.none && html`<p id="no-plan">${t("plan.none_yet")}</p>`}
    ${p && !p.none && !draft && html`<section class="panel" id="proposal" aria-labelledby="proposal-title">
      <h3 id="proposal-title">${t(p.edited ? "plan.proposal.edited" : "plan.proposal.title")}</h3>
      <p id="plan-summary">${t("plan.proposal.summary", { trips: p.trips, lower: p.lower_bound })}
        ${p.optimal ? ` ${t("plan.proposal.optimal")}` : ""}</p>
      ${p.loads.map((l, i) => html`<${PlannedLoadView} key=${i} load=${l} index=${i} vehicle=${byId[l.vehicle_id]} />`)}
      <p><button type="button" id="edit-plan" onClick=${() => { setError(null); setDraft(draftOf(p, job)); }}>
        ${t("plan.edit.start")}</button>
        <button type="button" id="confirm-plan" class="button" onClick=${confirm} disabled=${busy}>${t("plan.confirm")}</button></p>
      <${FormError} error=${errorOf("confirm")} />
    </section>`}
    ${draft && html`<form id="edit" onSubmit=${save} novalidate aria-labelledby="edit-title">
      <h3 id="edit-title">${t("plan.edit.title")}</h3>
      <p class="muted">${t("plan.edit.how")}</p>
      ${draft.map((d, i) => html`<${LoadEditor} key=${i} job=${job} draft=${d} index=${i} usable=${usable}
        errors=${refused.byLoad[i]}
        onChange=${(next) => setDraft(draft.map((x, k) => (k === i ? next : x)))}
        onRemove=${() => setDraft(draft.filter((_, k) => k !== i))} />`)}
      <p><button type="button" id="add-load" onClick=${() => setDraft([...draft, blankLoad()])}>${t("plan.edit.add")}</button></p>
      ${refused.general.length > 0 && html`<div role="alert" class="form-error">
        ${refused.general.map((e) => html`<p class="error">${e}</p>`)}</div>`}
      ${errorOf("edit") && html`<p class="form-error error" role="alert">${errorOf("edit").message}</p>`}
      <p><button type="submit" disabled=${busy}>${t("plan.edit.save")}</button>
        <button type="button" onClick=${() => { setError(null); setDraft(null); }}>${t("plan.edit.cancel")}</button></p>
    </form>`}
  </div>`;
}

// -- the loads: assignment, messages, live state --------------------------------------------------

// Refusals of an assignment that concern one of its two fields.
const ASSIGN_FIELD_OF_CODE = {
  driver_not_found: "driver", driver_busy: "driver",
  vehicle_too_small: "vehicle", vehicle_busy: "vehicle", vehicle_not_usable: "vehicle", no_vehicles: "vehicle",
};

function Assign({ load, vehicles, drivers, onAssigned }) {
  const [values, setValues] = useState({ vehicle: load.vehicle.id, driver: load.driver ? load.driver.user_id : "" });
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  // How many submissions have been answered: a script (or a test) waits for it to grow.
  const [settled, setSettled] = useState(0);
  const name = `${load.seq}`;
  async function submit(event) {
    event.preventDefault();
    setBusy(true);
    try {
      await api("PUT", `/loads/${load.id}/assignment`,
        { driver_user_id: values.driver || null, vehicle_id: values.vehicle || null });
      setError(null);
      await onAssigned();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
      setSettled((n) => n + 1);
    }
  }
  const fieldError = (field) => {
    if (!error) return undefined;
    const api_field = { vehicle: "vehicle_id", driver: "driver_user_id" }[field];
    if (error.fields[api_field]) return error.fields[api_field];
    return ASSIGN_FIELD_OF_CODE[error.code] === field ? error.message : undefined;
  };
  const general = error && !fieldError("vehicle") && !fieldError("driver") ? error : null;
  return html`<form class="assign" onSubmit=${submit} novalidate data-settled=${settled} aria-label=${t("plan.assign.title_for", { load: load.number })}>
    <${Select} name=${`vehicle-${name}`} label=${t("plan.assign.vehicle")} value=${values.vehicle}
      onChange=${(v) => setValues({ ...values, vehicle: v })} error=${fieldError("vehicle")}
      options=${vehicles.map((v) => ({ value: v.id, label: vehicleLabel(v) }))} />
    <${Select} name=${`driver-${name}`} label=${t("plan.assign.driver")} value=${values.driver}
      onChange=${(v) => setValues({ ...values, driver: v })} error=${fieldError("driver")}
      blank=${t("plan.assign.choose_driver")} options=${drivers.map((d) => ({ value: d.user_id, label: d.name }))} />
    <${FormError} error=${general} />
    <button type="submit" disabled=${busy}>${t(load.driver ? "plan.assign.reassign" : "plan.assign.submit")}</button>
  </form>`;
}

function MessageDriver({ load }) {
  const [text, setText] = useState("");
  const [error, setError] = useState(null);
  const [sent, setSent] = useState(null);
  const [busy, setBusy] = useState(false);
  const [settled, setSettled] = useState(0); // submissions answered, as in Assign
  async function submit(event) {
    event.preventDefault();
    setBusy(true);
    setSent(null);
    try {
      await api("POST", `/loads/${load.id}/messages`, { text });
      setSent(text);
      setText("");
      setError(null);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
      setSettled((n) => n + 1);
    }
  }
  const fieldError = error && (error.fields.text || (error.code === "no_driver" ? error.message : undefined));
  return html`<form class="message" onSubmit=${submit} novalidate data-settled=${settled}
    aria-label=${t("plan.message.title_for", { name: load.driver.name })}>
    <${Field} name=${`message-${load.seq}`} label=${t("plan.message.label", { name: load.driver.name })}
      value=${text} onInput=${setText} error=${fieldError} autocomplete="off" />
    ${error && !fieldError && html`<${FormError} error=${error} />`}
    <button type="submit" disabled=${busy}>${t("plan.message.send")}</button>
    ${sent !== null && html`<p role="status" class="sent">${t("plan.message.sent", { name: load.driver.name })}</p>`}
  </form>`;
}

// `onAssigned` reloads the loads and the job (which is dispatched once every load has a driver).
function Loads({ job, loads, vehicles, drivers, onAssigned }) {
  usePoll(loads.reload);
  const usable = vehicles.filter((v) => v.active && v.vehicle_type === job.vehicle_type);
  const byId = Object.fromEntries(vehicles.map((v) => [v.id, v]));
  return html`<section id="loads" aria-labelledby="loads-title">
    <h3 id="loads-title">${t("plan.loads.title")}</h3>
    <p class="muted">${t("plan.loads.live")}</p>
    ${loads.error && html`<p class="form-error error" role="alert">${loads.error.message}</p>`}
    ${(loads.data || []).map((raw) => {
      const load = { ...raw, number: loadNumber(job, raw.seq) };
      const vehicle = byId[load.vehicle.id];
      return html`<article class="panel load" key=${load.id} id=${`load-${load.seq}`} data-number=${load.number}
        aria-labelledby=${`load-${load.seq}-title`}>
        <h4 id=${`load-${load.seq}-title`}>${t("plan.loads.load", { number: load.number })}</h4>
        <dl class="facts">
          <dt>${t("plan.loads.state")}</dt><dd class="load-state" aria-live="polite">${t(`plan.load_state.${load.status}`)}</dd>
          <dt>${t("plan.loads.vehicle")}</dt><dd class="load-vehicle plate">${load.vehicle.plate}</dd>
          <dt>${t("plan.loads.driver")}</dt><dd class="load-driver">${load.driver ? load.driver.name : t("plan.loads.no_driver")}</dd>
          <dt>${t("plan.loads.cargo")}</dt><dd>${i18n.weight(load.weight_kg)} · ${i18n.volume(load.volume_m3)}</dd>
          <dt>${t("plan.loads.pickup")}</dt><dd>${i18n.dateTime(load.pickup_from)} – ${i18n.dateTime(load.pickup_until)}</dd>
          ${load.pickup_code && html`<dt>${t("plan.loads.code")}</dt><dd class="pickup-code">${load.pickup_code}</dd>`}
          ${load.previous_vehicle && html`<dt>${t("plan.loads.replaces")}</dt><dd class="load-previous">${
            [load.previous_vehicle.plate, load.previous_driver && load.previous_driver.name].filter(Boolean).join(" · ")}</dd>`}
          ${load.approval && html`<dt>${t("plan.loads.approval")}</dt><dd class="load-approval" data-approval=${load.approval}
            aria-live="polite">${t(`plan.approval.${load.approval}`)}${load.approval_reason ? ` · ${load.approval_reason}` : ""}</dd>`}
        </dl>
        ${vehicle && html`<${Capacity} id=${`load-${load.seq}-kg`} label=${t("plan.load.weight")} used=${load.weight_kg}
          capacity=${vehicle.capacity_kg} format=${i18n.weight} />`}
        <p class="load-papers"><${LoadPapers} load=${load} title=${t("plan.loads.load", { number: load.number })} /></p>
        <${Assign} load=${load} vehicles=${usable} drivers=${drivers} onAssigned=${onAssigned} />
        ${load.driver && html`<${MessageDriver} key=${load.driver.user_id} load=${load} />`}
      </article>`;
    })}
  </section>`;
}
