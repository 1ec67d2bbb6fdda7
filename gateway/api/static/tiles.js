// Floors of space tiles coloured by state, with headcount against capacity.

import { ago, h, label } from "./dom.js";

// occupied, vacant, idle (vacant long enough inside business hours) or unknown
export const look = (s) => (s.state === "vacant" && s.idle ? "idle" : s.state);

function describe(s) {
  const since = ago(s.since);
  if (s.state === "occupied") return `occupied ${since}`;
  if (s.state === "unknown") return `no sensor reporting`;
  return s.idle ? `idle for ${since}` : `vacant ${since}`;
}

export function tile(s) {
  const head = s.occupancy === null ? `cap ${s.capacity}` : `${s.occupancy}/${s.capacity}`;
  return h(
    "div",
    {
      class: `tile ${look(s)}`,
      data: { space: s.id, state: s.state, look: look(s), floor: s.floor, type: s.type },
      title: `${s.name} (${s.floor_name}): ${s.state} since ${new Date(s.since).toLocaleString()}`,
    },
    h("div", { class: "name" }, s.name),
    h("div", { class: "count" }, head),
    h("div", { class: "sub" }, `${label(s.type)} · ${describe(s)}`),
  );
}

export function floors(spaces, filter) {
  const byFloor = new Map();
  for (const s of spaces) {
    if (filter.floor && s.floor !== filter.floor) continue;
    if (filter.type && s.type !== filter.type) continue;
    if (!byFloor.has(s.floor)) byFloor.set(s.floor, []);
    byFloor.get(s.floor).push(s);
  }
  const out = [];
  for (const [floor, list] of byFloor) {
    const used = list.filter((s) => s.state === "occupied").length;
    out.push(
      h("section", { class: "floor", data: { floor } },
        h("h3", {}, list[0].floor_name, h("span", { class: "meta" }, ` ${used} of ${list.length} in use`)),
        h("div", { class: "tiles" }, list.map(tile))),
    );
  }
  return out.length ? out : [h("p", { class: "meta" }, "No spaces match the filter.")];
}

// `values` are the options' values; `names` what each shows (by default the value, readable)
export function options(select, values, current, names = label) {
  const first = select.firstElementChild;
  select.replaceChildren(first, ...values.map((v) => h("option", { value: v, selected: v === current }, names(v))));
}
