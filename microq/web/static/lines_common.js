"use strict";
// Shared by the lines pages: the line's API base and a fetch that reports {"error": ...} bodies.
const LINE = {
  tenant: document.body.dataset.tenant,
  queue: document.body.dataset.queue,
  get base() { return `/api/${this.tenant}/${this.queue}`; },
};

// Every change carries an Idempotency-Key. One that got no answer (the network failed, or a
// 502/503/504) keeps its key, so pressing the button again retries the same request and the
// server applies it at most once; any other answer ends it, and the next press is new.
const unanswered = new Map();  // method, path, admin key and body -> the key they were sent with
const NO_ANSWER = [502, 503, 504];

function randomKey() {  // crypto.randomUUID exists only on https pages; this works on http too
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

async function api(method, path, body, adminKey) {
  const headers = {};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (adminKey) headers["X-Admin-Key"] = adminKey;
  const text = body === undefined ? undefined : JSON.stringify(body);
  const request = `${method} ${path} ${adminKey || ""} ${text || ""}`;
  if (method !== "GET") {
    if (!unanswered.has(request)) unanswered.set(request, randomKey());
    headers["Idempotency-Key"] = unanswered.get(request);
  }
  const response = await fetch(LINE.base + path, { method, headers, body: text });
  if (!NO_ANSWER.includes(response.status)) unanswered.delete(request);
  let data = {};
  try { data = await response.json(); } catch (e) { /* an empty or non-JSON answer */ }
  if (!response.ok) {
    const error = new Error(data.error || `HTTP ${response.status}`);
    error.status = response.status;
    throw error;
  }
  return data;
}

function showError(error) {
  document.getElementById("error").textContent = error ? error.message || String(error) : "";
}

function minutes(eta) {
  if (eta === null || eta === undefined) return "";
  return eta < 1 ? "less than a minute" : `about ${Math.round(eta)} min`;
}

// An EventSource that the browser reconnects by itself; `onData` gets each parsed event.
function follow(path, eventName, onData) {
  const source = new EventSource(LINE.base + path);
  source.addEventListener(eventName, (e) => onData(JSON.parse(e.data)));
  return source;
}
