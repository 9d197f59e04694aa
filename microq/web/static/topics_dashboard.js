// MicroQ topics dashboard: reads /api/stats every 2 s; peeks, publishes, requeues and purges
// through the same HTTP API any client uses. Plain DOM, no build step; all text goes through
// textContent so topic names and payloads cannot inject markup.
"use strict";

const REFRESH_MS = 2000;
const $ = (selector) => document.querySelector(selector);
let peeked = null;

function cell(text, className) {
  const td = document.createElement("td");
  td.textContent = String(text);
  if (className) td.className = className;
  return td;
}

function button(label, onClick, className) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = label;
  if (className) b.className = className;
  b.addEventListener("click", onClick);
  return b;
}

async function api(method, path, body) {
  const options = { method, headers: {} };
  if (body !== undefined) {
    options.body = body;
    options.headers["Content-Type"] = "application/json";
  }
  const response = await fetch(path, options);
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(data.error || `HTTP ${response.status}`);
  return data;
}

function decode(base64) {
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return `(${bytes.length} bytes of binary)`;
  }
}

function render(data) {
  const tbody = $("#topics tbody");
  const rows = data.stats;
  $("#empty").hidden = rows.length > 0;
  $("#totals").textContent = `${rows.length} topics · ${data.total_messages ?? 0} messages · ${data.total_webhooks} webhooks`;
  tbody.replaceChildren(...rows.map((t) => {
    const tr = document.createElement("tr");
    tr.dataset.topic = t.Name;
    if (t.IsDLQ) tr.className = "dlq";
    tr.append(cell(t.Name), cell(t.Ready, "num"), cell(t.InFlight, "num"), cell(t.Delayed, "num"),
      cell(t.IsDLQ ? "–" : t.DeadLetters, "num" + (t.DeadLetters > 0 ? " hot" : "")),
      cell(t.WaitingConsumers, "num"), cell(t.Webhooks, "num"));
    const actions = document.createElement("td");
    actions.append(button("Peek", () => peek(t.Name)));
    if (t.IsDLQ) {
      actions.append(" ", button("Requeue all", () => act(`/api/topics/${encodeURIComponent(t.Name)}/redrive`,
        `Move every message of ${t.Name} back to its topic?`)));
    }
    actions.append(" ", button("Purge", () => act(`/api/topics/${encodeURIComponent(t.Name)}/purge`,
      `Delete every message of ${t.Name}?`), "danger"));
    tr.append(actions);
    return tr;
  }));
}

async function refresh() {
  try {
    render(await api("GET", "/api/stats"));
    $("#status").textContent = `live · updated ${new Date().toLocaleTimeString()}`;
    $("#status").classList.remove("down");
    if (peeked) await peek(peeked, true);
  } catch (error) {
    $("#status").textContent = `unreachable: ${error.message}`;
    $("#status").classList.add("down");
  }
}

async function peek(topic, quiet) {
  peeked = topic;
  $("#peek-topic").textContent = topic;
  const enc = encodeURIComponent(topic);
  const [messages, hooks] = await Promise.all([
    api("GET", `/api/queues/peek?queue=${enc}&limit=10`),
    api("GET", `/webhook/${enc}`),
  ]);
  $("#peek-hint").textContent = messages.length ? "" : "No ready messages.";
  $("#peek-list").replaceChildren(...messages.map((m) => {
    const li = document.createElement("li");
    const meta = document.createElement("div");
    meta.className = "meta";
    meta.textContent = `${m.id} · ${m.timestamp} · retry ${m.retry_count}`;
    const pre = document.createElement("pre");
    pre.textContent = decode(m.payload);
    li.append(meta, pre);
    return li;
  }));
  $("#hooks").hidden = hooks.webhooks.length === 0;
  $("#hook-list").replaceChildren(...hooks.webhooks.map((h) => {
    const li = document.createElement("li");
    li.textContent = h.url + " ";
    li.append(button("Remove", () => act(`/webhook/${enc}/${encodeURIComponent(h.id)}`,
      `Stop delivering ${topic} to ${h.url}?`, "DELETE"), "danger"));
    return li;
  }));
  if (!quiet) $("#peek").scrollIntoView({ block: "nearest" });
}

async function act(path, question, method = "POST") {
  if (!window.confirm(question)) return;
  try {
    await api(method, path);
  } catch (error) {
    window.alert(error.message);
  }
  await refresh();
}

$("#publish").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target;
  const query = new URLSearchParams();
  for (const name of ["delay", "ttl"]) if (form[name].value.trim()) query.set(name, form[name].value.trim());
  const topic = form.topic.value.trim();
  const out = $("#publish-result");
  try {
    const response = await fetch(`/publish/${encodeURIComponent(topic)}?${query}`, {
      method: "POST", headers: { "Content-Type": "application/json" }, body: form.payload.value,
    });
    const data = await response.json();
    if (!response.ok) throw new Error(data.error || `HTTP ${response.status}`);
    out.textContent = `Published ${data.id} to ${data.topic}`;
  } catch (error) {
    out.textContent = `Not published: ${error.message}`;
  }
  await refresh();
});

refresh();
setInterval(refresh, REFRESH_MS);
