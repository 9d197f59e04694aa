// The work console: every action is a call to the work API with the key typed in above (kept
// for this tab only). A refused key (401) clears everything the previous key showed.
"use strict";

const KEY_STORAGE = "microq-work-key";
const state = { key: sessionStorage.getItem(KEY_STORAGE) || "", queue: "", status: "NEW", next: null, queuesNext: null,
                history: null, epoch: 0 };  // epoch: bumped by each clean slate; older answers are dropped
const $ = (id) => document.getElementById(id);
const BY = "console";  // who the console acts as, in claims and items' history
const BULK_MAX = 1000;

// The actions on an item, named by intent, for its current status: label, target status,
// exception_type, and whether to ask for a message. The work API allows exactly these moves.
const ACTIONS = {
  NEW: [["Abandon", "ABANDONED", null, true]],
  IN_PROGRESS: [["Done", "DONE", null, false], ["Failed: business", "FAILED", "business", true],
                ["Failed: application", "FAILED", "application", true], ["Give back", "NEW", null, false],
                ["Abandon", "ABANDONED", null, true]],
  FAILED: [["Retry", "NEW", null, false]],
  ABANDONED: [["Retry", "NEW", null, false]],
  DONE: [],
};
const HINTS = {
  Abandon: "Stop working on it: it is not done and will not be retried",
  Done: "The work is complete",
  "Failed: business": "The data is wrong: failed for good, never retried",
  "Failed: application": "The robot or a system failed: retried as a new item while the queue's retries last",
  "Give back": "Put it back to NEW for another worker (not a failure)",
  Retry: "Put it back to NEW to be worked again",
};
const STATUS_BADGE = { NEW: "accent", IN_PROGRESS: "warn", DONE: "good", FAILED: "bad", ABANDONED: "" };
const PRIORITY_BADGE = { High: "bad", Normal: "", Low: "" };

function notice(text, kind) {
  $("notice").textContent = text;
  $("notice").className = `notice ${kind || ""}`;
}

class KeyRefused extends Error {}

async function api(method, path, body) {
  try {
    return await MQ.api(path, { method, body, headers: { "X-API-Key": state.key } });
  } catch (e) {
    if (e.status === 401) {
      cleanSlate();
      throw new KeyRefused("The key was refused (401): nothing is shown until you use a valid key.");
    }
    const wait = e.retryAfter ? ` (retry in ${e.retryAfter} s)` : "";
    e.message = `${e.status ? e.status + ": " : ""}${e.message}${wait}`;
    throw e;
  }
}

function fail(error) { notice(error.message, "error"); }

// Nothing the previous key could read stays on screen.
function cleanSlate() {
  state.epoch += 1;
  sessionStorage.removeItem(KEY_STORAGE);
  state.queue = "";
  state.next = null;
  state.queuesNext = null;
  state.history = null;
  for (const id of ["queues", "statuses", "history-rows"]) $(id).replaceChildren();
  $("items").tBodies[0].replaceChildren();
  $("triggers").tBodies[0].replaceChildren();
  $("queue-shown").textContent = "";
  $("queue-name").value = "";
  $("history").hidden = true;
  $("more").hidden = true;
  $("queues-more").hidden = true;
  $("queues-hint").hidden = true;
  $("items-empty").hidden = true;
  $("triggers-empty").hidden = true;
  $("bulk-result").textContent = "";
}

const queuePath = (name = state.queue) => `/api/queue/${encodeURIComponent(name)}`;

// -- the queues: GET /api/queue lists them with counts, paged by its cursor (a name typed
// below opens any queue, listed or not)
async function loadQueues(more) {
  const epoch = state.epoch;
  const page = await api("GET", `/api/queue${more && state.queuesNext ? `?cursor=${encodeURIComponent(state.queuesNext)}` : ""}`);
  if (epoch !== state.epoch) return;
  const items = (page.queues || []).map((q) => {
    const overdue = q.overdue ? MQ.el("span", { class: "badge bad" }, `${q.overdue} overdue`) : null;
    const counts = q.counts || {};
    const open = (counts.NEW || 0) + (counts.IN_PROGRESS || 0);
    return MQ.el("li", {}, MQ.el("button", { type: "button", dataset: { queue: q.name }, "aria-pressed": String(q.name === state.queue),
      title: Object.entries(counts).map(([s, n]) => `${s} ${n}`).join(" · "), on: { click: () => openQueue(q.name).catch(fail) } },
    q.name, MQ.el("span", {}, `${open} open · ${q.total ?? 0} in all`), overdue));
  });
  if (more) $("queues").append(...items); else $("queues").replaceChildren(...items);
  state.queuesNext = page.next || null;
  $("queues-more").hidden = !page.next;
  $("queues-hint").textContent = "No queues yet: add an item to a queue by name.";
  $("queues-hint").hidden = $("queues").children.length > 0;
}

async function openQueue(name) {
  state.queue = name;
  state.status = "NEW";
  $("queue-name").value = name;
  await loadItems(false);
  for (const b of $("queues").querySelectorAll("button")) b.setAttribute("aria-pressed", String(b.dataset.queue === name));
  notice(`Queue ${name} opened.`);
}

async function loadCounts() {
  const epoch = state.epoch;
  const summary = await api("GET", queuePath());
  if (epoch !== state.epoch) return;
  $("statuses").replaceChildren(...Object.entries(summary.counts).map(([status, count]) => MQ.el("button", {
    type: "button", class: "small", "aria-pressed": String(status === state.status),
    on: { click: () => { state.status = status; loadItems(false).catch(fail); } } }, `${status} (${count})`)));
  if (summary.overdue) $("statuses").append(MQ.el("span", { class: "badge bad" }, `${summary.overdue} overdue`));
}

function itemRow(item) {
  const due = item.due_date ? MQ.el("span", {}, MQ.time(item.due_date), item.overdue ? " " : "",
    item.overdue ? MQ.el("span", { class: "badge bad" }, "overdue") : null) : "–";
  const retry = item.retry_number ? MQ.el("span", { class: "badge" }, `retry ${item.retry_number}`) : null;
  const claimed = item.claimed_by ? [item.claimed_by, MQ.el("div", { class: "meta" }, MQ.time(item.claimed_date))] : "–";
  const actions = MQ.el("div", { class: "actions" },
    ...ACTIONS[item.status].map(([label, target, exception, ask]) => MQ.el("button", {
      type: "button", class: label.startsWith("Failed") || label === "Abandon" ? "small danger" : "small", title: HINTS[label],
      on: { click: () => move(item, label, target, exception, ask).catch(fail) } }, label)),
    MQ.button("History", () => showHistory(item).catch(fail)));
  return MQ.el("tr", { dataset: { id: item.id, status: item.status } },
    MQ.el("td", {}, MQ.el("div", {}, item.reference || MQ.el("span", { class: "muted" }, "no reference")),
      MQ.el("div", { class: "meta", title: item.id }, item.id.slice(0, 8)), retry),
    MQ.el("td", {}, MQ.el("span", { class: `badge ${PRIORITY_BADGE[item.priority] || ""}` }, item.priority)),
    MQ.el("td", {}, MQ.el("span", { class: `badge ${STATUS_BADGE[item.status] || ""}` }, item.status),
      item.exception_type ? MQ.el("div", { class: "meta" }, item.exception_type) : null,
      item.message ? MQ.el("div", { class: "meta" }, item.message) : null),
    MQ.el("td", { class: item.overdue ? "overdue" : undefined }, due),
    MQ.el("td", {}, claimed),
    MQ.el("td", {}, MQ.time(item.created_date)),
    MQ.el("td", {}, MQ.time(item.updated_date)),
    MQ.el("td", { class: "data" }, item.data ?? ""),
    MQ.el("td", {}, actions));
}

async function loadItems(append) {
  if (!state.queue) return;
  const epoch = state.epoch;
  const after = append && state.next ? `&after=${state.next}` : "";
  const page = await api("GET", `${queuePath()}/items?status=${state.status}&limit=50${after}`);
  if (epoch !== state.epoch) return;
  $("queue-shown").textContent = state.queue;
  const body = $("items").tBodies[0];
  if (!append) body.replaceChildren();
  body.append(...page.items.map(itemRow));
  state.next = page.next;
  $("more").hidden = !page.next;
  $("items-empty").hidden = body.rows.length > 0;
  await loadCounts();
}

async function move(item, label, status, exceptionType, ask) {
  let message;
  if (ask) {
    message = prompt(`${label}: a message for the item's history (optional)`, "");
    if (message === null) return;  // cancelled
  }
  const body = { status, by: BY };
  if (message) body.message = message;
  if (exceptionType) body.exception_type = exceptionType;
  const reply = await api("POST", `${queuePath()}/items/${encodeURIComponent(item.id)}/status`, body);
  const moved = `${label}: ${item.reference || item.id} is now ${reply.item.status}`;
  notice(reply.retry ? `${moved}, retried as ${reply.retry.id} (retry ${reply.retry.retry_number}).` : `${moved}.`, "good");
  await loadItems(false);
  if (state.history === item.id) await showHistory(reply.item);
  loadQueues(false).catch(fail);
}

async function showHistory(item) {
  const reply = await api("GET", `${queuePath()}/items/${encodeURIComponent(item.id)}/history`);
  state.history = item.id;
  $("history").hidden = false;
  $("history-item").textContent = `${item.reference || ""} ${item.id}`.trim();
  const links = [];
  if (item.parent_id) links.push(`retry ${item.retry_number} of ${item.parent_id}`);
  if (item.retried_as) links.push(`retried as ${item.retried_as}`);
  if (reply.dropped) links.push(`${reply.dropped} older entries dropped`);
  $("history-links").textContent = links.join(" · ");
  $("history-rows").replaceChildren(...reply.history.map((h) => MQ.el("tr", {}, MQ.el("td", {}, MQ.time(h.at)),
    MQ.el("td", {}, h.from || "–"), MQ.el("td", {}, MQ.el("span", { class: `badge ${STATUS_BADGE[h.to] || ""}` }, h.to)),
    MQ.el("td", {}, h.by || ""), MQ.el("td", {}, h.message || ""))));
  $("history").scrollIntoView({ block: "nearest" });
}

// -- bulk upload: a JSON array (or {"items": [...]}) or a CSV whose first row names the fields
function parseCsv(text) {
  // RFC 4180: quoted fields may hold commas, newlines and "" for a quote. Small enough to keep
  // here rather than ship a library to the browser (no build step, no CDN).
  const rows = [];
  let row = [], field = "", quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i += 1; }
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") { row.push(field); field = ""; }
    else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i += 1;
      row.push(field); rows.push(row); row = []; field = "";
    } else field += c;
  }
  if (field !== "" || row.length) { row.push(field); rows.push(row); }
  const [header, ...data] = rows.filter((r) => r.some((v) => v.trim() !== ""));
  if (!header) throw new Error("the CSV file is empty");
  const names = header.map((h) => h.trim().replace(/^\uFEFF/, ""));
  return data.map((values) => {
    const item = {};
    names.forEach((name, i) => { if (name && values[i] !== undefined && values[i] !== "") item[name] = values[i]; });
    return item;
  });
}

function readItems(name, text) {
  if (/\.csv$/i.test(name)) return parseCsv(text);
  let parsed;
  try { parsed = JSON.parse(text); } catch (e) { throw new Error(`the file is not JSON (${e.message}); a CSV file's name ends in .csv`); }
  const items = Array.isArray(parsed) ? parsed : parsed && parsed.items;
  if (!Array.isArray(items)) throw new Error('the JSON file must hold an array of items or {"items": [...]}');
  return items;
}

function bulkResult(text, kind, errors = []) {
  const out = $("bulk-result");
  out.className = `notice ${kind}`;
  out.replaceChildren(text, errors.length ? MQ.el("ul", { class: "errors" }, ...errors.map((e) => MQ.el("li", {}, e))) : "");
}

$("bulk-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  if (!state.queue) return notice("Open a queue first.", "error");
  const file = $("bulk-file").files[0];
  if (!file) return;
  let items;
  try {
    items = readItems(file.name, await file.text());
  } catch (e) { return bulkResult(`Not uploaded: ${e.message}.`, "error"); }
  if (items.length < 1 || items.length > BULK_MAX) {
    return bulkResult(`Not uploaded: the file has ${items.length} items; send 1 to ${BULK_MAX} per upload.`, "error");
  }
  try {
    const reply = await api("POST", `${queuePath()}/bulk`, { items });
    bulkResult(`Added ${reply.count} items to ${state.queue}.`, "good");
    event.target.reset();
    await loadItems(false);
    loadQueues(false).catch(fail);
  } catch (e) {
    if (e instanceof KeyRefused) return fail(e);
    // a 400 names each invalid item: "N of M items are invalid, so none was added: items[0]: ...; items[3]: ..."
    const [summary, ...errors] = e.message.split(/: (?=items\[)|; (?=items\[|\.\.\.$)/);
    bulkResult(`Not uploaded: ${summary}.`, "error", errors);
  }
});

// -- triggers
async function loadTriggers() {
  const epoch = state.epoch;
  const { triggers } = await api("GET", "/api/triggers");
  if (epoch !== state.epoch) return;
  $("triggers-empty").hidden = triggers.length > 0;
  $("triggers").tBodies[0].replaceChildren(...triggers.map((t) => {
    const set = MQ.el("div", { class: "actions" });
    if (t.type === "SINGLE") {
      for (const status of ["IDLE", "RUNNING", "DONE"]) {
        set.append(MQ.button(status, () => api("POST", "/api/trigger", { trigger_name: t.trigger_name, process_status: status })
          .then(() => loadTriggers()).catch(fail)));
      }
    }
    return MQ.el("tr", {}, MQ.el("td", {}, t.trigger_name), MQ.el("td", {}, t.type),
      MQ.el("td", {}, MQ.el("span", { class: `badge ${t.process_status === "RUNNING" ? "warn" : ""}` }, t.process_status)),
      MQ.el("td", {}, t.type === "QUEUE" ? `${t.queue_name} (${t.waiting} NEW)` : ""), MQ.el("td", {}, set),
      MQ.el("td", {}, MQ.button("Delete", () => {
        if (confirm(`Delete trigger ${t.trigger_name}?`)) {
          api("DELETE", `/api/triggers/${encodeURIComponent(t.trigger_name)}`).then(loadTriggers).catch(fail);
        }
      }, "small danger")));
  }));
}

async function useKey() {
  await Promise.all([loadQueues(false), loadTriggers()]);
}

$("key-form").addEventListener("submit", (event) => {
  event.preventDefault();
  cleanSlate();  // a new key starts from nothing, whatever the old one showed
  state.key = $("api-key").value;
  sessionStorage.setItem(KEY_STORAGE, state.key);
  useKey().then(() => notice("Key set for this tab.", "good")).catch(fail);
});

$("queue-form").addEventListener("submit", (event) => {
  event.preventDefault();
  openQueue($("queue-name").value).catch(fail);
});

$("claim").addEventListener("click", () => {
  if (!state.queue) return notice("Open a queue first.", "error");
  api("POST", `${queuePath()}/claim`, { claimed_by: BY }).then((reply) => {
    notice(reply.item ? `Claimed ${reply.item.reference || reply.item.id}.` : "No NEW item to claim.", reply.item ? "good" : "");
    state.status = "IN_PROGRESS";
    return loadItems(false);
  }).catch(fail);
});

$("more").addEventListener("click", () => loadItems(true).catch(fail));
$("queues-more").addEventListener("click", () => loadQueues(true).catch(fail));
$("history-close").addEventListener("click", () => { $("history").hidden = true; state.history = null; });

$("push-form").addEventListener("submit", (event) => {
  event.preventDefault();
  if (!state.queue) return notice("Open a queue first.", "error");
  const body = { queue_name: state.queue };
  for (const field of ["reference", "data", "message"]) {
    const value = $(`push-${field}`).value;
    if (value) body[field] = value;
  }
  if ($("push-priority").value !== "Normal") body.priority = $("push-priority").value;
  if ($("push-due").value) body.due_date = new Date($("push-due").value).toISOString();  // typed in local time
  api("POST", "/api/queue", body).then((reply) => {
    notice(`Created ${reply.id}.`, "good");
    event.target.reset();
    loadQueues(false).catch(fail);
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
  useKey().catch(fail);
}
