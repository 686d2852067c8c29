// The tracking page's live state: who is watching (a session token, a share link, or nobody yet),
// the tracking websocket, and every load as drawn (trail, last seq seen, status, ETA, timeline,
// receipt). The page's components read `tracker.state` and re-render on `tracker.subscribe`.
//
// The socket: a snapshot first, then points, events, the receipt and a final frame; before the
// trip, `approach` frames move the truck on its way to the pickup (their fixes have no seq). The tracker
// keeps the last point seq seen per load, so when the socket drops (or the server reports a gap)
// it reconnects with ?after=<load>:<seq>,... and gets exactly the points it missed.
//
// Credentials: a bearer token from the URL fragment (#token=..., never sent to the server in the
// URL), a share link (#share=... or ?share=...), or the sign-in form (then `signedIn(token)`).
// The console's session key (console/api.js): one sign-in per browser tab for every page.
const TOKEN_KEY = "dispatch.console.token";
const SILENCE_MS = 60_000; // the server pings after 25 s of silence: twice that means the line is dead
const MAX_BACKOFF_MS = 30_000;
const COLORS = ["#d49a00", "#1f8fc4", "#d6246e", "#1c7c45", "#e06a1b", "#7c4dff", "#c0392b", "#5c8a00"];

export function createTracker(kind, targetId) {
  const shareKey = `dispatch-share-${targetId}`;
  const listeners = new Set();
  const state = {
    credential: null, // {token} or {share}
    login: null, // {messageKey} while the sign-in form shows
    me: null, // GET /me of a signed-in viewer
    status: { key: "common.status.connecting", className: "" },
    job: null,
    loads: new Map(), // load_id -> the load as drawn
    ended: null, // null, or the catalogue key of the note once the stream has ended
    socket: null,
    attempt: 0, // reconnections since the last snapshot, for the backoff
    refusals: 0, // sockets refused before opening while the server was up
    reconnects: 0,
    timer: null,
    watchdog: null,
  };
  const changed = () => { for (const listener of listeners) listener(); };

  function credential() {
    const hash = new URLSearchParams(location.hash.slice(1));
    const query = new URLSearchParams(location.search);
    const share = hash.get("share") || query.get("share");
    const token = hash.get("token");
    if (share || token) {
      if (share) sessionStorage.setItem(shareKey, share);
      if (token) { sessionStorage.setItem(TOKEN_KEY, token); if (!share) sessionStorage.removeItem(shareKey); }
      query.delete("share");
      const rest = query.toString();
      history.replaceState(null, "", location.pathname + (rest ? `?${rest}` : ""));
    }
    const stored = sessionStorage.getItem(shareKey);
    if (stored) return { share: stored };
    const bearer = sessionStorage.getItem(TOKEN_KEY);
    return bearer ? { token: bearer } : null;
  }

  // `key`: a catalogue text, translated at render time (a language switch re-translates it).
  function setStatus(key, className) {
    state.status = { key, className };
    document.body.dataset.reconnects = String(state.reconnects);
    changed();
  }

  function showLogin(messageKey) {
    state.login = { messageKey: messageKey || null };
    state.me = null; // whoever signs in next is asked again
    setStatus("common.status.signed_out", "");
  }

  // The sign-in form's success: watch as this user, not by a share link.
  function signedIn(token) {
    sessionStorage.setItem(TOKEN_KEY, token);
    sessionStorage.removeItem(shareKey);
    state.credential = { token };
    state.login = null;
    state.refusals = 0;
    connect();
    changed();
  }

  function socketUrl(cursor) {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const params = new URLSearchParams();
    if (state.credential.share) params.set("share", state.credential.share);
    else params.set("access_token", state.credential.token);
    if (cursor.length) params.set("after", cursor.map(([id, seq]) => `${id}:${seq}`).join(","));
    return `${scheme}://${location.host}/tracking/${kind}/${targetId}/live?${params}`;
  }

  function connect() {
    clearTimeout(state.timer);
    state.timer = null;
    // The cursor: every load we have points of, at the last seq seen. Loads without points get their
    // whole trail in the snapshot.
    const cursor = [...state.loads.values()].filter((l) => l.lastSeq > 0).map((l) => [l.id, l.lastSeq]);
    const socket = new WebSocket(socketUrl(cursor));
    socket.cursor = new Set(cursor.map(([id]) => id));
    socket.opened = false;
    state.socket = socket;
    socket.onopen = () => { socket.opened = true; keepAlive(socket); };
    socket.onmessage = (event) => {
      if (socket !== state.socket) return;
      keepAlive(socket);
      let frame;
      try { frame = JSON.parse(event.data); } catch (err) { return; }
      handle(socket, frame);
    };
    socket.onclose = (event) => {
      if (socket !== state.socket) return;
      state.socket = null;
      clearTimeout(state.watchdog);
      if (state.ended) return;
      if (event.code === 1008 || event.code === 4401 || event.code === 4403) { refused(true); return; }
      if (!socket.opened) { refusedOrDown(); return; }
      reconnectLater();
    };
  }

  // Drop the current socket (without waiting for its close) and connect again from the cursor.
  function resync() {
    const socket = state.socket;
    if (socket) {
      state.socket = null;
      socket.onmessage = socket.onclose = null;
      try { socket.close(1000); } catch (err) { /* already closing */ }
    }
    clearTimeout(state.watchdog);
    if (!state.ended) reconnectLater(state.attempt === 0 ? 0 : undefined);
  }

  function reconnectLater(delay) {
    if (state.timer) return;
    state.reconnects += 1;
    setStatus("common.status.reconnecting", "");
    const backoff = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** state.attempt) * (0.75 + Math.random() / 2);
    state.attempt += 1;
    state.timer = setTimeout(connect, delay ?? backoff);
  }

  function keepAlive(socket) {
    clearTimeout(state.watchdog);
    state.watchdog = setTimeout(() => { if (socket === state.socket) resync(); }, SILENCE_MS);
  }

  // The handshake was refused (nothing tells a browser why) or the server is down: find out which.
  async function refusedOrDown() {
    try {
      if (state.credential.token) {
        const me = await fetch("/me", { headers: { authorization: `Bearer ${state.credential.token}` } });
        if (me.status === 401) { refused(true); return; }
        if (!me.ok) { reconnectLater(); return; }
      } else if (!(await fetch("/healthz")).ok) {
        reconnectLater();
        return;
      }
    } catch (err) {
      reconnectLater(); // the server is down: keep trying
      return;
    }
    state.refusals += 1;
    if (state.refusals >= 3) refused(false); else reconnectLater();
  }

  function refused(sessionGone) {
    if (state.credential.token && sessionGone) {
      sessionStorage.removeItem(TOKEN_KEY);
      showLogin("common.signin.ended");
      return;
    }
    if (state.credential.share) {
      sessionStorage.removeItem(shareKey);
      setStatus("track.share_expired", "error");
      return;
    }
    // Signed in, but as someone who may not watch this delivery (or it does not exist): offer to
    // sign in as someone else.
    sessionStorage.removeItem(TOKEN_KEY);
    state.login = { messageKey: "track.no_access_signin" };
    setStatus("track.no_access", "error");
  }

  // ---- frames -------------------------------------------------------------------------------------

  function handle(socket, frame) {
    switch (frame.type) {
      case "snapshot": onSnapshot(socket, frame); break;
      case "points": onPoints(frame); break;
      case "event": onEvent(frame); break;
      case "received": onReceived(frame); break;
      case "approach": onApproach(frame); break;
      case "final": onFinal(frame); break;
      case "gap": resync(); break;
      default: break; // "ping", and frames this page does not know yet
    }
  }

  function onSnapshot(socket, frame) {
    state.job = frame.job;
    state.attempt = 0;
    state.refusals = 0;
    const seen = new Set();
    frame.loads.forEach((track, index) => {
      seen.add(track.load_id);
      let load = state.loads.get(track.load_id);
      if (!load) {
        load = { id: track.load_id, trail: [], lastSeq: 0, color: COLORS[state.loads.size % COLORS.length] };
        state.loads.set(track.load_id, load);
      }
      Object.assign(load, {
        number: track.seq ?? index + 1, plate: track.plate, status: track.status, eta: track.eta,
        receipt: track.receipt, timeline: (track.timeline || []).slice(), pointsTotal: track.points_total,
        approach: track.approach || null,
      });
      if (track.last && !newer(load.last, track.last)) load.last = track.last;
      if (!(frame.resumed && socket.cursor.has(track.load_id))) {
        // Not resumed for this load: the snapshot's trail is the whole story so far.
        load.trail = (track.trail || []).map(([lon, lat]) => ({ lon, lat, t: -Infinity }));
        load.lastSeq = track.last_seq || 0;
      }
    });
    for (const id of [...state.loads.keys()]) if (!seen.has(id)) state.loads.delete(id);
    setStatus("common.status.live", "live");
  }

  function onPoints(frame) {
    const load = state.loads.get(frame.load_id);
    if (!load) { resync(); return; } // a load the snapshot did not have: start over
    for (const p of frame.points) {
      if (p.seq <= load.lastSeq) continue; // seen already
      if (p.seq !== load.lastSeq + 1) { resync(); return; } // a hole: fetch it from the cursor
      insertPoint(load, p);
      load.lastSeq = p.seq;
      if (load.pointsTotal !== undefined) load.pointsTotal += 1;
    }
    if (frame.status) load.status = frame.status;
    if (frame.eta !== undefined) load.eta = frame.eta;
    changed();
  }

  function onEvent(frame) {
    const load = state.loads.get(frame.load_id);
    if (!load) { resync(); return; }
    addTimeline(load, frame.event);
    if (frame.status) load.status = frame.status;
    changed();
  }

  // The drive to the pickup (no seq: not the trip's points): where the truck is, and its ETA there.
  function onApproach(frame) {
    const load = state.loads.get(frame.load_id);
    if (!load) { resync(); return; }
    load.approach = frame.approach;
    if (frame.status) load.status = frame.status;
    changed();
  }

  function onReceived(frame) {
    const load = state.loads.get(frame.load_id);
    if (!load) { resync(); return; }
    load.receipt = frame.receipt;
    load.status = "received";
    if (!load.timeline.some((e) => e.type === "load.received")) {
      const r = frame.receipt || {};
      addTimeline(load, { type: "load.received", at: r.received_at || r.confirmed_at || r.created_at || r.at
                          || new Date().toISOString(), data: {} });
    }
    changed();
  }

  function onFinal(frame) {
    clearTimeout(state.watchdog);
    clearTimeout(state.timer);
    const delivered = !frame.reason || frame.reason === "received";
    state.ended = delivered ? "track.delivered" : "track.ended_note";
    setStatus(delivered ? "track.delivered" : "track.ended", "ended");
  }

  // ---- start ----------------------------------------------------------------------------------------

  function start() {
    state.credential = credential();
    if (!state.credential) { showLogin(); return; }
    connect();
  }

  // Back online while waiting to reconnect: try now.
  window.addEventListener("online", () => {
    if (state.timer) { clearTimeout(state.timer); state.timer = null; connect(); }
  });

  return {
    state,
    start,
    signedIn,
    setMe(me) { state.me = me; changed(); },
    subscribe(listener) { listeners.add(listener); return () => listeners.delete(listener); },
  };
}

// Points come in seq order (the order they were stored), which is time order except for late ones.
function insertPoint(load, p) {
  const t = Date.parse(p.recorded_at);
  const point = { lon: p.lon, lat: p.lat, t };
  let i = load.trail.length;
  while (i > 0 && load.trail[i - 1].t > t) i -= 1;
  load.trail.splice(i, 0, point);
  if (!newer(load.last, p)) load.last = p;
}

// Whether point a was recorded after point b.
function newer(a, b) {
  return Boolean(a && a.recorded_at && b.recorded_at && Date.parse(a.recorded_at) > Date.parse(b.recorded_at));
}

function addTimeline(load, event) {
  if (!event || load.timeline.some((e) => e.type === event.type && e.at === event.at)) return;
  load.timeline.push(event);
  load.timeline.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
}
