// The gate board: the site's yard, live. The page takes a bearer token from the URL fragment
// (#token=..., never sent to the server in the URL) or asks gate staff to sign in, then opens the
// board's websocket; every frame is the whole board, so it is simply redrawn.
"use strict";

const siteId = location.pathname.split("/").pop();
const $ = (selector) => document.querySelector(selector);
const TOKEN_KEY = "dispatch-token";

function time(iso) {
  return iso ? new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) : "–";
}

function cell(row, text, className) {
  const td = row.insertCell();
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function render(board) {
  $("#site-name").textContent = board.site_name;
  const docks = $("#at-docks tbody");
  docks.replaceChildren();
  for (const t of board.at_docks) {
    const row = docks.insertRow();
    row.className = t.status;
    row.dataset.plate = t.plate;
    cell(row, t.dock ? t.dock.name : "–", "dock");
    cell(row, t.plate, "plate");
    cell(row, t.driver_name || "");
    cell(row, t.status === "called" ? "go to dock" : t.status);
    cell(row, time(t.arrived_at));
  }
  const waiting = $("#waiting tbody");
  waiting.replaceChildren();
  for (const t of board.waiting) {
    const row = waiting.insertRow();
    row.dataset.plate = t.plate;
    cell(row, String(t.position));
    cell(row, t.plate, "plate");
    cell(row, t.driver_name || "");
    const arrival = cell(row, "");
    const tag = document.createElement("span");
    tag.className = `tag ${t.arrival}`;
    tag.textContent = t.waiting_for_slot ? "early – waits for slot" : t.arrival.replace("_", " ");
    arrival.append(tag);
    cell(row, time(t.slot_start));
    cell(row, t.estimated_wait_minutes ? `${t.estimated_wait_minutes} min` : "next");
  }
  $("#waiting-count").textContent = String(board.waiting.length);
}

function connect(bearer) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const url = `${scheme}://${location.host}/gate/sites/${siteId}/board/live?access_token=${encodeURIComponent(bearer)}`;
  const socket = new WebSocket(url);
  socket.onopen = () => { $("#status").textContent = "live"; $("#status").className = "status live"; };
  socket.onmessage = (event) => { $("#board").hidden = false; render(JSON.parse(event.data)); };
  socket.onclose = (event) => {
    $("#status").textContent = "reconnecting…";
    $("#status").className = "status";
    if (event.code === 1008 || event.code === 4401 || event.code === 4403) {
      sessionStorage.removeItem(TOKEN_KEY);
      return showLogin();
    }
    setTimeout(() => connect(bearer), 2000);
  };
}

// The form and the token come from signin.js (included before this script).
function showLogin() {
  DispatchSignin.showLoginForm($("#login"), { tokenKey: TOKEN_KEY, onSignedIn: connect });
}

setInterval(() => { $("#clock").textContent = new Date().toLocaleTimeString(); }, 1000);
const bearer = DispatchSignin.tokenFromFragment(TOKEN_KEY);
if (bearer) connect(bearer); else showLogin();
