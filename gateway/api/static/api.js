// Talking to the gateway: the bearer token (kept in sessionStorage, never in a URL),
// JSON calls, and the live stream opened with a one-time ticket.

const TOKEN_KEY = "gateway-token";

export const token = () => sessionStorage.getItem(TOKEN_KEY);
export const setToken = (t) => sessionStorage.setItem(TOKEN_KEY, t);
export const clearToken = () => sessionStorage.removeItem(TOKEN_KEY);

export class SignedOut extends Error {}

// `optional` endpoints belong to parts a site may not run (bookings, alerts, work orders):
// a 404 or 403 there gives null and the panel stays hidden.
export async function api(path, { method = "GET", optional = false } = {}) {
  const r = await fetch(path, { method, headers: { Authorization: `Bearer ${token()}` } });
  if (r.status === 401) {
    clearToken();
    throw new SignedOut("signed out");
  }
  if (optional && (r.status === 404 || r.status === 403 || r.status === 405)) return null;
  if (!r.ok) throw new Error(`${path}: HTTP ${r.status}`);
  return r.json();
}

// Opens /api/v1/stream and keeps it open. A ticket is good for one connection, so when
// the connection drops the page takes a new ticket and resumes after the last event id
// it saw (the server replays what was missed, or sends "reset" to re-read everything).
export function openStream(handlers, onStatus) {
  let source = null;
  let lastId = null;
  let stopped = false;
  let delay = 1000;

  async function connect() {
    if (stopped) return;
    onStatus("connecting");
    try {
      const { ticket } = await api("/api/v1/stream/ticket", { method: "POST" });
      const q = new URLSearchParams({ ticket });
      if (lastId !== null) q.set("last", lastId);
      source = new EventSource(`/api/v1/stream?${q}`);
    } catch (err) {
      if (err instanceof SignedOut) { onStatus("signed-out"); return; }
      onStatus("offline");
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
      return;
    }
    source.onopen = () => { delay = 1000; onStatus("live"); };
    for (const [name, handle] of Object.entries(handlers)) {
      source.addEventListener(name, (e) => {
        if (e.lastEventId) lastId = e.lastEventId;
        handle(JSON.parse(e.data));
      });
    }
    source.onerror = () => {
      source.close();
      onStatus("offline");
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    };
  }

  connect();
  return () => { stopped = true; if (source) source.close(); };
}
