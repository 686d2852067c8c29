// The market feed (websocket /market/feed, dispatch/market/api.py): a snapshot first, then
// job.posted and job.removed frames, both idempotent. Its own module rather than api.js's `live()`:
// this feed's close codes mean different things (4404: no saved area, nothing to watch; 1008, 4401,
// 4403: refused; 4008: too slow, come back at once for a fresh snapshot), and a dropped line comes
// back with a jittered exponential backoff (1 s doubling to 30 s) rather than a fixed pause, as the
// market's README promises for a board that many carriers keep open.
import { session } from "../console/api.js";

const MAX_BACKOFF_MS = 30_000;

// `onStatus(key, kind, reconnects)`: the catalogue key of the line's state ("live", "reconnecting…"),
// `onNoAreas()`: closed with 4404, `onRefused()`: the feed refuses this account, `stillSignedIn()`:
// resolves when GET /me still answers (a handshake the browser saw refused without a reason: was it
// the account or the server?), rejects when it does not.
export function openFeed({ onFrame, onStatus, onNoAreas, onRefused, stillSignedIn }) {
  let socket = null;
  let timer = null;
  let attempt = 0; // reconnections since the last snapshot, for the backoff
  let refusals = 0;
  let reconnects = 0;
  let stopped = false;

  const status = (key, kind = "") => onStatus(key, kind, reconnects);

  function drop() {
    const old = socket;
    socket = null;
    if (old) {
      old.onclose = old.onmessage = old.onopen = null;
      try { old.close(1000); } catch (err) { /* already closing */ }
    }
  }

  function connect() {
    clearTimeout(timer);
    timer = null;
    if (stopped || !session.token) return;
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const url = `${scheme}://${location.host}/market/feed?access_token=${encodeURIComponent(session.token)}`;
    const current = new WebSocket(url);
    let opened = false;
    socket = current;
    status(reconnects ? "common.status.reconnecting" : "common.status.connecting");
    current.onopen = () => { opened = true; };
    current.onmessage = (event) => {
      if (current !== socket) return;
      let frame;
      try { frame = JSON.parse(event.data); } catch (err) { return; }
      if (frame.type === "snapshot") {
        attempt = 0;
        refusals = 0;
        status("common.status.live", "live");
      }
      onFrame(frame);
    };
    current.onclose = (event) => {
      if (current !== socket) return;
      socket = null;
      if (event.code === 4404) { status("jobs.status.no_area", "warn"); onNoAreas(); return; }
      if (event.code === 1008 || event.code === 4401 || event.code === 4403) { onRefused(); return; }
      if (!opened) { refusedOrDown(); return; }
      later(event.code === 4008 ? 0 : undefined);
    };
  }

  function later(delay) {
    if (timer || stopped) return;
    reconnects += 1;
    status("common.status.reconnecting");
    const backoff = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** attempt) * (0.75 + Math.random() / 2);
    attempt += 1;
    timer = setTimeout(connect, delay ?? backoff);
  }

  async function refusedOrDown() {
    try {
      await stillSignedIn();
    } catch (err) {
      if (err.status === 401) return; // signed out: the page shows the sign-in
      later(); // the server is down or busy: keep trying
      return;
    }
    refusals += 1;
    if (refusals >= 3) onRefused(); else later();
  }

  // Back online: try at once rather than at the end of the backoff.
  const online = () => { if (timer) connect(); };
  addEventListener("online", online);
  connect();

  return {
    // The saved areas changed: the feed reads them when it opens, so open a new one now.
    reconnect() { drop(); clearTimeout(timer); timer = null; attempt = 0; connect(); },
    close() { stopped = true; clearTimeout(timer); removeEventListener("online", online); drop(); },
  };
}
