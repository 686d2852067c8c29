// The gate board: the site's yard, live. The page takes a bearer token from the URL fragment
// (#token=..., never sent to the server in the URL) or asks gate staff to sign in, then opens the
// board's websocket; every frame is the whole board, so it is simply redrawn.
//
// In English or Chinese (i18n.js): the last board is kept and redrawn when the language changes.
// The board is a display at the site, so its times (arrivals, slots, the clock) are in the site's
// time zone (the board's site_timezone), and the page says so.
"use strict";

const siteId = location.pathname.split("/").pop();
const $ = (selector) => document.querySelector(selector);
const TOKEN_KEY = "dispatch-token";
const i18n = window.DispatchI18n;
const t = i18n.t;

let lastBoard = null;

function time(iso, zone) {
  return iso ? i18n.time(iso, zone) : t("common.none");
}

function cell(row, text, className) {
  const td = row.insertCell();
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

// A text from the catalogue, kept as its key so that a language switch re-translates it.
function setStatus(key, className) {
  const el = $("#status");
  el.dataset.i18n = key;
  el.textContent = t(key);
  el.className = `status${className ? ` ${className}` : ""}`;
}

function statusText(ticket) {
  const key = `gate.status.${ticket.status}`;
  return i18n.has(key) ? t(key) : ticket.status;
}

function arrivalText(ticket) {
  if (ticket.waiting_for_slot) return t("gate.arrival.waits_for_slot");
  const key = `gate.arrival.${ticket.arrival}`;
  return i18n.has(key) ? t(key) : ticket.arrival;
}

function render(board) {
  lastBoard = board;
  const zone = board.site_timezone;
  $("#site-name").removeAttribute("data-i18n"); // the site's name, not the page's title
  $("#site-name").textContent = board.site_name;
  document.title = `${board.site_name} · ${t("gate.title")}`;
  $("#zone-note").textContent = t("gate.site_time", { zone });
  const docks = $("#at-docks tbody");
  docks.replaceChildren();
  for (const ticket of board.at_docks) {
    const row = docks.insertRow();
    row.className = ticket.status;
    row.dataset.plate = ticket.plate;
    cell(row, ticket.dock ? ticket.dock.name : t("common.none"), "dock");
    cell(row, ticket.plate, "plate");
    cell(row, ticket.driver_name || "");
    cell(row, statusText(ticket));
    cell(row, time(ticket.arrived_at, zone));
  }
  const waiting = $("#waiting tbody");
  waiting.replaceChildren();
  for (const ticket of board.waiting) {
    const row = waiting.insertRow();
    row.dataset.plate = ticket.plate;
    cell(row, i18n.number(ticket.position));
    cell(row, ticket.plate, "plate");
    cell(row, ticket.driver_name || "");
    const arrival = cell(row, "");
    const tag = document.createElement("span");
    tag.className = `tag ${ticket.arrival}`;
    tag.textContent = arrivalText(ticket);
    arrival.append(tag);
    cell(row, time(ticket.slot_start, zone), "slot");
    cell(row, ticket.estimated_wait_minutes ? i18n.duration(ticket.estimated_wait_minutes * 60) : t("gate.wait.next"));
  }
  $("#waiting-count").textContent = String(board.waiting.length);
  tick();
}

// The clock: the date and time at the site (the viewer's own until the first board names the zone).
function tick() {
  $("#clock").textContent = i18n.dateTime(new Date(), lastBoard ? lastBoard.site_timezone : undefined);
}

function connect(bearer) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const url = `${scheme}://${location.host}/gate/sites/${siteId}/board/live?access_token=${encodeURIComponent(bearer)}`;
  const socket = new WebSocket(url);
  socket.onopen = () => { setStatus("common.status.live", "live"); };
  socket.onmessage = (event) => { $("#board").hidden = false; render(JSON.parse(event.data)); };
  socket.onclose = (event) => {
    setStatus("common.status.reconnecting", "");
    if (event.code === 1008 || event.code === 4401 || event.code === 4403) {
      sessionStorage.removeItem(TOKEN_KEY);
      return showLogin();
    }
    setTimeout(() => connect(bearer), 2000);
  };
}

function signedIn(bearer) {
  connect(bearer);
  DispatchSignin.useUserLanguage(bearer); // the user's own language, once known; the board does not wait
}

// The form and the token come from signin.js (included before this script).
function showLogin() {
  DispatchSignin.showLoginForm($("#login"), { tokenKey: TOKEN_KEY, onSignedIn: signedIn });
}

i18n.onChange(() => { if (lastBoard) render(lastBoard); else tick(); });
setInterval(tick, 1000);
// The language first (the device's or the browser's: the user's own setting needs a session), then
// the board; a catalogue that cannot be loaded leaves the page in its English markup.
i18n.start().catch((err) => console.warn("i18n:", err)).finally(() => {
  const bearer = DispatchSignin.tokenFromFragment(TOKEN_KEY);
  if (bearer) signedIn(bearer); else showLogin();
});
