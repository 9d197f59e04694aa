"use strict";
// The public page: join, then follow your own entry live. The user id and the leave token
// (shown by join once) stay in localStorage, so a reload (or a closed tab) comes back to the
// same place in line and can still leave it.
const STORAGE = `microq:${LINE.tenant}/${LINE.queue}`;
const FINISHED = { served: "It's your turn! Please go to the counter.", left: "You left the line.",
                   removed: "You were removed from the line.", no_show: "You were marked as not present." };
let source = null;

function show(section) {
  document.getElementById("join").hidden = section !== "join";
  document.getElementById("ticket").hidden = section !== "ticket";
}

async function loadTypes() {
  try {
    const { service_types: types } = await api("GET", "/service-types");
    const select = document.getElementById("service-type");
    select.replaceChildren(new Option("General", ""), ...types.map((t) => new Option(t.name, t.id)));
    document.getElementById("type-field").hidden = types.length === 0;
  } catch (e) { /* types are optional */ }
}

function render(status) {
  const { entry, position, eta_minutes: eta } = status;
  document.getElementById("ticket-name").textContent = entry.name;
  document.getElementById("ticket-number").textContent = entry.ticket || "–";
  const waiting = entry.status === "waiting";
  document.getElementById("position").textContent = waiting ? position : "✓";
  document.getElementById("eta").textContent = waiting ? `Estimated wait: ${minutes(eta)}` : "";
  document.getElementById("state").textContent = waiting ? (position === 1 ? "You're next!" : "") : FINISHED[entry.status] || entry.status;
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
  } catch (e) { showError(e); }
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
const returning = saved();
if (returning) { track(returning.id); } else { show("join"); }
