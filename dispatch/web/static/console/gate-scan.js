// The camera view that reads a pickup code from the QR code on the driver's phone. The driver app
// draws the load's pickup code, and nothing else, as a QR code (docs/driver-app.md), so what the
// scanner reads is the code as the driver would type it. jsQR (vendored, a UMD script that defines
// window.jsQR) is loaded on the first scan only. Without a camera, or when the browser refuses it,
// the view says so in words and the code can still be typed.
import { html, useEffect, useRef, useState } from "../vendor/htm-3.1.1/standalone.module.js";
import { t } from "./ui.js";

const JSQR_URL = "/static/vendor/jsqr-1.4.0/jsQR.js";
// How often a frame is looked at, and the largest width it is scaled to: enough for a phone's
// screen held up to a tablet, little work for the tablet.
const SCAN_EVERY_MS = 150;
const SCAN_WIDTH = 640;

let jsQRLoading = null;

function loadJsQR() {
  if (window.jsQR) return Promise.resolve(window.jsQR);
  if (!jsQRLoading) {
    jsQRLoading = new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = JSQR_URL;
      script.onload = () => resolve(window.jsQR);
      script.onerror = () => { jsQRLoading = null; reject(new Error("jsQR could not be loaded")); };
      document.head.append(script);
    });
  }
  return jsQRLoading;
}

// Why the camera cannot be used, as a catalogue key (the browser's error names, not its messages).
function cameraProblem(err) {
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) return "console.gate.scan.no_camera";
  if (err && (err.name === "NotAllowedError" || err.name === "SecurityError")) return "console.gate.scan.refused";
  if (err && (err.name === "NotFoundError" || err.name === "OverconstrainedError")) return "console.gate.scan.no_camera";
  return "console.gate.scan.failed";
}

// `onCode(text)` is called once, with the first code read; the camera is then released.
export function QrScanner({ onCode, onClose }) {
  const video = useRef(null);
  const latest = useRef(onCode);
  latest.current = onCode;
  const [state, setState] = useState({ phase: "starting", problem: null });

  useEffect(() => {
    let stream = null;
    let timer = 0;
    let stopped = false;
    const canvas = document.createElement("canvas");
    const context = canvas.getContext("2d", { willReadFrequently: true });
    const stop = () => {
      stopped = true;
      clearTimeout(timer);
      if (stream) for (const track of stream.getTracks()) track.stop();
    };
    function look(jsQR) {
      if (stopped) return;
      const v = video.current;
      if (v && v.readyState >= v.HAVE_CURRENT_DATA && v.videoWidth) {
        const scale = Math.min(1, SCAN_WIDTH / v.videoWidth);
        canvas.width = Math.round(v.videoWidth * scale);
        canvas.height = Math.round(v.videoHeight * scale);
        context.drawImage(v, 0, 0, canvas.width, canvas.height);
        const image = context.getImageData(0, 0, canvas.width, canvas.height);
        const found = jsQR(image.data, image.width, image.height, { inversionAttempts: "attemptBoth" });
        const text = found && found.data.trim();
        if (text) {
          stop();
          latest.current(text);
          return;
        }
      }
      timer = setTimeout(() => look(jsQR), SCAN_EVERY_MS);
    }
    (async () => {
      try {
        if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) throw new Error("no mediaDevices");
        stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
        if (stopped) { stop(); return; }
        video.current.srcObject = stream;
        await video.current.play().catch(() => {});
      } catch (err) {
        stop();
        setState({ phase: "failed", problem: cameraProblem(err) });
        return;
      }
      try {
        const jsQR = await loadJsQR();
        setState({ phase: "scanning", problem: null });
        look(jsQR);
      } catch (err) {
        stop();
        setState({ phase: "failed", problem: "console.gate.scan.failed" });
      }
    })();
    return stop;
  }, []);

  return html`<div class="scanner" id="scanner">
    ${state.phase !== "failed" && html`<video ref=${video} muted playsinline autoplay
      aria-label=${t("console.gate.scan.video")}></video>`}
    ${state.problem
      ? html`<p class="error" id="scan-problem" role="alert">${t(state.problem)}</p>`
      : html`<p class="muted" role="status">${t(state.phase === "scanning" ? "console.gate.scan.hint" : "console.gate.scan.starting")}</p>`}
    <button type="button" class="big" onClick=${onClose}>${t("console.gate.scan.close")}</button>
  </div>`;
}
