// The side panels: free now, air quality, devices offline, alerts, work orders,
// utilization bands and recommendations.

import { ago, clock, h, label, now } from "./dom.js";

// Comfort limits (the alerts' defaults): outside them a reading is highlighted.
export const LIMITS = {
  co2_ppm: { max: 1000, unit: "ppm", name: "CO₂" },
  temperature_c: { min: 19, max: 25, unit: "°C", name: "temp" },
  humidity_pct: { min: 25, max: 65, unit: "%", name: "RH" },
};

const empty = (text) => h("p", { class: "meta empty" }, text);

export function freeNow(spaces, released, unverified = null) {
  const names = new Map(spaces.map((sp) => [sp.id, sp.name]));
  const room = (b) => h("b", {}, names.get(b.space) ?? b.space);
  const idle = spaces.filter((s) => s.state === "vacant" && s.idle)
    .sort((a, b) => Date.parse(a.since) - Date.parse(b.since));
  const list = idle.map((s) =>
    h("li", { data: { space: s.id } },
      h("b", {}, s.name), ` ${label(s.type)}, ${s.capacity} seats · idle since ${clock(s.since)} (${ago(s.since)})`));
  const out = [list.length ? h("ul", { class: "list" }, list) : empty("Nothing idle right now.")];
  if (released !== null) {
    out.push(h("h4", {}, "Ghost bookings released today"));
    out.push(released.length
      ? h("ul", { class: "list" }, released.map((b) =>
          h("li", { data: { booking: b.id } }, room(b),
            ` ${clock(b.start)}–${clock(b.end)} · released ${b.released_at ? clock(b.released_at) : ""}`)))
      : empty("None released today."));
  }
  if (unverified !== null && unverified.length) {
    out.push(h("h4", {}, "Bookings unverified today (sensors offline)"));
    out.push(h("ul", { class: "list" }, unverified.map((b) =>
      h("li", { data: { booking: b.id, outcome: "unverified" } }, room(b),
        ` ${clock(b.start)}–${clock(b.end)} · not released: no live sensor during the grace period`))));
  }
  return out;
}

function reading(q, r) {
  if (!r) return h("td", {}, "–");
  const lim = LIMITS[q];
  const v = Number(r.value);
  const bad = (lim.max !== undefined && v > lim.max) || (lim.min !== undefined && v < lim.min);
  return h("td", { class: bad ? "bad" : "ok", data: { q } }, `${Math.round(v * 10) / 10} ${lim.unit}`);
}

export function airQuality(devices, spaces) {
  const names = new Map(spaces.map((s) => [s.id, s.name]));
  const bySpace = new Map();
  for (const d of devices) {
    if (!d.space || !d.online) continue;
    for (const q of Object.keys(LIMITS)) {
      const r = d.readings[q];
      if (!r) continue;
      const row = bySpace.get(d.space) ?? {};
      if (!row[q] || Date.parse(r.ts) > Date.parse(row[q].ts)) row[q] = r;
      bySpace.set(d.space, row);
    }
  }
  if (!bySpace.size) return [empty("No environment readings yet.")];
  const rows = [...bySpace].sort().map(([sid, row]) =>
    h("tr", { data: { space: sid } }, h("th", {}, names.get(sid) ?? sid),
      Object.keys(LIMITS).map((q) => reading(q, row[q]))));
  return [h("table", { class: "grid" },
    h("thead", {}, h("tr", {}, h("th", {}, "space"), Object.values(LIMITS).map((l) => h("th", {}, l.name)))),
    h("tbody", {}, rows))];
}

export function offline(devices) {
  const down = devices.filter((d) => d.bound && !d.online);
  if (!down.length) return [empty("Every device is online.")];
  return [h("ul", { class: "list" }, down.map((d) =>
    h("li", { data: { device: d.id } }, h("b", {}, d.id), ` ${d.space ?? "no space"} · ${d.profile}`,
      d.last_seen ? ` · last seen ${ago(d.last_seen)} ago` : " · never seen")))];
}

export function alerts(body) {
  if (body === null) return null;
  if (!body.data.length) return [empty("No open alerts.")];
  return [h("ul", { class: "list" }, body.data.map((a) =>
    h("li", { class: "alert", data: { alert: a.id } }, h("b", {}, a.kind), ` ${a.message} · ${ago(a.raised_at)} ago`)))];
}

export function workOrders(body) {
  if (body === null) return null;
  const open = body.data.filter((w) => w.status !== "done");
  if (!open.length) return [empty("No open work orders.")];
  return [h("ul", { class: "list" }, open.map((w) =>
    h("li", { data: { order: w.id } }, h("b", {}, `#${w.id} ${w.title}`),
      ` ${w.status.replaceAll("_", " ")}${w.assignee ? ` · ${w.assignee}` : ""} · ${ago(w.updated_at)} ago`)))];
}

const pct = (v) => (v === null || v === undefined ? "–" : `${v}%`);

export function bands(report) {
  const rows = report.data.slice().sort((a, b) => (b.time_used_pct ?? -1) - (a.time_used_pct ?? -1));
  return [h("table", { class: "grid" },
    h("thead", {}, h("tr", {}, ["space", "used", "avg util", "peak", "band"].map((t) => h("th", {}, t)))),
    h("tbody", {}, rows.map((r) =>
      h("tr", { data: { space: r.id } }, h("th", {}, r.name ?? r.id), h("td", {}, pct(r.time_used_pct)),
        h("td", {}, pct(r.avg_utilization_pct)), h("td", {}, r.peak_occupancy ?? "–"),
        h("td", {}, r.band ? h("span", { class: `band ${r.band}` }, r.band) : "–")))))];
}

function figures(f) {
  return Object.entries(f).filter(([, v]) => v !== null && typeof v !== "object")
    .map(([k, v]) => `${k.replaceAll("_", " ")} ${v}`).join(" · ");
}

export function recommendations(body) {
  const out = [];
  const ns = body.no_show;
  if (ns && ns.required_checkin) {
    out.push(h("p", { class: "meta" },
      `No-show rate ${ns.rate === null ? "–" : `${Math.round(ns.rate * 100)}%`} (${ns.released} released of ${ns.required_checkin} bookings needing check-in${ns.unverified ? `; ${ns.unverified} unverified, sensors offline` : ""})`));
  }
  if (!body.data.length) return [...out, empty(`No recommendations over the last ${body.days} days.`)];
  out.push(h("ul", { class: "list" }, body.data.map((r) =>
    h("li", { data: { space: r.space, kind: r.kind } }, h("b", {}, `${r.name}: ${label(r.kind)}`),
      ` ${r.suggestion}`, h("div", { class: "meta" }, figures(r.figures))))));
  return out;
}

// Notices worth a line in the feed; others (idle episodes, ...) show on the tiles already.
export const NOTICE_TYPES = new Set(["booking_released", "alert", "alert_cleared", "work_order"]);

export function notice(n) {
  const what = n.type === "booking_released" ? `ghost booking released: ${n.space} is free again`
    : n.type === "alert" ? `alert: ${n.message ?? n.kind ?? ""}`
    : n.type === "alert_cleared" ? `alert cleared: ${n.kind ?? ""} ${n.subject ?? ""}`
    : `work order #${n.id ?? ""} ${n.status ?? ""}: ${n.title ?? ""}`;
  return h("li", { data: { notice: n.type } }, h("span", { class: "meta" }, clock(new Date(now()).toISOString())), ` ${what}`);
}
