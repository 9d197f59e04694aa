// The work console: every action is a call to the work API with the key typed in above.
"use strict";

const state = { key: sessionStorage.getItem("microq-work-key") || "", queue: "", status: "NEW", next: null };
const $ = (id) => document.getElementById(id);

function notice(text, isError) {
  $("notice").textContent = text;
  $("notice").className = isError ? "error" : "";
}

async function api(method, path, body) {
  const options = { method, headers: { "X-API-Key": state.key } };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch(path, options);
  const payload = await response.json().catch(() => ({}));
  if (!response.ok) {
    const wait = response.headers.get("Retry-After");
    throw new Error(`${response.status}: ${payload.error || response.statusText}${wait ? ` (retry in ${wait} s)` : ""}`);
  }
  return payload;
}

function cell(row, text, className) {
  const td = row.insertCell();
  td.textContent = text === null || text === undefined ? "" : String(text);
  if (className) td.className = className;
  return td;
}

function button(parent, label, onClick) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = label;
  b.addEventListener("click", onClick);
  parent.appendChild(b);
  return b;
}

const queuePath = () => `/api/queue/${encodeURIComponent(state.queue)}`;

async function loadCounts() {
  const summary = await api("GET", queuePath());
  const nav = $("statuses");
  nav.replaceChildren();
  for (const [status, count] of Object.entries(summary.counts)) {
    const b = button(nav, `${status} (${count})`, () => { state.status = status; loadItems(false).catch(fail); });
    b.setAttribute("aria-pressed", String(status === state.status));
  }
}

async function loadItems(append) {
  const after = append && state.next ? `&after=${state.next}` : "";
  const page = await api("GET", `${queuePath()}/items?status=${state.status}&limit=50${after}`);
  const body = $("items").tBodies[0];
  if (!append) body.replaceChildren();
  for (const item of page.items) {
    const row = body.insertRow();
    cell(row, item.created_date);
    cell(row, item.status);
    cell(row, item.reference);
    cell(row, item.data, "data");
    cell(row, item.message);
    const actions = cell(row, "");
    const moves = { NEW: ["ABANDONED"], IN_PROGRESS: ["DONE", "FAILED", "ABANDONED", "NEW"],
                    FAILED: ["NEW"], ABANDONED: ["NEW"], DONE: [] }[item.status];
    for (const target of moves) {
      button(actions, target === "NEW" ? "Retry" : target, () => move(item.id, target).catch(fail));
    }
  }
  state.next = page.next;
  $("more").hidden = !page.next;
  await loadCounts();
}

async function move(id, status) {
  const message = status === "NEW" ? undefined : prompt(`Message for ${status} (optional)`) || undefined;
  await api("POST", `${queuePath()}/items/${encodeURIComponent(id)}/status`, { status, message });
  notice(`Item moved to ${status}.`);
  await loadItems(false);
}

async function loadTriggers() {
  const { triggers } = await api("GET", "/api/triggers");
  const body = $("triggers").tBodies[0];
  body.replaceChildren();
  for (const t of triggers) {
    const row = body.insertRow();
    cell(row, t.trigger_name);
    cell(row, t.type);
    cell(row, t.process_status);
    cell(row, t.type === "QUEUE" ? `${t.queue_name} (${t.waiting} NEW)` : "");
    const set = cell(row, "");
    if (t.type === "SINGLE") {
      for (const status of ["IDLE", "RUNNING", "DONE"]) {
        button(set, status, () => api("POST", "/api/trigger", { trigger_name: t.trigger_name, process_status: status })
          .then(() => loadTriggers()).catch(fail));
      }
    }
    button(cell(row, ""), "Delete", () => {
      if (confirm(`Delete trigger ${t.trigger_name}?`)) {
        api("DELETE", `/api/triggers/${encodeURIComponent(t.trigger_name)}`).then(loadTriggers).catch(fail);
      }
    });
  }
}

function fail(error) { notice(error.message, true); }

$("key-form").addEventListener("submit", (event) => {
  event.preventDefault();
  state.key = $("api-key").value;
  sessionStorage.setItem("microq-work-key", state.key);
  notice("Key set for this tab.");
  loadTriggers().catch(fail);
});

$("queue-form").addEventListener("submit", (event) => {
  event.preventDefault();
  state.queue = $("queue-name").value;
  state.status = "NEW";
  loadItems(false).then(() => notice(`Queue ${state.queue} opened.`)).catch(fail);
});

$("claim").addEventListener("click", () => {
  if (!state.queue) return notice("Open a queue first.", true);
  api("POST", `${queuePath()}/claim`, { claimed_by: "console" }).then((reply) => {
    notice(reply.item ? `Claimed ${reply.item.id}.` : "No NEW item to claim.");
    state.status = "IN_PROGRESS";
    return loadItems(false);
  }).catch(fail);
});

$("more").addEventListener("click", () => loadItems(true).catch(fail));

$("push-form").addEventListener("submit", (event) => {
  event.preventDefault();
  if (!state.queue) return notice("Open a queue first.", true);
  const body = { queue_name: state.queue };
  for (const field of ["reference", "data", "message"]) {
    const value = $(`push-${field}`).value;
    if (value) body[field] = value;
  }
  api("POST", "/api/queue", body).then((reply) => {
    notice(`Created ${reply.id}.`);
    event.target.reset();
    return loadItems(false);
  }).catch(fail);
});

$("trigger-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const body = { trigger_name: $("trigger-name").value, type: $("trigger-type").value };
  if (body.type === "QUEUE") body.queue_name = $("trigger-queue").value;
  api("POST", "/api/triggers", body).then(() => { event.target.reset(); return loadTriggers(); }).catch(fail);
});

if (state.key) {
  $("api-key").value = state.key;
  loadTriggers().catch(fail);
}
