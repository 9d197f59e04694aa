"use strict";
// The admin panel: unlock with the admin key (kept for this tab only), then serve, call,
// remove or mark no-show, and manage service types. The line itself updates live.
const KEY_STORAGE = `microq-admin:${LINE.tenant}/${LINE.queue}`;
let adminKey = sessionStorage.getItem(KEY_STORAGE);
let current = null;

function button(label, onClick, secondary) {
  const b = document.createElement("button");
  b.type = "button";
  b.className = secondary ? "small secondary" : "small";
  b.textContent = label;
  b.addEventListener("click", onClick);
  return b;
}

async function act(method, path, body) {
  try {
    const result = await api(method, path, body, adminKey);
    showError(null);
    return result;
  } catch (e) {
    showError(e);
    if (e.status === 403) lock();
    return null;
  }
}

function renderLine(line) {
  current = line.now_serving;
  document.getElementById("now").textContent = current ? `Now serving: ${current.ticket ? current.ticket + " " : ""}${current.name}` : "Nobody served yet";
  document.getElementById("no-show-current").hidden = !current;
  document.getElementById("count").textContent = `(${line.count})`;
  const rows = line.queue.map((p) => {
    const tr = document.createElement("tr");
    for (const text of [p.position, p.ticket || "", p.name, p.service_type_code || "", "", minutes(p.eta_minutes)]) {
      const td = document.createElement("td");
      td.textContent = text;
      tr.append(td);
    }
    tr.children[4].className = "waited";
    tr.children[4].dataset.since = p.joined_at;
    const actions = document.createElement("td");
    actions.append(
      button("Call", () => act("POST", `/call/${p.id}`, atCounter())),
      button("No-show", () => act("POST", `/no-show/${p.id}`), true),
      button("Remove", () => act("POST", `/remove/${p.id}`), true));
    tr.append(actions);
    return tr;
  });
  document.getElementById("people").replaceChildren(...rows);
  showWaited();
  renderCounters(line.counters || []);
}

// How long each person has waited so far, from their joined_at; refreshed every 15 s.
function showWaited() {
  const now = Date.now();
  for (const cell of document.querySelectorAll("td.waited")) {
    const mins = Math.max(0, Math.floor((now - Date.parse(cell.dataset.since)) / 60000));
    cell.textContent = mins < 60 ? `${mins} min` : `${Math.floor(mins / 60)} h ${mins % 60} min`;
  }
}
setInterval(showWaited, 15000);

// The counters: open/close, recall, delete; the selector picks where "Serve next" and "Call" serve.
function renderCounters(counters) {
  const select = document.getElementById("counter");
  const chosen = select.value;
  select.replaceChildren(new Option("no counter", ""),
    ...counters.filter((c) => c.open).map((c) => new Option(c.name, c.id)));
  select.value = counters.some((c) => c.open && c.id === chosen) ? chosen : "";
  const rows = counters.map((c) => {
    const tr = document.createElement("tr");
    const serving = c.now_serving ? `${c.now_serving.ticket || ""} ${c.now_serving.name}` : "";
    for (const text of [c.name, c.open ? "open" : "closed", serving]) {
      const td = document.createElement("td");
      td.textContent = text;
      tr.append(td);
    }
    const actions = document.createElement("td");
    actions.append(
      button(c.open ? "Close" : "Open", () => act("PATCH", `/counters/${c.id}`, { open: !c.open }), true));
    if (c.now_serving) actions.append(button("Recall", () => act("POST", `/counters/${c.id}/recall`)));
    actions.append(button("Delete", () => confirm(`Delete ${c.name}?`) && act("DELETE", `/counters/${c.id}`), true));
    tr.append(actions);
    return tr;
  });
  document.getElementById("counters").replaceChildren(...rows);
}

function atCounter() {
  const counter = document.getElementById("counter").value;
  return counter ? { counter } : {};
}

async function loadTypes() {
  const result = await act("GET", "/service-types");
  if (!result) return;
  const items = result.service_types.map((t) => {
    const li = document.createElement("li");
    li.append(`${t.name} (${t.code}) `,
      button("Rename", async () => {
        const name = prompt("New name", t.name);
        if (name && (await act("PATCH", `/service-types/${t.id}`, { name }))) loadTypes();
      }, true),
      button("Delete", async () => {
        if (confirm(`Delete ${t.name}?`) && (await act("DELETE", `/service-types/${t.id}`))) loadTypes();
      }, true));
    return li;
  });
  document.getElementById("types").replaceChildren(...items);
}

let source = null;
function unlock() {
  document.getElementById("key-form").hidden = true;
  document.getElementById("panel").hidden = false;
  source = follow("/stream?limit=100", "line", renderLine);
  loadTypes();
}

function lock() {
  if (source) source.close();
  sessionStorage.removeItem(KEY_STORAGE);
  adminKey = null;
  document.getElementById("key-form").hidden = false;
  document.getElementById("panel").hidden = true;
}

document.getElementById("key-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  adminKey = document.getElementById("admin-key").value.trim();
  if (await act("GET", "/events?limit=1")) {  // any admin-only read proves the key
    sessionStorage.setItem(KEY_STORAGE, adminKey);
    unlock();
  }
});
document.getElementById("serve-next").addEventListener("click", async () => {
  const result = await act("POST", "/serve-next", atCounter());
  if (result && result.message) showError({ message: result.message });
});
document.getElementById("no-show-current").addEventListener("click", () => current && act("POST", `/no-show/${current.id}`));
document.getElementById("type-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const body = { name: document.getElementById("type-name").value };
  const code = document.getElementById("type-code").value.trim();
  if (code) body.code = code;
  if (await act("POST", "/service-types", body)) { event.target.reset(); loadTypes(); }
});

document.getElementById("counter-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const body = { name: document.getElementById("counter-name").value };
  const id = document.getElementById("counter-id").value.trim();
  if (id) body.id = id;
  if (await act("POST", "/counters", body)) event.target.reset();
});

if (adminKey) unlock();
