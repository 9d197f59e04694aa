"use strict";
// The public page: join, then follow your own entry live. The user id and the leave token
// (shown by join once) stay in localStorage, so a reload (or a closed tab) comes back to the
// same place in line and can still leave it.
const STORAGE = `microq:${LINE.tenant}/${LINE.queue}`;
const FINISHED = { served: "It's your turn! Please go to the counter.", left: "You left the line.",
                   removed: "You were removed from the line.", no_show: "You were marked as not present.",
                   closed: "The line has closed for today. Sorry!" };
let source = null;

function show(section) {
  document.getElementById("join").hidden = section !== "join";
  document.getElementById("ticket").hidden = section !== "ticket";
}

async function loadTypes() {
  try {
    const { service_types: types } = await api("GET", "/service-types");
    const select = document.getElementById("service-type");
    select.replaceChildren(new Option("Something else / not sure", ""), ...types.map((t) => new Option(t.name, t.id)));
    document.getElementById("type-field").hidden = types.length === 0;
  } catch (e) { /* types are optional */ }
}

// Why the line takes no joins now (paused, outside its hours), from the queue's config; the
// server decides at the join itself (a 409 says why), so this is checked again each minute.
function closedReason(config) {
  const j = config.joining;
  if (!j || j.open) return "";
  if (j.reason === "paused") {
    return config.pause_message ? `This line is paused: ${config.pause_message}` : "This line is paused for now.";
  }
  if (j.opens_at) {
    // in the queue's own time zone: the hours people read on the door
    const at = new Date(j.opens_at).toLocaleString([], { weekday: "long", hour: "2-digit", minute: "2-digit",
                                                         timeZone: config.time_zone });
    return `This line is closed now. It opens ${at}.`;
  }
  return "This line is closed now.";
}

async function checkOpen() {
  let reason = "";
  try {
    const config = await fetch(`/api/${LINE.tenant}/queues/${LINE.queue}`).then((r) => (r.ok ? r.json() : {}));
    reason = closedReason(config);
  } catch (e) { /* unknown: let the join answer */ }
  const closed = document.getElementById("closed");
  closed.textContent = reason;
  closed.hidden = !reason;
  document.body.dataset.closed = reason ? "1" : "0";
}

function render(status) {
  const { entry, position, eta_minutes: eta } = status;
  document.getElementById("ticket-name").textContent = entry.name;
  document.getElementById("ticket-number").textContent = entry.ticket || "–";
  const waiting = entry.status === "waiting";
  document.getElementById("position").textContent = waiting ? position : "✓";
  document.getElementById("eta").textContent = waiting ? `Estimated wait: ${minutes(eta)}` : "";
  let state = waiting ? (position === 1 ? "You're next!" : "") : FINISHED[entry.status] || entry.status;
  if (entry.status === "served" && entry.counter) state = `It's your turn! Please go to ${entry.counter.name}.`;
  document.getElementById("state").textContent = state;
  document.body.dataset.status = entry.status;
  document.getElementById("leave").hidden = !waiting;
  document.getElementById("again").hidden = waiting;
  show("ticket");
}

function track(userId) {
  if (source) source.close();
  source = follow(`/status/${userId}/stream`, "status", (status) => { showError(null); render(status); });
  source.addEventListener("error", async () => {
    try { await api("GET", `/status/${userId}`); } catch (e) {
      if (e.status === 404) { forget(); }  // forgotten entry or another line's id: start over
    }
  });
}

// {id, token}; a value saved before leave tokens existed is the bare id (no token).
function saved() {
  const raw = localStorage.getItem(STORAGE);
  if (!raw) return null;
  try {
    const value = JSON.parse(raw);
    if (value && typeof value.id === "string") return { id: value.id, token: value.token || null };
  } catch (e) { /* the old form */ }
  return { id: raw, token: null };
}

function forget() {
  if (source) source.close();
  source = null;
  localStorage.removeItem(STORAGE);
  show("join");
}

document.getElementById("join-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target;
  const body = { name: form.name.value };
  if (form.service_type_id.value) body.service_type_id = form.service_type_id.value;
  try {
    const joined = await api("POST", "/join", body);
    localStorage.setItem(STORAGE, JSON.stringify({ id: joined.entry.id, token: joined.leave_token }));
    showError(null);
    render(joined);
    track(joined.entry.id);
  } catch (e) { showError(e); if (e.status === 409) checkOpen(); }
});

document.getElementById("leave").addEventListener("click", async () => {
  const me = saved();
  if (!me) { forget(); return; }
  // the token goes in a JSON body (the API also takes an X-Leave-Token header)
  const body = me.token ? { token: me.token } : {};
  try {
    render({ ...(await api("POST", `/leave/${me.id}`, body)), position: null, eta_minutes: null });
  } catch (e) { showError(e); }
});
document.getElementById("again").addEventListener("click", forget);

loadTypes();
checkOpen();
setInterval(checkOpen, 60000);
const returning = saved();
if (returning) { track(returning.id); } else { show("join"); }
