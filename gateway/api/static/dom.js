// Small DOM helpers: elements are built with textContent, never from HTML strings.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") el.className = v;
    else if (k === "data") Object.assign(el.dataset, v);
    else if (k === "style") el.style.cssText = v;
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

// The gateway's clock, from its health: in `gateway demo` the simulator's, `speed` times
// faster than the browser's, so "idle for" and "today" follow the simulated day.
let gatewayClock = { at: Date.now(), local: Date.now(), speed: 1 };
export function setClock(iso, speed) {
  gatewayClock = { at: Date.parse(iso), local: Date.now(), speed };
}
export const now = () => gatewayClock.at + (Date.now() - gatewayClock.local) * gatewayClock.speed;
export const clockSpeed = () => gatewayClock.speed;

export function ago(iso, t = now()) {
  const s = Math.max(0, (t - Date.parse(iso)) / 1000);
  if (s < 90) return `${Math.round(s)} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  if (s < 172800) return `${(s / 3600).toFixed(1)} h`;
  return `${Math.round(s / 86400)} d`;
}

export function clock(iso) {
  return new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

export const label = (type) => type.replaceAll("_", " ");

export function fill(id, ...children) {
  document.getElementById(id).replaceChildren(...children.flat());
}
