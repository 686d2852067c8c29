// How the job board writes a job's facts: money in the job's currency, weights, distances and times
// for the page's language (DispatchI18n, i.e. Intl), never by hand. Pure functions of their
// arguments and the language, called at render time so that a language switch rewrites them all.
import { t } from "../console/ui.js";

const i18n = window.DispatchI18n;

// The number of decimals of a currency's minor unit (EUR 2, JPY 0), as Intl knows it.
export function digits(currency) {
  try {
    return new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits;
  } catch (err) {
    return 2;
  }
}

// An amount in minor units with the currency's symbol as the language writes it (€2,500.00; ¥ in zh-CN).
export function money(minor, currency) {
  if (minor === null || minor === undefined) return t("common.none");
  try {
    return i18n.money(minor, currency);
  } catch (err) {
    return `${i18n.number(minor / 10 ** digits(currency), digits(currency))} ${currency}`;
  }
}

// "2450.50" (or "2450,50") in the currency's major unit → 245050 minor units; null when it is not
// a positive amount, which the page says in its own words before asking the API.
export function toMinor(text, currency) {
  const value = Number(String(text).trim().replace(",", "."));
  if (String(text).trim() === "" || !Number.isFinite(value) || value <= 0) return null;
  return Math.round(value * 10 ** digits(currency));
}

// Open jobs carry no reference (only the parties see it): they are named by the id's first characters.
export function label(job) {
  return job.reference ? job.reference : t("jobs.label", { id: job.id.slice(0, 8) });
}

export function vehicleName(type) {
  return i18n.has(`jobs.vehicle.${type}`) ? t(`jobs.vehicle.${type}`) : type;
}

export function cargoKindName(kind) {
  return i18n.has(`jobs.cargo_kind.${kind}`) ? t(`jobs.cargo_kind.${kind}`) : kind;
}

export function placeName(place) {
  if (!place) return t("common.none");
  return place.name || place.address || `${place.location.lat.toFixed(3)}, ${place.location.lon.toFixed(3)}`;
}

// The addresses (when names are shown above them) and the distance between the two places.
export function addressLine(job) {
  const addresses = [job.origin, job.destination].filter((p) => p && p.name && p.address).map((p) => p.address);
  const line = addresses.length ? [addresses.join(" → ")] : [];
  if (typeof job.distance_km === "number") line.push(i18n.distance(Math.round(job.distance_km) * 1000));
  return line.join(" · ");
}

export function cargoText(job) {
  const parts = [i18n.weight(job.total_weight_kg)];
  if (job.total_volume_m3) parts.push(i18n.volume(job.total_volume_m3));
  const cargo = job.cargo || {};
  if (job.cargo_kind === "items" && Array.isArray(cargo.lines)) {
    const count = cargo.lines.reduce((n, line) => n + (line.count || 0), 0);
    const names = cargo.lines.map((line) => `${line.count} × ${line.description}`);
    parts.push(t("jobs.cargo.items", {
      items: t("common.unit.items", { count }),
      names: `${names.slice(0, 3).join(", ")}${names.length > 3 ? ", …" : ""}`,
    }));
  } else if (cargo.description) {
    parts.push(t("jobs.cargo.bulk", { description: cargo.description }));
  }
  return parts.join(" · ");
}

// A date and time in the viewer's zone; withDay false: the time alone.
export function when(iso, withDay = true) {
  return withDay ? i18n.dateTime(iso) : i18n.time(iso);
}

export function windowText(from, until) {
  const sameDay = new Date(from).toDateString() === new Date(until).toDateString();
  return t("jobs.window", { from: when(from), until: when(until, !sameDay) });
}

// The time left until `iso` at `now` (ms), e.g. "1 h 05 min 09 s".
export function countdown(iso, now) {
  const s = Math.floor((Date.parse(iso) - now) / 1000);
  if (s <= 0) return t("jobs.countdown.closing");
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const two = (n) => String(n).padStart(2, "0");
  if (d) return t("jobs.countdown.days", { days: d, hours: h, minutes: m });
  if (h) return t("jobs.countdown.hours", { hours: h, minutes: two(m), seconds: two(s % 60) });
  return t("jobs.countdown.minutes", { minutes: m, seconds: two(s % 60) });
}

// A bid's standing as the carrier reads it: " — rank 1 of 3" while active, else " (lost)".
export function standing(bid) {
  if (bid.status === "active" && bid.rank) return t("jobs.own_bid_rank", { rank: bid.rank, total: bid.active_bids });
  const key = `jobs.bid_status.${bid.status}`;
  return t("jobs.own_bid_status", { status: i18n.has(key) ? t(key) : bid.status });
}

// The same, as a list entry reads it: "rank 1 of 3", "lost".
export function standingWord(bid) {
  if (bid.status === "active" && bid.rank) return t("jobs.standing.rank", { rank: bid.rank, total: bid.active_bids });
  const key = `jobs.bid_status.${bid.status}`;
  return i18n.has(key) ? t(key) : bid.status;
}
