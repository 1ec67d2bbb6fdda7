// The dashboard: loads the state once, then follows the live stream without reloading.

import { api, clearToken, openStream, setToken, SignedOut, token } from "./api.js";
import { clockSpeed, fill, h, now, setClock } from "./dom.js";
import { heatmap } from "./heatmap.js";
import * as panels from "./panels.js";
import { floors, look, options, tile } from "./tiles.js";

const $ = (id) => document.getElementById(id);
const state = {
  spaces: new Map(),
  devices: new Map(),
  released: null,
  unverified: null,
  filter: { floor: "", type: "" },
  stopStream: null,
  timers: [],
};

function startOfToday() {
  const d = new Date(now());
  d.setHours(0, 0, 0, 0);
  return d;
}

function showError(err) {
  if (err instanceof SignedOut) { signOut("Your token was refused or has expired."); return; }
  $("error").textContent = String(err.message ?? err);
}

// -- spaces ------------------------------------------------------------------------------
function renderSummary() {
  const counts = { occupied: 0, vacant: 0, idle: 0, unknown: 0 };
  for (const s of state.spaces.values()) counts[look(s)] += 1;
  fill("summary", Object.entries(counts).map(([k, n]) =>
    h("span", { class: `chip ${k}`, data: { count: k } }, `${n} ${k}`)));
}

function renderSpaces() {
  const spaces = [...state.spaces.values()];
  fill("floors", floors(spaces, state.filter));
  fill("free", panels.freeNow(spaces, state.released, state.unverified));
  renderSummary();
}

function applySpace(s) {
  const known = state.spaces.has(s.id);
  state.spaces.set(s.id, s);
  const old = document.querySelector(`.tile[data-space="${CSS.escape(s.id)}"]`);
  if (known && old) old.replaceWith(tile(s));
  else if (!known) renderSpaces();
  fill("free", panels.freeNow([...state.spaces.values()], state.released, state.unverified));
  renderSummary();
}

async function loadSpaces() {
  const body = await api("/api/v1/spaces");
  state.spaces = new Map(body.data.map((s) => [s.id, s]));
  const all = body.data;
  const floorNames = new Map(all.map((s) => [s.floor, s.floor_name]));  // in building-file order
  options($("floor"), [...floorNames.keys()], state.filter.floor, (f) => floorNames.get(f));
  options($("type"), [...new Set(all.map((s) => s.type))].sort(), state.filter.type);
  renderSpaces();
}

// -- devices -----------------------------------------------------------------------------
let devicesQueued = false;
function renderDevices() {
  devicesQueued = false;
  const devices = [...state.devices.values()];
  fill("air", panels.airQuality(devices, [...state.spaces.values()]));
  fill("offline", panels.offline(devices));
}

async function loadDevices() {
  const body = await api("/api/v1/devices");
  state.devices = new Map(body.data.map((d) => [d.id, d]));
  renderDevices();
}

// -- bookings, alerts, work orders (parts a site may not run: hidden on 404) --------------
function setPanel(id, content) {
  const section = $(id).closest("section");
  section.hidden = content === null;
  if (content !== null) fill(id, content);
}

async function loadOperations() {
  const today = { from: startOfToday().toISOString(), to: new Date(now() + 86400e3).toISOString() };
  const q = new URLSearchParams({ status: "released", ...today });
  const all = new URLSearchParams({ ...today, limit: "1000" });
  const [released, booked, alerts, orders] = await Promise.all([
    api(`/api/v1/bookings?${q}`, { optional: true }),
    api(`/api/v1/bookings?${all}`, { optional: true }),
    api("/api/v1/alerts", { optional: true }),
    api("/api/v1/work-orders?limit=200", { optional: true }),
  ]);
  state.released = released === null ? null : released.data;
  // decided while the room's sensors were offline: neither released nor checked in
  state.unverified = booked === null ? null : booked.data.filter((b) => b.outcome === "unverified");
  fill("free", panels.freeNow([...state.spaces.values()], state.released, state.unverified));
  setPanel("alerts", panels.alerts(alerts));
  setPanel("orders", panels.workOrders(orders));
}

let opsTimer = null;
function reloadOperationsSoon() {
  clearTimeout(opsTimer);
  opsTimer = setTimeout(() => loadOperations().catch(showError), 300);
}

// -- utilization ---------------------------------------------------------------------------
async function loadUtilization() {
  const choice = $("window").value;
  const to = new Date(now());
  const from = choice === "today" ? startOfToday() : new Date(to - Number(choice) * 86400e3);
  const days = Math.max(1, Math.ceil((to - from) / 86400e3));
  const q = new URLSearchParams({ from: from.toISOString(), to: to.toISOString() });
  const [hm, util, recs] = await Promise.all([
    api(`/api/v1/utilization/heatmap?${q}&by=${$("by").value}`),
    api(`/api/v1/utilization?${q}`),
    api(`/api/v1/recommendations?days=${days}`),
  ]);
  fill("heatmap", heatmap(hm));
  fill("bands", panels.bands(util));
  fill("recs", panels.recommendations(recs));
}

async function loadHealth() {
  const [health, stats] = await Promise.all([
    fetch("/api/v1/health").then((r) => r.json()),
    api("/api/v1/stats"),
  ]);
  if (health.now) setClock(health.now, health.clock_speed);
  $("health").textContent = `${health.status} · mqtt ${health.mqtt}`;
  $("health").className = `meta ${health.status}`;
  $("stats").textContent = `${stats.messages_received} messages · ${stats.events_stored} events · ${stats.dead_letters} dead letters`;
}

async function loadAll() {
  await loadHealth(); // first: the gateway's clock sets the windows below
  await loadSpaces();
  await Promise.all([loadDevices(), loadOperations(), loadUtilization()]);
  $("error").textContent = "";
}

// -- live ------------------------------------------------------------------------------------
function follow() {
  if (state.stopStream) state.stopStream();
  state.stopStream = openStream(
    {
      reset: () => loadAll().catch(showError),
      space: applySpace,
      device: (d) => {
        state.devices.set(d.id, d);
        if (!devicesQueued) { devicesQueued = true; requestAnimationFrame(renderDevices); }
      },
      notice: (n) => {
        if (!panels.NOTICE_TYPES.has(n.type)) return;
        const list = $("notices");
        list.prepend(panels.notice(n));
        while (list.children.length > 20) list.lastElementChild.remove();
        list.closest("section").hidden = false;
        reloadOperationsSoon();
      },
    },
    (status) => {
      $("live").textContent = status;
      $("live").className = `live ${status}`;
      if (status === "signed-out") signOut("Your token was refused or has expired.");
    },
  );
}

// -- sign-in ---------------------------------------------------------------------------------
function signOut(message = "") {
  if (state.stopStream) state.stopStream();
  state.stopStream = null;
  state.timers.forEach(clearInterval);
  state.timers = [];
  clearToken();
  document.body.classList.remove("signed-in");
  $("login-error").textContent = message;
  $("token").focus();
}

async function start() {
  document.body.classList.add("signed-in");
  try {
    await loadAll();
  } catch (err) {
    showError(err);
    if (err instanceof SignedOut) return;
  }
  follow();
  state.timers.push(
    // keep "idle for ..." current: every 30 s of the gateway's clock, at most once a second
    setInterval(renderSpaces, Math.max(1000, 30000 / clockSpeed())),
    setInterval(() => loadHealth().catch(showError), 10000),
    setInterval(() => loadUtilization().catch(showError), 300000),
  );
}

$("login").addEventListener("submit", (e) => {
  e.preventDefault();
  const t = $("token").value.trim();
  if (!t) return;
  setToken(t);
  $("token").value = "";
  start();
});
$("signout").addEventListener("click", () => signOut());
for (const id of ["floor", "type"]) {
  $(id).addEventListener("change", () => { state.filter[id] = $(id).value; renderSpaces(); });
}
for (const id of ["window", "by"]) {
  $(id).addEventListener("change", () => loadUtilization().catch(showError));
}

if (token()) start();
else signOut();
