// MicroQ topics dashboard: reads /api/stats every 2 s; peeks, publishes, requeues and purges
// through the same HTTP API any client uses. Plain DOM, no build step; all text goes through
// microq.js's MQ.el (textContent), so topic names and payloads cannot inject markup. Fields
// the page does not know are ignored, except a topic's consumer groups, shown when present.
"use strict";

const REFRESH_MS = 2000;
const $ = (selector) => document.querySelector(selector);
let peeked = null;

const cell = (text, className) => MQ.el("td", { class: className }, String(text));

function decode(base64) {
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return `(${bytes.length} bytes of binary)`;
  }
}

// a topic's consumer groups ([{Name, Backlog, ...}]: "billing (3 behind)"), and harmlessly any
// other shape (a count, a list of names, a map)
function groups(value) {
  if (value === undefined || value === null) return "";
  if (typeof value === "number" || typeof value === "string") return String(value);
  if (!Array.isArray(value)) return Object.keys(value).join(", ");
  return value.map((g) => {
    if (!g || typeof g !== "object") return String(g);
    const name = String(g.Name ?? g.name ?? "?");
    return typeof g.Backlog === "number" ? `${name} (${g.Backlog} behind)` : name;
  }).join(", ");
}

function render(data) {
  const rows = data.stats;
  const groupsOf = (t) => t.Groups ?? t.groups;
  const withGroups = rows.some((t) => groupsOf(t) !== undefined);
  $("#groups-head").hidden = !withGroups;
  $("#empty").hidden = rows.length > 0;
  const count = (n, what) => `${n} ${what}${n === 1 ? "" : "s"}`;
  $("#totals").textContent = [count(rows.length, "topic"), count(data.total_messages ?? 0, "message"),
    count(data.total_webhooks ?? 0, "webhook")].join(" · ");
  $("#topics tbody").replaceChildren(...rows.map((t) => {
    const tr = MQ.el("tr", { class: t.IsDLQ ? "dlq" : undefined, dataset: { topic: t.Name } },
      cell(t.Name), cell(t.Ready, "num"), cell(t.InFlight, "num"), cell(t.Delayed, "num"),
      cell(t.IsDLQ ? "–" : t.DeadLetters, "num" + (t.DeadLetters > 0 ? " hot" : "")),
      cell(t.WaitingConsumers, "num"),
      // deliveries whose last attempt failed: a webhook target in trouble
      cell(t.FailingDeliveries > 0 ? `${t.Webhooks} · ${t.FailingDeliveries} failing` : t.Webhooks,
        "num" + (t.FailingDeliveries > 0 ? " hot" : "")));
    if (withGroups) tr.append(cell(groups(groupsOf(t)), "groups"));
    const actions = MQ.el("div", { class: "actions" }, MQ.button("Peek", () => peek(t.Name)));
    const enc = encodeURIComponent(t.Name);
    if (t.IsDLQ) {
      actions.append(MQ.button("Requeue all", () => act(`/api/topics/${enc}/redrive`,
        `Move every message of ${t.Name} back to its topic?`)));
    }
    actions.append(MQ.button("Purge", () => act(`/api/topics/${enc}/purge`, `Delete every message of ${t.Name}?`),
      "small danger"));
    tr.append(MQ.el("td", {}, actions));
    return tr;
  }));
}

async function refresh() {
  try {
    render(await MQ.api("/api/stats"));
    $("#status").textContent = `live · updated ${new Date().toLocaleTimeString()}`;
    $("#status").className = "badge good";
    if (peeked) await peek(peeked, true);
  } catch (error) {
    $("#status").textContent = `unreachable: ${error.message}`;
    $("#status").className = "badge bad";
  }
}

async function peek(topic, quiet) {
  peeked = topic;
  $("#peek-topic").textContent = topic;
  const enc = encodeURIComponent(topic);
  const [messages, hooks] = await Promise.all([
    MQ.api(`/api/queues/peek?queue=${enc}&limit=10`),
    MQ.api(`/webhook/${enc}`),
  ]);
  $("#peek-hint").textContent = messages.length ? "" : "No ready messages.";
  $("#peek-list").replaceChildren(...messages.map((m) => MQ.el("li", {},
    MQ.el("div", { class: "meta" }, `${m.id} · ${m.timestamp} · retry ${m.retry_count}`),
    MQ.el("pre", { class: "payload" }, decode(m.payload)))));
  $("#hooks").hidden = hooks.webhooks.length === 0;
  $("#hook-list").replaceChildren(...hooks.webhooks.map((h) => MQ.el("li", {}, MQ.el("span", { class: "mono" }, h.url),
    h.has_secret ? " · signed " : " ",  // never the secret itself
    MQ.button("Remove", () => act(`/webhook/${enc}/${encodeURIComponent(h.id)}`, `Stop delivering ${topic} to ${h.url}?`,
      "DELETE"), "small danger"))));
  if (!quiet) $("#peek").scrollIntoView({ block: "nearest" });
}

async function act(path, question, method = "POST") {
  if (!window.confirm(question)) return;
  try {
    await MQ.api(path, { method });
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
    // the payload is sent as typed (raw), not re-encoded
    const data = await MQ.api(`/publish/${encodeURIComponent(topic)}?${query}`, {
      method: "POST", body: form.payload.value, raw: true, headers: { "Content-Type": "application/json" } });
    out.textContent = `Published ${data.id} to ${data.topic}`;
    out.className = "notice good";
  } catch (error) {
    out.textContent = `Not published: ${error.message}`;
    out.className = "notice error";
  }
  await refresh();
});

refresh();
setInterval(refresh, REFRESH_MS);
