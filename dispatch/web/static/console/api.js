// Every call the console makes to the JSON API goes through `api()`: the console is a client of the
// API like an ERP is. It adds the bearer token of this tab's session and Accept-Language (so that a
// problem's `detail` comes back in the page's language), and turns a problem-details answer into an
// ApiError whose `fields` maps a form field's name to the reasons the API gave for it.
const TOKEN_KEY = "dispatch.console.token";
const i18n = window.DispatchI18n;

export const session = {
  get token() { return sessionStorage.getItem(TOKEN_KEY); },
  set(token) { sessionStorage.setItem(TOKEN_KEY, token); },
  clear() { sessionStorage.removeItem(TOKEN_KEY); },
};

export class ApiError extends Error {
  constructor(status, problem, fieldOfCode = {}) {
    super(problem.detail || `HTTP ${status}`);
    this.status = status;
    this.code = problem.code || null;
    this.problem = problem;
    this.fields = fieldErrors(problem);
    // A refused body's detail names the fields as the validator does ("$.tender.carriers: Expected
    // array…"); a person reads the reasons beside the fields instead, so the foot says just that.
    if ((problem.errors || []).length) this.message = i18n.t("console.form.fields_invalid");
    // A conflict that concerns one field (email_taken → email) is shown next to that field too.
    const field = fieldOfCode[this.code];
    if (field && !this.fields[field]) this.fields[field] = this.message;
  }
}

// "$.email" → "email", "$.role_ids[0]" → "role_ids": the name of the form field the error is about;
// a nested path is also kept whole without its indexes ("$.tender.carriers" → "tender" and
// "tender.carriers"), for a form whose part has fields of its own (Post a job's tender).
function fieldErrors(problem) {
  const out = {};
  const add = (name, text) => { if (name) out[name] = out[name] ? `${out[name]}; ${text}` : text; };
  for (const error of problem.errors || []) {
    const path = String(error.field || "").replace(/^\$\.?/, "").replace(/\[\d*\]/g, "");
    // The reason is the validator's (English); the words around it are in the page's language.
    const text = i18n.t("console.form.invalid", { reason: error.reason });
    const first = path.split(".")[0];
    add(first, text);
    if (path !== first) add(path, text);
  }
  return out;
}

// `fieldOfCode`: which form field a problem code is about, for errors the API answers without
// `errors[]` (a conflict such as a taken email).
export async function api(method, path, body, { token = session.token, fieldOfCode = {} } = {}) {
  const headers = { accept: "application/json", "accept-language": i18n.locale };
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  let answer;
  try {
    answer = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (err) {
    throw new ApiError(0, { detail: i18n.t("console.error.unreachable") });
  }
  if (answer.status === 204) return null;
  const data = await answer.json().catch(() => ({}));
  if (!answer.ok) throw new ApiError(answer.status, data, fieldOfCode);
  return data;
}

// The bytes at `path` as a Blob (an evidence photo: an <img> cannot send the bearer token), with
// the same token and errors as `api()`.
export async function blob(path, { token = session.token } = {}) {
  const headers = { "accept-language": i18n.locale };
  if (token) headers.authorization = `Bearer ${token}`;
  let answer;
  try {
    answer = await fetch(path, { headers });
  } catch (err) {
    throw new ApiError(0, { detail: i18n.t("console.error.unreachable") });
  }
  if (!answer.ok) throw new ApiError(answer.status, await answer.json().catch(() => ({})));
  return answer.blob();
}

// A file from the page (a photo from the camera) to a route that takes it: `POST path` with the
// file as the multipart field `file`, the one upload route the API has
// (`/loads/{id}/evidence/photos`); the browser sets the body's type and boundary. Answers and
// refusals as `api()`; a refusal about the file (its type, its size) is shown next to the field.
export async function upload(path, file, { token = session.token } = {}) {
  const headers = { accept: "application/json", "accept-language": i18n.locale };
  if (token) headers.authorization = `Bearer ${token}`;
  const body = new FormData();
  body.append("file", file);
  let answer;
  try {
    answer = await fetch(path, { method: "POST", headers, body });
  } catch (err) {
    throw new ApiError(0, { detail: i18n.t("console.error.unreachable") });
  }
  const data = await answer.json().catch(() => ({}));
  const fileCodes = { unsupported_photo_type: "file", photo_too_large: "file", body_too_large: "file" };
  if (!answer.ok) throw new ApiError(answer.status, data, fileCodes);
  return data;
}

// A live feed over a websocket (the gate board's `/gate/sites/{id}/board/live`): `onMessage` gets
// each JSON message; a dropped connection is reopened after a pause until `close()` is called.
// The socket carries the session's token as `access_token` (a browser cannot set its headers).
export function live(path, onMessage, { token = session.token, onState = () => {} } = {}) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  let socket;
  let closed = false;
  const open = () => {
    socket = new WebSocket(`${scheme}://${location.host}${path}?access_token=${encodeURIComponent(token)}`);
    socket.onopen = () => onState("live");
    socket.onmessage = (event) => onMessage(JSON.parse(event.data));
    socket.onclose = () => {
      if (closed) return;
      onState("reconnecting");
      setTimeout(() => { if (!closed) open(); }, 2000);
    };
  };
  open();
  return () => { closed = true; socket.close(); };
}
