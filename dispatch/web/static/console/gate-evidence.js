// The loading evidence of the truck at a dock (dispatch/evidence: POST /loads/{id}/evidence and
// /evidence/photos): the weighbridge tickets, the seals, photos from the tablet's camera and the
// sample's reference, each recorded on its own as one record of the load's chain, and the records
// so far. The API checks every value; a refusal is shown next to its field and stores nothing (a
// record is one row or none), and what was typed stays for correcting.
import { html, useState } from "../vendor/htm-3.1.1/standalone.module.js";
import { api, upload } from "./api.js";
import { Field, FormError, t, useForm, useLoad } from "./ui.js";

const i18n = window.DispatchI18n;

// A weighbridge ticket (POST /loads/{id}/evidence): tare when the truck is empty, gross when loaded
// (the API adds the net against the tare).
function Weighing({ ticket, onRecorded }) {
  const [recorded, setRecorded] = useState(null);
  const form = useForm({ kind: "weighbridge_tare", weight_kg: "", weighbridge_id: "", ticket: "" }, async (values) => {
    const kg = values.weight_kg.trim();
    const body = { kind: values.kind, weight_kg: /^\d+$/.test(kg) ? Number(kg) : kg, weighbridge_id: values.weighbridge_id };
    if (values.ticket) body.ticket = values.ticket;
    setRecorded(await api("POST", `/loads/${ticket.load_id}/evidence`, body, { fieldOfCode: { gross_below_tare: "weight_kg" } }));
    onRecorded();
  });
  const [kindId] = useState(() => `weigh-kind-${ticket.id}`);
  return html`<form class="weigh evidence-part" id=${`weigh-${ticket.id}`} onSubmit=${form.submit} novalidate
      aria-label=${t("console.gate.weigh.title", { plate: ticket.plate })}>
    <div class="row">
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
    </div>
    <button type="submit" class="big" disabled=${form.busy}>${t("console.gate.weigh.submit")}</button>
    <${FormError} error=${form.error} />
    ${recorded && html`<p class="weighed" role="status">${t(`console.gate.weigh.recorded_${recorded.kind === "weighbridge_gross" ? "gross" : "tare"}`, {
      weight: i18n.weight(recorded.data.weight_kg),
      net: recorded.data.net_kg == null ? "—" : i18n.weight(recorded.data.net_kg),
    })}</p>`}
  </form>`;
}

// "$.seal_numbers[2]" → 2: which seal a validation error is about, to show it next to that one.
function sealErrors(error) {
  const out = {};
  for (const e of (error && error.problem.errors) || []) {
    const match = /^\$\.seal_numbers\[(\d+)\]/.exec(String(e.field || ""));
    if (match) out[match[1]] = t("console.form.invalid", { reason: e.reason });
  }
  return out;
}

// The seals on the truck, several numbers at once: one record with all of them.
function Seals({ ticket, onRecorded }) {
  const [numbers, setNumbers] = useState([""]);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const [recorded, setRecorded] = useState(null);
  const setNumber = (index) => (value) => setNumbers((old) => old.map((n, i) => (i === index ? value : n)));
  async function submit(event) {
    event.preventDefault();
    setBusy(true);
    try {
      const record = await api("POST", `/loads/${ticket.load_id}/evidence`, { kind: "seal", seal_numbers: numbers },
        { fieldOfCode: { duplicate_seal_numbers: "seal_numbers" } });
      setRecorded(record);
      setNumbers([""]);
      setError(null);
      onRecorded();
    } catch (err) {
      setError(err);
      setRecorded(null);
    } finally {
      setBusy(false);
    }
  }
  const each = sealErrors(error);
  // An error about the seals as a whole (a number repeated, none given) goes under the group.
  const whole = error && error.fields && error.fields.seal_numbers && !Object.keys(each).length ? error.fields.seal_numbers : null;
  const [groupId] = useState(() => `seals-${ticket.id}`);
  return html`<form class="evidence-part" id=${`seals-${ticket.id}`} onSubmit=${submit} novalidate
      aria-label=${t("console.gate.seals.title", { plate: ticket.plate })}>
    <fieldset class="seals" aria-invalid=${whole ? "true" : "false"} aria-describedby=${whole ? `${groupId}-error` : undefined}>
      <legend>${t("console.gate.seals.legend")}</legend>
      <div class="row">${numbers.map((value, index) => html`<${Field} key=${index} name="seal_numbers"
        label=${t("console.gate.seals.number", { n: index + 1 })} value=${value} onInput=${setNumber(index)}
        error=${each[index]} autocomplete="off" />`)}</div>
      ${whole && html`<p class="field-error error" id=${`${groupId}-error`} data-field="seal_numbers">${whole}</p>`}
      <button type="button" onClick=${() => setNumbers((old) => [...old, ""])}>${t("console.gate.seals.add")}</button>
    </fieldset>
    <button type="submit" class="big" disabled=${busy}>${t("console.gate.seals.submit")}</button>
    ${!error || whole || Object.keys(each).length ? null : html`<${FormError} error=${error} />`}
    ${recorded && html`<p role="status">${t("console.gate.seals.recorded", { numbers: recorded.data.seal_numbers.join(", ") })}</p>`}
  </form>`;
}

// A photo from the tablet's camera (or its pictures): the file goes up as it is; the API decides
// from its first bytes whether it is a photo, and refuses one too large.
function Photo({ ticket, onRecorded }) {
  const [file, setFile] = useState(null);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const [recorded, setRecorded] = useState(false);
  const [id] = useState(() => `photo-${ticket.id}`);
  async function submit(event) {
    event.preventDefault();
    const input = event.currentTarget.querySelector("input[type=file]");
    setBusy(true);
    try {
      await upload(`/loads/${ticket.load_id}/evidence/photos`, file);
      setRecorded(true);
      setError(null);
      setFile(null);
      input.value = "";
      onRecorded();
    } catch (err) {
      setError(err);
      setRecorded(false);
    } finally {
      setBusy(false);
    }
  }
  const fieldError = error && error.fields && error.fields.file;
  return html`<form class="evidence-part" id=${`photos-${ticket.id}`} onSubmit=${submit} novalidate
      aria-label=${t("console.gate.photo.title", { plate: ticket.plate })}>
    <div class="field">
      <label for=${id}>${t("console.gate.photo.file")}</label>
      <input id=${id} name="file" type="file" accept="image/*" capture="environment"
        aria-invalid=${fieldError ? "true" : "false"} aria-describedby=${fieldError ? `${id}-error` : undefined}
        onChange=${(e) => { setFile(e.currentTarget.files[0] || null); setRecorded(false); }} />
      ${fieldError && html`<p class="field-error error" id=${`${id}-error`} data-field="file">${fieldError}</p>`}
    </div>
    <button type="submit" class="big" disabled=${busy || !file}>${t("console.gate.photo.submit")}</button>
    ${error && !fieldError && html`<${FormError} error=${error} />`}
    ${recorded && html`<p role="status">${t("console.gate.photo.recorded")}</p>`}
  </form>`;
}

// The retained sample: its reference (the label on the bag), what it is, and who keeps it.
function Sample({ ticket, onRecorded }) {
  const [recorded, setRecorded] = useState(null);
  const form = useForm({ sample_id: "", description: "", retained_by: "" }, async (values) => {
    const body = { kind: "sample", sample_id: values.sample_id, description: values.description };
    if (values.retained_by) body.retained_by = values.retained_by;
    setRecorded(await api("POST", `/loads/${ticket.load_id}/evidence`, body));
    onRecorded();
  });
  return html`<form class="evidence-part" id=${`sample-${ticket.id}`} onSubmit=${form.submit} novalidate
      aria-label=${t("console.gate.sample.title", { plate: ticket.plate })}>
    <div class="row">
      <${Field} name="sample_id" label=${t("console.gate.sample.id")} value=${form.values.sample_id}
        onInput=${form.set("sample_id")} error=${form.fieldError("sample_id")} required autocomplete="off" />
      <${Field} name="description" label=${t("console.gate.sample.description")} value=${form.values.description}
        onInput=${form.set("description")} error=${form.fieldError("description")} required autocomplete="off" />
      <${Field} name="retained_by" label=${t("console.gate.sample.retained_by")} value=${form.values.retained_by}
        onInput=${form.set("retained_by")} error=${form.fieldError("retained_by")} autocomplete="off" />
    </div>
    <button type="submit" class="big" disabled=${form.busy}>${t("console.gate.sample.submit")}</button>
    <${FormError} error=${form.error} />
    ${recorded && html`<p role="status">${t("console.gate.sample.recorded", { id: recorded.data.sample_id })}</p>`}
  </form>`;
}

function describe(record) {
  const d = record.data;
  switch (record.kind) {
    case "weighbridge_tare": return t("console.gate.records.weighbridge_tare", { weight: i18n.weight(d.weight_kg) });
    case "weighbridge_gross":
      return t("console.gate.records.weighbridge_gross", { weight: i18n.weight(d.weight_kg), net: i18n.weight(d.net_kg) });
    case "seal": return t("console.gate.records.seal", { numbers: d.seal_numbers.join(", ") });
    case "photo": return t("console.gate.records.photo");
    case "sample": return t("console.gate.records.sample", { id: d.sample_id, description: d.description });
    case "note": return t("console.gate.records.note", { text: d.text });
    default: return record.kind;
  }
}

const NEXT_STEP = { called: "loading", loading: "loaded" };

// The evidence of one ticket's load, for the truck at its dock; ends with the step that moves the
// truck on (loading started, loading complete), as the dock's row offers it.
export function Evidence({ ticket, onAdvance }) {
  const records = useLoad(() => api("GET", `/loads/${ticket.load_id}/evidence`), [ticket.load_id]);
  const [error, setError] = useState(null);
  const step = NEXT_STEP[ticket.status];
  const advance = () => onAdvance(ticket, step).then(() => setError(null), setError);
  const reload = () => { records.reload(); };
  return html`<section class="panel evidence" id="evidence" aria-labelledby="evidence-title" data-ticket=${ticket.id}>
    <h3 id="evidence-title">${t("console.gate.evidence.title", { plate: ticket.plate })}</h3>
    <${Weighing} ticket=${ticket} onRecorded=${reload} />
    <${Seals} ticket=${ticket} onRecorded=${reload} />
    <${Photo} ticket=${ticket} onRecorded=${reload} />
    <${Sample} ticket=${ticket} onRecorded=${reload} />
    <h4 id="records-title">${t("console.gate.records.title")}</h4>
    ${records.error && html`<${FormError} error=${records.error} />`}
    ${records.data && (records.data.length
      ? html`<ol class="records" id="evidence-records" aria-labelledby="records-title">${records.data.map((r) => html`<li key=${r.seq} data-kind=${r.kind}>
          ${describe(r)} <span class="muted">${t("console.gate.records.by", {
            time: i18n.time(new Date(r.recorded_at)), name: r.recorded_by_name || "—" })}</span></li>`)}</ol>`
      : html`<p class="muted" id="evidence-records-empty">${t("console.gate.records.empty")}</p>`)}
    ${step && html`<p><button type="button" class="big step" onClick=${advance}>${t(`console.gate.mark.${step}`)}</button></p>`}
    ${error && html`<p class="error" role="alert">${error.message}</p>`}
  </section>`;
}
