// The buyer's receipt form, on the tracking page of a load that has arrived, for a member of the
// consignee who may confirm receipt (receipt.confirm): what arrived (kg), its condition, a
// discrepancy (type and notes), photos from the phone's camera, the signer's name and a drawn
// signature (Signature Pad, vendored), or, for whoever cannot draw (a keyboard, a screen reader),
// the signer's name as typed, made into the signature's PNG here ("sign with my typed name"): the
// receipt carries a signature image either way, and the evidence's caption says which it was.
// The discrepancy against what was loaded (the weighbridge net, else the plan:
// GET /loads/{id}/evidence/export, as the API measures it) shows as the buyer types, before
// anything is sent.
//
// Submitting: the photos and the signature (a PNG) go into the load's evidence first
// (POST /loads/{id}/evidence/photos, content-addressed: each file once, however often the form is
// sent again), then POST /loads/{id}/receipt names them by sha256; the receipt is one transaction
// in the API, so a refused one stores nothing, and its field errors show next to the fields.
import { html, useEffect, useRef, useState } from "../vendor/htm-3.1.1/standalone.module.js";
import SignaturePad from "../vendor/signature_pad-5.1.4/signature_pad.js";
import { ApiError, api } from "../console/api.js";
import { Field, FormError, Select, t } from "../console/ui.js";

const i18n = window.DispatchI18n;
const DISCREPANCIES = ["shortage", "overage", "damage"];
// Which form field a refusal without `errors[]` is about.
const FIELD_OF_CODE = {
  signature_not_in_evidence: "signature",
  photo_not_in_evidence: "photos",
  received_required: "received",
  no_such_line: "items",
  photo_too_large: "photos",
  unsupported_photo_type: "photos",
};

// The load's item lines (discrete cargo): what each line is, how many were loaded and their unit
// weight (GET /jobs/{job} for the lines, GET /jobs/{job}/loads for this load's counts); null for bulk.
async function itemLines(jobId, loadId, token) {
  const [job, loads] = await Promise.all([
    api("GET", `/jobs/${jobId}`, undefined, { token }),
    api("GET", `/jobs/${jobId}/loads`, undefined, { token }),
  ]);
  const mine = loads.find((l) => l.id === loadId);
  if (!mine || !mine.items || !job.cargo || job.cargo.kind !== "items") return null;
  return mine.items.map((count, line) => ({
    line, count, description: job.cargo.lines[line].description, unitKg: job.cargo.lines[line].unit_weight_kg,
  })).filter((l) => l.count > 0);
}

// The weight received: as typed, else (item cargo) from the counts typed, as the API computes it
// (a line left blank arrived in full); NaN when nothing is typed.
function receivedKg(received, lines, counts) {
  if (received.trim() !== "") return Number(received);
  if (!lines || !lines.some((l) => (counts[l.line] || "").trim() !== "")) return NaN;
  return Math.round(lines.reduce((sum, l) => {
    const typed = (counts[l.line] || "").trim();
    return sum + (typed === "" ? l.count : Number(typed)) * l.unitKg;
  }, 0));
}

// The API names an item count's error by its place in `received.items` (`$.received.items[0].count`),
// which the console's mapping files under "received" (the path's first name): put it at that
// line's count field instead (the items sent are the lines with a count typed, in order).
const ITEM_PATH = /^\$\.received\.items\[(\d+)\]/;
function placeItemErrors(err, items) {
  const errors = (err.problem && err.problem.errors) || [];
  if (!errors.some((e) => ITEM_PATH.test(e.field || ""))) return err;
  const fields = { ...err.fields };
  if (!errors.some((e) => /^\$\.received/.test(e.field || "") && !ITEM_PATH.test(e.field))) delete fields.received;
  for (const e of errors) {
    const match = ITEM_PATH.exec(e.field || "");
    if (!match) continue;
    const item = items[Number(match[1])];
    const name = item ? `items-${item.line}` : "items";
    const text = t("console.form.invalid", { reason: e.reason });
    fields[name] = fields[name] ? `${fields[name]}; ${text}` : text;
  }
  err.fields = fields;
  return err;
}

// The signer's typed name as a signature image (a PNG, as the pad gives): dark ink on white, in a
// handwriting face where the device has one.
function typedSignature(name) {
  const canvas = document.createElement("canvas");
  canvas.width = 600;
  canvas.height = 160;
  const ink = canvas.getContext("2d");
  ink.fillStyle = "#ffffff";
  ink.fillRect(0, 0, canvas.width, canvas.height);
  ink.fillStyle = "#17202b";
  ink.font = "italic 48px cursive, serif";
  ink.textBaseline = "middle";
  ink.fillText(name, 24, canvas.height / 2, canvas.width - 48);
  return canvas.toDataURL("image/png");
}

// The form's values whose API errors are named otherwise.
const ERROR_OF = { signer: "signer_name", discrepancy: "discrepancies" };

// What the truck was loaded with, as the API measures a receipt against it.
export function loadedNet(bundle) {
  const gross = bundle.records.filter((r) => r.kind === "weighbridge_gross").pop();
  if (gross && typeof gross.data.net_kg === "number") return { kg: gross.data.net_kg, source: "weighbridge" };
  return { kg: Math.round(bundle.load.weight_kg), source: "plan" };
}

const kg = (value) => t("track.receipt_form.kg", { value: i18n.number(value) });

// One file into the load's evidence (multipart, as the gate's photos); its sha256.
async function upload(loadId, file, token, caption) {
  const body = new FormData();
  body.append("file", file, file.name || "photo");
  if (caption) body.append("caption", caption);
  let answer;
  try {
    answer = await fetch(`/loads/${loadId}/evidence/photos`, {
      method: "POST", body,
      headers: { authorization: `Bearer ${token}`, "accept-language": i18n.locale, accept: "application/json" },
    });
  } catch (err) {
    throw new ApiError(0, { detail: t("console.error.unreachable") });
  }
  const data = await answer.json().catch(() => ({}));
  if (!answer.ok) throw new ApiError(answer.status, data, { [data.code]: caption ? "signature" : "photos" });
  return data.data.sha256;
}

function Discrepancy({ value, loaded }) {
  if (!loaded) return html`<p class="muted" aria-live="polite">${t("console.loading")}</p>`;
  const basis = t(`track.receipt_form.loaded_${loaded.source}`, { weight: kg(loaded.kg) });
  if (!Number.isFinite(value)) return html`<p id="receipt-discrepancy" class="discrepancy" aria-live="polite">${basis}</p>`;
  const difference = Math.round(value) - loaded.kg;
  const pct = loaded.kg ? (100 * difference) / loaded.kg : 0;
  const key = difference < 0 ? "short" : difference > 0 ? "over" : "exact";
  return html`<p id="receipt-discrepancy" class=${`discrepancy ${key}`} aria-live="polite">
    <strong>${t(`track.receipt_form.${key}`, { weight: kg(Math.abs(difference)), percent: i18n.number(Math.abs(pct), 2) })}</strong>
    ${" "}${basis}</p>`;
}

// A count per item line (discrete cargo); blank: the line arrived in full.
function ItemCounts({ lines, counts, onChange, error, fieldError }) {
  const set = (line) => (value) => onChange({ ...counts, [line]: value });
  return html`<fieldset class="items" aria-describedby=${error ? "receipt-items-error" : undefined}>
    <legend>${t("track.receipt_form.items")}</legend>
    <p class="muted">${t("track.receipt_form.items_hint")}</p>
    ${lines.map((l) => html`<${Field} key=${l.line} name=${`items-${l.line}`} type="number" value=${counts[l.line] || ""}
      label=${t("track.receipt_form.item_line", { description: l.description, count: i18n.number(l.count) })}
      onInput=${set(l.line)} error=${fieldError(`items-${l.line}`)} />`)}
    ${error && html`<p class="field-error error" id="receipt-items-error" data-field="items">${error}</p>`}
  </fieldset>`;
}

function SignatureField({ padRef, error, onChange, typed, onTyped, signer }) {
  const canvas = useRef(null);
  useEffect(() => {
    const el = canvas.current;
    const pad = new SignaturePad(el, { penColor: "#17202b", backgroundColor: "#ffffff" });
    // The canvas drawn at the screen's pixel density. Resizing empties a canvas: the strokes are
    // drawn again (in CSS pixels, so they stay where they were), so that the panel's layout moving
    // (a scrollbar, a longer text in the other language) does not wipe a signature.
    const size = () => {
      const ratio = Math.max(window.devicePixelRatio || 1, 1);
      const strokes = pad.toData();
      el.width = el.offsetWidth * ratio;
      el.height = el.offsetHeight * ratio;
      el.getContext("2d").scale(ratio, ratio);
      pad.clear();
      if (strokes.length && el.offsetWidth > 0) pad.fromData(strokes);
      onChange(!pad.isEmpty());
    };
    size();
    pad.addEventListener("endStroke", () => onChange(!pad.isEmpty()));
    padRef.current = pad;
    const observer = new ResizeObserver(() => { if (el.width !== Math.round(el.offsetWidth * (window.devicePixelRatio || 1))) size(); });
    observer.observe(el);
    return () => { observer.disconnect(); pad.off(); };
  }, []);
  const clear = () => { padRef.current.clear(); onChange(false); };
  return html`<fieldset class="signature" aria-describedby=${error ? "receipt-signature-error" : undefined}>
    <legend>${t("track.receipt_form.signature")}</legend>
    <canvas ref=${canvas} id="receipt-signature" class="signature-pad" role="img" hidden=${typed}
      aria-label=${t("track.receipt_form.signature_area")} aria-invalid=${error ? "true" : "false"}></canvas>
    ${!typed && html`<button type="button" class="secondary" onClick=${clear}>${t("track.receipt_form.clear_signature")}</button>`}
    <label class="typed-choice"><input type="checkbox" id="receipt-typed-signature" checked=${typed}
      aria-invalid=${error ? "true" : "false"} onChange=${(e) => onTyped(e.currentTarget.checked)} />
      ${" "}${t("track.receipt_form.sign_typed")}</label>
    ${typed && html`<p class="typed-signature" aria-live="polite">${signer.trim()
      ? t("track.receipt_form.typed_preview", { name: signer.trim() })
      : t("track.receipt_form.type_name_first")}</p>`}
    ${error && html`<p class="field-error error" id="receipt-signature-error" data-field="signature">${error}</p>`}
  </fieldset>`;
}

export function ReceiptForm({ load, jobId, token }) {
  const [loaded, setLoaded] = useState(null);
  const [lines, setLines] = useState(null); // item cargo: the load's lines; null for bulk
  const [counts, setCounts] = useState({}); // line → the count typed
  const [values, setValues] = useState({ received: "", condition: "good", discrepancy: "", notes: "", signer: "" });
  const [photos, setPhotos] = useState([]);
  const [signed, setSigned] = useState(false);
  const [typed, setTyped] = useState(false); // signing with the typed name instead of drawing
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const [sent, setSent] = useState(false); // confirmed: the card shows the receipt once the socket says so
  const pad = useRef(null);
  const uploaded = useRef(new Map()); // a file (or the signature's strokes or name) → its sha256, sent once
  const [edited, setEdited] = useState(new Set()); // fields changed since the API refused them
  const touch = (name) => setEdited((old) => (old.has(name) ? old : new Set(old).add(name)));
  const set = (name) => (value) => { setValues((old) => ({ ...old, [name]: value })); touch(ERROR_OF[name] || name); };

  useEffect(() => {
    api("GET", `/loads/${load.id}/evidence/export`, undefined, { token })
      .then((bundle) => setLoaded(loadedNet(bundle)), setError);
    itemLines(jobId, load.id, token).then(setLines, () => setLines(null)); // without them: by weight
  }, [load.id]);

  async function once(key, send) {
    if (!uploaded.current.has(key)) uploaded.current.set(key, await send());
    return uploaded.current.get(key);
  }

  async function submit(event) {
    event.preventDefault();
    setEdited(new Set());
    const name = values.signer.trim();
    if (typed ? !name : !signed || pad.current.isEmpty()) {
      const why = t(typed ? "track.receipt_form.type_name_first" : "track.receipt_form.sign_first");
      setError(Object.assign(new ApiError(422, { detail: why }), { fields: { [typed ? "signer_name" : "signature"]: why } }));
      return;
    }
    let items = [];
    setBusy(true);
    try {
      const shas = [];
      for (const file of photos) shas.push(await once(file, () => upload(load.id, file, token)));
      const dataUrl = typed ? typedSignature(name) : pad.current.toDataURL("image/png");
      // Sent once per signature: the typed name, or the strokes (a resize redraws the same strokes
      // into slightly different pixels, which is no new signature).
      const key = typed ? `typed:${name}` : `drawn:${JSON.stringify(pad.current.toData())}`;
      const signature = await once(key, () => {
        const bytes = Uint8Array.from(atob(dataUrl.split(",")[1]), (c) => c.charCodeAt(0));
        const caption = typed ? "typed signature" : "signature";
        return upload(load.id, new File([bytes], "signature.png", { type: "image/png" }), token, caption);
      });
      const weight = values.received.trim();
      items = (lines || []).filter((l) => (counts[l.line] || "").trim() !== "")
        .map((l) => ({ line: l.line, count: Number(counts[l.line]) }));
      const received = {};
      if (weight !== "") received.weight_kg = Number.isFinite(Number(weight)) ? Number(weight) : weight;
      if (items.length) received.items = items;
      const body = {
        received,
        condition: values.condition,
        // The photos show the discrepancy; without one they stay in the load's evidence all the same.
        discrepancies: values.discrepancy
          ? [{ type: values.discrepancy, notes: values.notes, photos: shas }]
          : [],
        notes: values.discrepancy ? "" : values.notes,
        signer_name: values.signer,
        signature,
      };
      await api("POST", `/loads/${load.id}/receipt`, body, { token, fieldOfCode: FIELD_OF_CODE });
      setError(null);
      setSent(true); // the receipt arrives on the socket too: the card then shows it
    } catch (err) {
      setError(placeItemErrors(err, items));
    } finally {
      setBusy(false);
    }
  }

  // An error shows next to its field until the field is changed (or the form is sent again).
  const fieldError = (name) => (error && error.fields && !edited.has(name) ? error.fields[name] : undefined);
  const id = `receipt-${load.id}`;
  return html`<form class="receipt-form panel" id=${`${id}-form`} noValidate onSubmit=${submit} aria-labelledby=${`${id}-title`}>
    <h3 id=${`${id}-title`}>${t("track.receipt_form.title")}</h3>
    <${Field} name="received" type="number" label=${t("track.receipt_form.received_kg")} value=${values.received}
      onInput=${set("received")} error=${fieldError("received")} />
    ${lines && html`<${ItemCounts} lines=${lines} counts=${counts}
      onChange=${(c) => {
        for (const l of lines) if ((c[l.line] || "") !== (counts[l.line] || "")) touch(`items-${l.line}`);
        setCounts(c); touch("items");
      }} error=${fieldError("items")} fieldError=${fieldError} />`}
    <${Discrepancy} value=${receivedKg(values.received, lines, counts)} loaded=${loaded} />
    <${Select} name=${`${id}-condition`} label=${t("track.receipt_form.condition")} value=${values.condition}
      onChange=${set("condition")} error=${fieldError("condition")}
      options=${["good", "damaged"].map((c) => ({ value: c, label: t(`track.receipt_form.condition.${c}`) }))} />
    <${Select} name=${`${id}-discrepancy`} label=${t("track.receipt_form.discrepancy")} value=${values.discrepancy}
      onChange=${set("discrepancy")} error=${fieldError("discrepancies")} blank=${t("track.receipt_form.discrepancy.none")}
      options=${DISCREPANCIES.map((d) => ({ value: d, label: t(`track.receipt_form.discrepancy.${d}`) }))} />
    <div class="field">
      <label for=${`${id}-notes`}>${t("track.receipt_form.notes")}</label>
      <textarea id=${`${id}-notes`} name="notes" rows="3" value=${values.notes}
        aria-invalid=${fieldError("notes") ? "true" : "false"}
        onInput=${(e) => set("notes")(e.currentTarget.value)}></textarea>
      ${fieldError("notes") && html`<p class="field-error error" data-field="notes">${fieldError("notes")}</p>`}
    </div>
    <div class="field">
      <label for=${`${id}-photos`}>${t("track.receipt_form.photos")}</label>
      <input id=${`${id}-photos`} name="photos" type="file" accept="image/*" capture="environment" multiple
        aria-invalid=${fieldError("photos") ? "true" : "false"}
        aria-describedby=${fieldError("photos") ? `${id}-photos-error` : undefined}
        onChange=${(e) => { setPhotos([...e.currentTarget.files]); touch("photos"); }} />
      ${photos.length > 0 && html`<p class="muted">${t("track.receipt_form.photos_chosen", { count: photos.length })}</p>`}
      ${fieldError("photos") && html`<p class="field-error error" id=${`${id}-photos-error`} data-field="photos">${fieldError("photos")}</p>`}
    </div>
    <${Field} name="signer_name" label=${t("track.receipt_form.signer")} value=${values.signer}
      onInput=${set("signer")} error=${fieldError("signer_name")} autocomplete="name" />
    <${SignatureField} padRef=${pad} error=${fieldError("signature")} typed=${typed} signer=${values.signer}
      onTyped=${(on) => { setTyped(on); touch("signature"); }}
      onChange=${(drawn) => { setSigned(drawn); if (drawn) touch("signature"); }} />
    <${FormError} error=${error} />
    <button type="submit" disabled=${busy || sent}>${t("track.receipt_form.submit")}</button>
  </form>`;
}
