// The gate screen, for gate staff at a tablet: choose the site, verify a driver's pickup code and
// plate (POST /gate/verify: the verdict, and what a valid code names), check the truck in, and work
// the live queue (the board's websocket): call the next truck a dock can serve, mark loading and
// loaded. The gate clerk sees no prices: nothing here asks for or shows one.
import { html, useEffect, useState } from "../vendor/htm-3.1.1/standalone.module.js";
import { api, live } from "./api.js";
import { Field, FormError, Status, t, useForm, useLoad } from "./ui.js";

const i18n = window.DispatchI18n;

// The verdict of a code check: valid (what it names, and "check in") or refused with its reason in
// the page's language (from the result code; the API's `detail` is English).
function Verdict({ verdict, onCheckIn }) {
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  async function checkIn() {
    setBusy(true);
    try { await onCheckIn(); setError(null); } catch (err) { setError(err); } finally { setBusy(false); }
  }
  if (!verdict.valid) {
    return html`<div class="verdict refused" id="verdict" role="alert" data-result=${verdict.result}>
      <p class="verdict-title">${t("console.gate.verdict.refused")}</p>
      <p id="verdict-reason">${t(`console.gate.result.${verdict.result}`)}</p></div>`;
  }
  const rows = [
    ["console.gate.verdict.load", verdict.load_id],
    ["console.gate.verdict.plate", verdict.sent.plate], // as typed; it matched the truck's (the verdict has its key form)
    ["console.gate.verdict.driver", verdict.driver_name],
    ["console.gate.verdict.valid_until", verdict.valid_until && i18n.dateTime(new Date(verdict.valid_until))],
  ].filter(([, value]) => value);
  return html`<div class="verdict valid" id="verdict" role="status" data-result="valid">
    <p class="verdict-title">${t("console.gate.verdict.valid")}</p>
    <dl>${rows.map(([key, value]) => html`<div key=${key}><dt>${t(key)}</dt><dd>${value}</dd></div>`)}</dl>
    ${verdict.ticket
      ? html`<p id="checked-in">${t("console.gate.checked_in", { position: verdict.ticket.position ?? "—" })}</p>`
      : verdict.load_id && html`<button type="button" id="check-in" class="big" disabled=${busy}
          onClick=${checkIn}>${t("console.gate.check_in")}</button>`}
    ${error && html`<p class="error" role="alert">${error.message}</p>`}
  </div>`;
}

function Verify({ siteId }) {
  const [verdict, setVerdict] = useState(null);
  const form = useForm({ code: "", plate: "" }, async (values) => {
    setVerdict(null);
    const answer = await api("POST", "/gate/verify", { site_id: siteId, ...values });
    setVerdict({ ...answer, sent: values });
  });
  async function checkIn() {
    const { code, plate } = verdict.sent;
    const ticket = await api("POST", "/gate/check-in", { site_id: siteId, code, plate });
    setVerdict((old) => ({ ...old, ticket }));
  }
  return html`<form class="panel" id="verify" onSubmit=${form.submit} aria-labelledby="verify-title" novalidate>
    <h3 id="verify-title">${t("console.gate.verify.title")}</h3>
    <div class="row">
      <${Field} name="code" label=${t("console.gate.verify.code")} value=${form.values.code}
        onInput=${form.set("code")} error=${form.fieldError("code")} required autocomplete="off" />
      <${Field} name="plate" label=${t("console.gate.verify.plate")} value=${form.values.plate}
        onInput=${form.set("plate")} error=${form.fieldError("plate")} required autocomplete="off" />
    </div>
    <${FormError} error=${form.error} />
    <button type="submit" class="big" disabled=${form.busy}>${t("console.gate.verify.submit")}</button>
    ${verdict && html`<${Verdict} verdict=${verdict} onCheckIn=${checkIn} />`}
  </form>`;
}

const time = (iso, zone) => (iso ? i18n.time(new Date(iso), zone) : "—");

// A weighbridge ticket for the truck at the dock (POST /loads/{id}/evidence): tare when it is empty,
// gross when loaded (the API adds the net against the tare). The API checks the figures.
function Weighing({ ticket }) {
  const [recorded, setRecorded] = useState(null);
  const form = useForm({ kind: "weighbridge_tare", weight_kg: "", weighbridge_id: "", ticket: "" }, async (values) => {
    const kg = values.weight_kg.trim();
    const body = { kind: values.kind, weight_kg: /^\d+$/.test(kg) ? Number(kg) : kg, weighbridge_id: values.weighbridge_id };
    if (values.ticket) body.ticket = values.ticket;
    setRecorded(await api("POST", `/loads/${ticket.load_id}/evidence`, body, { fieldOfCode: { gross_below_tare: "weight_kg" } }));
  });
  const [kindId] = useState(() => `weigh-kind-${ticket.id}`);
  return html`<form class="weigh row" id=${`weigh-${ticket.id}`} onSubmit=${form.submit} novalidate
      aria-label=${t("console.gate.weigh.title", { plate: ticket.plate })}>
    <div class="field"><label for=${kindId}>${t("console.gate.weigh.kind")}</label>
      <select id=${kindId} value=${form.values.kind} onChange=${(e) => form.set("kind")(e.currentTarget.value)}>
        <option value="weighbridge_tare">${t("console.gate.weigh.tare")}</option>
        <option value="weighbridge_gross">${t("console.gate.weigh.gross")}</option></select></div>
    <${Field} name="weight_kg" type="text" label=${t("console.gate.weigh.weight")} value=${form.values.weight_kg}
      onInput=${form.set("weight_kg")} error=${form.fieldError("weight_kg")} required autocomplete="off" />
    <${Field} name="weighbridge_id" label=${t("console.gate.weigh.weighbridge")} value=${form.values.weighbridge_id}
      onInput=${form.set("weighbridge_id")} error=${form.fieldError("weighbridge_id")} required autocomplete="off" />
    <${Field} name="ticket" label=${t("console.gate.weigh.ticket")} value=${form.values.ticket}
      onInput=${form.set("ticket")} error=${form.fieldError("ticket")} autocomplete="off" />
    <button type="submit" disabled=${form.busy}>${t("console.gate.weigh.submit")}</button>
    <${FormError} error=${form.error} />
    ${recorded && html`<p class="weighed" role="status">${t(`console.gate.weigh.recorded_${recorded.kind === "weighbridge_gross" ? "gross" : "tare"}`, {
      weight: i18n.weight(recorded.data.weight_kg),
      net: recorded.data.net_kg == null ? "—" : i18n.weight(recorded.data.net_kg),
    })}</p>`}
  </form>`;
}

// A truck at a dock moves on: called → loading → loaded (then it leaves by the driver's app).
const NEXT_STEP = { called: "loading", loading: "loaded" };

function AtDock({ ticket }) {
  const [error, setError] = useState(null);
  const [weighing, setWeighing] = useState(false);
  const step = NEXT_STEP[ticket.status];
  const advance = () => api("POST", `/gate/tickets/${ticket.id}/${step}`).then(() => setError(null), setError);
  return html`<tr id=${`ticket-${ticket.id}`}>
    <td>${ticket.dock && ticket.dock.name}</td><td class="plate">${ticket.plate}</td><td>${ticket.driver_name || "—"}</td>
    <td class="state" data-state=${ticket.status}>${t(`console.gate.status.${ticket.status}`)}</td>
    <td class="actions">${step && html`<button type="button" onClick=${advance}>${t(`console.gate.mark.${step}`)}</button>`}
      <button type="button" aria-expanded=${weighing ? "true" : "false"} onClick=${() => setWeighing(!weighing)}>${t("console.gate.weigh.open")}</button>
      ${error && html`<span class="error" role="alert">${error.message}</span>`}
      ${weighing && html`<${Weighing} ticket=${ticket} />`}</td></tr>`;
}

function Queue({ siteId }) {
  const [board, setBoard] = useState(null);
  const [state, setState] = useState("connecting");
  const [called, setCalled] = useState(null);
  const [error, setError] = useState(null);
  const [dockId, setDockId] = useState("");
  useEffect(() => {
    setBoard(null);
    return live(`/gate/sites/${siteId}/board/live`, setBoard, { onState: setState });
  }, [siteId]);
  if (!board) return html`<p class="muted" aria-live="polite">${t("console.loading")}</p>`;
  const busy = new Set(board.at_docks.map((ticket) => ticket.dock && ticket.dock.id));
  const free = board.docks.filter((dock) => !busy.has(dock.id));
  const dock = free.find((d) => d.id === dockId) || free[0];
  async function call(event) {
    event.preventDefault();
    try {
      const ticket = await api("POST", `/gate/sites/${siteId}/call`, { dock_id: dock.id });
      setCalled(ticket);
      setError(null);
    } catch (err) { setError(err); setCalled(null); }
  }
  const zone = board.site_timezone;
  return html`<section class="panel" id="queue" aria-labelledby="queue-title">
    <h3 id="queue-title">${t("console.gate.queue.title")}
      <span class="tag" id="live-state">${t(`console.gate.live.${state}`)}</span></h3>
    ${board.waiting.length
      ? html`<table class="list" id="waiting">
          <caption class="sr-only">${t("console.gate.queue.title")}</caption>
          <thead><tr><th scope="col">#</th><th scope="col">${t("console.gate.verdict.plate")}</th>
            <th scope="col">${t("console.gate.verdict.driver")}</th><th scope="col">${t("console.gate.queue.arrival")}</th>
            <th scope="col">${t("console.gate.queue.slot")}</th><th scope="col">${t("console.gate.queue.wait")}</th></tr></thead>
          <tbody>${board.waiting.map((ticket) => html`<tr key=${ticket.id} id=${`ticket-${ticket.id}`}>
            <td>${ticket.position}</td><td class="plate">${ticket.plate}</td><td>${ticket.driver_name || "—"}</td>
            <td>${t(`console.gate.arrival.${ticket.arrival}`)} ${time(ticket.arrived_at, zone)}</td>
            <td>${time(ticket.slot_start, zone)}</td>
            <td>${ticket.estimated_wait_minutes ? i18n.duration(ticket.estimated_wait_minutes * 60) : t("console.gate.queue.next")}</td>
          </tr>`)}</tbody></table>`
      : html`<p class="muted" id="queue-empty">${t("console.gate.queue.empty")}</p>`}
    ${free.length > 0 && board.waiting.length > 0 && html`<form class="row call" id="call" onSubmit=${call} novalidate>
      <div class="field"><label for="call-dock">${t("console.gate.call.dock")}</label>
        <select id="call-dock" value=${dock.id} onChange=${(e) => setDockId(e.currentTarget.value)}>
          ${free.map((d) => html`<option key=${d.id} value=${d.id}>${d.name}</option>`)}</select></div>
      <button type="submit" class="big">${t("console.gate.call.submit")}</button></form>`}
    ${called && html`<p id="called" role="status">${t("console.gate.call.done", { plate: called.plate, dock: called.dock ? called.dock.name : "" })}</p>`}
    <${FormError} error=${error} />
    <h3 id="docks-title">${t("console.gate.docks.title")}</h3>
    ${board.at_docks.length
      ? html`<table class="list" id="at-docks" aria-labelledby="docks-title">
          <thead><tr><th scope="col">${t("console.gate.call.dock")}</th><th scope="col">${t("console.gate.verdict.plate")}</th>
            <th scope="col">${t("console.gate.verdict.driver")}</th><th scope="col">${t("console.gate.docks.status")}</th>
            <th scope="col">${t("console.actions")}</th></tr></thead>
          <tbody>${board.at_docks.map((ticket) => html`<${AtDock} key=${ticket.id} ticket=${ticket} />`)}</tbody></table>`
      : html`<p class="muted">${t("console.gate.docks.empty")}</p>`}
  </section>`;
}

export function Gate() {
  const sites = useLoad(() => api("GET", "/sites"), []);
  const [siteId, setSiteId] = useState("");
  const chosen = sites.data && (sites.data.find((s) => s.id === siteId) || sites.data[0]);
  return html`<section aria-labelledby="gate-title" class="gate">
    <h2 id="gate-title">${t("console.nav.gate")}</h2>
    <${Status} state=${sites} />
    ${sites.data && !chosen && html`<p id="no-sites">${t("console.gate.no_sites")}</p>`}
    ${chosen && html`
      <div class="field"><label for="gate-site">${t("console.gate.site")}</label>
        <select id="gate-site" value=${chosen.id} onChange=${(e) => setSiteId(e.currentTarget.value)}>
          ${sites.data.map((s) => html`<option key=${s.id} value=${s.id}>${s.name}</option>`)}</select></div>
      <${Verify} key=${`verify-${chosen.id}`} siteId=${chosen.id} />
      <${Queue} key=${`queue-${chosen.id}`} siteId=${chosen.id} />`}
  </section>`;
}
