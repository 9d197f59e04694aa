"use strict";
// The admin panel: unlock with the admin key (kept for this tab only), then serve, call,
// remove or mark no-show, manage counters and service types, pause joins, read the history
// of finished people and the analytics (charts drawn here as SVG). The line updates live.
const KEY_STORAGE = `microq-admin:${LINE.tenant}/${LINE.queue}`;
const HISTORY_PAGE = 20;
const $ = (id) => document.getElementById(id);
let adminKey = sessionStorage.getItem(KEY_STORAGE);
let current = null;
let counterNames = new Map();  // counter id -> name, for the history
let config = {};
let historyBefore = null;      // the cursor of the next older history page
let historyPaged = false;      // older pages are shown: a change of the line does not reread the first

// a call with the admin key; errors are shown, and a refused key locks the page again
async function call(method, url, body) {
  try {
    const result = await MQ.api(url, { method, body, headers: { "X-Admin-Key": adminKey } });
    showError(null);
    return result;
  } catch (e) {
    showError(e);
    if (e.status === 401 || e.status === 403) lock();
    return null;
  }
}
const act = (method, path, body) => call(method, LINE.base + path, body);

function cells(tr, texts) {
  for (const text of texts) tr.append(MQ.el("td", {}, text));
}

function renderLine(line) {
  current = line.now_serving;
  $("now").textContent = current ? `Now serving: ${current.ticket ? current.ticket + " " : ""}${current.name}` : "Nobody served yet";
  $("no-show-current").hidden = !current;
  $("count").textContent = `(${line.count})`;
  $("people").replaceChildren(...line.queue.map((p) => {
    const tr = MQ.el("tr", {}, MQ.el("td", { class: "num" }, p.position));
    cells(tr, [MQ.el("b", {}, p.ticket || ""), p.name, p.service_type_code || ""]);
    tr.append(MQ.el("td", { class: "waited", dataset: { since: p.joined_at } }), MQ.el("td", { class: "num" }, p.eta_minutes === null ? "" : `${Math.round(p.eta_minutes)} min`),
      MQ.el("td", {}, MQ.el("div", { class: "actions" },
        MQ.button("Call", () => act("POST", `/call/${p.id}`, atCounter())),
        MQ.button("No-show", () => act("POST", `/no-show/${p.id}`)),
        MQ.button("Remove", () => act("POST", `/remove/${p.id}`), "small danger"))));
    return tr;
  }));
  $("people-empty").hidden = line.queue.length > 0;
  showWaited();
  renderCounters(line.counters || []);
  historySoon();
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

// The counters: open/close, serve next there, recall, delete; the selector picks where the
// top "Serve next" and each person's "Call" serve.
function renderCounters(counters) {
  counterNames = new Map(counters.map((c) => [c.id, c.name]));
  const select = $("counter");
  const chosen = select.value;
  select.replaceChildren(new Option("no counter", ""), ...counters.filter((c) => c.open).map((c) => new Option(c.name, c.id)));
  select.value = counters.some((c) => c.open && c.id === chosen) ? chosen : "";
  $("counters").replaceChildren(...counters.map((c) => {
    const tr = MQ.el("tr");
    const serving = c.now_serving ? `${c.now_serving.ticket || ""} ${c.now_serving.name}` : "";
    cells(tr, [c.name, MQ.el("span", { class: c.open ? "badge good" : "badge" }, c.open ? "open" : "closed"), serving]);
    const actions = MQ.el("div", { class: "actions" });
    if (c.open) actions.append(MQ.button("Serve next", () => act("POST", "/serve-next", { counter: c.id }).then(said)));
    if (c.now_serving) actions.append(MQ.button("Recall", () => act("POST", `/counters/${c.id}/recall`)));
    actions.append(MQ.button(c.open ? "Close" : "Open", () => act("PATCH", `/counters/${c.id}`, { open: !c.open })),
      MQ.button("Delete", () => confirm(`Delete ${c.name}?`) && act("DELETE", `/counters/${c.id}`), "small danger"));
    tr.append(MQ.el("td", {}, actions));
    return tr;
  }));
}

function atCounter() {
  const counter = $("counter").value;
  return counter ? { counter } : {};
}

function said(result) {  // serve-next with nobody waiting answers 200 with a message
  if (result && result.message) showError({ message: result.message });
}

async function loadTypes() {
  const result = await act("GET", "/service-types");
  if (!result) return;
  $("types").replaceChildren(...result.service_types.map((t) => MQ.el("li", {},
    MQ.el("b", {}, t.name), MQ.el("span", { class: "badge" }, t.code),
    MQ.el("span", { class: "actions" },
      MQ.button("Rename", async () => {
        const name = prompt("New name", t.name);
        if (name && (await act("PATCH", `/service-types/${t.id}`, { name }))) loadTypes();
      }),
      MQ.button("Delete", async () => {
        if (confirm(`Delete ${t.name}?`) && (await act("DELETE", `/service-types/${t.id}`))) loadTypes();
      }, "small danger")))));
}

// -- pause and resume joins; the state beside them is the config's joining hint
async function loadConfig(fresh) {
  config = fresh || (await call("GET", LINE.config)) || config;
  const j = config.joining || { open: true };
  const state = j.open ? "taking joins" : j.reason === "paused" ? "paused" : "closed (hours)";
  $("line-state").textContent = state;
  $("line-state").className = j.open ? "badge good" : "badge warn";
  $("pause").hidden = !!config.paused;
  $("resume").hidden = !config.paused;
}

// -- history: the finished people, newest first, paged by `before`
const OUTCOMES = { served: "good", no_show: "bad", left: "warn", removed: "warn", closed: "" };
let historyTimer = null;
function historySoon() {  // the line changed: reread the first page, at most every 5 s
  if (historyPaged || historyTimer) return;
  historyTimer = setTimeout(() => { historyTimer = null; loadHistory(false); }, 5000);
}

async function loadHistory(older) {
  const query = new URLSearchParams({ limit: HISTORY_PAGE });
  if (older && historyBefore) query.set("before", historyBefore);
  let page;
  try {
    page = await MQ.api(`${LINE.base}/history?${query}`, { headers: { "X-Admin-Key": adminKey } });
  } catch (e) {
    $("history").replaceChildren();
    $("history-more").hidden = true;
    $("history-note").hidden = false;
    $("history-note").textContent = `History: ${e.message}`;
    return;
  }
  const rows = page.people.map((p) => {
    const tr = MQ.el("tr");
    cells(tr, [MQ.el("b", {}, p.ticket || ""), p.name, MQ.el("span", { class: `badge ${OUTCOMES[p.status] || ""}` },
      (p.status || "").replace("_", "-")), MQ.time(p.joined_at), MQ.duration(p.waited_seconds),
    p.service_seconds === null || p.service_seconds === undefined ? "–" : MQ.duration(p.service_seconds),
    p.counter_id ? counterNames.get(p.counter_id) || p.counter_id : ""]);
    return tr;
  });
  historyPaged = older;
  if (older) $("history").append(...rows); else $("history").replaceChildren(...rows);
  historyBefore = page.next || null;
  $("history-more").hidden = !page.next;
  $("history-note").hidden = $("history").children.length > 0;
  $("history-note").textContent = "Nobody has finished yet.";
}

// -- analytics: from the first day of the period to today, in the queue's time zone
let analyticsDays = 7;
function day(offset) {  // YYYY-MM-DD, `offset` days from today where the queue is
  const at = new Date(Date.now() + offset * 86400000);
  return new Intl.DateTimeFormat("en-CA", { timeZone: config.time_zone || undefined }).format(at);
}

async function loadAnalytics() {
  const query = new URLSearchParams({ from: day(1 - analyticsDays), to: day(0) });
  let data;
  try {
    data = await MQ.api(`${LINE.config}/analytics?${query}`, { headers: { "X-Admin-Key": adminKey } });
  } catch (e) {
    $("analytics").hidden = true;
    $("analytics-note").hidden = false;
    $("analytics-note").textContent = `Analytics: ${e.message}`;
    return;
  }
  $("analytics-note").hidden = true;
  $("analytics").hidden = false;
  const stat = (label, value) => MQ.el("div", { class: "stat" }, MQ.el("span", { class: "label" }, label), MQ.el("b", {}, value));
  const p = (times, key) => (times ? MQ.duration(times[key]) : "–");
  $("stats").replaceChildren(stat("Served", data.served ?? 0), stat("No-shows", data.no_shows ?? 0), stat("Left", data.left ?? 0),
    stat("Wait p50", p(data.wait_seconds, "p50")), stat("Wait p90", p(data.wait_seconds, "p90")),
    stat("Service p50", p(data.service_seconds, "p50")), stat("Service p90", p(data.service_seconds, "p90")));
  const hours = (data.served_per_hour || []).map((n, h) => ({ label: String(h).padStart(2, "0"), values: [n] }));
  $("chart-hours").replaceChildren(columns(hours, ["bar"], "Served per hour of the day", 3));
  const days = (data.days || []).map((d) => ({ label: d.date.slice(5), values: [d.served, d.no_shows, d.left] }));
  $("chart-days").replaceChildren(columns(days, ["bar", "bar bad", "bar alt"], "Served, no-shows and left per day",
    Math.max(1, Math.ceil(days.length / 10))));
  $("chart-types").replaceChildren(rows(data.by_service_type || [], "By service type", "no type"));
  $("chart-counters").replaceChildren(rows(data.by_counter || [], "By counter", "no counter"));
}

// Stacked columns: items [{label, values: [n, ...]}], one class per stacked value; every
// `every`-th label is written. The viewBox scales the drawing to its box.
function columns(items, classes, title, every) {
  const W = 360, H = 170, left = 26, bottom = 20, top = 14;
  const most = Math.max(1, ...items.map((i) => i.values.reduce((a, b) => a + (b || 0), 0)));
  const step = (W - left) / Math.max(1, items.length);
  const chart = MQ.svg("svg", { class: "chart", viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": title },
    MQ.svg("title", {}, title),
    MQ.svg("line", { class: "axis", x1: left, y1: H - bottom, x2: W, y2: H - bottom }),
    MQ.svg("text", { x: left - 4, y: top + 4, "text-anchor": "end" }, most),
    MQ.svg("text", { x: left - 4, y: H - bottom, "text-anchor": "end" }, 0));
  items.forEach((item, i) => {
    let y = H - bottom;
    item.values.forEach((value, k) => {
      const h = ((value || 0) / most) * (H - bottom - top);
      if (h > 0) {
        y -= h;
        chart.append(MQ.svg("rect", { class: classes[k], x: left + i * step + step * 0.15, y, width: step * 0.7, height: h },
          MQ.svg("title", {}, `${item.label}: ${value}`)));
      }
    });
    if (i % every === 0) {
      chart.append(MQ.svg("text", { x: left + i * step + step / 2, y: H - 5, "text-anchor": "middle" }, item.label));
    }
  });
  return chart;
}

// Horizontal bars of `served` per entry (a service type or a counter), with its p50 wait (or service time).
function rows(entries, title, unnamed) {
  if (!entries.length) return MQ.el("p", { class: "empty" }, "Nothing yet.");
  const W = 340, line = 24, left = 96;
  const most = Math.max(1, ...entries.map((e) => e.served || 0));
  const chart = MQ.svg("svg", { class: "chart", viewBox: `0 0 ${W} ${entries.length * line + 4}`, role: "img", "aria-label": title },
    MQ.svg("title", {}, title));
  entries.forEach((e, i) => {
    const name = e.name || e.type_id || e.counter_id || unnamed;
    const width = ((e.served || 0) / most) * (W - left - 110);
    const y = i * line + 4;
    const p50 = (times) => times && times.p50 !== null && times.p50 !== undefined;
    const detail = p50(e.wait_seconds) ? ` · wait ${MQ.duration(e.wait_seconds.p50)}`
      : p50(e.service_seconds) ? ` · service ${MQ.duration(e.service_seconds.p50)}` : "";
    chart.append(MQ.svg("text", { x: left - 6, y: y + 14, "text-anchor": "end" }, String(name).slice(0, 16)),
      MQ.svg("rect", { class: "bar", x: left, y, width: Math.max(width, 1), height: line - 8 }),
      MQ.svg("text", { class: "value", x: left + width + 6, y: y + 14 }, `${e.served || 0}${detail}`));
  });
  return chart;
}

let source = null;
function unlock() {
  $("key-form").hidden = true;
  $("panel").hidden = false;
  source = follow("/stream?limit=100", "line", renderLine);
  loadTypes();
  loadConfig().then(() => { loadHistory(false); loadAnalytics(); });
}

function lock() {
  if (source) source.close();
  sessionStorage.removeItem(KEY_STORAGE);
  adminKey = null;
  $("key-form").hidden = false;
  $("panel").hidden = true;
}

$("key-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  adminKey = $("admin-key").value.trim();
  if (await act("GET", "/events?limit=1")) {  // any admin-only read proves the key
    sessionStorage.setItem(KEY_STORAGE, adminKey);
    unlock();
  }
});
$("serve-next").addEventListener("click", async () => said(await act("POST", "/serve-next", atCounter())));
$("no-show-current").addEventListener("click", () => current && act("POST", `/no-show/${current.id}`));
$("pause").addEventListener("click", async () => {
  const message = prompt("Message for people who try to join (optional)", "");
  if (message === null) return;
  const fresh = await call("POST", `${LINE.config}/pause`, message ? { message } : {});
  if (fresh) loadConfig(fresh);
});
$("resume").addEventListener("click", async () => {
  const fresh = await call("POST", `${LINE.config}/resume`);
  if (fresh) loadConfig(fresh);
});
$("history-refresh").addEventListener("click", () => loadHistory(false));
$("history-more").addEventListener("click", () => loadHistory(true));
for (const b of document.querySelectorAll("[data-days]")) {
  b.addEventListener("click", () => {
    analyticsDays = Number(b.dataset.days);
    for (const other of document.querySelectorAll("[data-days]")) other.setAttribute("aria-pressed", String(other === b));
    loadAnalytics();
  });
}
$("type-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const body = { name: $("type-name").value };
  const code = $("type-code").value.trim();
  if (code) body.code = code;
  if (await act("POST", "/service-types", body)) { event.target.reset(); loadTypes(); }
});
$("counter-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const body = { name: $("counter-name").value };
  const id = $("counter-id").value.trim();
  if (id) body.id = id;
  if (await act("POST", "/counters", body)) event.target.reset();
});

if (adminKey) unlock();
