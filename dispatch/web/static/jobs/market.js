// What the job board knows and does, apart from how it is drawn: the open jobs of the carrier's
// areas (from the market feed), the tenders offered to the organization now (GET /tenders, read
// again when the feed says one came or ended), the organization's own bid on each auction, the jobs
// awarded to it, its saved areas and the last notices. The view (main.js, cards.js, side.js) reads these fields
// and calls the actions; `onChange()` asks it to draw again.
//
// Messages are kept as functions that build their text, so that a language switch builds them
// again in the other language (a problem's `detail` stays as the API wrote it, in the language the
// request asked for).
import { api } from "../console/api.js";
import { t } from "../console/ui.js";
import { openFeed } from "./feed.js";
import { label, money } from "./format.js";

// How often the rank of the organization's active bids is read again (other carriers bid meanwhile:
// the feed carries jobs, not bids).
const REFRESH_BIDS_MS = 30_000;
const NOTICES_KEPT = 5;
const FRESH_MS = 4000;

// A problem's message (RFC 9457 `detail`), with the first field error when there is one.
export function problemText(err, fallbackKey) {
  if (err.status === 0) return t("common.signin.unreachable");
  const problem = err.problem || {};
  let text = problem.detail || problem.title || t(fallbackKey);
  if (Array.isArray(problem.errors) && problem.errors.length) {
    const e = problem.errors[0];
    text += ` (${[e.field, e.reason || e.message].filter(Boolean).join(": ")})`;
  }
  return text;
}

export class Market {
  constructor({ me, onChange, onSignedOut }) {
    this.me = me;
    this.onChange = onChange;
    this.onSignedOut = onSignedOut;
    this.jobs = new Map(); // job id → the market view of an open job in the carrier's areas
    this.bids = new Map(); // job id → the organization's own latest bid on it
    this.bidJobs = new Map(); // job id → the job as last seen, for the bids whose job left the board
    this.won = new Map(); // job id → the full view of a job awarded to the organization
    this.tenders = new Map(); // offer id → a tender offer out to the organization now, with its job
    this.fresh = new Set(); // jobs posted in the last seconds, highlighted
    this.areas = [];
    this.noAreas = false;
    this.notices = []; // newest first: {at, text, kind}
    this.status = { key: "common.status.connecting", kind: "", reconnects: 0 };
    this.focusWon = null; // a job just grabbed: its card in the awarded list takes the focus
    this.stopped = false;
    this.queue = [];
    this.workers = 0;
  }

  // The API with the session's token; a 401 means the session ended: sign in again.
  async call(method, path, body) {
    try {
      return await api(method, path, body);
    } catch (err) {
      if (err.status === 401) this.onSignedOut("common.signin.ended");
      throw err;
    }
  }

  async start() {
    await Promise.all([this.loadAreas(), this.loadWon(), this.loadTenders()]).catch(() => {});
    if (this.stopped) return; // signed out meanwhile
    this.feed = openFeed({
      onFrame: (frame) => this.handle(frame),
      onStatus: (key, kind, reconnects) => { this.status = { key, kind, reconnects }; this.onChange(); },
      onNoAreas: () => { this.noAreas = true; this.jobs.clear(); this.onChange(); },
      onRefused: () => this.onSignedOut("jobs.signout.feed_refused"),
      stillSignedIn: () => this.call("GET", "/me"),
    });
    this.ranks = setInterval(() => {
      for (const [jobId, own] of this.bids) if (own.status === "active" && this.jobs.has(jobId)) this.queueOwnBid(jobId);
    }, REFRESH_BIDS_MS);
  }

  stop() {
    this.stopped = true;
    if (this.feed) this.feed.close();
    clearInterval(this.ranks);
  }

  notice(text, kind) {
    this.notices = [{ at: new Date(), text, kind }, ...this.notices].slice(0, NOTICES_KEPT);
    this.onChange();
  }

  // ---- the feed's frames ----------------------------------------------------------------------

  handle(frame) {
    if (frame.type === "snapshot") {
      this.noAreas = false;
      this.jobs = new Map(frame.jobs.map((job) => [job.id, job]));
      for (const job of frame.jobs) if (job.mode === "auction") this.queueOwnBid(job.id);
      // A fresh snapshot after the line dropped: an auction we bid on may have closed meanwhile.
      for (const [jobId, own] of this.bids) if (own.status === "active" && !this.jobs.has(jobId)) this.settle(jobId);
      this.loadTenders().catch(() => {}); // offers that came or ended while the line was down
      this.onChange();
    } else if (frame.type === "tender.offered") {
      this.loadTenders().then(() => {
        const offer = this.tenders.get(frame.offer.id);
        if (offer) this.notice(() => t("jobs.tender.offered", { job: label(offer.job || { id: offer.job_id }), amount: money(offer.price_minor, offer.currency) }), "ok");
      }).catch(() => {});
    } else if (frame.type === "tender.ended") {
      this.tenders.delete(frame.offer.id);
      this.onChange();
    } else if (frame.type === "job.posted") {
      const known = this.jobs.has(frame.job.id);
      this.jobs.set(frame.job.id, frame.job);
      if (!known) {
        this.fresh.add(frame.job.id);
        setTimeout(() => { this.fresh.delete(frame.job.id); this.onChange(); }, FRESH_MS);
        if (frame.job.mode === "auction") this.queueOwnBid(frame.job.id);
      }
      this.onChange();
    } else if (frame.type === "job.removed") {
      const job = this.jobs.get(frame.job_id);
      this.jobs.delete(frame.job_id);
      this.onChange();
      const own = this.bids.get(frame.job_id);
      // An auction we bid on closed: won or lost? Its bidders may still read their bids.
      if (job && own && own.status === "active") this.settle(frame.job_id);
    }
    // Frames this page does not know yet are left alone.
  }

  async settle(jobId) {
    const own = await this.loadOwnBid(jobId, { evenIfGone: true });
    if (!own) return;
    const job = this.bidJobs.get(jobId);
    if (own.status === "won") {
      try {
        const awarded = await this.call("GET", `/jobs/${jobId}`);
        this.won.set(jobId, awarded);
        this.notice(() => t("jobs.won_auction", { job: label(awarded), amount: money(awarded.award_price_minor, awarded.currency) }), "ok");
      } catch (err) { /* the awarded list is read again on the next sign-in */ }
    } else if (own.status === "lost" && job) {
      this.notice(() => t("jobs.lost_auction", { job: label(job), amount: money(own.amount_minor, own.currency) }), "error");
    }
  }

  // ---- own bids -------------------------------------------------------------------------------

  // The organization's own bid on each auction, a few requests at a time.
  queueOwnBid(jobId) {
    if (!this.queue.includes(jobId)) this.queue.push(jobId);
    while (this.workers < 3 && this.queue.length) {
      this.workers += 1;
      (async () => {
        try {
          while (this.queue.length) await this.loadOwnBid(this.queue.shift());
        } finally {
          this.workers -= 1;
        }
      })();
    }
  }

  async loadOwnBid(jobId, { evenIfGone = false } = {}) {
    if (!evenIfGone && !this.jobs.has(jobId)) return null;
    let bids;
    try {
      bids = await this.call("GET", `/jobs/${jobId}/bids`);
    } catch (err) {
      return null; // signed out, offline, or no longer visible
    }
    // The latest active bid, else the latest of any status.
    const sorted = bids.slice().sort((a, b) => Date.parse(b.placed_at) - Date.parse(a.placed_at));
    const own = sorted.find((b) => b.status === "active") || sorted[0];
    if (own) {
      this.bids.set(jobId, own);
      if (this.jobs.has(jobId)) this.bidJobs.set(jobId, this.jobs.get(jobId));
    } else {
      this.bids.delete(jobId);
    }
    this.onChange();
    return own || null;
  }

  // A job's market view again (its bid count), after a bid of ours.
  async refreshJob(jobId) {
    try {
      const job = await this.call("GET", `/jobs/${jobId}`);
      if (job.status === "open" && this.jobs.has(jobId)) {
        this.jobs.set(jobId, job);
        this.onChange();
      }
    } catch (err) { /* signed out or offline */ }
  }

  // ---- actions (they throw the API's refusal, for the card to show) -----------------------------

  async grab(jobId) {
    const won = await this.call("POST", `/jobs/${jobId}/grab`);
    this.jobs.delete(jobId);
    this.won.set(won.id, won);
    this.focusWon = won.id;
    this.notice(() => t("jobs.grabbed", { job: label(won), amount: money(won.award_price_minor, won.currency) }), "ok");
    return won;
  }

  // A new bid, or the organization's active bid lowered.
  async bid(jobId, amountMinor) {
    const own = this.bids.get(jobId);
    let placed;
    try {
      placed = own && own.status === "active"
        ? await this.call("PUT", `/jobs/${jobId}/bids/${own.id}`, { amount_minor: amountMinor })
        : await this.call("POST", `/jobs/${jobId}/bids`, { amount_minor: amountMinor });
    } catch (err) {
      if (err.code === "bid_exists") this.queueOwnBid(jobId); // placed elsewhere: show it
      throw err;
    }
    this.bids.set(jobId, placed);
    if (this.jobs.has(jobId)) this.bidJobs.set(jobId, this.jobs.get(jobId));
    this.onChange();
    // Its rank and the job's bid count, read again meanwhile: the card says "placed" at once.
    this.loadOwnBid(jobId);
    this.refreshJob(jobId);
    return placed;
  }

  async withdraw(jobId) {
    const own = this.bids.get(jobId);
    const withdrawn = await this.call("POST", `/jobs/${jobId}/bids/${own.id}/withdraw`);
    this.bids.set(jobId, withdrawn);
    this.onChange();
    this.refreshJob(jobId);
    return withdrawn;
  }

  // ---- tenders ---------------------------------------------------------------------------------

  async loadTenders() {
    const offers = await this.call("GET", "/tenders?current=true");
    this.tenders = new Map(offers.map((o) => [o.id, o]));
    this.onChange();
  }

  async acceptTender(offer) {
    try {
      const won = await this.call("POST", `/tenders/${offer.id}/accept`);
      this.won.set(won.id, won);
      this.focusWon = won.id;
      this.notice(() => t("jobs.tender.accepted", { job: label(won), amount: money(won.award_price_minor, won.currency) }), "ok");
    } finally {
      this.tenders.delete(offer.id);
      this.onChange();
    }
  }

  async declineTender(offer, reason) {
    await this.call("POST", `/tenders/${offer.id}/decline`, { reason });
    this.tenders.delete(offer.id);
    this.onChange();
  }

  // ---- areas and awarded jobs -----------------------------------------------------------------

  async loadAreas() {
    this.areas = await this.call("GET", "/market/areas");
    this.onChange();
  }

  async loadWon() {
    const page = await this.call("GET", "/jobs?status=awarded&limit=50");
    for (const job of page.items) if (job.carrier_org_id === this.me.organization.id) this.won.set(job.id, job);
    this.onChange();
  }

  async saveArea(body) {
    const saved = await this.call("POST", "/market/areas", body);
    this.areas = [...this.areas, saved];
    this.notice(() => t("jobs.area.saved", { name: saved.name }), "ok");
    this.feed.reconnect(); // the feed reads the areas when it opens
  }

  async deleteArea(area) {
    try {
      await this.call("DELETE", `/market/areas/${area.id}`);
    } catch (err) {
      if (err.status !== 404) { this.notice(() => problemText(err, "jobs.area.refused"), "error"); return; }
    }
    this.areas = this.areas.filter((a) => a.id !== area.id);
    this.onChange();
    this.feed.reconnect();
  }
}
