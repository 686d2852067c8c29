// A load's papers (dispatch/documents): the waybill and the proof of delivery, as PDFs. A link
// cannot send the bearer token, so the button fetches the PDF with it (`blob()`) and saves the file
// from an object URL: nothing is loaded but from the API, and the person gets the file it asked for.
import { html, useState } from "../vendor/htm-3.1.1/standalone.module.js";
import { blob } from "./api.js";
import { t } from "./ui.js";

export const waybillPath = (loadId) => `/loads/${loadId}/documents/waybill.pdf`;
export const proofOfDeliveryPath = (loadId) => `/loads/${loadId}/documents/proof-of-delivery.pdf`;

// Save `data` (a Blob) as `filename`, as a click on a download link would.
export function saveFile(data, filename) {
  const url = URL.createObjectURL(data);
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

// `fetchPdf(path)`: how to fetch it (the console's `blob`, or a page's own client with its token).
export function PaperButton({ path, filename, label, className, fetchPdf = blob }) {
  const [state, setState] = useState({ busy: false, error: null });
  async function download() {
    setState({ busy: true, error: null });
    try {
      saveFile(await fetchPdf(path), filename);
      setState({ busy: false, error: null });
    } catch (err) {
      setState({ busy: false, error: err });
    }
  }
  return html`<span class="paper">
    <button type="button" class=${`paper-link ${className}`} data-href=${path} disabled=${state.busy}
      onClick=${download}>${label}</button>
    ${state.error && html`<span class="error" role="alert">${state.error.message}</span>`}</span>`;
}

// The papers a load has by its state: the waybill from the moment a truck is on it, the proof of
// delivery once the consignee has signed for it. `title` names the load in the buttons' labels (a
// list has several loads); the files are named as the API names them.
export function LoadPapers({ load, title, fetchPdf }) {
  const received = load.status === "received";
  return html`<span class="papers">
    <${PaperButton} path=${waybillPath(load.id)} filename=${`waybill-${load.id}.pdf`} className="waybill"
      label=${t("common.papers.waybill", { title })} fetchPdf=${fetchPdf} />
    ${received && html`<${PaperButton} path=${proofOfDeliveryPath(load.id)} filename=${`proof-of-delivery-${load.id}.pdf`}
      className="proof-of-delivery" label=${t("common.papers.proof_of_delivery", { title })} fetchPdf=${fetchPdf} />`}
  </span>`;
}
