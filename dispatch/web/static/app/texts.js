// How a load, its times, its booking and its ticket read on the phone: in the site's time zone and
// the page's language, every format through DispatchI18n.
const I = window.DispatchI18n;
const t = (key, params) => I.t(key, params);

export const zoneOf = (load) => (load && load.pickup_site && load.pickup_site.timezone) || undefined;
export const loadNumber = (load) => load.load_number || t("app.load.number_seq", { seq: load.seq });

// A text kept as {key, params} (a parameter that must be formatted is a function) or {text}.
export function say(message) {
  if (!message) return "";
  if (message.text !== undefined) return message.text;
  const params = {};
  for (const [name, value] of Object.entries(message.params || {})) {
    params[name] = typeof value === "function" ? value() : value;
  }
  return t(message.key, params);
}

export function cargoText(load) {
  const c = load.cargo;
  if (typeof c === "string") return c;
  if (c && (c.summary || c.description)) return c.summary || c.description;
  return I.weight(load.weight_kg);
}

export function windowText(load) {
  const w = load.pickup_window || { from: load.pickup_from, until: load.pickup_until };
  const zone = zoneOf(load);
  if (!w || !w.from) return t("common.none");
  const sameDay = I.date(w.from, zone) === I.date(w.until, zone);
  return `${I.dateTime(w.from, zone)} – ${sameDay ? I.time(w.until, zone) : I.dateTime(w.until, zone)}`;
}

// A site's name and address, once each (an address often starts with the name already).
export function placeText(place) {
  if (!place.name || (place.address || "").startsWith(place.name)) return place.address || place.name || "";
  return `${place.name}, ${place.address}`;
}

export const isBooked = (load) => Boolean(load.booking && load.booking.status === "booked");

export function bookingText(load) {
  const b = load.booking;
  if (!b || b.status === "cancelled") return t("app.load.no_booking");
  const zone = zoneOf(load);
  return `${I.dateTime(b.slot_start, zone)} – ${I.time(b.slot_end, zone)}`;
}

export function statusText(load) {
  const key = `app.state.${load.state || load.status}`;
  return I.has(key) ? t(key) : load.state || load.status;
}

export function ticketLine(ticket) {
  switch (ticket.status) {
    case "waiting": return t("app.ticket.place", { position: ticket.position });
    case "called": return t("app.call.go", { dock: ticket.dock ? ticket.dock.name : "" });
    case "loading": return t("app.ticket.loading", { dock: ticket.dock ? ticket.dock.name : "" });
    case "loaded": return t("app.ticket.loaded");
    default: return t("app.ticket.departed");
  }
}

export function ticketDetail(ticket) {
  const waiting = ticket.status === "waiting";
  return [
    waiting && ticket.waiting_for_slot ? t("app.ticket.early") : "",
    waiting && ticket.estimated_wait_minutes
      ? t("app.ticket.wait", { minutes: I.duration(ticket.estimated_wait_minutes * 60) })
      : waiting && !ticket.waiting_for_slot ? t("app.ticket.next") : "",
  ].filter(Boolean).join(" · ");
}

// Straight-line distance (haversine) in metres between two {lat, lon}.
export function distanceM(a, b) {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * 6_371_000 * Math.asin(Math.sqrt(h));
}

const CN_ZONES = new Set(["Asia/Shanghai", "Asia/Chongqing", "Asia/Harbin", "Asia/Urumqi", "Asia/Kashgar"]);

// The route in the phone's maps app: a geo: URI (Android asks which app), and links for the maps most
// drivers use; AMap and Baidu for sites in China (they take WGS-84 when told so).
export function mapLinks(load) {
  const site = load.pickup_site;
  if (!site || !site.location) return null;
  const { lat, lon } = site.location;
  const name = encodeURIComponent(site.name);
  const links = [
    ["app.maps.google", `https://www.google.com/maps/dir/?api=1&destination=${lat},${lon}`],
    ["app.maps.apple", `https://maps.apple.com/?daddr=${lat},${lon}&q=${name}`],
  ];
  if (CN_ZONES.has(zoneOf(load))) {
    links.unshift(
      ["app.maps.amap", `https://uri.amap.com/navigation?to=${lon},${lat},${name}&coordinate=wgs84&callnative=1`],
      ["app.maps.baidu", `https://api.map.baidu.com/marker?location=${lat},${lon}&title=${name}&content=${name}&coord_type=wgs84&output=html&src=dispatch.driver`],
    );
  }
  return { geo: `geo:${lat},${lon}?q=${lat},${lon}(${name})`, links };
}
