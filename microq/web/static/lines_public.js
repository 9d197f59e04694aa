"use strict";
// The public page: join, then follow your own entry live. The user id stays in localStorage,
// so a reload (or a closed tab) comes back to the same place in line.
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
    localStorage.setItem(STORAGE, joined.entry.id);
    showError(null);
    render(joined);
    track(joined.entry.id);
  } catch (e) { showError(e); }
});

document.getElementById("leave").addEventListener("click", async () => {
  const userId = localStorage.getItem(STORAGE);
  try { render({ ...(await api("POST", `/leave/${userId}`)), position: null, eta_minutes: null }); } catch (e) { showError(e); }
});
document.getElementById("again").addEventListener("click", forget);

loadTypes();
const saved = localStorage.getItem(STORAGE);
if (saved) { track(saved); } else { show("join"); }
