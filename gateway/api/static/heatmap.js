// The utilization heatmap: rows (spaces or types) x local hour of day, time used %.

import { h, label } from "./dom.js";

// white (0 %) through amber to deep red (100 %)
function colour(pct) {
  const p = Math.max(0, Math.min(100, pct)) / 100;
  return `hsl(${Math.round(45 - 45 * p)}, ${Math.round(40 + 50 * p)}%, ${Math.round(96 - 50 * p)}%)`;
}

export function heatmap(body) {
  if (!body.rows.length || !body.hours.length) {
    return [h("p", { class: "meta empty" }, "No business hours in this window.")];
  }
  const head = h("tr", {}, h("th", {}, body.by), body.hours.map((hr) => h("th", { class: "hour" }, String(hr).padStart(2, "0"))));
  const rows = body.rows.map((r) =>
    h("tr", { data: { row: r.id } },
      h("th", { title: `${r.spaces} space(s)` }, body.by === "type" ? label(r.label) : r.label),
      r.cells.map((c, i) => c === null
        ? h("td", { class: "cell none" })
        : h("td", {
            class: "cell",
            data: { pct: c },
            style: `background:${colour(c)}`,
            title: `${r.label} ${body.hours[i]}:00 · ${c}% used`,
          }, c >= 1 ? Math.round(c) : ""))));
  return [
    h("div", { class: "heat-wrap" }, h("table", { class: "heat" }, h("thead", {}, head), h("tbody", {}, rows))),
    h("p", { class: "meta" }, "Time used % per hour of day (site time) over the window; darker is busier."),
  ];
}
